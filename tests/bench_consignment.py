#!/usr/bin/env python3
# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of the ship confirmation to the platform (prints figures)

    ./run bench consignment [--uri URI] [--count 1000] [--batch 100]
                            [--fault-rate 0] [--profile FILE]
                            [--database shop_bench_consignment]

--count paid trades are imported, pass both reviews and their shipments are
handed over with YTO waybill numbers from a number range (the set-up, timed
but not the subject).  Then, as the warehouse does with one selection of
--count handed-over shipments, the [Confirm to Platform] button creates the
confirmations and queues them in batches of --batch; the tasks are run right
after the click, in this process, as trytond does without workers, each
batch in one transaction calling taobao.logistics.offline.send on a local
gateway.  With --fault-rate R, R of the calls fail for a while (call limits,
platform faults) and are sent again by the queue.
It prints the trades confirmed per second (goal >= 100) and checks that the
gateway confirmed every trade exactly once.
"""
import argparse
import cProfile
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_import  # noqa: E402
import bench_review  # noqa: E402

APP_KEY, APP_SECRET, SESSION = '12345678', 'bench-secret', 'bench-session'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--uri', default=bench_import.DEFAULT_URI)
    parser.add_argument('--database', default='shop_bench_consignment')
    parser.add_argument('--count', type=int, default=1000)
    parser.add_argument('--batch', type=int, default=100,
        help="confirmations per queue task (default %(default)s)")
    parser.add_argument('--fault-rate', type=float, default=0,
        help="part of the calls answered with a temporary error")
    parser.add_argument('--seed', type=int, default=1212)
    parser.add_argument('--profile', metavar='FILE',
        help="profile the confirmation into FILE and print the hotspots")
    return parser.parse_args(argv)


def prepare_shop(args, server):
    """Set up the shop (bench_review's), its platform the local server, its
    carrier's waybill numbers a number range"""
    shop = bench_review.setup(args)
    shop.api_url = server.url
    shop.app_key, shop.app_secret, shop.session_key = (
        APP_KEY, APP_SECRET, SESSION)
    shop.inspection_required = False
    shop.save()
    carrier = shop.default_carrier
    carrier.shipping_service = 'number_range'
    carrier.waybill_next_number = 'YT1000000000001'
    carrier.save()
    return shop


def prepare(args, server):
    "Set up the shop and hand --count orders over to the carrier"
    from proteus import Model
    from trytond.modules.shop_fulfilment.tests import generator

    shop = prepare_shop(args, server)
    trades = generator.generate_trades(args.count, seed=args.seed,
        status_weights={'WAIT_SELLER_SEND_GOODS': 1})
    server.trades.extend(trades)
    bench_import.write_relay(args, shop.relay_uri, trades)
    start = time.perf_counter()
    shop.click('refresh_orders')
    Sale = Model.get('sale.sale')
    ids = [s.id for s in Sale.find([('review_state', '=', 'finance')])]
    bench_review.finance_review(ids, 200)
    Shipment = Model.get('stock.shipment.out')
    shipments = Shipment.find([('state', '=', 'waiting')])
    for button in ['assign_try', 'request_waybills', 'pick', 'pack', 'done']:
        Shipment.click(shipments, button)
    shipments = Shipment.find([('confirmation_state', '=', 'to_confirm')],
        order=[('id', 'ASC')])
    print("%d orders imported, reviewed and %d shipments handed over in "
        "%.1f s" % (len(ids), len(shipments), time.perf_counter() - start))
    return shipments


def instrument(pool):
    timers = bench_import.Timers()
    Consignment = pool.get('web.shop.consignment')
    Shipment = pool.get('stock.shipment.out')
    Queue = pool.get('ir.queue')
    for cls, name, label in [
            (Shipment, 'confirm_to_platform', "confirm_to_platform (click)"),
            (Consignment, 'create_for_shipments', "  create confirmations"),
            (Consignment, 'queue', "  queue"),
            (Consignment, 'send', "send (queue tasks)"),
            (Shipment, 'update_confirmation', "  shipments updated"),
            ]:
        timers.wrap_classmethod(cls, name, label)
    timers.wrap_method(Consignment, '_send', "  platform calls")
    timers.wrap_method(Queue, 'run', "queue tasks run (after commit)")
    return timers


def main(argv=None):
    args = parse_args(argv)
    os.environ['TRYTOND_DATABASE_URI'] = args.uri
    os.environ['DB_NAME'] = args.database
    os.environ['TRYTOND_QUEUE__WORKER'] = 'False'
    os.environ['TRYTOND_SHOP_FULFILMENT__CONSIGNMENT_BATCH'] = str(args.batch)

    from proteus import Model
    from trytond.modules.shop_fulfilment.tests.top_server import TopServer
    from trytond.pool import Pool

    print("PostgreSQL %s, database %s, %d trades, batches of %d, "
        "fault rate %g, Python %s" % (args.uri, args.database, args.count,
            args.batch, args.fault_rate, sys.version.split()[0]))
    with TopServer(APP_KEY, APP_SECRET, SESSION) as server:
        shipments = prepare(args, server)
        count = len(shipments)
        timers = instrument(Pool(args.database))
        Shipment = Model.get('stock.shipment.out')
        profiler = cProfile.Profile() if args.profile else None
        server.fault_rate(args.fault_rate, seed=args.seed,
            methods=['taobao.logistics.offline.send'])
        calls = server.counts['taobao.logistics.offline.send']

        if profiler:
            profiler.enable()
        start = time.perf_counter()
        Shipment.click(shipments, 'confirm_to_platform')
        seconds = time.perf_counter() - start
        if profiler:
            profiler.disable()

        calls = server.counts['taobao.logistics.offline.send'] - calls
        confirmations = server.confirmations
        print("\nbatch confirmation: %d shipments in %.2f s: %.1f trades/s "
            "(goal >= 100)" % (count, seconds, count / seconds))
        print("    offline.send calls: %d, trades confirmed: %d, "
            "confirmed more than once: %d" % (calls, len(confirmations),
                sum(1 for n in confirmations.values() if n > 1)))
        timers.report(seconds)

    if profiler:
        profiler.dump_stats(args.profile)
        bench_import.print_profile(args.profile)

    print("\nchecks (SQL):")
    print("    confirmations done: %d" % bench_review.sql(args,
            "SELECT COUNT(*) FROM web_shop_consignment WHERE state = 'done'"))
    print("    confirmations not done: %d" % bench_review.sql(args,
            "SELECT COUNT(*) FROM web_shop_consignment "
            "WHERE state != 'done'"))
    print("    shipments confirmed: %d" % bench_review.sql(args,
            "SELECT COUNT(*) FROM stock_shipment_out "
            "WHERE confirmation_state = 'confirmed'"))
    print("    queue tasks: %d" % bench_review.sql(args,
            "SELECT COUNT(*) FROM ir_queue WHERE name = 'default'"))


if __name__ == '__main__':
    main()
