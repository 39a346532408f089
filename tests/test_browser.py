# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The daily flow in Tryton's web client sao, in Chinese, in a real browser.

A trytond server is started on 127.0.0.1 (a free port) with sao as its web
root, on a SQLite database prepared by the demo (`shop-demo --no-server`:
the modules with Chinese loaded, the Tmall shop, the users per role, the
relay sample imported). Headless Chromium (Debian's /usr/bin/chromium),
driven by Playwright, then works as the people do:

1. the order reviewer (审单) logs in, opens 电商订单 ▸ 平台订单 ▸ 待客审,
   opens an order, chooses the carrier and passes the customer review (客审);
2. finance (财审) finds the order under 待财审 and passes the finance review;
3. the warehouse (仓库) opens the order's shipment (发货) from the order,
   reserves the goods, requests the waybill number and prints the waybill:
   the report arrives as a file;
4. after-sales (售后) agrees to a buyer's return and refund (平台退款单,
   退货退款) of a delivered order: its return approval (退货审批单)
   appears, waiting for the goods.

Each step writes a screenshot into $SHOP_SCREENSHOTS (default
/tmp/shop_fulfilment-screenshots/, emptied first) and asserts on the
Chinese text shown; the printed waybill is saved there too.

Skipped, with the reason, when Chromium, Playwright or sao are missing
(`.ci/run` installs them). The database is cached in $DB_CACHE, keyed by
the modules' and the demo's code.

