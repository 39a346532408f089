# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Set up a Taobao/Tmall shop through proteus, as a user would"
import datetime as dt
from decimal import Decimal

from proteus import Model, Wizard
from trytond.modules.currency.tests.tools import get_currency
from trytond.modules.shop_fulfilment import china
from trytond.modules.shop_fulfilment.tests import generator

__all__ = ['setup_china', 'get_cny', 'create_catalogue', 'create_shop',
    'map_catalogue', 'setup_accounting', 'create_carrier',
    'create_payment_journal', 'setup_alipay_account', 'DEMO_UNMAPPED']

# A SKU listed on the platform before it exists in Tryton
DEMO_UNMAPPED = {'RQZ-2-T'}


def _data_id(module, fs_id, config=None):
    ModelData = Model.get('ir.model.data', config=config)
    data, = ModelData.find(
        [('module', '=', module), ('fs_id', '=', fs_id)], limit=1)
    return data.db_id


def setup_china(config=None):
    "Create China and its provinces unless the countries are loaded"
    Country = Model.get('country.country', config=config)
    Subdivision = Model.get('country.subdivision', config=config)
    countries = Country.find([('code', '=', 'CN')])
    if countries:
        country, = countries
    else:
        country = Country(name="中国", code='CN', code3='CHN', code_numeric='156')
        country.save()
    known = {s.code for s in Subdivision.find([('country', '=', country.id)])}
    provinces = []
    for code, name, _ in china.PROVINCES:
        if code not in known:
            provinces.append(Subdivision(
                    country=country, code=code, name=name,
                    type=china.SUBDIVISION_TYPES[code]))
    Subdivision.save(provinces)
    return country


def get_cny(config=None):
    "Return the Renminbi, created when missing"
    Currency = Model.get('currency.currency', config=config)
    currencies = Currency.find([('code', '=', 'CNY')])
    if currencies:
        return currencies[0]
    currency = get_currency('CNY', config=config)
    currency.name = "人民币"
    currency.symbol = '¥'
    currency.save()
    return currency


def create_catalogue(account_category=None, skip=(), config=None):
    """Create a template per platform item and a variant per SKU,
    except the codes in skip; return the products by code"""
    Uom = Model.get('product.uom', config=config)
    Template = Model.get('product.template', config=config)
    Product = Model.get('product.product', config=config)
    unit = Uom(_data_id('product', 'uom_unit', config))
    existing = {p.code for p in Product.find([('code', '!=', None)])}
    items = {}
    for sku in generator.CATALOGUE:
        if sku['code'] not in existing and sku['code'] not in skip:
            items.setdefault(sku['num_iid'], []).append(sku)
    templates = []
    for skus in items.values():
        template = Template(
            name=skus[0]['title'], type='goods', default_uom=unit,
            salable=True, list_price=Decimal(skus[0]['price']),
            account_category=account_category)
        template.products.pop()
        for sku in skus:
            product = template.products.new()
            product.suffix_code = sku['code']
            product.description = sku['sku_properties_name'] or None
        templates.append(template)
    Template.save(templates)
    return {p.code: p for p in Product.find([('code', '!=', None)])}


def create_postage_product(account_category=None, config=None):
    Uom = Model.get('product.uom', config=config)
    Template = Model.get('product.template', config=config)
    Product = Model.get('product.product', config=config)
    products = Product.find([('code', '=', 'POSTAGE')])
    if products:
        return products[0]
    unit = Uom(_data_id('product', 'uom_unit', config))
    template = Template(
        name="运费", type='service', default_uom=unit, salable=True,
        list_price=Decimal(0), account_category=account_category)
    template.products[0].code = 'POSTAGE'
    template.save()
    return template.products[0]


def create_shop(name, type_='tmall', seller_nick='沪上家电旗舰店',
        order_source='relay', relay_uri=None, account_category=None,
        config=None):
    "Create the shop selling from the main warehouse"
    Shop = Model.get('web.shop', config=config)
    Location = Model.get('stock.location', config=config)
    warehouse, = Location.find([('type', '=', 'warehouse')], limit=1)
    shops = Shop.find([('name', '=', name)])
    if shops:
        return shops[0]
    shop = Shop(name=name, type=type_)
    shop.seller_nick = seller_nick
    shop.order_source = order_source
    shop.relay_uri = relay_uri
    shop.warehouses.append(Location(warehouse.id))
    shop.postage_product = create_postage_product(
        account_category, config=config)
    shop.import_overlap = dt.timedelta(minutes=10)
    shop.save()
    return shop


