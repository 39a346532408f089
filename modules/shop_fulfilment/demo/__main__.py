# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The main job: a demo database with a Tmall shop and its imported orders.

Then, unless --no-server is given, the trytond server with Tryton's web
client sao (installed from npm when missing, see sao.py) on
http://127.0.0.1:8000 and a user per role (users.py) to log in with.

Run it again and again: what exists is reused, and the second run changes
nothing."""
import argparse
import logging
import os
import sys
import time
import warnings
from collections import Counter
from decimal import Decimal

# passlib still imports crypt, deprecated since Python 3.11
warnings.filterwarnings('ignore', category=DeprecationWarning, module='passlib')
# SQLite cannot alter columns; trytond says so at every upgrade
warnings.filterwarnings(
    'ignore', category=UserWarning, module='trytond.backend.sqlite')

DEMO_DIR = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(DEMO_DIR, 'relay_sample.sqlite')
MODULES = ['shop_fulfilment', 'shop_returns']
# Chinese for the users; English too, as Tryton's minimal chart of accounts
# is defined for English
LANGUAGES = ['en', 'zh_CN']


def step(message):
    print('==> %s' % message, flush=True)


class ModuleProgress(logging.Handler):
    "Print each module as trytond loads it at activation"

    def __init__(self):
        super().__init__(logging.INFO)
        self.seen = set()

    def emit(self, record):
        if record.msg not in {'%s:register %s', '%s:loading %s'}:
            return
        module = record.args[0]
        if module not in self.seen:
            self.seen.add(module)
            print('    %s' % module, flush=True)


def show_module_progress():
    logger = logging.getLogger('trytond.modules')
    logger.setLevel(logging.INFO)
    logger.addHandler(ModuleProgress())
    logger.propagate = False


def ensure_database(name, password):
    "Create and initialise the database when it does not exist"
    from sql import Table

    from trytond import backend
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    database = backend.Database()
    database.connect()
    if name in database.list():
        return False
    connection = database.get_connection(autocommit=True)
    try:
        database.create(connection, name)
    finally:
        database.put_connection(connection, True)
    database = backend.Database(name)
    connection = database.get_connection()
    try:
        with connection.cursor() as cursor:
            database.init()
            configuration = Table('ir_configuration')
            cursor.execute(*configuration.insert(
                    [configuration.language], [['en']]))
        connection.commit()
    finally:
        database.put_connection(connection)
    pool = Pool(name)
    pool.init(update=['res', 'ir'], lang=LANGUAGES)
    with Transaction().start(name, 0) as transaction:
        User = pool.get('res.user')
        Lang = pool.get('ir.lang')
        Lang.write(Lang.search([('code', 'in', LANGUAGES)]),
            {'translatable': True})
        chinese, = Lang.search([('code', '=', 'zh_CN')])
        admin, = User.search([('login', '=', 'admin')])
        User.write([admin], {'password': password, 'language': chinese.id})
        transaction.commit()
    return True


def modules_version():
    "A digest of the modules' code and data, to upgrade when it changes"
    import hashlib
    import importlib
    digest = hashlib.sha1()
    for name in MODULES:
        module = importlib.import_module('trytond.modules.%s' % name)
        root = os.path.dirname(module.__file__)
        for folder, dirs, files in sorted(os.walk(root)):
            dirs[:] = sorted(d for d in dirs if d not in {'tests', 'demo'})
            for file_name in sorted(files):
                if file_name.endswith(
                        ('.py', '.xml', '.cfg', '.po', '.fodt')):
                    path = os.path.join(folder, file_name)
                    with open(path, 'rb') as file:
                        digest.update(file.read())
    return digest.hexdigest()


def read_stamp(stamp):
    if os.path.exists(stamp):
        with open(stamp) as file:
            return file.read()


def activate(config, stamp):
    "Activate the modules, or upgrade them when their code changed"
    from proteus import Model, Wizard
    Module = Model.get('ir.module', config=config)
    modules = Module.find([('name', 'in', MODULES)])
    todo = [m for m in modules if m.state != 'activated']
    version = modules_version()
    if todo:
        Module.click(todo, 'activate')
    elif read_stamp(stamp) != version:
        Module.click(modules, 'upgrade')
    else:
        return False
    Wizard('ir.module.activate_upgrade', config=config).execute('upgrade')
    with open(stamp, 'w') as file:
        file.write(version)
    return True


def setup_company(config):
    from proteus import Model, Wizard
    from trytond.modules.account.tests.tools import create_chart
    from trytond.modules.shop_fulfilment.tests.tools import get_cny
    Company = Model.get('company.company', config=config)
    Party = Model.get('party.party', config=config)
    User = Model.get('res.user', config=config)
    companies = Company.find()
    if companies:
        company, = companies
    else:
        party = Party(name="沪上家电有限公司")
        party.save()
        wizard = Wizard('company.company.config', config=config)
        wizard.execute('company')
        wizard.form.party = party
        wizard.form.currency = get_cny(config=config)
        wizard.execute('add')
        company, = Company.find()
        create_chart(company, config=config)
    if company.timezone != 'Asia/Shanghai':
        # The client shows the times in China time (stored UTC)
        company.timezone = 'Asia/Shanghai'
        company.save()
    config._context = User.get_preferences(True, {})
    return company


def account_category(config):
    from proteus import Model
    from trytond.modules.account.tests.tools import get_accounts
    Category = Model.get('product.category', config=config)
    categories = Category.find([('name', '=', "家电")])
    if categories:
        return categories[0]
    accounts = get_accounts(config=config)
    category = Category(name="家电", accounting=True)
    category.account_expense = accounts['expense']
    category.account_revenue = accounts['revenue']
    category.save()
    return category


def setup_shop(config, relay):
    from trytond.modules.shop_fulfilment.tests import tools
    tools.setup_china(config=config)
    category = account_category(config)
    # A new SKU is on the platform before it is in Tryton: the exception
    # list shows it until its product and mapping exist
    products = tools.create_catalogue(
        category, skip=tools.DEMO_UNMAPPED, config=config)
    shop = tools.create_shop(
        "天猫旗舰店", 'tmall', relay_uri='sqlite:///' + relay,
        account_category=category, config=config)
    if not shop.product_mappings:
        tools.map_catalogue(shop, products, config=config)
    return shop


def setup_reviews(config, company, shop):
    """The fiscal year, the carriers, the platform payment journal and the
    own fleet's area the reviews need"""
    from proteus import Model
    from trytond.modules.account.tests.tools import (
        create_fiscalyear, get_accounts)
    from trytond.modules.account_invoice.tests.tools import (
        set_fiscalyear_invoice_sequences)
    from trytond.modules.shop_fulfilment.tests import tools
    FiscalYear = Model.get('account.fiscalyear', config=config)
    Area = Model.get('web.shop.service_area', config=config)
    Subdivision = Model.get('country.subdivision', config=config)
    if not FiscalYear.find([]):
        # Tryton's helpers find the sequence types by their English name
        with config.set_context(language='en'):
            fiscalyear = set_fiscalyear_invoice_sequences(
                create_fiscalyear(company, config=config), config=config)
            fiscalyear.click('create_period')
    yto = tools.create_carrier("圆通速递", 'YTO', config=config)
    tools.create_carrier("顺丰速运", 'SF', config=config)
    tools.create_carrier("中通快递", 'ZTO', config=config)
    if not shop.payment_journal:
        shop.payment_journal = tools.create_payment_journal(
            get_accounts(config=config), config=config)
    if not shop.default_carrier:
        # The seed's Tmall shop ships everything by YTO unless noted
        shop.default_carrier = yto
        shop.auto_review = True
        shop.auto_review_max_amount = Decimal(3000)
    shop.save()
    if not Area.find([]):
        shanghai, = Subdivision.find([('code', '=', 'CN-SH')])
        Area(name="上海市区", code='SH', subdivision=shanghai).save()