For working on the steps, SHOP_BROWSER_URL=http://127.0.0.1:PORT/ with
SHOP_BROWSER_DATABASE=NAME runs them against a server already running."""
import hashlib
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
CHROMIUM = os.environ.get('SHOP_CHROMIUM', '/usr/bin/chromium')
PASSWORD = os.environ.get('SHOP_DEMO_PASSWORD', 'shop-demo-2026')
DATABASE = 'browser'
SCREENSHOTS = pathlib.Path(os.environ.get('SHOP_SCREENSHOTS') or os.path.join(
        os.environ.get('TMPDIR', '/tmp'), 'shop_fulfilment-screenshots'))
# How long the client may take for one thing (ms): the machine is shared
TIMEOUT = 30000


def _sao_folder():
    from trytond.modules.shop_fulfilment.demo import sao
    return sao.default_folder()


def _missing():
    "Why the test cannot run here, or None"
    if not os.path.exists(CHROMIUM):
        return "Chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright)"
    from trytond.modules.shop_fulfilment.demo import sao
    if not sao.installed(_sao_folder()):
        return ("sao is not installed in %s (python -m "
            "trytond.modules.shop_fulfilment.demo.sao)" % _sao_folder())
    return None


def _digest():
    "The version of what the prepared database depends on"
    digest = hashlib.sha1()
    for folder in ['modules/shop_fulfilment', 'modules/shop_returns']:
        for path in sorted((ROOT / folder).rglob('*')):
            if (path.suffix in {'.py', '.xml', '.cfg', '.po', '.fodt',
                        '.sqlite'}
                    and 'tests' not in path.parts):
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _config(folder, port):
    "trytond's configuration: the repository's, on SQLite, on our port"
    import configparser
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / 'config' / 'trytond.conf')
    config['database']['uri'] = 'sqlite://'
    config['database']['path'] = str(folder)
    config['web']['listen'] = '127.0.0.1:%s' % port
    config['web']['root'] = _sao_folder()
    path = folder / 'trytond.conf'
    with open(path, 'w') as file:
        config.write(file)
    return path


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _env(config):
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_') and k not in {'DB_NAME'}}
    env['TRYTOND_CONFIG'] = str(config)
    env['PYTHONWARNINGS'] = 'ignore'
    return env


def _prepare(folder, config):
    "The demo's database, from the cache when the code did not change"
    cache = os.environ.get('DB_CACHE')
    cached = None
    if cache:
        cached = pathlib.Path(cache) / ('browser-%s.sqlite' % _digest())
        if cached.exists():
            shutil.copyfile(cached, folder / (DATABASE + '.sqlite'))
            return
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, '-m', 'trytond.modules.shop_fulfilment.demo',
            '--no-server', '-d', DATABASE],
        env=_env(config), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-5000:]
    print("database prepared in %.0f s" % (time.monotonic() - started))
    if cached:
        os.makedirs(cached.parent, exist_ok=True)
        shutil.copyfile(folder / (DATABASE + '.sqlite'), str(cached) + '.tmp')
        os.replace(str(cached) + '.tmp', cached)


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    "The URL and database of a trytond serving sao"
    if os.environ.get('SHOP_BROWSER_URL'):
        yield (os.environ['SHOP_BROWSER_URL'],
            os.environ.get('SHOP_BROWSER_DATABASE', DATABASE))
        return
    if os.environ.get('TRYTOND_DATABASE_URI', 'sqlite').startswith(
            'postgresql'):
        pytest.skip("runs in the SQLite pass only (its own SQLite database)")
    reason = _missing()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp('browser')
    port = _free_port()
    config = _config(folder, port)
    _prepare(folder, config)
    trytond = os.path.join(os.path.dirname(sys.executable), 'trytond')
    log = open(folder / 'trytond.log', 'w')
    process = subprocess.Popen([trytond, '-c', str(config)],
        env=_env(config), stdout=log, stderr=subprocess.STDOUT)
    url = 'http://127.0.0.1:%s/' % port
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                assert process.poll() is None, (
                    folder / 'trytond.log').read_text()[-3000:]
                time.sleep(0.5)
        yield url, DATABASE
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope='module')
def browser(server):
    if os.environ.get('SHOP_BROWSER_URL'):
        reason = _missing()
        if reason and 'sao' not in reason:
            pytest.skip(reason)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=['--no-sandbox', '--disable-dev-shm-usage'])
        try:
            yield browser
        finally:
            browser.close()


class Client:
    "A person in front of sao"

    def __init__(self, browser, url, database, shots):
        self.context = browser.new_context(
            # The team's browsers: Chinese, in China time (the client
            # shows the times stored in UTC in its own time zone)
            locale='zh-CN', timezone_id='Asia/Shanghai',
            accept_downloads=True,
            viewport={'width': 1400, 'height': 900})
        self.context.set_default_timeout(TIMEOUT)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on('pageerror', lambda error: self.errors.append(
                str(error)))
        self.url = url
        self.database = database
        self.shots = shots

    def close(self):
        self.context.close()

    def shot(self, name):
        self.page.wait_for_timeout(300)
        self.page.screenshot(path=str(self.shots / ('%s.png' % name)))

    @property
    def tab(self):
        "The content of the active tab"
        return self.page.locator('#tabcontent > .tab-pane.active')

    def expect_text(self, text, where=None):
        from playwright.sync_api import expect
        expect((where or self.page).get_by_text(text).first).to_be_visible()

    def check_errors(self):
        # (A list with a date-time column without widget date or time
        # fails in sao 7.0 with "WIDGETS[t.widget] is not a constructor")
        assert not self.errors, self.errors

    def login(self, login, name):
        page = self.page
        page.goto(self.url + '#' + self.database)
        page.locator('input#login').fill(login)
        page.locator('.login-dialog button[type=submit]').click()
        password = page.locator('input[type=password]:visible')
        password.fill(PASSWORD)
        password.press('Enter')
        # The user's name in the bar, the menu in Chinese
        self.expect_text(name, page.locator('#user-preferences'))
        self.expect_text('电商订单', page.locator('#menu'))

    def logout(self):
        self.page.locator('#user-logout > a').click()
        self.page.locator('input#login').wait_for()

    def open_menu(self, *path):
        menu = self.page.locator('#menu')
        for name in path[:-1]:
            item = menu.get_by_text(name, exact=True).first
            item.click()
        menu.get_by_text(path[-1], exact=True).first.dblclick()
        # The new tab, or the error that keeps it from opening
        opened = self.page.locator('#tablist').get_by_text(path[-1]).first
        deadline = time.monotonic() + TIMEOUT / 1000
        while not opened.is_visible():
            self.check_errors()
            assert time.monotonic() < deadline, "%s did not open" % (path,)
            self.page.wait_for_timeout(200)
        self.check_errors()

    def open_list_tab(self, name):
        "Choose a tab of the list (the action's domains) and wait"
        # (JavaScript's \b knows no Chinese: the name, then a space)
        tab = self.tab.locator('.tab-domain a[role=tab]').filter(
            has_text=re.compile(r'^\s*%s(\s|$)' % re.escape(name))).first
        tab.click()
        self.wait_idle()
        self.check_errors()

    def wait_idle(self):
        self.page.wait_for_timeout(300)
        self.page.locator('#processing').wait_for(state='hidden')

    def expect_rows(self, count):
        "Wait for the list to show count rows (a search takes time)"
        from playwright.sync_api import expect
        expect(self.rows()).to_have_count(count, timeout=TIMEOUT)

    def rows(self):
        return self.tab.locator('.treeview tbody tr:visible')

    def search(self, text):
        box = self.tab.locator('input.form-control[type=search], '
            '.filter-box input').first
        box.fill(text)
        box.press('Enter')
        self.wait_idle()

    def open_row(self, index=0, row=None):
        "Open the row at index, or the row given (a locator)"
        if row is None:
            row = self.rows().nth(index)
        row.wait_for()
        self.wait_idle()
        # In its middle: the columns shown change as the list settles
        row.dblclick()
        self.tab.locator('.form').first.wait_for()
        self.wait_idle()

    def form_tab(self, name):
        self.tab.locator('.nav-tabs a').filter(has_text=name).first.click()

    def field(self, name):
        return self.tab.locator('[name="%s"]:visible' % name).first

    def set_many2one(self, name, text):
        "Type into a many2one as a person does and take the completion"
        widget = self.field(name)
        widget.click()
        widget.fill('')
        widget.press_sequentially(text, delay=50)
        self.page.locator('.dropdown-menu:visible li a').filter(
            has_text=text).first.click()
        self.wait_idle()

    def click_button(self, label, confirm=True):
        button = self.tab.locator('button:visible').filter(
            has_text=re.compile(r'^\s*%s\s*$' % re.escape(label))).last
        button.click()
        if confirm:
            dialog = self.page.locator('.modal-dialog:visible')
            dialog.locator('button.btn-primary').click()
        self.wait_idle()
        self.check_errors()
        self.check_dialogs(label)

    def check_dialogs(self, doing):
        "A message of the server (an error, a warning) stops the test"
        self.page.wait_for_timeout(500)
        dialog = self.page.locator('.modal-dialog:visible')
        if dialog.count():
            self.shot('error')
            raise AssertionError("%s: %s" % (doing, dialog.first.inner_text()))

    def wait_field(self, name, value, timeout=TIMEOUT):
        "Wait until the field shows the value (a button's work takes time)"
        deadline = time.monotonic() + timeout / 1000
        while True:
            self.check_errors()
            self.check_dialogs('waiting for %s = %s' % (name, value))
            shown = self.field_text(name)
            if shown == value or time.monotonic() > deadline:
                return shown
            self.page.wait_for_timeout(500)

    def field_text(self, name):
        widget = self.field(name)
        tag = widget.evaluate('e => e.tagName')
        if tag == 'SELECT':
            return widget.evaluate('e => e.options[e.selectedIndex].text')
        return widget.input_value()


@pytest.fixture(scope='module')
def shots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in [*SCREENSHOTS.glob('*.png'), *SCREENSHOTS.glob('*.odt')]:
        old.unlink()
    return SCREENSHOTS


@pytest.fixture
def client(browser, server, shots):
    url, database = server
    client = Client(browser, url, database, shots)
    yield client
    client.close()


# What the steps pass on to one another
FLOW = {}


def test_order_review(client):
    "The order reviewer passes the customer review of an order"
    client.login('reviewer', "审单员小李")
    client.shot('01_reviewer_logged_in')
    client.open_menu('电商订单', '平台订单')
    client.open_list_tab('待客审')
    client.rows().first.wait_for()
    client.expect_text('待客审', client.tab)
    client.shot('02_reviewer_to_review_list')

    client.open_row(0)
    reference = client.field('reference').input_value()
    assert reference
    FLOW['reference'] = reference
    client.form_tab('审单')
    assert client.field_text('review_state') == '待客审'
    client.shot('03_reviewer_order')

    client.form_tab('销售订单')
    client.set_many2one('carrier', '顺丰速运')
    assert '顺丰速运' in client.field('carrier').input_value()
    client.form_tab('审单')
    acknowledged = client.field('notes_acknowledged')
    if not acknowledged.is_checked():
        acknowledged.check()
    client.shot('04_reviewer_carrier_chosen')
    client.click_button('客审')
    client.form_tab('审单')
    assert client.wait_field('review_state', '待财审') == '待财审'
    assert '审单员小李' in client.field('customer_reviewed_by').input_value()
    client.shot('05_reviewer_customer_review_passed')


def test_finance_review(client):
    "Finance passes the finance review of the same order"
    if 'reference' not in FLOW:
        pytest.skip("the customer review did not pass")
    client.login('finance', "财审员小张")
    client.open_menu('电商订单', '平台订单')
    client.open_list_tab('待财审')
    client.search(FLOW['reference'])
    client.expect_rows(1)
    client.shot('06_finance_to_review_list')
    client.open_row(0)
    client.form_tab('审单')
    assert client.field_text('review_state') == '待财审'
    client.click_button('财审')
    client.form_tab('审单')
    assert client.wait_field('review_state', '已审核') == '已审核'
    assert '财审员小张' in client.field('finance_reviewed_by').input_value()
    client.shot('07_finance_review_passed')
    FLOW['finance'] = True


def test_waybill(client):
    "The warehouse reserves the goods, numbers and prints the waybill"
    from playwright.sync_api import expect
    if 'finance' not in FLOW:
        pytest.skip("the finance review did not pass")
    client.login('warehouse', "仓库发货员小赵")
    # The shipment does not carry the trade ID: the warehouse finds it
    # from the order
    client.open_menu('电商订单', '平台订单')
    client.open_list_tab('全部')
    client.search(FLOW['reference'])
    client.expect_rows(1)
    client.open_row(0)
    client.tab.locator('button[name="sale.act_shipment_form"]').click()
    client.wait_idle()
    client.expect_text('发货', client.page.locator('#tablist'))
    if not client.tab.locator('.form:visible').count():
        client.open_row(0)
    client.shot('08_warehouse_shipment')
    client.click_button('选货', confirm=False)
    assert client.wait_field('state', '已选货') == '已选货'
    client.click_button('获取面单', confirm=False)
    # The carrier chosen at the review, its roll of numbers
    number = client.field('shipping_reference')
    expect(number).to_have_value(re.compile(r'^SF\d{13}$'))
    number = number.input_value()
    client.shot('09_warehouse_waybill_number')
    with client.page.expect_download() as download:
        client.tab.locator('button[title="打印"], button#print').first.click()
        client.page.locator('.dropdown-menu:visible a').filter(
            has_text='打印面单').first.click()
    name = download.value.suggested_filename
    path = client.shots / name
    download.value.save_as(path)
    assert '面单' in name, name
    # The waybill: the carrier, its number, the trade ID
    with zipfile.ZipFile(path) as document:
        content = document.read('content.xml').decode('utf-8')
    for text in ['顺丰速运', number, FLOW['reference'], '收件人']:
        assert text in content, text
    client.shot('10_warehouse_waybill_printed')


def test_return_agreed(client):
    "After-sales agrees to a buyer's return (退货退款) of a delivered order"
    from playwright.sync_api import expect
    client.login('aftersales', "售后专员小陈")
    client.open_menu('电商订单', '售后', '平台退款单')
    client.open_list_tab('待审核')
    returns = client.rows().filter(has_text='退货退款')
    returns.first.wait_for()
    client.shot('11_aftersales_refunds_to_decide')
    client.open_row(row=returns.first)
    assert client.field_text('state') == '待审核'
    assert client.field_text('dispute_type') == '退货退款'
    assert client.field('refund_id').input_value()
    client.shot('12_aftersales_return')
    client.click_button('同意')
    assert client.wait_field('state', '已同意') == '已同意'
    # The return approval (退货审批单) waits for the parcel; the agreement
    # is queued to the platform with the shop's return address
    approvals = client.tab.locator('.treeview tbody tr:visible').filter(
        has_text='退货退款')
    expect(approvals.first).to_contain_text('待收退货')
    client.shot('13_aftersales_return_agreed')