def map_catalogue(shop, products, skip=(), config=None):
    """Map the catalogue's platform identifiers to the products,
    except the codes in skip"""
    Mapping = Model.get('web.shop.taobao.product', config=config)
    mapped = {(m.num_iid, m.sku_id or None)
        for m in Mapping.find([('shop', '=', shop.id)])}
    mappings = []
    for item in generator.CATALOGUE:
        sku_id = str(item['sku_id']) if item['sku_id'] else None
        if (item['code'] in skip or item['code'] not in products
                or (str(item['num_iid']), sku_id) in mapped):
            continue
        mappings.append(Mapping(
                shop=shop, num_iid=str(item['num_iid']),
                sku_id=sku_id,
                outer_iid=item['outer_iid'],
                outer_sku_id=item['outer_sku_id'],
                title=item['title'], product=products[item['code']]))
    Mapping.save(mappings)
    return mappings


def setup_accounting(company, config=None):
    """Create the fiscal year and the minimal chart of accounts;
    return the accounts by kind and a goods category using them"""
    from trytond.modules.account.tests.tools import (
        create_chart, create_fiscalyear, get_accounts)
    from trytond.modules.account_invoice.tests.tools import (
        set_fiscalyear_invoice_sequences)
    Category = Model.get('product.category', config=config)
    fiscalyear = set_fiscalyear_invoice_sequences(
        create_fiscalyear(company, config=config), config=config)
    fiscalyear.click('create_period')
    create_chart(company, config=config)
    accounts = get_accounts(company, config=config)
    category = Category(name="家用电器", accounting=True)
    category.account_revenue = accounts['revenue']
    category.account_expense = accounts['expense']
    category.save()
    return accounts, category


def create_payment_journal(accounts, config=None):
    """The journal recording what buyers pay the platform (Alipay),
    cleared to the account of what the platform owes the shop"""
    Account = Model.get('account.account', config=config)
    Journal = Model.get('account.journal', config=config)
    PaymentJournal = Model.get('account.payment.journal', config=config)
    clearing = Account(name="支付宝待结算", code='1122.01',
        type=accounts['cash'].type, reconcile=True,
        parent=accounts['cash'].parent)
    clearing.save()
    journal, = Journal.find([('code', '=', 'CASH')], limit=1)
    payment_journal = PaymentJournal(name="天猫支付宝",
        process_method='manual', clearing_journal=journal,
        clearing_account=clearing)
    payment_journal.save()
    return payment_journal


def setup_alipay_account(shop, config=None):
    """The shop's Alipay account as the accountant sets it up: its
    statement journal, a suspense account and an expense account per fee
    type; return a dict with journal, suspense and fees (by type).  The
    clearing account is made reconcilable."""
    Account = Model.get('account.account', config=config)
    Journal = Model.get('account.journal', config=config)
    StatementJournal = Model.get('account.statement.journal', config=config)
    clearing = shop.payment_journal.clearing_account
    if not clearing.reconcile:
        clearing.reconcile = True
        clearing.save()
    expense, = Account.find([('type.expense', '=', True)], limit=1)

    def account(name, code, like):
        record = Account(name=name, code=code, type=like.type,
            parent=like.parent)
        record.save()
        return record
    alipay = account("支付宝余额", '1012.01', clearing)
    suspense = account("支付宝待查", '1012.99', clearing)
    journal = Journal(name="支付宝", code='ALIPAY', type='statement')
    journal.save()
    statement_journal = StatementJournal(name="天猫支付宝账户",
        journal=journal, account=alipay, validation='balance')
    statement_journal.save()
    shop.statement_journal = statement_journal
    shop.statement_suspense_account = suspense
    fees = {}
    for fee_type, name in [('commission', "技术服务费"),
            ('taobaoke', "淘宝客佣金"), ('points', "积分"),
            ('insurance', "运费险")]:
        fees[fee_type] = account(name, '6601.%s' % fee_type, expense)
        shop.statement_fees.new(fee_type=fee_type, account=fees[fee_type])
    shop.save()
    return {'journal': statement_journal, 'suspense': suspense,
        'fees': fees}


