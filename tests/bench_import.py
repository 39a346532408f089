#!/usr/bin/env python3
# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of the relay import on PostgreSQL (prints figures, no asserts)

    ./run bench [--uri URI] [--count 5000] [--subset 100] [--changed 0]
                [--database shop_bench] [--profile FILE]

(a) the server-side import exactly as the [Refresh] button does it
    (shop.click('refresh_orders') through proteus, in this process), of
    --count generated trades read from a relay database on the same server;
(b) a record-by-record proteus import of the first --subset of the same
    trades into a second shop: party, address, contact mechanisms, sale and
    each line saved one at a time, as a naive connector or user script would;
(c) with --changed N: N of the trades change on the relay (a seller memo)
    and the shop is refreshed again.

The database (default shop_bench) is dropped and created again; with DB_CACHE
set, the module activation is restored from that cache as in the tests.  The
relay database <database>_relay is dropped at the end unless --keep-relay.
"""
import argparse
import cProfile
import datetime as dt
import os
import pstats
import resource
import sys
import time
import urllib.parse
from collections import Counter
from decimal import Decimal

DEFAULT_URI = 'postgresql://postgres@127.0.0.1:5432/'
SELLER = '沪上家电旗舰店'
PAID = {'WAIT_SELLER_SEND_GOODS', 'SELLER_CONSIGNED_PART'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--uri', default=DEFAULT_URI,
        help="PostgreSQL server URI (default %(default)s)")
    parser.add_argument('--database', default='shop_bench',
        help="the database to (re)create (default %(default)s)")
    parser.add_argument('--count', type=int, default=5000,
        help="trades on the relay (default %(default)s)")
    parser.add_argument('--subset', type=int, default=100,
        help="trades imported record by record (default %(default)s)")
    parser.add_argument('--changed', type=int, default=0,
        help="trades changed on the relay and refreshed again (default 0)")
    parser.add_argument('--seed', type=int, default=2026)
    parser.add_argument('--profile', metavar='FILE',
        help="profile (a) with cProfile into FILE and print the hotspots")
    parser.add_argument('--keep-relay', action='store_true',
        help="keep the relay database")
    return parser.parse_args(argv)


def server_uri(uri, database):
    parts = urllib.parse.urlsplit(uri)
    return urllib.parse.urlunsplit(
        (parts.scheme, parts.netloc, '/' + database, '', ''))


def admin_execute(uri, *queries):
    import psycopg2
    connection = psycopg2.connect(server_uri(uri, 'postgres'))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for query in queries:
                cursor.execute(query)
    finally:
        connection.close()


def peak_rss_reset():
    "Reset the peak RSS of the process (Linux); return whether it could"
    try:
        with open('/proc/self/clear_refs', 'w') as file:
            file.write('5')
        return True
    except OSError:
        return False


def peak_rss_mb():
    try:
        with open('/proc/self/status') as file:
            for line in file:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timers:
    "Cumulated (inclusive) time and calls of wrapped methods"

    def __init__(self):
        self.seconds = Counter()
        self.calls = Counter()
        self.order = []
        self._undo = []

    def _timed(self, label, func):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1
        if label not in self.order:
            self.order.append(label)
        return timed

    def wrap_classmethod(self, cls, name, label=None):
        label = label or '%s.%s' % (cls.__name__, name)
        method = getattr(cls, name)
        self._undo.append((cls, name, cls.__dict__.get(name)))
        function = getattr(method, '__func__', None)
        if function is None:
            # A dualmethod, called here on the class
            timed = self._timed(label, method)
            setattr(cls, name,
                classmethod(lambda cls, *args, **kw: timed(*args, **kw)))
        else:
            setattr(cls, name, classmethod(self._timed(label, function)))

    def wrap_method(self, cls, name, label=None):
        label = label or '%s.%s' % (cls.__name__, name)
        function = getattr(cls, name)
        self._undo.append((cls, name, cls.__dict__.get(name)))
        setattr(cls, name, self._timed(label, function))

    def undo(self):
        for cls, name, value in reversed(self._undo):
            if value is None:
                delattr(cls, name)
            else:
                setattr(cls, name, value)
        self._undo.clear()

    def reset(self):
        self.seconds.clear()
        self.calls.clear()

    def report(self, total):
        for label in self.order:
            if self.calls[label]:
                print("    %-44s %8.2f s %5.1f%% %7d calls" % (
                        label, self.seconds[label],
                        100 * self.seconds[label] / total,
                        self.calls[label]))


def instrument(pool):
    "Time the phases of the import inside the server"
    from trytond.modules.shop_fulfilment import taobao
    timers = Timers()
    Shop = pool.get('web.shop')
    Trade = pool.get('web.shop.taobao.trade')
    Sale = pool.get('sale.sale')
    Buyer = pool.get('web.shop.taobao.buyer')
    Address = pool.get('party.address')
    Mapping = pool.get('web.shop.taobao.product')
    timers.wrap_method(Shop, 'fetch_orders', "fetch_orders (per attempt)")
    timers.wrap_method(
        taobao.RelayReader, 'fetch', "  relay read (RelayReader.fetch)")
    timers.wrap_classmethod(Trade, 'receive', "  receive")
    timers.wrap_classmethod(Trade, '_get_trades', "    receive: trades")
    timers.wrap_classmethod(Trade, 'process', "  process")
    timers.wrap_classmethod(
        Trade, '_latest_payloads', "    process: latest payloads")
    timers.wrap_classmethod(
        Buyer, 'get_buyers', "    get_buyers (receive+process)")
    timers.wrap_classmethod(
        Sale, 'apply_platform_trades', "    apply_platform_trades")
    timers.wrap_classmethod(Mapping, 'index', "      mapping index")
    timers.wrap_classmethod(
        Sale, '_create_platform_sales', "      create sales")
    timers.wrap_classmethod(Buyer, 'get_parties', "        parties")
    timers.wrap_classmethod(
        Address, 'get_receiver_addresses', "        addresses")
    timers.wrap_classmethod(
        Address, 'add_contact_mechanisms', "        contact mechanisms")
    timers.wrap_classmethod(Sale, 'from_platform', "        sale instances")
    for name, label in [
            ('web.shop.taobao.payload', "payload"),
            ('web.shop.taobao.trade', "trade"),
            ('sale.sale', "sale"),
            ('sale.line', "sale line"),
            ('party.party', "party"),
            ('party.address', "address"),
            ('party.contact_mechanism', "contact mechanism"),
            ]:
        Model = pool.get(name)
        timers.wrap_classmethod(Model, 'create', "      SQL create: " + label)
        timers.wrap_classmethod(Model, 'write', "      SQL write: " + label)
    return timers


def activate():
    "Create the database with the module activated, from DB_CACHE if set"
    from trytond.tests.test_tryton import DB_CACHE, drop_db
    from trytond.tests.tools import activate_modules

    start = time.perf_counter()
    drop_db()
    activate_modules('shop_fulfilment')
    print("module activated in %.1f s (%s)" % (
            time.perf_counter() - start,
            'DB_CACHE ' + DB_CACHE if DB_CACHE else 'no DB_CACHE'))


def setup(args):
    "Create the database, the company, China, the catalogue and the shops"
    from proteus import Model
    from trytond.modules.company.tests.tools import create_company
    from trytond.modules.shop_fulfilment.tests import tools

    activate()
    start = time.perf_counter()
    create_company(currency=tools.get_cny())
    tools.setup_china()
    products = tools.create_catalogue()
    relay_uri = server_uri(args.uri, args.database + '_relay')
    shop = tools.create_shop(
        "天猫旗舰店 (relay)", 'tmall', seller_nick=SELLER, relay_uri=relay_uri)
    tools.map_catalogue(shop, products)
    naive = tools.create_shop(
        "天猫旗舰店 (record by record)", 'tmall', seller_nick=SELLER,
        order_source='file')
    Product = Model.get('product.product')
    codes = {p.code: p.id for p in Product.find([('code', '!=', None)])}
    print("company, China, catalogue (%d products), shops and mappings "
        "in %.1f s" % (len(products), time.perf_counter() - start))
    return shop, naive, relay_uri, codes


def write_relay(args, relay_uri, trades):
    from trytond.modules.shop_fulfilment.tests import generator
    name = args.database + '_relay'
    admin_execute(args.uri,
        'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name,
        'CREATE DATABASE "%s"' % name)
    start = time.perf_counter()
    generator.write_relay(relay_uri, trades)
    print("relay: %d trades written in %.1f s" % (
            len(trades), time.perf_counter() - start))


def server_import(shop, pool, profile=None):
    "(a) the Refresh button; return the seconds, the summary and the timers"
    timers = instrument(pool)
    peak_rss_reset()
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    try:
        if profiler:
            profiler.enable()
        shop.click('refresh_orders')
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - start
    finally:
        timers.undo()
    rss = peak_rss_mb()
    shop.reload()
    if profiler:
        profiler.dump_stats(profile)
    return seconds, shop.last_fetch_summary, shop.last_fetch_error, timers, rss


def sql_count(args, query, *params):
    import psycopg2
    connection = psycopg2.connect(server_uri(args.uri, args.database))
    try:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchone()[0]
    finally:
        connection.close()


def analyze(args):
    """Gather the planner's statistics: without them PostgreSQL plans the
    queries of the grown tables as if they were empty"""
    import psycopg2
    connection = psycopg2.connect(
        server_uri(args.uri, args.database))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute('ANALYZE')
    finally:
        connection.close()


def naive_import(texts, shop, codes):
    """(b) one record at a time through proteus, as a naive script would;
    return the seconds, the trades read and the sales created"""
    from proteus import Model
    from trytond.modules.shop_fulfilment import china, taobao

    Party = Model.get('party.party')
    Address = Model.get('party.address')
    Mechanism = Model.get('party.contact_mechanism')
    Sale = Model.get('sale.sale')
    Line = Model.get('sale.line')
    Subdivision = Model.get('country.subdivision')
    Product = Model.get('product.product')
    # The look-ups are loaded once: only the writes are record by record
    provinces = {s.code: s for s in Subdivision.find(
            [('country.code', '=', 'CN'), ('parent', '=', None)])}
    postage = shop.postage_product
    products = {}

    def product(line):
        for code in [line.outer_sku_id, line.outer_iid]:
            if code in codes:
                if code not in products:
                    products[code] = Product(codes[code])
                return products[code]
        raise LookupError(line.outer_sku_id)

    start = time.perf_counter()
    sales = 0
    for text in texts:
        values = taobao.parse_trade(taobao.load_trade(text))
        if not values.paid:
            continue
        receiver = values.receiver
        party = Party(name=values.buyer_nick or values.buyer_open_uid)
        party.save()
        province = provinces[china.province_code(receiver.state)]
        address = Address(party=party)
        address.party_name = receiver.name
        address.street = ' '.join(v for v in [
                receiver.district if receiver.city else '',
                receiver.town, receiver.address] if v)
        address.city = receiver.city or receiver.district
        address.postal_code = receiver.zip or None
        address.country = province.country
        address.subdivision = province
        address.save()
        for type_, value in [
                ('mobile', receiver.mobile), ('phone', receiver.phone)]:
            if value:
                Mechanism(party=party, type=type_, value=value).save()
        sale = Sale()
        sale.party = party
        sale.invoice_address = address
        sale.shipment_address = address
        sale.web_shop = shop
        # web_id is unique over all the shops: (a) has the tid already
        sale.web_id = 'naive-' + values.tid
        sale.reference = values.tid
        sale.sale_date = (values.pay_time + dt.timedelta(hours=8)).date()
        sale.save()
        for platform_line in values.lines:
            line = Line(sale=sale)
            line.product = product(platform_line)
            line.quantity = float(platform_line.quantity)
            line.unit_price = (platform_line.amount
                / platform_line.quantity).quantize(Decimal('0.0001'))
            line.description = platform_line.title
            line.save()
        if values.post_fee:
            line = Line(sale=sale)
            line.product = postage
            line.quantity = 1
            line.unit_price = values.post_fee
            line.save()
        sales += 1
    return time.perf_counter() - start, len(texts), sales


def change_relay(relay_uri, trades, changed):
    "Change a seller memo of the first trades, pushed again by the relay"
    from trytond.modules.shop_fulfilment.tests import generator
    latest = max(dt.datetime.strptime(t['modified'], '%Y-%m-%d %H:%M:%S')
        for t in trades)
    when = latest + dt.timedelta(days=1)
    changes = []
    for trade in trades[:changed]:
        trade = dict(trade)
        trade['seller_memo'] = 'bench: changed %s' % trade['tid']
        trade['modified'] = when.strftime('%Y-%m-%d %H:%M:%S')
        changes.append(trade)
    generator.write_relay(relay_uri, changes, jdp_modified=when)
    return changes


def print_profile(path, limit=25):
    stats = pstats.Stats(path)
    stats.sort_stats('cumulative')
    print("\n(a) profile, by cumulative time (module code and the ORM):")
    stats.print_stats('shop_fulfilment|trytond/model|trytond/backend', limit)
    stats.sort_stats('tottime')
    print("\n(a) profile, by own time:")
    stats.print_stats(limit)


def main(argv=None):
    args = parse_args(argv)
    os.environ['TRYTOND_DATABASE_URI'] = args.uri
    os.environ['DB_NAME'] = args.database
    # The Refresh button processes in its transaction, not through the queue
    os.environ['TRYTOND_QUEUE__WORKER'] = 'False'

    from trytond.modules.shop_fulfilment.tests import generator
    from trytond.pool import Pool

    print("PostgreSQL %s, database %s, %d trades, subset %d, "
        "Python %s" % (args.uri, args.database, args.count, args.subset,
            sys.version.split()[0]))
    shop, naive, relay_uri, codes = setup(args)
    trades = generator.generate_trades(args.count, seed=args.seed)
    texts = [generator.response_text(t) for t in trades]
    paid = sum(t['status'] in PAID for t in trades)
    try:
        write_relay(args, relay_uri, trades)
        pool = Pool(args.database)

        seconds, summary, error, timers, rss = server_import(
            shop, pool, args.profile)
        sales = sql_count(args,
            'SELECT COUNT(*) FROM sale_sale WHERE web_shop = %s', shop.id)
        lines = sql_count(args, 'SELECT COUNT(*) FROM sale_line AS l '
            'JOIN sale_sale AS s ON s.id = l.sale WHERE s.web_shop = %s',
            shop.id)
        rate_a = args.count / seconds
        print("\n(a) server-side import, shop.click('refresh_orders'):")
        print("    %d trades (%d paid) in %.2f s: %.1f trades/s, "
            "%.1f sales/s" % (args.count, paid, seconds, rate_a,
                sales / seconds))
        print("    sales created: %d, sale lines: %d, fetch error: %s" % (
                sales, lines, error))
        print("    summary: %s" % '; '.join((summary or '').splitlines()))
        print("    attempts of fetch_orders (1 = no restart): %d" % (
                timers.calls["fetch_orders (per attempt)"]))
        print("    peak RSS during (a): %.0f MB" % rss)
        print("    phases (inclusive, nested):")
        timers.report(seconds)
        print("    %-44s %8.2f s" % (
                "click - fetch_orders (RPC, commit)",
                seconds - timers.seconds["fetch_orders (per attempt)"]))

        subset = texts[:args.subset]
        if subset:
            seconds_b, read, sales_b = naive_import(subset, naive, codes)
            rate_b = read / seconds_b
            print("\n(b) record by record through proteus (subset):")
            print("    %d trades (%d sales) in %.2f s: %.1f trades/s, "
                "%.1f sales/s" % (read, sales_b, seconds_b, rate_b,
                    sales_b / seconds_b))
            print("\n(a) / (b): %.1f x faster per trade (goal >= 20), "
                "(a) %.1f trades/s (goal >= 150)" % (
                    rate_a / rate_b, rate_a))

        if args.changed:
            changes = change_relay(relay_uri, trades, args.changed)
            seconds_c, summary_c, error_c, timers_c, rss_c = server_import(
                shop, pool)
            print("\n(c) %d trades changed on the relay, refreshed again:"
                % len(changes))
            print("    %.2f s: %.1f changed trades/s, fetch error: %s" % (
                    seconds_c, len(changes) / seconds_c, error_c))
            print("    summary: %s" % '; '.join(
                    (summary_c or '').splitlines()))
            print("    attempts of fetch_orders (1 = no restart): %d" % (
                    timers_c.calls["fetch_orders (per attempt)"]))
            print("    phases (inclusive, nested):")
            timers_c.report(seconds_c)
        print("\npeak RSS of the whole run: %.0f MB" % (
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
        if args.profile:
            print_profile(args.profile)
    finally:
        if not args.keep_relay:
            admin_execute(args.uri, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                % (args.database + '_relay'))


if __name__ == '__main__':
    main()
