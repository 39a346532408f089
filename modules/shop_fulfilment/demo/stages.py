# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The demo's orders taken through every stage of the work, as the teams do
it in the client: some rejected to the exception list, some through the
finance review, to print, packed, handed over and confirmed to the
platform, returned and refunded, settled by an Alipay statement.

The platform's answers during this set-up come from a local stand-in of the
Taobao Open Platform (the gateway the tests use, on 127.0.0.1): the demo
shop has no real app key.  The shop's API settings are put back afterwards.
"""
import copy
import datetime as dt
import json

from proteus import Model, Wizard

# How many of the oldest orders waiting for the finance review go where
FINANCE_REVIEWED = 30
TO_PRINT = 6
PACKED = 6
REJECTED = 2
RETURNS = 4
SETTLED = 8


def advanced(config):
    "Whether an earlier run took the orders through the stages already"
    Shipment = Model.get('stock.shipment.out', config=config)
    return bool(Shipment.find([('state', '=', 'done')], limit=1))


def advance(config, shop, step):
    """Take the imported orders through the stages; step(message) shows
    the progress.  Does nothing when done before (the demo is idempotent)"""
    from trytond.modules.shop_returns.tests.top_refund import ReturnsServer
    if advanced(config):
        step("Orders in every stage: done before")
        return False
    server = ReturnsServer('demo-app', 'demo-secret', 'demo-session')
    server.start()
    saved = (shop.api_url, shop.app_key, shop.app_secret, shop.session_key)
    try:
        shop.api_url = server.url
        shop.app_key, shop.app_secret, shop.session_key = (
            server.app_key, server.app_secret, server.session)
        shop.return_address_id = shop.return_address_id or '100001'
        shop.return_remark = shop.return_remark or "请在包裹内写上订单号"
        shop.save()
        _advance(config, shop, server, step)
    finally:
        shop.reload()
        (shop.api_url, shop.app_key, shop.app_secret,
            shop.session_key) = saved
        shop.save()
        server.stop()
    return True


def _advance(config, shop, server, step):
    Sale = Model.get('sale.sale', config=config)
    step("Rejecting %d orders to the exception list" % REJECTED)
    reject(config, Sale.find([
                ('web_shop', '=', shop.id),
                ('review_state', '=', 'customer'),
                ('platform_hold', '=', False),
                ], order=[('platform_paid', 'ASC'), ('id', 'ASC')],
            limit=REJECTED))
    sales = Sale.find([
            ('web_shop', '=', shop.id),
            ('review_state', '=', 'finance'),
            ('platform_hold', '=', False),
            ], order=[('platform_paid', 'ASC'), ('id', 'ASC')],
        limit=FINANCE_REVIEWED)
    step("Finance review of %d orders" % len(sales))
    Sale.click(sales, 'finance_review')
    sales = Sale.find([('id', 'in', [s.id for s in sales])],
        order=[('platform_paid', 'ASC'), ('id', 'ASC')])
    trades = platform_trades(config, sales)
    server.trades.extend(copy.deepcopy(list(trades.values())))

    to_print = sales[:TO_PRINT]
    packed = sales[TO_PRINT:TO_PRINT + PACKED]
    shipped = sales[TO_PRINT + PACKED:]
    step("Warehouse: %d to print, %d packed, %d handed over and confirmed "
        "to the platform" % (len(to_print), len(packed), len(shipped)))
    warehouse(config, to_print, packed, shipped)

    returned = shipped[:RETURNS]
    step("Returns: %d asked by buyers (to decide, awaiting goods, "
        "received and refunded)" % len(returned))
    returns(config, shop, server, returned, trades)

    settled = shipped[RETURNS:RETURNS + SETTLED]
    step("Receivables: %d orders finished and settled by an Alipay "
        "statement" % len(settled))
    settle(config, shop, settled, trades)


def reject(config, sales):
    for sale in sales:
        wizard = Wizard('sale.review.reject', [sale], config=config)
        wizard.form.reason = "买家要求改地址，待客服确认新地址后再审"
        wizard.execute('reject')


def platform_trades(config, sales):
    "The trades of the sales as the platform gave them last, by trade ID"
    Payload = Model.get('web.shop.taobao.payload', config=config)
    trades = {}
    for payload in Payload.find([
                ('tid', 'in', [s.web_id for s in sales]),
                ('state', '=', 'applied'),
                ], order=[('id', 'ASC')]):
        data = json.loads(payload.data)
        trades[payload.tid] = data['trade_fullinfo_get_response']['trade']
    return trades


def shipments_of(config, sales):
    Shipment = Model.get('stock.shipment.out', config=config)
    return Shipment.find([
            ('id', 'in', [s.id for sale in sales for s in sale.shipments]),
            ], order=[('id', 'ASC')])


def warehouse(config, to_print, packed, shipped):
    Shipment = Model.get('stock.shipment.out', config=config)
    to_print = shipments_of(config, to_print)
    Shipment.click(to_print, 'assign_try')
    parcels = shipments_of(config, packed + shipped)
    Shipment.click(parcels, 'assign_try')
    Shipment.click(parcels, 'request_waybills')
    Shipment.click(parcels, 'pick')
    parcels = shipments_of(config, packed + shipped)
    # 核对: each parcel's waybill and delivery note scanned together
    check = Wizard('shop_fulfilment.check_parcel', config=config)
    for shipment in parcels:
        for code in [shipment.shipping_reference, shipment.number]:
            check.form.code = code
            check.execute('check')
    check.execute('end')
    for shipment in parcels:
        inspect(config, shipment)
    Shipment.click(parcels, 'pack')
    handed = shipments_of(config, shipped)
    Shipment.click(handed, 'done')
    # The batch ship confirmation (批量发货), through the queue
    Shipment.click(handed, 'confirm_to_platform')


def inspect(config, shipment):
    "验货: every unit scanned"
    inspection = Wizard('shop_fulfilment.inspect_shipment', [shipment],
        config=config)
    for move in inspection.form.moves:
        for _ in range(int(move.quantity)):
            inspection.form.code = move.product.code
            inspection.execute('scan')


def returns(config, shop, server, sales, trades):
    """Two refunds to decide (a return and a refund only), one return
    awaiting its goods, one received and refunded"""
    from trytond.modules.shop_returns.tests import refund_generator as rg
    from trytond.modules.shop_returns.tests import tools as rtools
    Return = Model.get('stock.shipment.out.return', config=config)
    Approval = Model.get('web.shop.return_approval', config=config)
    asked = []
    for sale, kind in zip(sales, ['REFUND_AND_RETURN', 'REFUND',
                'REFUND_AND_RETURN', 'REFUND_AND_RETURN']):
        trade = dict(trades[sale.web_id], status='WAIT_BUYER_CONFIRM_GOODS')
        asked.append(rg.refund_for(trade, kind=kind,
                reason="七天无理由退换货"))
    server.refunds.extend(copy.deepcopy(asked))
    rtools.import_refunds(shop, asked, config=config)
    # The first two wait for after-sales; the others are agreed
    refunds = [rtools.refund(shop, a['refund_id'], config=config)
        for a in asked]
    for refund in refunds[2:]:
        refund.click('agree')
    # The buyer of the last one hands the parcel to a doorstep pickup
    back = rg.pickup(server.current(asked[-1]['refund_id']))
    server.refunds.append(copy.deepcopy(back))
    rtools.import_refunds(shop, [back], config=config)
    parcel, = Return.find([('rec_name', '=', back['sid'])])
    Wizard('stock.shipment.out.return.inspect', [parcel],
        config=config).execute('receive')
    approvals = Approval.find([('state', '=', 'awaiting_finance')])
    Approval.click(approvals, 'approve')
    # The refunds as the platform shows them now (agreed, succeeded)
    rtools.import_refunds(shop, [server.current(a['refund_id'])
            for a in asked], config=config)


def settle(config, shop, sales, trades):
    """The buyers confirm receipt (交易成功); the platform pays the shop and
    the accountant imports the Alipay statement, validates and posts it"""
    from trytond.modules.shop_fulfilment.tests import (
        alipay_statement, generator, tools)
    # A newer version of each trade: an older one is never applied
    modified = generator._time(
        dt.datetime.utcnow() + dt.timedelta(hours=8))
    finished = [dict(trades[s.web_id], status='TRADE_FINISHED',
            modified=modified) for s in sales]
    tools.import_trades(shop, finished, config=config)
    tools.setup_alipay_account(shop, config=config)
    data, _ = alipay_statement.generate_statement(
        [(s.web_id, s.total_amount) for s in sales], seed=11)
    import_ = Wizard('account.statement.import', config=config)
    import_.form.file_format = 'alipay'
    import_.form.shop = shop
    import_.form.file_ = data
    import_.execute('import_')
    Statement = Model.get('account.statement', config=config)
    statement, = Statement.find([], order=[('id', 'DESC')], limit=1)
    statement.click('validate_statement')
    statement.click('post')


def summary(config, shop):
    "What waits where, a line per stage"
    Sale = Model.get('sale.sale', config=config)
    Shipment = Model.get('stock.shipment.out', config=config)
    Refund = Model.get('web.shop.taobao.refund', config=config)
    Approval = Model.get('web.shop.return_approval', config=config)
    Statement = Model.get('account.statement', config=config)

    def sales(state):
        return len(Sale.find([('web_shop', '=', shop.id),
                ('review_state', '=', state)]))

    def shipments(domain):
        return len(Shipment.find(domain))
    return [
        ("to customer review (待客审)", sales('customer')),
        ("exceptions (异常)", sales('exception')),
        ("to finance review (待财审)", sales('finance')),
        ("to print (待打印)", shipments([('state', 'in',
                        ['waiting', 'assigned', 'picked'])])),
        ("packed (已打包)", shipments([('state', '=', 'packed')])),
        ("confirmed to the platform (已发货)", shipments([
                    ('confirmation_state', '=', 'confirmed')])),
        ("refunds to decide (待处理退款)", len(Refund.find(
                [('state', '=', 'to_decide')]))),
        ("returns awaiting goods (待收退货)", len(Approval.find(
                [('state', '=', 'awaiting_goods')]))),
        ("returns refunded (已退款)", len(Approval.find(
                [('state', '=', 'approved')]))),
        ("Alipay statements posted (已对账)", len(Statement.find(
                [('state', '=', 'posted')]))),
        ]