def create_carrier(name, platform_code, config=None):
    "A carrier known to the platform by its company code"
    Carrier = Model.get('carrier', config=config)
    Party = Model.get('party.party', config=config)
    Uom = Model.get('product.uom', config=config)
    Template = Model.get('product.template', config=config)
    carriers = Carrier.find([('platform_code', '=', platform_code)])
    if carriers:
        return carriers[0]
    template = Template(name="%s运费" % name, type='service',
        default_uom=Uom(_data_id('product', 'uom_unit', config)),
        salable=True, list_price=Decimal(0))
    template.save()
    carrier = Carrier(party=Party(name=name), carrier_product=template.products[0])
    carrier.platform_code = platform_code
    carrier.carrier_cost_method = 'product'
    carrier.party.save()
    carrier.save()
    return carrier


def setup_shop_with_stock(quantity=1000, config=None):
    """Set up the company, accounting, the catalogue in stock, the carriers
    (YTO, SF) and a Tmall shop reviewing through to finance; return a dict
    with company, accounts, products, shop, carriers (by platform code)
    and journal.  Call it right after activate_modules."""
    from trytond.modules.company.tests.tools import (
        create_company, get_company)
    _ = create_company(currency=get_cny(config), config=config)
    company = get_company(config=config)
    setup_china(config)
    accounts, category = setup_accounting(company, config)
    products = create_catalogue(account_category=category, config=config)
    shop = create_shop(
        "天猫旗舰店", 'tmall', order_source='file',
        account_category=category, config=config)
    map_catalogue(shop, products, config=config)
    carriers = {
        'YTO': create_carrier("圆通速递", 'YTO', config),
        'SF': create_carrier("顺丰速运", 'SF', config),
        }
    journal = create_payment_journal(accounts, config)
    shop.default_carrier = carriers['YTO']
    shop.payment_journal = journal
    shop.save()
    Location = Model.get('stock.location', config=config)
    Inventory = Model.get('stock.inventory', config=config)
    storage, = Location.find([('code', '=', 'STO')], limit=1)
    inventory = Inventory(location=storage)
    for product in products.values():
        if product.type == 'goods':
            inventory.lines.new(product=product, quantity=quantity)
    inventory.click('confirm')
    return {
        'company': company, 'accounts': accounts, 'category': category,
        'products': products, 'shop': shop, 'carriers': carriers,
        'journal': journal,
        }


def import_trades(shop, trades, config=None):
    "Import the trades through the file wizard; return the summary"
    Wizard_ = Wizard if config is None else (
        lambda *a, **k: Wizard(*a, config=config, **k))
    import_ = Wizard_('web.shop.taobao.import_file')
    import_.form.shop = shop
    import_.form.file_ = '\n'.join(
        generator.response_text(t) for t in trades).encode()
    import_.execute('import_')
    summary = import_.form.summary
    import_.execute('end')
    return summary


def finance_reviewed_sales(shop, trades, delivery_mode='express',
        carrier=None, config=None):
    """Import the paid trades and pass both reviews as the reviewers do;
    return the sales not on hold (in platform payment order), processed
    with their shipments waiting in the warehouse"""
    Sale = Model.get('sale.sale', config=config)
    import_trades(shop, trades, config=config)
    tids = [str(t.get('tid_str') or t['tid']) for t in trades]
    sales = Sale.find([('web_shop', '=', shop.id), ('web_id', 'in', tids)],
        order=[('platform_paid', 'ASC'), ('id', 'ASC')])
    # Orders with a refund in progress stay on hold, as in the client
    sales = [s for s in sales if not s.platform_hold]
    for sale in sales:
        if sale.review_state != 'customer':
            continue
        sale.notes_acknowledged = True
        sale.delivery_mode = delivery_mode
        if carrier:
            sale.carrier = carrier
        if delivery_mode == 'scheduled':
            sale.scheduled_date = dt.date.today() + dt.timedelta(days=2)
        sale.save()
    Sale.click([s for s in sales if s.review_state == 'customer'],
        'customer_review')
    Sale.click([s for s in sales if s.review_state == 'finance'],
        'finance_review')
    return Sale.find([('id', 'in', [s.id for s in sales])],
        order=[('platform_paid', 'ASC'), ('id', 'ASC')])