def setup_warehouse(config):
    """The goods in stock and rolls of YTO and SF waybill numbers, for the
    warehouse to assign the shipments and print their waybills"""
    from proteus import Model
    Carrier = Model.get('carrier', config=config)
    Inventory = Model.get('stock.inventory', config=config)
    Location = Model.get('stock.location', config=config)
    Product = Model.get('product.product', config=config)
    storage, = Location.find([('code', '=', 'STO')], limit=1)
    if not Inventory.find([('location', '=', storage.id)]):
        inventory = Inventory(location=storage)
        for product in Product.find([('type', '=', 'goods')]):
            inventory.lines.new(product=product, quantity=500)
        inventory.click('confirm')
    for code, first in [('YTO', 'YT0070000000001'), ('SF', 'SF1070000000001')]:
        carrier, = Carrier.find([('platform_code', '=', code)])
        if carrier.shipping_service != 'number_range':
            carrier.shipping_service = 'number_range'
            carrier.waybill_next_number = first
            carrier.waybill_increment = 1
            carrier.save()


def setup_refunds(config, shop, count=3):
    """A few buyers ask for their money back before shipping (仅退款):
    their refunds come in through the file import, for after-sales to
    decide"""
    from proteus import Model
    from trytond.modules.shop_returns.tests import refund_generator
    from trytond.modules.shop_returns.tests import tools as returns_tools

    from .stages import platform_trades
    Refund = Model.get('web.shop.taobao.refund', config=config)
    Sale = Model.get('sale.sale', config=config)
    if Refund.find([('shop', '=', shop.id)], limit=1):
        return None
    # Orders waiting for the finance review: the reviewers' lists keep the
    # others
    waiting = Sale.find([
            ('web_shop', '=', shop.id), ('review_state', '=', 'finance')],
        order=[('web_id', 'ASC')], limit=count)
    trades = platform_trades(config, waiting)
    refunds = [refund_generator.refund_for(trades[s.web_id], kind='REFUND')
        for s in waiting]
    return returns_tools.import_refunds(shop, refunds, config=config)


