#!/usr/bin/env python3
# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of waybills for a batch of shipments (prints figures, no asserts)

    ./run bench waybill [--uri URI] [--count 1000] [--source number_range]
                        [--database shop_bench_waybill] [--profile FILE]

--count paid trades are imported and pass both reviews (the set-up, timed
but not the subject).  Then, as the warehouse does with one selection of
--count shipments:
(1) the waybill numbers are taken, with the [Request Waybills] button, from
    the carrier's number range (淘宝助理) or from the electronic waybill
    service (cainiao.waybill.ii.get on a local gateway, --source cainiao);
(2) the waybills (76 x 130 mm, one page per parcel) are printed as one
    document, with the [Print Waybills] action, through relatorio;
(3) the same for the delivery notes and the pick list of the batch.
It prints the seconds and shipments per second of each step, the size of
the documents, and checks by SQL that every shipment has one parcel with a
number, no number twice.
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
    parser.add_argument('--database', default='shop_bench_waybill')
    parser.add_argument('--count', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=1111)
    parser.add_argument('--source', choices=['number_range', 'cainiao'],
        default='number_range')
    parser.add_argument('--profile', metavar='FILE',
        help="profile the waybill steps into FILE and print the hotspots")
    return parser.parse_args(argv)


def prepare(args, server):
    "Set up the shop and bring --count orders through both reviews"
    from proteus import Model
    from trytond.modules.shop_fulfilment.tests import generator

    shop = bench_review.setup(args)
    carrier = shop.default_carrier
    if args.source == 'number_range':
        carrier.shipping_service = 'number_range'
        carrier.waybill_next_number = 'YT1000000000001'
        carrier.waybill_increment = 1
    else:
        carrier.shipping_service = 'cainiao'
        shop.api_url = server.url
        shop.app_key = APP_KEY
        shop.app_secret = APP_SECRET
        shop.session_key = SESSION
        shop.save()
    carrier.save()
    trades = generator.generate_trades(args.count, seed=args.seed,
        status_weights={'WAIT_SELLER_SEND_GOODS': 1})
    bench_import.write_relay(args, shop.relay_uri, trades)
    start = time.perf_counter()
    shop.click('refresh_orders')
    Sale = Model.get('sale.sale')
    ids = [s.id for s in Sale.find([('review_state', '=', 'finance')])]
    bench_review.finance_review(ids, 200)
    Shipment = Model.get('stock.shipment.out')
    shipments = Shipment.find([('state', '=', 'waiting')])
    Shipment.click(shipments, 'assign_try')
    shipments = Shipment.find([('state', '=', 'assigned')],
        order=[('id', 'ASC')])
    print("%d orders imported and reviewed, %d shipments assigned in "
        "%.1f s" % (len(ids), len(shipments), time.perf_counter() - start))
    return shipments


def timed(label, count, func, profiler=None):
    if profiler:
        profiler.enable()
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    if profiler:
        profiler.disable()
    print("%s: %d shipments in %.2f s (%.1f shipments/s)" % (
            label, count, seconds, count / seconds))
    return seconds, result


def print_report(name, records):
    from proteus import Report
    report = Report(name)
    return report.execute(records)


def main(argv=None):
    args = parse_args(argv)
    os.environ['TRYTOND_DATABASE_URI'] = args.uri
    os.environ['DB_NAME'] = args.database
    os.environ['TRYTOND_QUEUE__WORKER'] = 'False'

    from proteus import Model, Wizard
    from trytond.modules.shop_fulfilment.tests.top_server import TopServer

    print("PostgreSQL %s, database %s, %d shipments, waybills from %s, "
        "Python %s" % (args.uri, args.database, args.count, args.source,
            sys.version.split()[0]))
    with TopServer(APP_KEY, APP_SECRET, SESSION) as server:
        shipments = prepare(args, server)
        count = len(shipments)
        Shipment = Model.get('stock.shipment.out')
        profiler = cProfile.Profile() if args.profile else None

        print()
        request_seconds, _ = timed("(1) waybill numbers", count,
            lambda: Shipment.click(shipments, 'request_waybills'), profiler)
        if args.source == 'cainiao':
            print("    cainiao.waybill.ii.get calls: %d" % server.counts[
                    'cainiao.waybill.ii.get'])

        def print_waybills():
            wizard = Wizard('shop_fulfilment.print_waybill', shipments)
            return wizard.actions
        print_seconds, actions = timed(
            "(2) waybills printed (one document)", count, print_waybills,
            profiler)
        Package = Model.get('stock.package')
        packages = Package.find([('shipment', 'in', [
                        'stock.shipment.out,%s' % s.id for s in shipments])])
        render_seconds, (ext, content, _, _) = timed(
            "    rendered again from the parcels", count,
            lambda: print_report('shop_fulfilment.waybill', packages),
            profiler)
        print("    %s document of %.1f MB" % (ext, len(content) / 2 ** 20))
        total = request_seconds + print_seconds
        print("numbers and printed waybills: %d shipments in %.2f s "
            "(goal < 30 s)" % (count, total))
        timed("(3) delivery notes (one document)", count,
            lambda: print_report('shop_fulfilment.delivery_note', shipments),
            profiler)
        timed("    pick list of the batch", count,
            lambda: print_report('shop_fulfilment.pick_list', shipments),
            profiler)

    if profiler:
        profiler.dump_stats(args.profile)
        bench_import.print_profile(args.profile)

    print("\nchecks (SQL):")
    print("    parcels with a number: %d" % bench_review.sql(args,
            "SELECT COUNT(*) FROM stock_package "
            "WHERE shipping_reference IS NOT NULL"))
    print("    numbers used twice: %d" % bench_review.sql(args,
            "SELECT COUNT(*) FROM (SELECT shipping_reference "
            "FROM stock_package WHERE shipping_reference IS NOT NULL "
            "GROUP BY shipping_reference HAVING COUNT(*) > 1) AS t"))
    print("    assigned shipments without a number: %d" % bench_review.sql(
            args, "SELECT COUNT(*) FROM stock_shipment_out "
            "WHERE state = 'assigned' AND shipping_reference IS NULL"))


if __name__ == '__main__':
    main()
