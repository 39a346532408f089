#!/usr/bin/env python3
# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of the reviews on PostgreSQL (prints figures, no asserts)

    ./run bench review [--uri URI] [--count 5000] [--batch 200]
                       [--processes 1] [--database shop_bench_review]
                       [--profile FILE]

--count paid trades are written to a relay database, then
(1) imported with the [Refresh] button, the shop passing the customer review
    of every order it can by itself (自动审单) right after the import;
(2) the finance review (财审) is pressed on batches of --batch orders, as
    finance does on a selected list: payments recorded and cleared, sales
    confirmed and processed (shipments waiting, invoices created), invoices
    posted and settled.  The tasks the queue gets are run right after each
    batch, in this process, as trytond does without workers: their time is
    counted.  With --processes N, N processes share the orders, each
    pressing the button on its own lists, as N finance clerks would.
It prints orders per second per step and from imported to shipment-waiting,
and checks, by SQL, that every order has its waiting shipment, its paid
invoice and its payment equal to what the buyer paid.
"""
import argparse
import cProfile
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_import  # noqa: E402

SELLER = bench_import.SELLER


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--uri', default=bench_import.DEFAULT_URI)
    parser.add_argument('--database', default='shop_bench_review')
    parser.add_argument('--count', type=int, default=5000)
    parser.add_argument('--batch', type=int, default=200,
        help="orders per finance review click (default %(default)s)")
    parser.add_argument('--seed', type=int, default=2026)
    parser.add_argument('--processes', type=int, default=1,
        help="processes sharing the finance review (default %(default)s)")
    parser.add_argument('--profile', metavar='FILE',
        help="profile the finance review into FILE and print the hotspots")
    parser.add_argument('--finance-only', metavar='IDS',
        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def finance_review(ids, batch, profiler=None):
    "Press the finance review on the sales, batch by batch"
    from proteus import Model
    from trytond import backend
    Sale = Model.get('sale.sale')
    for i in range(0, len(ids), batch):
        sales = [Sale(id_) for id_ in ids[i:i + batch]]
        if profiler:
            profiler.enable()
        for attempt in range(30):
            try:
                Sale.click(sales, 'finance_review')
                break
            except backend.DatabaseOperationalError:
                # A lock another process holds: trytond's dispatcher
                # retries such a call, proteus does not
                time.sleep(1)
        else:
            raise RuntimeError("finance review failed 30 times")
        if profiler:
            profiler.disable()


def finance_only(args):
    "One of the --processes: review the sales whose ids the file lists"
    from proteus import config
    config.set_trytond(args.database)
    with open(args.finance_only) as file:
        ids = [int(i) for i in file.read().split()]
    finance_review(ids, args.batch)


def finance_in_processes(args, ids):
    "Share the finance review between processes; return the seconds"
    import subprocess
    import tempfile
    folder = tempfile.mkdtemp()
    commands = []
    for n in range(args.processes):
        path = os.path.join(folder, 'ids-%d' % n)
        with open(path, 'w') as file:
            file.write(' '.join(map(str, ids[n::args.processes])))
        commands.append([sys.executable, os.path.abspath(__file__),
                '--uri', args.uri, '--database', args.database,
                '--batch', str(args.batch), '--finance-only', path])
    start = time.perf_counter()
    processes = [subprocess.Popen(c) for c in commands]
    codes = [p.wait() for p in processes]
    seconds = time.perf_counter() - start
    if any(codes):
        print("    a process failed: exit codes %s" % codes)
    return seconds


def setup(args):
    from proteus import Model
    from trytond.modules.company.tests.tools import (
        create_company, get_company)
    from trytond.modules.shop_fulfilment.tests import tools

    bench_import.activate()
    start = time.perf_counter()
    create_company(currency=tools.get_cny())
    company = get_company()
    tools.setup_china()
    accounts, category = tools.setup_accounting(company)
    products = tools.create_catalogue(account_category=category)
    relay_uri = bench_import.server_uri(
        args.uri, args.database + '_relay')
    shop = tools.create_shop("天猫旗舰店", 'tmall', seller_nick=SELLER,
        relay_uri=relay_uri, account_category=category)
    tools.map_catalogue(shop, products)
    shop.default_carrier = tools.create_carrier("圆通速递", 'YTO')
    shop.payment_journal = tools.create_payment_journal(accounts)
    shop.auto_review = True
    # Messages and memos are read by a person; here every order is quiet
    shop.auto_review_no_notes = False
    shop.save()
    Inventory = Model.get('stock.inventory')
    Location = Model.get('stock.location')
    storage, = Location.find([('code', '=', 'STO')])
    inventory = Inventory(location=storage)
    for product in products.values():
        line = inventory.lines.new()
        line.product = product
        line.quantity = 1_000_000
    inventory.click('confirm')
    print("company, accounts, catalogue, stock and shop in %.1f s" % (
            time.perf_counter() - start))
    return shop


def instrument(pool):
    timers = bench_import.Timers()
    Sale = pool.get('sale.sale')
    Payment = pool.get('account.payment')
    Invoice = pool.get('account.invoice')
    Shipment = pool.get('stock.shipment.out')
    Move = pool.get('account.move')
    Queue = pool.get('ir.queue')
    for cls, name, label in [
            (Sale, 'finance_review', "finance_review"),
            (Sale, 'collect_platform_payments', "  payments"),
            (Payment, 'save', "    save"),
            (Payment, 'submit', "    submit"),
            (Payment, 'process', "    process"),
            (Payment, 'succeed', "    succeed (clearing moves)"),
            (Move, 'post', "    account moves posted"),
            (Sale, 'confirm', "      confirm"),
            (Sale, 'process', "  sale process"),
            (Sale, '_process_invoice', "    invoices"),
            (Sale, '_process_shipment', "    shipments"),
            (Shipment, 'wait', "      wait"),
            (Sale, '_process_invoice_shipment_states', "    states"),
            (Sale, 'post_platform_invoices', "  invoices posted"),
            (Invoice, '_post', "    _post (moves, payments reconciled)"),
            (Invoice, 'print_invoice', "    print_invoice (queued)"),
            (Sale, 'after_finance_review', "  after review"),
            (Sale, 'auto_customer_review', "auto_customer_review"),
            (Sale, 'update_stock_short', "  stock short"),
            (Sale, 'quote', "  quote"),
            ]:
        timers.wrap_classmethod(cls, name, label)
    timers.wrap_method(Queue, 'run', "queue tasks (after commit)")
    return timers


def sql(args, query, *params):
    return bench_import.sql_count(args, query, *params)


def main(argv=None):
    args = parse_args(argv)
    os.environ['TRYTOND_DATABASE_URI'] = args.uri
    os.environ['DB_NAME'] = args.database
    os.environ['TRYTOND_QUEUE__WORKER'] = 'False'
    if args.finance_only:
        return finance_only(args)

    from proteus import Model
    from trytond.modules.shop_fulfilment.tests import generator
    from trytond.pool import Pool

    print("PostgreSQL %s, database %s, %d paid trades, batches of %d, "
        "Python %s" % (args.uri, args.database, args.count, args.batch,
            sys.version.split()[0]))
    shop = setup(args)
    trades = generator.generate_trades(args.count, seed=args.seed,
        status_weights={'WAIT_SELLER_SEND_GOODS': 1})
    relay_uri = shop.relay_uri
    try:
        bench_import.write_relay(args, relay_uri, trades)
        pool = Pool(args.database)
        timers = instrument(pool)

        start = time.perf_counter()
        shop.click('refresh_orders')
        import_seconds = time.perf_counter() - start
        shop.reload()
        review_seconds = timers.seconds['auto_customer_review']
        Sale = Model.get('sale.sale')
        to_finance = Sale.find([('review_state', '=', 'finance')],
            order=[('id', 'ASC')])
        print("\n(1) import with automatic customer review: %d trades in "
            "%.2f s (%.1f orders/s)" % (
                args.count, import_seconds, args.count / import_seconds))
        print("    summary: %s" % '; '.join(
                (shop.last_fetch_summary or '').splitlines()))
        print("    automatic customer review: %d orders in %.2f s "
            "(%.1f orders/s)" % (len(to_finance), review_seconds,
                len(to_finance) / review_seconds))
        timers.report(import_seconds)
        timers.reset()

        ids = [s.id for s in to_finance]
        profiler = cProfile.Profile() if args.profile else None
        if args.processes > 1:
            finance_seconds = finance_in_processes(args, ids)
            print("\n(2) batch finance review in %d processes: %d orders in "
                "%.2f s (%.1f orders/s)" % (args.processes, len(ids),
                    finance_seconds, len(ids) / finance_seconds))
        else:
            bench_import.peak_rss_reset()
            start = time.perf_counter()
            finance_review(ids, args.batch, profiler)
            finance_seconds = time.perf_counter() - start
            rss = bench_import.peak_rss_mb()
            print("\n(2) batch finance review: %d orders in %.2f s "
                "(%.1f orders/s), peak RSS %.0f MB" % (len(ids),
                    finance_seconds, len(ids) / finance_seconds, rss))
            timers.report(finance_seconds)

        total = review_seconds + finance_seconds
        print("\nimported -> shipment waiting, invoices posted and paid: "
            "%d orders in %.2f s: %.1f orders/s (goal >= 50)" % (
                len(ids), total, len(ids) / total))

        print("\nchecks (SQL):")
        print("    sales processing: %d" % sql(args,
                "SELECT COUNT(*) FROM sale_sale WHERE state = 'processing'"))
        print("    customer shipments waiting: %d" % sql(args,
                "SELECT COUNT(*) FROM stock_shipment_out "
                "WHERE state = 'waiting'"))
        print("    invoices paid: %d" % sql(args,
                "SELECT COUNT(*) FROM account_invoice WHERE state = 'paid'"))
        print("    payments succeeded equal to the platform's payment: %d"
            % sql(args, "SELECT COUNT(*) FROM account_payment AS p "
                "JOIN sale_sale AS s ON p.origin = 'sale.sale,' || s.id "
                "WHERE p.state = 'succeeded' "
                "AND p.amount = s.platform_payment"))
        if profiler:
            profiler.dump_stats(args.profile)
            bench_import.print_profile(args.profile)
    finally:
        bench_import.admin_execute(args.uri,
            'DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
            % (args.database + '_relay'))


if __name__ == '__main__':
    main()