def report(config, shop):
    from proteus import Model
    Trade = Model.get('web.shop.taobao.trade', config=config)
    Payload = Model.get('web.shop.taobao.payload', config=config)
    Sale = Model.get('sale.sale', config=config)
    shop.reload()
    print(shop.last_fetch_summary or '', flush=True)
    trades = Trade.find([('shop', '=', shop.id)])
    states = Counter(t.state for t in trades)
    step("Platform trades by state: %s" % ', '.join(
            '%s %s' % (n, s) for s, n in sorted(states.items())))
    sales = Sale.find([('web_shop', '=', shop.id)])
    step("Sales of the shop: %s, of which on hold: %s" % (
            len(sales), sum(1 for s in sales if s.platform_hold)))
    labels = dict(Sale._fields['review_state']['selection'])
    reviews = Counter(labels.get(s.review_state) for s in sales)
    step("Sales by review: %s" % ', '.join(
            '%s %s' % (n, s) for s, n in sorted(reviews.items())))
    for trade in trades:
        if trade.state == 'exception':
            print('    [%s] %s' % (trade.tid, trade.reason), flush=True)
    for payload in Payload.find([
                ('shop', '=', shop.id), ('state', '=', 'error'),
                ('trade', '=', None)]):
        print('    [?] %s' % payload.reason, flush=True)


def serve(options, sao_folder):
    "Replace this process by the trytond server with sao as its web root"
    import shutil

    from trytond.config import config as tconfig
    trytond = os.path.join(os.path.dirname(sys.executable), 'trytond')
    if not os.path.exists(trytond):
        trytond = shutil.which('trytond')
    env = dict(os.environ, TRYTOND_WEB__ROOT=sao_folder)
    listen = tconfig.get('web', 'listen')
    step("The server: http://%s/ (database %s; Ctrl-C stops it)" % (
            listen.replace('0.0.0.0', '127.0.0.1'), options.database))
    command = [trytond]
    if os.environ.get('TRYTOND_CONFIG'):
        command += ['-c', os.environ['TRYTOND_CONFIG']]
    os.execve(trytond, command, env)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-d', '--database', default=os.environ.get(
            'SHOP_DATABASE', 'shop_demo'))
    parser.add_argument('--relay', default=SAMPLE,
        help="the relay database file to import from")
    parser.add_argument('--password', default=os.environ.get(
            'SHOP_ADMIN_PASSWORD', 'admin'))
    parser.add_argument('--no-server', dest='server', action='store_false',
        help="set up the database only, do not start the server")
    parser.add_argument('--sao', default=None,
        help="sao's folder (default: $SHOP_SAO, else $SHOP_DATA/sao)")
    options = parser.parse_args(argv)
    started = time.monotonic()

    from trytond.config import config as tconfig
    tconfig.update_etc(os.environ.get('TRYTOND_CONFIG'))
    from proteus import config as pconfig

    from . import sao, stages, users
    sao_folder = os.path.abspath(options.sao or sao.default_folder())
    if options.server:
        version = sao.installed(sao_folder)
        if version:
            step("Web client sao %s in %s" % (version, sao_folder))
        else:
            step("Installing the web client sao into %s" % sao_folder)
            sao.install(sao_folder)
    step("Database %s (%s)" % (
            options.database, tconfig.get('database', 'uri')))
    show_module_progress()
    if ensure_database(options.database, options.password):
        step("Created the database; user admin, password %s"
            % options.password)
    config = pconfig.set_trytond(
        options.database, config_file=os.environ.get('TRYTOND_CONFIG'))
    step("Activating %s (first run, or when the code changed)"
        % ', '.join(MODULES))
    stamp = os.path.join(
        os.path.expanduser(tconfig.get('database', 'path') or '.'),
        options.database + '.modules')
    if activate(config, stamp):
        config = pconfig.set_trytond(options.database)
    step("Company, chart of accounts, China's provinces")
    company = setup_company(config)
    step("Shop, products and product mapping")
    shop = setup_shop(config, os.path.abspath(options.relay))
    step("Fiscal year, carriers, payment journal, own fleet")
    setup_reviews(config, company, shop)
    step("Stock and waybill numbers")
    setup_warehouse(config)
    step("Users per role, in Chinese")
    done = users.setup_users(config, company)
    step("Importing from the relay database %s" % options.relay)
    shop.click('refresh_orders')
    report(config, shop)
    step("Refunds asked before shipping (file import)")
    summary = setup_refunds(config, shop)
    print(summary or "    (already there)", flush=True)
    step("Orders in every stage of the work")
    stages.advance(config, shop, step)
    for label, count in stages.summary(config, shop):
        print('    %5d  %s' % (count, label), flush=True)
    step("Users (and admin, password %s):" % options.password)
    users.print_users(done)
    step("Done in %.0f s" % (time.monotonic() - started))
    if options.server:
        serve(options, sao_folder)
    return 0


if __name__ == '__main__':
    sys.exit(main())
