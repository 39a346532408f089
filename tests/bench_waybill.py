#!/usr/bin/env python3
# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of waybills for a batch of shipments (prints figures, no asserts)

    ./run bench waybill [--uri URI] [--count 1000] [--source number_range]
                        [--database shop_bench_waybill] [--profile FILE]

The set-up (timed apart, not the subject): paid trades are imported and
--count of them pass both reviews, their shipments are assigned, and the
carrier gets its waybill source: a number range of pre-printed waybills
(淘宝助理, --source number_range) or the electronic waybill service
(--source cainiao: cainiao.waybill.ii.get on a local gateway, the shop's
seller user ID, the warehouse's sender address and mobile, the cloud print
template).  Then, as the warehouse does with one selection of --count
shipments:
(1) the waybill numbers are taken with the [Request Waybills] button;
(2) the waybills (76 x 130 mm, one page per parcel) are printed as one
    document with the [Print Waybills] wizard, through relatorio;
and, as extra lines, the waybills printed again from the parcels, the
delivery notes, the pick list and the handover list of the same batch.
It prints the seconds and shipments per second of each step, the size of
the documents, and checks by SQL that every shipment of the batch has one
parcel with a number, no number twice.
"""
import argparse
import cProfile
import io
import os
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_import  # noqa: E402
import bench_review  # noqa: E402

APP_KEY, APP_SECRET, SESSION = '12345678', 'bench-secret', 'bench-session'
SELLER_USER_ID = '2206571234567'
TEMPLATE_URL = 'http://cloudprint.cainiao.com/template/standard/101/605'
# Some trades stop at the customer review (notes, addresses): more are
# imported than the batch needs
SPARE_TRADES = 0.1


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--uri', default=bench_import.DEFAULT_URI)
    parser.add_argument('--database', default='shop_bench_waybill')
    parser.add_argument('--count', type=int, default=1000,
        help="shipments of the batch (default %(default)s)")
    parser.add_argument('--seed', type=int, default=1111)
    parser.add_argument('--source', choices=['number_range', 'cainiao'],
        default='number_range')
    parser.add_argument('--profile', metavar='FILE',
        help="profile the waybill steps into FILE and print the hotspots")
    return parser.parse_args(argv)


def prepare(args):
    """Set up the shop, bring --count orders through both reviews and
    return their assigned shipments"""
    from proteus import Model
    from trytond.modules.shop_fulfilment.tests import generator

    shop = bench_review.setup(args)
    trades = generator.generate_trades(
        args.count + int(args.count * SPARE_TRADES) + 10, seed=args.seed,
        status_weights={'WAIT_SELLER_SEND_GOODS': 1})
    bench_import.write_relay(args, shop.relay_uri, trades)
    start = time.perf_counter()
    shop.click('refresh_orders')
    Sale = Model.get('sale.sale')
    ids = [s.id for s in Sale.find([('review_state', '=', 'finance')],
            order=[('id', 'ASC')])][:args.count]
    bench_review.finance_review(ids, 200)
    Shipment = Model.get('stock.shipment.out')
    shipments = Shipment.find([('state', '=', 'waiting')])
    Shipment.click(shipments, 'assign_try')
    shipments = Shipment.find([('state', '=', 'assigned')],
        order=[('id', 'ASC')])
    print("%d trades imported, %d orders reviewed, %d shipments assigned "
        "in %.1f s" % (len(trades), len(ids), len(shipments),
            time.perf_counter() - start))
    if len(shipments) != args.count:
        print("    WARNING: %d shipments instead of %d"
            % (len(shipments), args.count))
    return shipments


def set_source(args, server):
    "Give the carrier of the shop its waybill source"
    from proteus import Model
    from trytond.modules.shop_fulfilment.tests import tools

    start = time.perf_counter()
    Shop = Model.get('web.shop')
    shop, = Shop.find([])
    carrier = shop.default_carrier
    if args.source == 'number_range':
        carrier.shipping_service = 'number_range'
        carrier.waybill_next_number = 'YT1000000000001'
        carrier.waybill_increment = 1
    else:
        shop.api_url = server.url
        shop.app_key = APP_KEY
        shop.app_secret = APP_SECRET
        shop.session_key = SESSION
        shop.seller_user_id = SELLER_USER_ID
        shop.save()
        set_warehouse_sender(tools.setup_china())
        carrier.shipping_service = 'cainiao'
        carrier.cainiao_template_url = TEMPLATE_URL
    carrier.save()
    print("waybill source %s set up in %.1f s" % (
            args.source, time.perf_counter() - start))


def set_warehouse_sender(country):
    "The warehouse's address and the company's mobile, the waybill's sender"
    from proteus import Model
    from trytond.modules.company.tests.tools import get_company

    Subdivision = Model.get('country.subdivision')
    Location = Model.get('stock.location')
    zhejiang, = Subdivision.find([('code', '=', 'CN-ZJ')])
    party = get_company().party
    address = party.addresses.new()
    address.party_name = "沪上家电杭州仓"
    address.country = country
    address.subdivision = zhejiang
    address.city = "杭州市"
    address.street = "余杭区仓前街道文一西路1500号"
    mobile = party.contact_mechanisms.new(type='mobile')
    mobile.value = '13957112345'
    party.save()
    warehouse, = Location.find([('type', '=', 'warehouse')], limit=1)
    warehouse.address, = [a for a in party.addresses
        if a.party_name == "沪上家电杭州仓"]
    warehouse.save()


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


def describe(result):
    "The format, size and pages of a rendered document"
    ext, content, _, _ = result
    pages = ''
    if ext == 'odt':
        xml = zipfile.ZipFile(io.BytesIO(content)).read('content.xml')
        # The documents of one page a record start each on a new one
        starts = xml.count(b'text:style-name="Page_20_Start"')
        if starts:
            pages = ', %d pages' % starts
    return "%s of %.2f MB%s" % (ext, len(content) / 2 ** 20, pages)


def print_report(name, records):
    from proteus import Report
    return Report(name).execute(records)


def run(args, server, shipments, profiler=None):
    "Number and print the waybills of the batch, then the other documents"
    from proteus import Model, Wizard

    count = len(shipments)
    Shipment = Model.get('stock.shipment.out')

    print()
    request_seconds, _ = timed("(1) waybill numbers", count,
        lambda: Shipment.click(shipments, 'request_waybills'), profiler)
    if args.source == 'cainiao':
        print("    cainiao.waybill.ii.get calls: %d" % server.counts[
                'cainiao.waybill.ii.get'])

    def print_waybills():
        return Wizard('shop_fulfilment.print_waybill', shipments).actions
    print_seconds, documents = timed(
        "(2) waybills printed and rendered", count, print_waybills, profiler)
    print("    %d document(s): %s" % (
            len(documents), '; '.join(describe(d) for d in documents)))
    total = request_seconds + print_seconds
    print("numbers and printed waybills: %d shipments in %.2f s "
        "(%.1f shipments/s, goal < 30 s)" % (count, total, count / total))

    print("\nother documents of the batch:")
    Package = Model.get('stock.package')
    packages = Package.find([('shipment', 'in', [
                    'stock.shipment.out,%s' % s.id for s in shipments])])
    for label, name, records in [
            ("    waybills again, from the parcels", 'shop_fulfilment.waybill',
                packages),
            ("    delivery notes", 'shop_fulfilment.delivery_note',
                shipments),
            ("    pick list", 'shop_fulfilment.pick_list', shipments),
            ("    handover list", 'shop_fulfilment.handover_list',
                shipments),
            ]:
        _, result = timed(label, count,
            lambda n=name, r=records: print_report(n, r), profiler)
        print("        %s" % describe(result))


def check(args, shipments):
    ids = ','.join(str(s.id) for s in shipments) or 'NULL'
    batch = "shipment IN (%s)" % (','.join(
            "'stock.shipment.out,%s'" % s.id for s in shipments) or 'NULL')
    print("\nchecks (SQL):")
    print("    parcels of the batch with a number: %d" % bench_review.sql(
            args, "SELECT COUNT(*) FROM stock_package "
            "WHERE shipping_reference IS NOT NULL AND " + batch))
    print("    numbers used twice: %d" % bench_review.sql(args,
            "SELECT COUNT(*) FROM (SELECT shipping_reference "
            "FROM stock_package WHERE shipping_reference IS NOT NULL "
            "GROUP BY shipping_reference HAVING COUNT(*) > 1) AS t"))
    print("    shipments of the batch without a number: %d" % (
            bench_review.sql(args, "SELECT COUNT(*) FROM stock_shipment_out "
                "WHERE id IN (%s) AND shipping_reference IS NULL" % ids)))
    print("    waybills printed once: %d" % bench_review.sql(args,
            "SELECT COUNT(*) FROM stock_package "
            "WHERE waybill_prints = 1 AND " + batch))


def main(argv=None):
    args = parse_args(argv)
    os.environ['TRYTOND_DATABASE_URI'] = args.uri
    os.environ['DB_NAME'] = args.database
    os.environ['TRYTOND_QUEUE__WORKER'] = 'False'

    from trytond.modules.shop_fulfilment.tests.top_server import TopServer

    print("PostgreSQL %s, database %s, %d shipments, waybills from %s, "
        "Python %s" % (args.uri, args.database, args.count, args.source,
            sys.version.split()[0]))
    with TopServer(APP_KEY, APP_SECRET, SESSION) as server:
        start = time.perf_counter()
        shipments = prepare(args)
        set_source(args, server)
        print("set-up, not counted: %.1f s" % (time.perf_counter() - start))
        profiler = cProfile.Profile() if args.profile else None
        run(args, server, shipments, profiler)

    if profiler:
        profiler.dump_stats(args.profile)
        bench_import.print_profile(args.profile)
    check(args, shipments)


if __name__ == '__main__':
    main()
