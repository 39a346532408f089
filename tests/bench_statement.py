#!/usr/bin/env python3
# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of the Alipay statement reconciliation on PostgreSQL (prints
figures, no asserts)

    ./run bench statement [--uri URI] [--orders 10000]
                          [--sizes 2000,10000,20000] [--reuse]
                          [--database shop_bench_statement] [--profile DIR]

--orders paid trades are imported and pass both reviews (not timed): their
money is on the platform clearing account.  Then for each size of
--sizes, on a fresh copy of that database, an Alipay account statement
(账务明细, GBK, as downloaded) of about that many lines is generated for as
many orders as it takes (income, fees, a payout of many orders, an unknown
order, an amount mismatch, a duplicate), and the accountant's steps are
timed: the import (the lines read, kept and matched), the validation (the
move created and the clearing lines reconciled) and the posting.  The
lines per second must not fall as the statement grows: the matching reads
the open clearing lines once per statement, not once per line.  The
summary prints the time of each size and the rate of the largest size
over that of the smallest: about 1 when the work grows linearly, the
inverse of the ratio of the sizes when it grows quadratically.  Without a
queue worker, the tasks queued by a step (the payments' reconciled flag
after the validation) run at its end and are timed with it.  When the
server's autovacuum is off, the tables are analyzed before each step (not
timed), as autovacuum would between an accountant's clicks.

It checks by SQL that the clearing account's balance equals what the
platform still owes: the orders not settled plus the mismatched one.

