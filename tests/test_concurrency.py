# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Two processes importing the same relay rows at the same moment, and two
transactions making moves or posting invoices at the same moment

Runs only on PostgreSQL (TRYTOND_DATABASE_URI=postgresql://...):

1. two processes press [Refresh] of the same shop at the same moment, through
   proteus as a user or the scheduler would;
2. two processes run Trade.process, one transaction per batch as the queue
   workers do, on overlapping sets of received trades of a second shop.

Each process has its own trytond pool and transactions.  A fetch that finds
another fetch of the same shop running fails at once (ShopFetchBusy: the
fetches' advisory lock, shop_fulfilment/shop.py) and the user presses
again; a process that finds the trades locked by the other gets, as in
Tryton 7.0, a "lock not available" error once its transaction restarts
with the rows locked (NOWAIT); it tries again, as the queue worker
reschedules its task.  A transaction that holds the shop's row in key share
(a worker inserting a sale of the shop) does not stop a fetch, and the
cron skips a shop whose fetch runs elsewhere.

The file is also the script of the worker processes:
    python test_concurrency.py refresh DATABASE FOLDER NAME SHOP_ID
    python test_concurrency.py process DATABASE FOLDER NAME BATCHES.json
"""
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
import traceback
import urllib.parse
from collections import Counter
from decimal import Decimal

URI = os.environ.get('TRYTOND_DATABASE_URI', '')
ON_POSTGRESQL = URI.startswith(('postgresql:', 'postgres:'))

TRADES = 300
SEED = 7
SELLER = '沪上家电旗舰店'
# Sale's web_id is unique over all the shops (web_shop): another seller
SELLER_B = '沪上家电专卖店'
PAID = {'WAIT_SELLER_SEND_GOODS', 'SELLER_CONSIGNED_PART'}
PROCESS_BATCH = 50
# Seconds: a worker waits for the start signal, then tries again on lock
# errors until its deadline; the workers are killed past TEST_TIMEOUT
READY_TIMEOUT = 240
RETRY_DEADLINE = 60
TEST_TIMEOUT = 170


# Worker processes ----------------------------------------------------------

def _barrier(folder, name):
    "Tell the test the process is ready and wait for the start signal"
    with open(os.path.join(folder, 'ready-' + name), 'w'):
        pass
    go = os.path.join(folder, 'go')
    limit = time.monotonic() + READY_TIMEOUT
    while not os.path.exists(go):
        if time.monotonic() > limit:
            raise TimeoutError("no start signal")
        time.sleep(0.002)


def _busy(error, result, deadline):
    "Record a database error that a retry solves or raise when too late"
    from trytond import backend
    from trytond.modules.shop_fulfilment.exceptions import ShopFetchBusy
    if (not isinstance(error, (
                    backend.DatabaseOperationalError, ShopFetchBusy))
            or time.monotonic() > deadline):
        raise error
    code = getattr(error, 'pgcode', None) or type(error).__name__
    result['busy'][code] = result['busy'].get(code, 0) + 1
    time.sleep(random.uniform(0.05, 0.3))


def _refresh_worker(database, folder, name, shop_id):
    from proteus import Model
    from proteus import config as pconfig

    pconfig.set_trytond(database)
    Shop = Model.get('web.shop')
    shop = Shop(int(shop_id))
    result = {'busy': {}}
    _barrier(folder, name)
    start = time.monotonic()
    deadline = start + RETRY_DEADLINE
    while True:
        try:
            shop.click('refresh_orders')
            break
        except Exception as error:
            _busy(error, result, deadline)
    result['seconds'] = time.monotonic() - start
    result['finished'] = time.time()
    shop.reload()
    result['summary'] = shop.last_fetch_summary
    result['fetch_error'] = shop.last_fetch_error
    return result


def _process_worker(database, folder, name, batches_file):
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError

    with open(batches_file) as file:
        batches = json.load(file)
    pool = Pool(database)
    with Transaction().start(database, 0, readonly=True):
        pool.init()
        User = pool.get('res.user')
        admin, = User.search([('login', '=', 'admin')])
    with Transaction().start(database, admin.id, readonly=True):
        context = User.get_preferences(context_only=True)
    Trade = pool.get('web.shop.taobao.trade')
    result = {'busy': {}, 'restarts': 0, 'counts': Counter()}
    _barrier(folder, name)
    start = time.monotonic()
    deadline = start + RETRY_DEADLINE
    for batch in batches:
        # One transaction per batch, as a queue task of process_received
        extras = {}
        while True:
            try:
                with Transaction().start(
                        database, admin.id, context=context,
                        **extras) as transaction:
                    try:
                        counts = Trade.process(Trade.browse(batch))
                    except TransactionError as error:
                        transaction.rollback()
                        error.fix(extras)
                        result['restarts'] += 1
                        continue
                result['counts'].update(counts)
                break
            except Exception as error:
                # The queue worker reschedules the task: a fresh start
                extras = {}
                _busy(error, result, deadline)
    result['seconds'] = time.monotonic() - start
    return result


def _worker_main(argv):
    kind, database, folder, name = argv[:4]
    result_file = os.path.join(folder, 'result-%s.json' % name)
    try:
        if kind == 'refresh':
            result = _refresh_worker(database, folder, name, *argv[4:])
        elif kind == 'process':
            result = _process_worker(database, folder, name, *argv[4:])
        else:
            raise ValueError(kind)
    except BaseException:
        result = {'error': traceback.format_exc()}
    with open(result_file, 'w') as file:
        json.dump(result, file, default=str)
    return 1 if 'error' in result else 0


if __name__ == '__main__':
    sys.exit(_worker_main(sys.argv[1:]))


# The test ------------------------------------------------------------------

import pytest  # noqa: E402

if not ON_POSTGRESQL:
    pytest.skip(
        "concurrency test needs PostgreSQL: "
        "set TRYTOND_DATABASE_URI=postgresql://...",
        allow_module_level=True)


def _server_uri(database):
    "The URI of a database on the server of TRYTOND_DATABASE_URI"
    parts = urllib.parse.urlsplit(URI)
    return urllib.parse.urlunsplit(
        (parts.scheme, parts.netloc, '/' + database, '', ''))


def _admin_connection():
    import psycopg2
    connection = psycopg2.connect(_server_uri('postgres'))
    connection.autocommit = True
    return connection


def _create_database(name):
    connection = _admin_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
            cursor.execute('CREATE DATABASE "%s"' % name)
    finally:
        connection.close()


def _drop_database(name):
    connection = _admin_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
    finally:
        connection.close()


def _in_transaction(database, func, user=0, context=None):
    "Run func in a transaction restarted as Tryton does; commit its result"
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:
        with Transaction().start(
                database, user, context=context, **extras) as transaction:
            try:
                return func()
            except TransactionError as error:
                transaction.rollback()
                error.fix(extras)


def _run_pair(folder, kind, database, args_a, args_b, deadline):
    """Start two workers, release them together, return their results;
    fail when they are not done by the deadline (time.monotonic)"""
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    processes = {}
    try:
        for name, args in [('a', args_a), ('b', args_b)]:
            name = '%s-%s' % (kind, name)
            log = open(os.path.join(folder, name + '.log'), 'w')
            processes[name] = (subprocess.Popen(
                    [sys.executable, os.path.abspath(__file__), kind,
                        database, folder, name] + [str(a) for a in args],
                    stdout=log, stderr=subprocess.STDOUT, env=env), log)
        limit = min(time.monotonic() + READY_TIMEOUT, deadline)
        while not all(os.path.exists(os.path.join(folder, 'ready-' + n))
                for n in processes):
            dead = [n for n, (p, _) in processes.items()
                if p.poll() is not None]
            if dead or time.monotonic() > limit:
                pytest.fail("%s not ready:\n%s" % (
                        ', '.join(dead) or 'timeout',
                        _logs(folder, processes)))
            time.sleep(0.05)
        with open(os.path.join(folder, 'go'), 'w'):
            pass
        for name, (process, _) in processes.items():
            try:
                process.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pytest.fail("%s did not finish in time:\n%s" % (
                        name, _logs(folder, processes)))
    finally:
        for process, log in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
            log.close()
        go = os.path.join(folder, 'go')
        if os.path.exists(go):
            os.remove(go)
    results = {}
    for name, (process, _) in processes.items():
        path = os.path.join(folder, 'result-%s.json' % name)
        result = {'error': 'no result'}
        if os.path.exists(path):
            with open(path) as file:
                result = json.load(file)
        assert process.returncode == 0 and 'error' not in result, (
            "%s failed (exit %s):\n%s\n%s" % (
                name, process.returncode, result.get('error', ''),
                _logs(folder, {name: processes[name]})))
        results[name] = result
    return results


def _logs(folder, processes):
    texts = []
    for name in processes:
        path = os.path.join(folder, name + '.log')
        if os.path.exists(path):
            with open(path) as file:
                texts.append('--- %s\n%s' % (name, file.read()[-4000:]))
    return '\n'.join(texts)


def _receive_only(database, shop_id, relay_uri, seller):
    "Store the relay rows as received by the shop, without processing them"
    from trytond.modules.shop_fulfilment import taobao
    from trytond.pool import Pool

    def receive():
        pool = Pool()
        Shop = pool.get('web.shop')
        Trade = pool.get('web.shop.taobao.trade')
        shop = Shop(shop_id)
        with taobao.RelayReader(relay_uri) as reader:
            rows = reader.fetch(
                seller, dt.datetime(1970, 1, 1), limit=10 * TRADES)
        trades = Trade.receive(
            shop, 'relay', [(r.response, r.tid) for r in rows], Counter())
        return sorted(t.id for t in trades)
    return _in_transaction(database, receive)


def _query(database, query, *params):
    import psycopg2
    connection = psycopg2.connect(_server_uri(database))
    try:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()
    finally:
        connection.close()


def _check_shop(database, shop_id, trades, label):
    "Assert the shop imported each relay row once and each paid trade once"
    by_tid = {str(t['tid']): t for t in trades}
    paid = {tid for tid, t in by_tid.items() if t['status'] in PAID}

    def one(query):
        return _query(database, query, shop_id)

    sales = one('SELECT web_id, COUNT(*) FROM sale_sale '
        'WHERE web_shop = %s GROUP BY web_id')
    duplicated = {w: c for w, c in sales if c != 1}
    assert not duplicated, "%s: sales per web_id %s" % (label, duplicated)
    assert {w for w, _ in sales} == paid, (
        "%s: %s paid trades, %s sales, missing %s, unexpected %s" % (
            label, len(paid), len(sales),
            sorted(paid - {w for w, _ in sales})[:5],
            sorted({w for w, _ in sales} - paid)[:5]))

    (payloads, hashes), = one('SELECT COUNT(*), COUNT(DISTINCT hash) '
        'FROM web_shop_taobao_payload WHERE shop = %s')
    assert payloads == hashes == len(trades), (
        "%s: %s payloads (%s hashes) for %s relay rows" % (
            label, payloads, hashes, len(trades)))

    (rows, tids), = one('SELECT COUNT(*), COUNT(DISTINCT tid) '
        'FROM web_shop_taobao_trade WHERE shop = %s')
    assert rows == tids == len(trades), (
        "%s: %s trade rows for %s tids, %s relay rows" % (
            label, rows, tids, len(trades)))
    states = dict(one('SELECT state, COUNT(*) FROM web_shop_taobao_trade '
            'WHERE shop = %s GROUP BY state'))
    assert states.get('imported') == len(paid) and not (
        {'pending', 'exception'} & set(states)), (
        "%s: trade states %s" % (label, states))
    unlinked = one('SELECT t.tid FROM web_shop_taobao_trade AS t '
        'LEFT JOIN sale_sale AS s ON s.id = t.sale '
        'WHERE t.shop = %s AND t.state = \'imported\' '
        'AND (s.id IS NULL OR s.platform_trade != t.id '
        'OR s.web_id != t.tid)')
    assert not unlinked, "%s: trades and sales unlinked %s" % (
        label, unlinked[:5])

    buyers = one('SELECT key, COUNT(*) FROM web_shop_taobao_buyer '
        'WHERE shop = %s GROUP BY key HAVING COUNT(*) > 1')
    assert not buyers, "%s: duplicated buyers %s" % (label, buyers[:5])
    parties = one('SELECT party, COUNT(*) FROM web_shop_taobao_buyer '
        'WHERE shop = %s AND party IS NOT NULL '
        'GROUP BY party HAVING COUNT(*) > 1')
    assert not parties, "%s: parties shared by buyers %s" % (
        label, parties[:5])
    (with_party,), = one('SELECT COUNT(*) FROM web_shop_taobao_buyer '
        'WHERE shop = %s AND party IS NOT NULL')
    expected = len({by_tid[t]['buyer_open_uid'] for t in paid})
    assert with_party == expected, "%s: %s parties for %s paying buyers" % (
        label, with_party, expected)
    (sale_parties,), = one('SELECT COUNT(DISTINCT party) FROM sale_sale '
        'WHERE web_shop = %s')
    assert sale_parties == expected, "%s: sales of %s parties for %s" % (
        label, sale_parties, expected)

    addresses = one('SELECT a.party, COUNT(*) FROM party_address AS a '
        'JOIN web_shop_taobao_buyer AS b ON b.party = a.party '
        'WHERE b.shop = %s GROUP BY a.party, a.party_name, a.street, '
        'a.city, a.subdivision, a.postal_code HAVING COUNT(*) > 1')
    assert not addresses, "%s: duplicated addresses %s" % (
        label, addresses[:5])
    mechanisms = one('SELECT m.party, m.type, m.value, COUNT(*) '
        'FROM party_contact_mechanism AS m '
        'JOIN web_shop_taobao_buyer AS b ON b.party = m.party '
        'WHERE b.shop = %s GROUP BY m.party, m.type, m.value '
        'HAVING COUNT(*) > 1')
    assert not mechanisms, "%s: duplicated contact mechanisms %s" % (
        label, mechanisms[:5])

    from trytond.pool import Pool

    def amounts():
        Sale = Pool().get('sale.sale')
        return [(s.web_id, s.total_amount, s.untaxed_amount)
            for s in Sale.search([('web_shop', '=', shop_id)])]
    wrong = [(w, str(total), by_tid[w]['payment'])
        for w, total, untaxed in _in_transaction(database, amounts)
        if not (total == untaxed == Decimal(by_tid[w]['payment']))]
    assert not wrong, "%s: sale totals differ from payments %s" % (
        label, wrong[:5])


def _summary_count(summary, label):
    for line in (summary or '').splitlines():
        if line.startswith(label):
            return int(line.rsplit(':', 1)[1])
    return 0


def _check_fetch_locks(database, shop_id, other_id):
    """The shop's row held in key share does not stop a fetch; a fetch
    running elsewhere does, at once, and the cron skips the shop"""
    from trytond.modules.shop_fulfilment.exceptions import ShopFetchBusy
    from trytond.modules.shop_fulfilment.shop import fetch_lock_id
    from trytond.pool import Pool

    def fetch():
        shop = Pool().get('web.shop')(shop_id)
        return shop.fetch_orders(), shop.last_fetch_error

    def cron():
        Pool().get('web.shop').fetch_orders_cron()

    import psycopg2
    holder = psycopg2.connect(_server_uri(database))
    try:
        with holder.cursor() as cursor:
            # What a worker inserting a sale of the shop holds until it
            # commits (the foreign key)
            cursor.execute('SELECT id FROM web_shop WHERE id = %s '
                'FOR KEY SHARE', (shop_id,))
            counts, error = _in_transaction(database, fetch)
            # It read again the rows of the overlap, all known
            assert error is None and counts['received'] >= 1 and (
                counts['duplicate'] == counts['received']), (counts, error)
            holder.rollback()
            query = ('SELECT last_fetch, last_fetch_summary, '
                'last_fetch_error FROM web_shop WHERE id = %s')
            before, = _query(database, query, shop_id)
            # Another fetch of the shop runs (and of the other shop, whose
            # trades wait for the test of the processing)
            for id_ in [shop_id, other_id]:
                cursor.execute('SELECT pg_advisory_xact_lock(%s)',
                    (fetch_lock_id(id_),))
            # At once: the locks are held by this thread, a fetch that
            # waited for them would never return
            with pytest.raises(ShopFetchBusy):
                _in_transaction(database, fetch)
            # The cron skips the shops, without an error
            _in_transaction(database, cron)
            holder.rollback()
        assert _query(database, query, shop_id) == [before]
    finally:
        holder.close()


def test_concurrent_import(tmp_path):
    from trytond.modules.company.tests.tools import create_company
    from trytond.modules.shop_fulfilment.tests import generator, tools
    from trytond.tests.test_tryton import DB_NAME, drop_db
    from trytond.tests.tools import activate_modules

    folder = str(tmp_path)
    relay_db = '%s_relay' % DB_NAME
    relay_uri = _server_uri(relay_db)
    drop_db()
    try:
        activate_modules('shop_fulfilment')
        create_company(currency=tools.get_cny())
        tools.setup_china()
        products = tools.create_catalogue()
        shop_a = tools.create_shop("天猫旗舰店 A", 'tmall', relay_uri=relay_uri)
        tools.map_catalogue(shop_a, products)
        shop_b = tools.create_shop(
            "天猫专卖店 B", 'tmall', seller_nick=SELLER_B, relay_uri=relay_uri)
        tools.map_catalogue(shop_b, products)

        _create_database(relay_db)
        trades = generator.generate_trades(TRADES, seed=SEED)
        assert generator.write_relay(relay_uri, trades) == TRADES
        trades_b = generator.generate_trades(
            TRADES, seed=SEED + 2, seller_nick=SELLER_B)
        assert generator.write_relay(relay_uri, trades_b) == TRADES
        other = generator.generate_trades(5, seed=SEED + 1, seller_nick='别家小店')
        generator.write_relay(relay_uri, other)

        # The trades of shop B wait to be processed
        received = _receive_only(DB_NAME, shop_b.id, relay_uri, SELLER_B)
        assert len(received) == TRADES
        third = TRADES // 3
        # Overlapping thirds, the second worker walks its trades backwards
        set_a, set_b = received[:2 * third], received[third:][::-1]
        batches = {}
        for name, ids in [('a', set_a), ('b', set_b)]:
            batches[name] = os.path.join(folder, 'batches-%s.json' % name)
            with open(batches[name], 'w') as file:
                json.dump([ids[i:i + PROCESS_BATCH]
                        for i in range(0, len(ids), PROCESS_BATCH)], file)

        # The workers' time, not the set-up's: activating the modules
        # without a DB_CACHE takes most of TEST_TIMEOUT on its own
        deadline = time.monotonic() + TEST_TIMEOUT
        refreshed = _run_pair(
            folder, 'refresh', DB_NAME, [shop_a.id], [shop_a.id], deadline)
        for name, result in refreshed.items():
            assert not result['fetch_error'], (name, result)
        # The summary is of the last fetch: the other found all received
        last = max(refreshed.values(), key=lambda r: r['finished'])
        received_last = _summary_count(last['summary'], 'Received')
        assert received_last >= 1 and received_last == _summary_count(
            last['summary'], 'Already received'), refreshed
        _check_shop(DB_NAME, shop_a.id, trades, "refresh")
        _check_fetch_locks(DB_NAME, shop_a.id, shop_b.id)

        processed = _run_pair(
            folder, 'process', DB_NAME,
            [batches['a']], [batches['b']], deadline)
        created = sum(r['counts'].get('created', 0)
            for r in processed.values())
        assert created == len(
            [t for t in trades_b if t['status'] in PAID]), processed
        _check_shop(DB_NAME, shop_b.id, trades_b, "process")

        print("refresh:", json.dumps(refreshed, ensure_ascii=False))
        print("process:", json.dumps(processed, ensure_ascii=False))
    finally:
        drop_db()
        _drop_database(relay_db)


@pytest.fixture
def company_database():
    "The modules activated and a company; the database dropped after"
    from trytond.modules.company.tests.tools import (
        create_company, get_company)
    from trytond.modules.shop_fulfilment.tests import tools
    from trytond.tests.test_tryton import drop_db
    from trytond.tests.tools import activate_modules

    drop_db()
    try:
        activate_modules('shop_fulfilment')
        create_company(currency=tools.get_cny())
        yield get_company()
    finally:
        drop_db()


def test_journal_period_of_concurrent_moves(company_database):
    """Two transactions make moves at the same moment in a journal and
    period without a journal period (the first orders of a month reviewed
    by two workers): account would create it in the first one, the table
    locked until its commit, and the second would fail on that lock.  It is
    created and committed at once in a transaction of its own: neither
    restarts, both commit, one journal period."""
    from trytond.modules.shop_fulfilment.tests import tools
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction

    company = company_database
    accounts, _ = tools.setup_accounting(company)
    context = {'company': company.id}
    pool = Pool(DB_NAME)

    def make_move(amount):
        Move = pool.get('account.move')
        Line = pool.get('account.move.line')
        Journal = pool.get('account.journal')
        journal, = Journal.search([('code', '=', 'REV')])
        move = Move(journal=journal, date=dt.date.today(), lines=[
                Line(account=accounts['revenue'].id, credit=amount),
                Line(account=accounts['expense'].id, debit=amount)])
        move.save()
        return move.period.id, journal.id

    def journal_periods():
        return _query(DB_NAME, 'SELECT journal, period '
            'FROM account_journal_period')

    assert journal_periods() == []
    with Transaction().start(DB_NAME, 0, context=context) as first:
        period, journal = make_move(Decimal('10'))
        # Committed already: another connection sees it
        assert journal_periods() == [(journal, period)]
        with Transaction(new=True).start(
                DB_NAME, 0, context=context) as second:
            make_move(Decimal('20'))
            second.commit()
        first.commit()
    assert journal_periods() == [(journal, period)]
    assert _query(DB_NAME, 'SELECT COUNT(*) FROM account_move') == [(2,)]


def test_posting_turn(company_database):
    """One transaction at a time posts invoices (their strict sequence is
    locked from the first number to the commit): a worker's task posting the
    invoices of a finance review that finds the turn taken queues itself
    again a second later instead of failing on the sequence's lock"""
    from trytond.config import config
    from trytond.modules.shop_fulfilment.sequence import posting_turn
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction

    company = company_database
    pool = Pool(DB_NAME)
    context = {'company': company.id}
    with Transaction().start(DB_NAME, 0, context=context) as first:
        assert posting_turn()
        with Transaction(new=True).start(
                DB_NAME, 0, context=context) as second:
            Sale = pool.get('sale.sale')
            Queue = pool.get('ir.queue')
            Party = pool.get('party.party')
            party = Party(name="买家", addresses=[{}])
            party.save()
            sale = Sale(party=party)
            sale.on_change_party()
            sale.save()
            assert not posting_turn()
            before = dt.datetime.now()
            # Run by a worker
            task = Queue(Queue.push('default', {
                        'model': 'sale.sale',
                        'method': 'post_finance_invoices',
                        'user': 0, 'context': context,
                        'instances': [sale.id], 'args': [], 'kwargs': {},
                        }))
            config.set('queue', 'worker', 'True')
            try:
                task.run()
            finally:
                config.set('queue', 'worker', 'False')
            again, = Queue.search([('id', '!=', task.id)])
            assert again.data['method'] == 'post_finance_invoices'
            assert list(again.data['instances']) == [sale.id]
            assert again.scheduled_at >= before + dt.timedelta(seconds=1)
            second.rollback()
        first.rollback()
    with Transaction().start(DB_NAME, 0):
        assert posting_turn()
