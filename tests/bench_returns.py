#!/usr/bin/env python3
# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of the returns on PostgreSQL (prints figures, no asserts)

    .venv/bin/python tests/bench_returns.py [--uri URI] [--count 2000]
                     [--batch 100] [--database shop_bench_returns]

--count paid trades are imported, reviewed and shipped (not timed), then for
each a return and refund (退货退款) is asked on the platform and
(1) imported from the relay table jdp_tb_refund with the [Refresh Refunds]
    button;
(2) agreed by after-sales in batches of --batch (return approvals, return
    shipments, taobao.rp.returngoods.agree through the queue to a local
    gateway);
(3) the doorstep pickups' waybills imported, then each parcel found by its
    waybill and received with the inspection wizard;
(4) approved by finance in batches (credit notes posted, refunds paid and
    reconciled, taobao.rp.refunds.agree through the queue).
It prints refunds per second per step and end to end (goal >= 30/s), and
checks by SQL that every order balances: paid - refunded = invoiced -
credited.
"""
import argparse
import copy
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_import  # noqa: E402
import bench_review  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--uri', default=bench_import.DEFAULT_URI)
    parser.add_argument('--database', default='shop_bench_returns')
    parser.add_argument('--count', type=int, default=2000)
    parser.add_argument('--batch', type=int, default=100)
    parser.add_argument('--seed', type=int, default=2027)
    return parser.parse_args(argv)


def activate():
    from trytond.tests.test_tryton import drop_db
    from trytond.tests.tools import activate_modules
    start = time.perf_counter()
    drop_db()
    activate_modules('shop_returns')
    print("module activated in %.1f s" % (time.perf_counter() - start))


def ship_all(database):
    "Hand every waiting shipment over, server side (not timed)"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool(database)
    with Transaction().start(database, 1, context={'company': 1}):
        Shipment = pool.get('stock.shipment.out')
        Package = pool.get('stock.package')
        PackageType = pool.get('stock.package.type')
        package_type = PackageType(name="纸箱")
        package_type.save()
        shipments = Shipment.search([('state', '=', 'waiting')])
        Shipment.assign_try(shipments)
        Shipment.pick(shipments)
        packages = []
        for shipment in Shipment.browse(shipments):
            shipment.shipping_reference = 'YT%010d' % shipment.id
            packages.append(Package(type=package_type, shipment=shipment,
                    shipping_reference=shipment.shipping_reference,
                    moves=list(shipment.outgoing_moves)))
        Shipment.save(shipments)
        Package.save(packages)
        Shipment.pack(shipments)
        Shipment.done(shipments)
        Transaction().commit()
    return len(shipments)


def main(argv=None):
    args = parse_args(argv)
    os.environ['TRYTOND_DATABASE_URI'] = args.uri
    os.environ['DB_NAME'] = args.database
    os.environ['TRYTOND_QUEUE__WORKER'] = 'False'
    from proteus import Model, Wizard
    from trytond.modules.shop_fulfilment.tests import generator
    from trytond.modules.shop_returns.tests import refund_generator as rg
    from trytond.modules.shop_returns.tests.top_refund import ReturnsServer

    print("PostgreSQL %s, database %s, %d returns, batches of %d" % (
            args.uri, args.database, args.count, args.batch))
    bench_import.activate = activate
    shop = bench_review.setup(args)
    shop.inspection_required = False
    server = ReturnsServer('12345678', 'app-secret', 'session-key')
    server.start()
    shop.api_url = server.url
    shop.app_key, shop.app_secret, shop.session_key = (
        '12345678', 'app-secret', 'session-key')
    shop.return_address_id = '100001'
    shop.return_remark = '请寄回'
    shop.save()
    trades = generator.generate_trades(args.count, seed=args.seed,
        status_weights={'WAIT_SELLER_SEND_GOODS': 1})
    relay_uri = shop.relay_uri
    try:
        bench_import.write_relay(args, relay_uri, trades)
        start = time.perf_counter()
        shop.click('refresh_orders')
        Sale = Model.get('sale.sale')
        ids = [s.id for s in Sale.find([('review_state', '=', 'finance')])]
        bench_review.finance_review(ids, 200)
        shipped = ship_all(args.database)
        print("orders imported, reviewed and %d shipped in %.1f s" % (
                shipped, time.perf_counter() - start))
        sales = {s.web_id for s in Sale.find([('state', '=', 'processing')])}
        asked = []
        for trade in trades:
            if trade['tid_str'] not in sales:
                continue
            trade = dict(trade, status='WAIT_BUYER_CONFIRM_GOODS')
            asked.append(rg.refund_for(trade, kind='REFUND_AND_RETURN'))
        server.refunds.extend(copy.deepcopy(asked))
        rg.write_relay(relay_uri, asked)
        Refund = Model.get('web.shop.taobao.refund')
        Approval = Model.get('web.shop.return_approval')
        Return = Model.get('stock.shipment.out.return')
        steps = []

        def step(label, function):
            start = time.perf_counter()
            function()
            seconds = time.perf_counter() - start
            steps.append(seconds)
            print("(%d) %s: %d refunds in %.2f s (%.1f refunds/s)" % (
                    len(steps), label, len(asked), seconds,
                    len(asked) / seconds))

        step("import", lambda: shop.click('refresh_refunds'))

        def agree():
            ids = [r.id for r in Refund.find([('state', '=', 'to_decide')])]
            for i in range(0, len(ids), args.batch):
                Refund.click([Refund(i) for i in ids[i:i + args.batch]],
                    'agree')
        step("agree", agree)

        def receive():
            backs = [rg.pickup(server.current(r['refund_id']))
                for r in asked]
            server.refunds.extend(copy.deepcopy(backs))
            rg.write_relay(relay_uri, backs)
            shop.click('refresh_refunds')
            for back in backs:
                parcel, = Return.find([('rec_name', '=', back['sid'])])
                Wizard('stock.shipment.out.return.inspect',
                    [parcel]).execute('receive')
        step("pickup waybills and receiving", receive)

        def approve():
            ids = [a.id for a in Approval.find(
                    [('state', '=', 'awaiting_finance')])]
            for i in range(0, len(ids), args.batch):
                Approval.click([Approval(i) for i in ids[i:i + args.batch]],
                    'approve')
        step("finance approval", approve)
        total = sum(steps)
        print("\nend to end: %d refunds in %.2f s: %.1f refunds/s "
            "(goal >= 30)" % (len(asked), total, len(asked) / total))
        print("\nchecks (SQL):")
        sql = bench_import.sql_count
        print("    approvals approved: %d" % sql(args,
                "SELECT COUNT(*) FROM web_shop_return_approval "
                "WHERE state = 'approved'"))
        print("    return shipments done: %d" % sql(args,
                "SELECT COUNT(*) FROM stock_shipment_out_return "
                "WHERE state = 'done'"))
        print("    credit notes paid: %d" % sql(args,
                "SELECT COUNT(*) FROM account_invoice "
                "WHERE state = 'paid' AND total_amount_cache < 0"))
        print("    decisions sent: %d" % sql(args,
                "SELECT COUNT(*) FROM web_shop_taobao_refund_decision "
                "WHERE state = 'done'"))
        print("    orders not balanced: %d" % sum(
                1 for s in Sale.find([('return_approvals', '!=', None)])
                if s.platform_payment - s.platform_refunded
                != s.invoiced_amount - s.credited_amount))
    finally:
        server.stop()
        bench_import.admin_execute(args.uri,
            'DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
            % (args.database + '_relay'))


if __name__ == '__main__':
    main()