With --reuse the database with the orders reviewed is kept as
<database>_setup_<orders>_<seed> and cloned by the next runs.  With
--profile DIR each step is profiled into DIR/<step>-<size>.prof
(import, validate, post) and the profile printed.
"""
import argparse
import cProfile
import os
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_import  # noqa: E402
import bench_review  # noqa: E402

# Lines of the generated statement per order settled: the income, the
# commission, and every 3rd, 4th and 5th order another fee
LINES_PER_ORDER = 1 + 1 + 1 / 3 + 1 / 4 + 1 / 5


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--uri', default=bench_import.DEFAULT_URI)
    parser.add_argument('--database', default='shop_bench_statement')
    parser.add_argument('--orders', type=int, default=10000)
    parser.add_argument('--sizes', default='2000,10000,20000',
        help="statement lines, comma separated (default %(default)s)")
    parser.add_argument('--seed', type=int, default=2028)
    parser.add_argument('--reuse', action='store_true',
        help="keep the database with the orders reviewed and reuse it")
    parser.add_argument('--profile', metavar='DIR',
        help="profile each step into DIR/<step>-<size>.prof")
    return parser.parse_args(argv)


def snapshot_name(args):
    return '%s_setup_%d_%d' % (args.database, args.orders, args.seed)


def database_exists(args, name):
    return bool(bench_import.sql_count(argparse.Namespace(
                uri=args.uri, database='postgres'),
            "SELECT COUNT(*) FROM pg_database WHERE datname = %s", name))


def copy_database(args, source, target):
    from trytond import backend
    # Only the benchmark database has a connection pool open; closing it
    # lets PostgreSQL copy from or over it.
    if database_exists(args, args.database):
        backend.Database(args.database).close()
    bench_import.admin_execute(args.uri,
        'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % target,
        'CREATE DATABASE "%s" TEMPLATE "%s"' % (target, source))


def setup_reviewed(args):
    "The shop with --orders orders through both reviews (not timed)"
    from proteus import Model
    from trytond.modules.shop_fulfilment.tests import generator, tools
    args.count = args.orders
    shop = bench_review.setup(args)
    trades = generator.generate_trades(args.orders, seed=args.seed,
        status_weights={'WAIT_SELLER_SEND_GOODS': 1})
    bench_import.write_relay(args, shop.relay_uri, trades)
    start = time.perf_counter()
    shop.click('refresh_orders')
    Sale = Model.get('sale.sale')
    ids = [s.id for s in Sale.find([('review_state', '=', 'finance')],
            order=[('id', 'ASC')])]
    bench_review.finance_review(ids, 200)
    print("orders: %d imported and finance-reviewed in %.1f s" % (
            len(ids), time.perf_counter() - start))
    tools.setup_alipay_account(shop)
    return shop


def owed_orders(args):
    "Return [(trade id, amount owed)] of the orders, by id"
    import psycopg2
    connection = psycopg2.connect(
        bench_import.server_uri(args.uri, args.database))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT web_id, total_amount_cache FROM sale_sale "
                "WHERE web_id IS NOT NULL AND state = 'processing' "
                "ORDER BY id")
            return [(t, Decimal(a)) for t, a in cursor.fetchall()]
    finally:
        connection.close()


def statement_for(orders, size, seed):
    "Return (data, expected, orders settled) of about size lines"
    from trytond.modules.shop_fulfilment.tests import alipay_statement
    count = min(len(orders), max(10, round(size / LINES_PER_ORDER)))
    settled = orders[:count]
    data, expected = alipay_statement.generate_statement(
        settled, seed=seed, multi=5)
    return data, expected, settled


def clearing_balance(args):
    return Decimal(bench_import.sql_count(args,
            "SELECT COALESCE(SUM(l.debit - l.credit), 0) "
            "FROM account_move_line l "
            "JOIN account_payment_journal j ON j.clearing_account = l.account"))


def cover_dates(data):
    """Add the fiscal years the statement reaches: a statement of 20,000
    lines runs past the end of the one of the setup (not timed)"""
    import datetime as dt

    from proteus import Model
    from trytond.modules.account_invoice.tests.tools import (
        set_fiscalyear_invoice_sequences)
    from trytond.modules.shop_fulfilment import alipay
    from trytond.modules.shop_fulfilment.sale import china_date
    FiscalYear = Model.get('account.fiscalyear')
    Sequence = Model.get('ir.sequence')
    until = china_date(max(r.time for r in alipay.parse(data).rows))
    last, = FiscalYear.find([], order=[('end_date', 'DESC')], limit=1)
    while last.end_date < until:
        start = last.end_date + dt.timedelta(days=1)
        end = start.replace(year=start.year + 1) - dt.timedelta(days=1)
        sequence = Sequence(name=str(start.year),
            sequence_type=last.post_move_sequence.sequence_type,
            company=last.company)
        sequence.save()
        year = FiscalYear(name=str(start.year), start_date=start,
            end_date=end, company=last.company,
            post_move_sequence=sequence)
        set_fiscalyear_invoice_sequences(year)
        year.save()
        year.click('create_period')
        last = year


def run_size(args, shop_id, orders, size):
    from proteus import Model, Wizard, config
    config.set_trytond(args.database)
    data, expected, settled = statement_for(orders, size, args.seed + size)
    cover_dates(data)
    lines = len([k for k in expected if k.startswith('2026')])
    shop = Model.get('web.shop')(shop_id)
    Statement = Model.get('account.statement')
    autovacuum = bench_import.sql_count(args, "SHOW autovacuum")
    if autovacuum != 'on':
        print("autovacuum is %s on this server: the tables are analyzed "
            "before each step (not timed), as it would do" % autovacuum)

    def timed(step, function):
        if autovacuum != 'on':
            bench_import.analyze(args)
        profiler = cProfile.Profile() if args.profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        function()
        seconds = time.perf_counter() - start
        if profiler:
            profiler.disable()
            os.makedirs(args.profile, exist_ok=True)
            path = os.path.join(args.profile, '%s-%d.prof' % (step, size))
            profiler.dump_stats(path)
            print("\n%s of %d lines:" % (step, lines))
            bench_import.print_profile(path)
        return seconds

    def import_statement():
        import_ = Wizard('account.statement.import')
        import_.form.file_format = 'alipay'
        import_.form.shop = shop
        import_.form.file_ = data
        import_.execute('import_')
    import_seconds = timed('import', import_statement)
    statement, = Statement.find([])
    validate_seconds = timed('validate',
        lambda: statement.click('validate_statement'))
    post_seconds = timed('post', lambda: statement.click('post'))
    total = import_seconds + validate_seconds + post_seconds
    statement.reload()
    print("\n%d lines (%d orders settled, %d unmatched): import and match "
        "%.2f s, validate %.2f s, post %.2f s: %.2f s, %.0f lines/s "
        "(goal for 20,000 lines: < 60 s)" % (lines, len(settled),
            statement.alipay_unmatched_count, import_seconds,
            validate_seconds, post_seconds, total, lines / total))

    tids = {t for t, _ in settled} - {expected['mismatch']}
    still_owed = sum(a for t, a in orders if t not in tids)
    balance = clearing_balance(args)
    print("    clearing account %s, still owed %s: %s; statement %s" % (
            balance, still_owed,
            'balanced' if balance == still_owed else 'DIFFERENT',
            statement.state))
    return lines, total


def main(argv=None):
    args = parse_args(argv)
    os.environ['TRYTOND_DATABASE_URI'] = args.uri
    os.environ['DB_NAME'] = args.database
    os.environ['TRYTOND_QUEUE__WORKER'] = 'False'
    from proteus import Model, config

    sizes = [int(s) for s in args.sizes.split(',')]
    print("PostgreSQL %s, database %s, %d orders, statements of %s lines, "
        "Python %s" % (args.uri, args.database, args.orders,
            ', '.join(map(str, sizes)), sys.version.split()[0]))
    snapshot = snapshot_name(args)
    if args.reuse and database_exists(args, snapshot):
        print("orders reviewed: cloned from %s" % snapshot)
    else:
        shop = setup_reviewed(args)
        copy_database(args, args.database, snapshot)
    config.set_trytond(args.database)
    copy_database(args, snapshot, args.database)
    config.set_trytond(args.database)
    shop, = Model.get('web.shop').find([('statement_journal', '!=', None)])
    orders = owed_orders(args)
    print("orders owed by the platform: %d, %s" % (
            len(orders), sum(a for _, a in orders)))
    figures = []
    try:
        for size in sizes:
            copy_database(args, snapshot, args.database)
            figures.append(run_size(args, shop.id, orders, size))
    finally:
        if not args.reuse:
            bench_import.admin_execute(args.uri,
                'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % snapshot)
    print("\nby size: %s" % ', '.join(
            '%d lines %.1f s (%.0f lines/s)' % (
                lines, seconds, lines / seconds)
            for lines, seconds in figures))
    if len(figures) > 1:
        # Linear matching keeps the rate; a quadratic one divides it by the
        # ratio of the sizes
        (small, small_s), (large, large_s) = figures[0], figures[-1]
        print("rate at %d lines / rate at %d lines: %.2f (size ratio %.1f)"
            % (large, small, (large / large_s) / (small / small_s),
                large / small))


if __name__ == '__main__':
    main()
