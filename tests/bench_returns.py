#!/usr/bin/env python3
# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of the returns on PostgreSQL (prints figures, no asserts)

    ./run bench returns [--uri URI] [--count 2000] [--batch 100]
                        [--database shop_bench_returns] [--reuse]
                        [--profile DIR]

--count paid trades are imported, reviewed and shipped (not timed), then for
each a return and refund (退货退款) is asked on the platform and
(1) imported from the relay table jdp_tb_refund with the [Refresh Refunds]
    button;
(2) agreed by after-sales in batches of --batch (return approvals, return
    shipments, taobao.rp.returngoods.agree through the queue to a local
    gateway);
(3) the doorstep pickups' waybills imported (the waybill set on the return
    shipments);
(4) the parcels found by their waybills, --batch scanned at once, and
    received together with the inspection wizard;
(5) approved by finance in batches (credit notes posted, refunds paid and
    reconciled, taobao.rp.refunds.agree through the queue).
What the buyers do on the platform between the steps is not timed.  It
prints refunds per second per step and end to end (goal >= 30/s), and
checks by SQL that every order balances: paid - refunded = invoiced -
credited.

With --reuse the database with the orders shipped is kept as
<database>_setup_<count>_<seed> (and its relay) and cloned by the next runs
instead of set up again.  With --profile DIR each step is profiled with
cProfile into DIR/<step>.prof and its hotspots are printed.
"""
import argparse
import copy
import cProfile
import os
import pstats
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
    parser.add_argument('--reuse', action='store_true',
        help="keep the database with the orders shipped and reuse it")
    parser.add_argument('--profile', metavar='DIR',
        help="profile each step into DIR/<step>.prof")
    parser.add_argument('--setup-only', action='store_true',
        help="stop once the orders are shipped (with --reuse: kept)")
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
    from trytond.worker import run_task
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
    # What the shipments queued (the sales processed), as proteus does
    while Transaction().tasks:
        run_task(pool, Transaction().tasks.pop())
    return len(shipments)


def snapshot_names(args):
    name = '%s_setup_%d_%d' % (args.database, args.count, args.seed)
    return name, name + '_relay'


def database_exists(args, name):
    return bool(bench_import.sql_count(argparse.Namespace(
                uri=args.uri, database='postgres'),
            "SELECT COUNT(*) FROM pg_database WHERE datname = %s", name))


def copy_database(args, source, target):
    bench_import.admin_execute(args.uri,
        'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % target,
        'CREATE DATABASE "%s" TEMPLATE "%s"' % (target, source))


def keep_setup(args):
    "Keep the databases with the orders shipped for the next --reuse"
    from trytond import backend
    backend.Database(args.database).close()
    setup, setup_relay = snapshot_names(args)
    copy_database(args, args.database, setup)
    copy_database(args, args.database + '_relay', setup_relay)
    print("kept as %s and %s" % (setup, setup_relay))


def reuse_setup(args):
    "Clone the databases kept by an earlier run; return the shop or None"
    from proteus import Model, config
    setup, setup_relay = snapshot_names(args)
    if not (database_exists(args, setup)
            and database_exists(args, setup_relay)):
        return None
    start = time.perf_counter()
    copy_database(args, setup, args.database)
    copy_database(args, setup_relay, args.database + '_relay')
    config.set_trytond(args.database)
    shop, = Model.get('web.shop').find([('relay_uri', '!=', None)])
    print("orders shipped: cloned from %s in %.1f s" % (
            setup, time.perf_counter() - start))
    return shop


def print_profile(path, limit=30):
    stats = pstats.Stats(path)
    print("\n    by cumulative time (modules and the ORM):")
    stats.sort_stats('cumulative').print_stats(
        'shop_returns|shop_fulfilment|trytond/model|trytond/modules', limit)
    print("    by own time:")
    stats.sort_stats('tottime').print_stats(limit)


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
    server = ReturnsServer('12345678', 'app-secret', 'session-key')
    server.start()
    trades = generator.generate_trades(args.count, seed=args.seed,
        status_weights={'WAIT_SELLER_SEND_GOODS': 1})
    try:
        shop = reuse_setup(args) if args.reuse else None
        if not shop:
            shop = setup_shipped(args, server, trades)
            if args.reuse:
                keep_setup(args)
        if args.setup_only:
            return
        shop = Model.get('web.shop')(shop.id)
        shop.api_url = server.url
        shop.save()
        relay_uri = shop.relay_uri
        Sale = Model.get('sale.sale')
        sales = {s.web_id for s in Sale.find(
                [('state', 'in', ['processing', 'done'])])}
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
        if args.profile:
            os.makedirs(args.profile, exist_ok=True)

        autovacuum = bench_import.sql_count(args, "SHOW autovacuum")
        if autovacuum != 'on':
            print("autovacuum is %s on this server: the tables are analyzed "
                "between the steps (not timed), as it would do" % autovacuum)

        def step(label, function):
            if autovacuum != 'on':
                bench_import.analyze(args)
            profiler = cProfile.Profile() if args.profile else None
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            function()
            if profiler:
                profiler.disable()
            seconds = time.perf_counter() - start
            steps.append(seconds)
            print("(%d) %s: %d refunds in %.2f s (%.1f refunds/s)" % (
                    len(steps), label, len(asked), seconds,
                    len(asked) / seconds))
            if profiler:
                path = os.path.join(args.profile, '%d-%s.prof' % (
                        len(steps), label.split()[0]))
                profiler.dump_stats(path)
                print_profile(path)

        step("import", lambda: shop.click('refresh_refunds'))

        def agree():
            ids = [r.id for r in Refund.find([('state', '=', 'to_decide')])]
            for i in range(0, len(ids), args.batch):
                Refund.click([Refund(i) for i in ids[i:i + args.batch]],
                    'agree')
        step("agree", agree)

        # The buyers hand the parcels to doorstep pickups
        backs = [rg.pickup(server.current(r['refund_id'])) for r in asked]
        server.refunds.extend(copy.deepcopy(backs))
        rg.write_relay(relay_uri, backs)
        step("pickup waybills", lambda: shop.click('refresh_refunds'))

        def receive():
            # The waybills of a cart of parcels scanned, then inspected and
            # received together
            waybills = [b['sid'] for b in backs]
            for i in range(0, len(waybills), args.batch):
                scanned = waybills[i:i + args.batch]
                parcels = Return.find([('rec_name', 'in', scanned)])
                if len(parcels) != len(scanned):
                    raise SystemExit("%d parcels found for %d waybills" % (
                            len(parcels), len(scanned)))
                Wizard('stock.shipment.out.return.inspect',
                    parcels).execute('receive')
        step("receiving", receive)

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


def setup_shipped(args, server, trades):
    "The shop with the trades imported, reviewed and shipped (not timed)"
    from proteus import Model
    bench_import.activate = activate
    shop = bench_review.setup(args)
    shop.inspection_required = False
    shop.api_url = server.url
    shop.app_key, shop.app_secret, shop.session_key = (
        '12345678', 'app-secret', 'session-key')
    shop.return_address_id = '100001'
    shop.return_remark = '请寄回'
    shop.save()
    bench_import.write_relay(args, shop.relay_uri, trades)
    start = time.perf_counter()
    shop.click('refresh_orders')
    Sale = Model.get('sale.sale')
    ids = [s.id for s in Sale.find([('review_state', '=', 'finance')])]
    bench_review.finance_review(ids, 200)
    shipped = ship_all(args.database)
    print("orders imported, reviewed and %d shipped in %.1f s" % (
            shipped, time.perf_counter() - start))
    return shop


if __name__ == '__main__':
    main()
