#!/usr/bin/env python3
# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Double 11 (双十一) at scale: the whole flow on PostgreSQL with the trytond
cron and several trytond-worker processes, optionally under faults (prints
figures, then checks that nothing was lost or doubled)

    ./run bench double11 [--count 20000] [--workers 2] [--batch 100]
                         [--fault kill-worker,platform,relay,double-cron]
                         [--uri URI] [--database shop_bench_double11]

--count paid trades are written to a relay database (jdp_tb_trade), then
the script starts `trytond-cron` and --workers `trytond-worker` processes
(one process each, on this machine) and takes the orders through the
stages, each started when the one before is done:

 1. import: the cron's fetch reads the relay and queues the trades in
    batches; the workers create the sales and pass the customer review of
    every order the shop may pass by itself (自动审单);
 2. finance review (财审) in batches of --batch orders, queued to the
    workers as finance's list clicks would be: payments, sales processed
    into shipments, invoices posted and paid;
 3. goods reserved (assign), 4. waybill numbers (number range), queued;
 5. waybills printed in batches (the report rendered here, as a client
    asks for it);
 6. picked and packed, 7. handed over (done), queued;
 8. confirmed to the platform: the ship confirmations queued to the
    workers, which call taobao.logistics.offline.send on a local platform
    server on 127.0.0.1.

It prints orders per second per stage, orders per hour end to end (the sum
of the stages: they run one after the other here, on a real day they
overlap), the slowest stage and the peak memory of every process.

Faults (--fault, comma separated):
  kill-worker   a worker is killed (SIGKILL) in the middle of the finance
                review and restarted; its task is requeued by the cron
                (shop_fulfilment/queue.py)
  platform      the platform server answers 10% of the calls with a
                temporary error and 2% only after the client gave up
                (timeout: the call was done)
  relay         the relay rows arrive in three waves, out of order (rows
                older than rows already read) and some twice
  double-cron   two cron processes run the import at the same moment
  pg-restart    the PostgreSQL server is restarted (fast: the running
                transactions are aborted) in the middle of the
                confirmations to the platform.  The script then runs on a
                cluster of its own (pg_createcluster on --restart-port,
                as root, dropped at the end) rather than on --uri, and
                restarts the trytond processes that stop, as their
                service manager would (systemd's Restart=)

At the end the script checks, by SQL and on the platform server: every paid
trade is exactly one sale; every shipment has exactly one waybill number,
unique; every trade was confirmed to the platform exactly once; every
order's payment, sale and invoice equal what the buyer paid, to the fen.
It stops everything it started.
"""
import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_consignment  # noqa: E402
import bench_import  # noqa: E402
import bench_review  # noqa: E402

FAULTS = {'kill-worker', 'platform', 'relay', 'double-cron', 'pg-restart'}
STAGE_TIMEOUT = 3600


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--uri', default=bench_import.DEFAULT_URI)
    parser.add_argument('--database', default='shop_bench_double11')
    parser.add_argument('--count', type=int, default=20000)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--batch', type=int, default=100,
        help="orders per queued task (default %(default)s)")
    parser.add_argument('--seed', type=int, default=1111)
    parser.add_argument('--fault', default='',
        help="comma separated: %s" % ', '.join(sorted(FAULTS)))
    parser.add_argument('--restart-port', type=int, default=5439,
        help="the port of the cluster of the pg-restart fault "
        "(default %(default)s)")
    args = parser.parse_args(argv)
    args.faults = {f for f in args.fault.split(',') if f}
    if args.faults - FAULTS:
        parser.error("unknown fault: %s" % ', '.join(args.faults - FAULTS))
    return args


class Processes:
    "The trytond processes the script starts, each in its own session"

    def __init__(self, config, database, folder):
        self.config = config
        self.database = database
        self.folder = folder
        self.running = {}
        self.commands = {}
        self.peaks = {}
        # With the pg-restart fault, the processes that stop are started
        # again, as their service manager would
        self.supervise = False
        self.restarts = []

    def _command(self, name):
        return os.path.join(os.path.dirname(sys.executable), name)

    def start(self, label, *command):
        self.commands[label] = command
        with open(os.path.join(self.folder, '%s.log' % label), 'a') as log:
            self.running[label] = subprocess.Popen(
                [self._command(command[0]), '-c', self.config,
                    '-d', self.database, *command[1:]],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self.running[label]

    def worker(self, index):
        # (-t 1: a worker that missed the notification of a new task while
        # busy finds it within a second, not after the default minute)
        return self.start('worker-%d' % index, 'trytond-worker', '-n', '1',
            '-t', '1')

    def cron(self, label='cron', once=False):
        return self.start(label, 'trytond-cron', *(['-1'] if once else []))

    def _tree(self, pid):
        "The process and its descendants"
        pids, todo = [], [pid]
        while todo:
            current = todo.pop()
            pids.append(current)
            try:
                with open('/proc/%d/task/%d/children' % (
                            current, current)) as file:
                    todo += [int(p) for p in file.read().split()]
            except OSError:
                pass
        return pids

    def sample(self):
        "Keep the peak memory (VmHWM) of every process of each label"
        for label, process in self.running.items():
            for pid in self._tree(process.pid):
                try:
                    with open('/proc/%d/status' % pid) as file:
                        for line in file:
                            if line.startswith('VmHWM:'):
                                mb = int(line.split()[1]) / 1024
                                key = (label, pid)
                                self.peaks[key] = max(
                                    self.peaks.get(key, 0), mb)
                except OSError:
                    pass

    def check(self):
        "Restart the processes stopped when supervising, else stop there"
        for label, process in list(self.running.items()):
            if process.poll() is None:
                continue
            if not self.supervise:
                sys.exit("%s stopped (see its log in %s)" % (
                        label, self.folder))
            self.restarts.append((label, process.returncode))
            try:
                # What is left of it (the pool of a worker)
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.start(label, *self.commands[label])

    def finish(self, labels):
        "Wait for the processes of labels to end"
        for label in labels:
            while self.running[label].poll() is None:
                self.sample()
                time.sleep(0.2)
            del self.running[label]

    def kill(self, label, sig=signal.SIGKILL):
        process = self.running.pop(label)
        self.sample()
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.wait(timeout=60)

    def stop(self):
        self.sample()
        for label in list(self.running):
            try:
                self.kill(label, signal.SIGTERM)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill(label)


class Cluster:
    """A PostgreSQL cluster of the script's own (Debian's postgresql-common,
    as root), that the pg-restart fault restarts without touching the
    server of --uri"""
    name = 'shop_double11'

    def __init__(self, port):
        self.port = port
        # The version of the server of this machine
        self.version = subprocess.run(['pg_lsclusters', '--no-header'],
            check=True, capture_output=True, text=True).stdout.split()[0]

    @property
    def uri(self):
        return 'postgresql://postgres@127.0.0.1:%d/' % self.port

    def _ctl(self, *command):
        subprocess.run(['pg_ctlcluster', '--skip-systemctl-redirect',
                self.version, self.name, *command], check=True)

    def __enter__(self):
        self.drop()
        subprocess.run(['pg_createcluster', self.version, self.name,
                '-p', str(self.port),
                '-o', 'max_connections=200',
                '--', '--auth=trust'], check=True, stdout=subprocess.DEVNULL)
        try:
            self._ctl('start')
        except subprocess.CalledProcessError:
            self.drop()
            raise
        return self

    def restart(self):
        "Restart at once: the running transactions are aborted"
        self._ctl('restart', '-m', 'fast')

    def drop(self):
        subprocess.run(['pg_dropcluster', '--stop', self.version, self.name],
            stderr=subprocess.DEVNULL)

    def __exit__(self, *exc):
        self.drop()


def sql(args, query, *params):
    return bench_review.sql(args, query, *params)


def rows(args, query, *params):
    import psycopg2
    connection = psycopg2.connect(
        bench_import.server_uri(args.uri, args.database))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()
    finally:
        connection.close()


# The tasks not finished at the end, by why: those that failed wait in the
# error list for a person (the orders they held stay on hold); those that
# failed on database errors (locks) more times than trytond retries were
# queued again by it as new tasks; the rest are pending (queued by the last
# stages, or scheduled for later).  A task of a stopped worker is put back
# in the queue as it is by queue.py's requeue, and is finished in the end.
UNFINISHED_BY_KIND = ("SELECT "
    "COUNT(*) FILTER (WHERE failed) AS failed, "
    "COUNT(*) FILTER (WHERE NOT failed AND again) AS again, "
    "COUNT(*) FILTER (WHERE NOT failed AND NOT again) AS pending "
    "FROM (SELECT EXISTS (SELECT 1 FROM ir_error AS e "
    "WHERE e.origin = 'ir.queue,' || q.id) AS failed, "
    "EXISTS (SELECT 1 FROM ir_queue AS c WHERE c.id > q.id "
    "AND c.name = q.name AND c.data = q.data) AS again "
    "FROM ir_queue AS q WHERE q.finished_at IS NULL) AS t")

# The queued tasks still to be run
UNFINISHED_TASKS = "SELECT pending FROM (%s) AS k" % UNFINISHED_BY_KIND


# The orders where the payment, the sale or the invoice differ from what the
# buyer paid, or that have not exactly one payment and one invoice: each
# side aggregated per sale once (joined per sale, the same check took
# minutes at 3,000 orders and grew with the square of their number)
MONEY_WRONG = ("WITH pay AS ("
    "SELECT CAST(SUBSTRING(origin FROM 11) AS INTEGER) AS sale, "
    "COUNT(*) AS n, SUM(amount) AS amount FROM account_payment "
    "WHERE state = 'succeeded' AND origin LIKE 'sale.sale,%%' "
    "GROUP BY 1), "
    "inv AS (SELECT sl.sale, COUNT(DISTINCT l.invoice) AS n, "
    "MAX(i.total_amount_cache) AS total FROM account_invoice_line AS l "
    "JOIN sale_line AS sl ON l.origin = 'sale.line,' || sl.id "
    "JOIN account_invoice AS i ON i.id = l.invoice GROUP BY sl.sale) "
    "SELECT s.web_id FROM sale_sale AS s "
    "LEFT JOIN pay ON pay.sale = s.id LEFT JOIN inv ON inv.sale = s.id "
    "WHERE s.review_state = 'done' "
    "AND (COALESCE(pay.amount, 0) != s.platform_payment "
    "OR s.total_amount_cache != s.platform_payment "
    "OR COALESCE(inv.n, 0) != 1 OR inv.total != s.platform_payment "
    "OR COALESCE(pay.n, 0) != 1)")


def wait(args, processes, what, query, expected, started, at_most=False):
    """Wait until query counts expected (or less with at_most); return the
    seconds since started"""
    deadline = time.monotonic() + STAGE_TIMEOUT
    while True:
        processes.sample()
        count = sql(args, query)
        if count <= expected if at_most else count >= expected:
            return time.perf_counter() - started
        processes.check()
        if time.monotonic() > deadline:
            sys.exit("timed out waiting for %s: %d of %d" % (
                    what, count, expected))
        time.sleep(0.5)


def enqueue(args, model, method, ids, batch):
    """Queue method on the records of model in batches, as the clicks of
    the administrator on the lists would, for the workers"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool(args.database)
    with Transaction().start(args.database, 1) as transaction:
        User = pool.get('res.user')
        with transaction.set_context(
                User.get_preferences(context_only=True)):
            Model = pool.get(model)
            for start in range(0, len(ids), batch):
                getattr(Model.__queue__, method)(
                    Model.browse(ids[start:start + batch]))
        transaction.commit()


def ids_of(args, query):
    return [i for i, in rows(args, query)]


def prepare(args, server):
    "The shop, its carrier and platform, the trades in the relay"
    from trytond.modules.shop_fulfilment.tests import generator

    shop = bench_consignment.prepare_shop(args, server)
    trades = generator.generate_trades(args.count, seed=args.seed,
        status_weights={'WAIT_SELLER_SEND_GOODS': 1})
    server.trades.extend(trades)
    return shop, trades


def write_relay(args, shop, trades):
    """All the trades at once; with the relay fault, in three waves: the
    second has a tenth of the first again (same trades, read twice) and
    rows dated before what the first wave had (committed late)"""
    from trytond.modules.shop_fulfilment.tests import generator
    if 'relay' not in args.faults:
        bench_import.write_relay(args, shop.relay_uri, trades)
        return [(trades, None)]
    third = len(trades) // 3
    # The relay's times are China time
    now = dt.datetime.utcnow() + dt.timedelta(hours=8)

    def minutes_ago(minutes):
        return now - dt.timedelta(minutes=minutes)
    first = trades[:third]
    late = trades[third:third + third // 10]
    second = trades[third + third // 10:2 * third] + first[::10]
    third_wave = trades[2 * third:]
    bench_import.write_relay(args, shop.relay_uri, [])
    generator.write_relay(shop.relay_uri, first,
        jdp_modified=minutes_ago(10))
    # Rows older than rows already read (committed late, within the
    # overlap), a tenth of the first wave again
    return [(first, None), (second, minutes_ago(5)),
        (late, minutes_ago(7)), (third_wave, minutes_ago(1))]


def main(argv=None):
    args = parse_args(argv)
    if 'pg-restart' in args.faults:
        with Cluster(args.restart_port) as cluster:
            args.uri, args.cluster = cluster.uri, cluster
            return _main(args)
    return _main(args)


def _main(args):
    os.environ['TRYTOND_DATABASE_URI'] = args.uri
    os.environ['DB_NAME'] = args.database
    # This process queues; the workers run
    os.environ['TRYTOND_QUEUE__WORKER'] = 'True'

    from trytond.modules.shop_fulfilment.tests import generator
    from trytond.modules.shop_fulfilment.tests.top_server import TopServer

    print("PostgreSQL %s, database %s, %d paid trades, %d workers, batches "
        "of %d, faults: %s, Python %s" % (args.uri, args.database,
            args.count, args.workers, args.batch,
            ', '.join(sorted(args.faults)) or 'none',
            sys.version.split()[0]))
    folder = tempfile.mkdtemp(prefix='shop-double11-')
    with TopServer(bench_consignment.APP_KEY, bench_consignment.APP_SECRET,
            bench_consignment.SESSION) as server:
        shop, trades = prepare(args, server)
        waves = write_relay(args, shop, trades)
        config = os.path.join(folder, 'trytond.conf')
        with open(config, 'w') as file:
            file.write('[database]\nuri = %s\n' % args.uri
                + '[queue]\nworker = True\n'
                + '[shop_fulfilment]\n'
                # A task of a killed worker is requeued after this
                + 'queue_orphan_grace = 15\n'
                + 'consignment_backoff = 2\n'
                + 'consignment_timeout = 1\n')
        if 'platform' in args.faults:
            server.fault_rate(0.10, seed=args.seed, timeout_rate=0.02,
                timeout_delay=2)
        processes = Processes(config, args.database, folder)
        try:
            run(args, processes, shop, trades, waves, server)
        finally:
            processes.stop()
            print("\nlogs of the processes: %s" % folder)
            bench_import.admin_execute(args.uri,
                'DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                % (args.database + '_relay'))
        passed = check(args, trades, server, processes)
    del generator
    return 0 if passed else 1


def due_now(args, method):
    "Make the cron of method due"
    rows(args, "UPDATE ir_cron SET next_call = NULL WHERE method = %s "
        "RETURNING id", method)


def run(args, processes, shop, trades, waves, server):
    from trytond.modules.shop_fulfilment.tests import generator

    count = len(trades)
    stages = []

    def stage(name, seconds, orders=count):
        stages.append((name, seconds, orders))
        print("(%d) %-44s %6d orders %8.1f s %7.1f orders/s" % (
                len(stages), name, orders, seconds, orders / seconds))

    # 1. import: the cron fetches, the workers process.  Here each fetch
    # is a run of the cron (`trytond-cron -1`) as soon as the rows are
    # there, rather than every 5 minutes
    for index in range(args.workers):
        processes.worker(index)
    start = time.perf_counter()
    received = set()
    for number, (trades_of, modified) in enumerate(waves):
        if number:
            generator.write_relay(shop.relay_uri, trades_of,
                jdp_modified=modified)
        received.update(str(t['tid']) for t in trades_of)
        due_now(args, 'web.shop|fetch_orders_cron')
        labels = ['once-%d' % number]
        if number == 0 and 'double-cron' in args.faults:
            # The same import twice at the same moment: Tryton's cron locks
            # its table, the second run gives up; nothing is read twice
            labels.append('once-%db' % number)
        for label in labels:
            processes.cron(label, once=True)
        processes.finish(labels)
        # A fetch that gave up (another fetch of the shop was running) is
        # run again, as the cron's next run would do 5 minutes later
        attempt = 0
        while sql(args, "SELECT COUNT(DISTINCT tid) "
                "FROM web_shop_taobao_payload") < len(received):
            attempt += 1
            time.sleep(1)
            due_now(args, 'web.shop|fetch_orders_cron')
            label = 'once-%d-%d' % (number, attempt)
            processes.cron(label, once=True)
            processes.finish([label])
        if attempt:
            print("    fetch %d run again %d times: another was running"
                % (number, attempt))
    seconds = wait(args, processes, "the import",
        "SELECT COUNT(*) FROM web_shop_taobao_trade "
        "WHERE state = 'imported'", count, start)
    stage("import with automatic customer review", seconds)
    # From now on the cron runs as it does every day: the requeue of the
    # tasks of stopped workers, the confirmations waiting, ...
    processes.cron()
    # The orders the shop may not pass by itself (a note, an amount above
    # the limit, a merge to decide) are passed by the reviewers
    # (not those with a refund in progress: they wait for after-sales)
    ids = ids_of(args, "SELECT id FROM sale_sale "
        "WHERE review_state = 'customer' AND NOT COALESCE(platform_hold, "
        "FALSE) ORDER BY id")
    held = sql(args, "SELECT COUNT(*) FROM sale_sale "
        "WHERE review_state = 'customer' AND platform_hold")
    if held:
        print("    %d orders with a refund in progress wait for after-sales"
            % held)
    if ids:
        start = time.perf_counter()
        # One by one: an order refused (a refund in progress) does not hold
        # the others
        enqueue(args, 'sale.sale', 'customer_review', ids, 1)
        stage("customer review by the reviewers", wait(args, processes,
                "the customer review", UNFINISHED_TASKS, 0, start, at_most=True),
            len(ids))
        for message, number in rows(args, "SELECT message, COUNT(*) "
                "FROM ir_error GROUP BY message ORDER BY message"):
            print("    %d left to a person: %s" % (number, message))

    # 2. finance review
    ids = ids_of(args, "SELECT id FROM sale_sale "
        "WHERE review_state = 'finance' ORDER BY id")
    count = len(ids)
    start = time.perf_counter()
    enqueue(args, 'sale.sale', 'finance_review', ids, args.batch)
    if 'kill-worker' in args.faults:
        wait(args, processes, "a few finance reviews",
            "SELECT COUNT(*) FROM sale_sale WHERE review_state = 'done'",
            args.batch, start)
        time.sleep(1)
        processes.kill('worker-0')
        print("    worker-0 killed (SIGKILL) in the middle of a batch; "
            "restarted")
        processes.worker(0)
    # Done when the queued work of the review is too: the invoices posted
    # and paid, and the sales processed again for it (their invoice state)
    seconds = wait(args, processes, "the finance review",
        "SELECT COUNT(*) FROM sale_sale WHERE review_state = 'done' "
        "AND invoice_state = 'paid'", len(ids), start)
    stage("finance review", seconds, len(ids))

    shipments = ids_of(args, "SELECT id FROM stock_shipment_out "
        "ORDER BY id")
    for number, (name, method, query) in enumerate([
                ("goods reserved", 'assign_try',
                    "SELECT COUNT(*) FROM stock_shipment_out "
                    "WHERE state = 'assigned'"),
                ("waybill numbers", 'request_waybills',
                    "SELECT COUNT(*) FROM stock_shipment_out "
                    "WHERE shipping_reference IS NOT NULL"),
                ]):
        start = time.perf_counter()
        enqueue(args, 'stock.shipment.out', method, shipments, args.batch)
        stage(name, wait(args, processes, name, query, len(shipments),
                start), len(shipments))

    # 5. the waybills printed here, batch by batch, as a client asks
    from proteus import Model, Wizard
    Shipment = Model.get('stock.shipment.out')
    start = time.perf_counter()
    for first in range(0, len(shipments), args.batch):
        processes.sample()
        documents = Wizard('shop_fulfilment.print_waybill', [
                Shipment(i) for i in shipments[first:first + args.batch]]
            ).actions
        if not documents:
            raise SystemExit("no waybill printed")
    stage("waybills printed", time.perf_counter() - start, len(shipments))

    start = time.perf_counter()
    for method, state in [('pick', 'picked'), ('pack', 'packed')]:
        enqueue(args, 'stock.shipment.out', method, shipments, args.batch)
        wait(args, processes, method,
            "SELECT COUNT(*) FROM stock_shipment_out WHERE state = '%s'"
            % state, len(shipments), start)
    stage("picked and packed", time.perf_counter() - start,
        len(shipments))

    start = time.perf_counter()
    enqueue(args, 'stock.shipment.out', 'done', shipments, args.batch)
    stage("handed over", wait(args, processes, "the hand over",
            "SELECT COUNT(*) FROM stock_shipment_out WHERE state = 'done'",
            len(shipments), start), len(shipments))

    start = time.perf_counter()
    enqueue(args, 'stock.shipment.out', 'confirm_to_platform', shipments,
        args.batch)
    if 'pg-restart' in args.faults:
        restart_server(args, processes, start)
    stage("confirmed to the platform", wait(args, processes,
            "the confirmations",
            "SELECT COUNT(*) FROM stock_shipment_out "
            "WHERE confirmation_state = 'confirmed'",
            len(shipments), start), len(shipments))

    total = sum(s for _, s, _ in stages)
    slowest = min(stages, key=lambda s: s[2] / s[1])
    print("\nend to end: %d orders in %.1f s: %.1f orders/s, %.0f orders "
        "per hour (goal 100,000, no stage below 30 orders/s)" % (
            count, total, count / total, 3600 * count / total))
    print("slowest stage: %s (%.1f orders/s)" % (
            slowest[0], slowest[2] / slowest[1]))
    print("platform calls: %s" % ', '.join('%s %d' % (m, n)
            for m, n in sorted(server.counts.items())))
    for label, code in processes.restarts:
        print("    %s stopped (exit code %s) and was started again" % (
                label, code))
    processes.sample()
    print("\npeak memory per process (VmHWM):")
    for (label, pid), mb in sorted(processes.peaks.items()):
        print("    %-10s pid %-8d %6.0f MB" % (label, pid, mb))
    print("    %-10s pid %-8d %6.0f MB" % (
            'this', os.getpid(), bench_import.peak_rss_mb()))


def restart_server(args, processes, start):
    """Restart the PostgreSQL server once a few confirmations are done,
    while the workers confirm the others"""
    wait(args, processes, "a few confirmations",
        "SELECT COUNT(*) FROM stock_shipment_out "
        "WHERE confirmation_state = 'confirmed'", args.batch // 2, start)
    processes.supervise = True
    args.cluster.restart()
    print("    PostgreSQL restarted in the middle of the confirmations")


def check(args, trades, server, processes):
    "Nothing lost, nothing doubled, the money to the fen"
    paid = {str(t['tid']) for t in trades}
    # The orders a person must look at are not shipped
    held = {w for w, in rows(args, "SELECT web_id FROM sale_sale "
            "WHERE review_state IN ('customer', 'exception')")}
    problems = []
    sales = dict(rows(args, "SELECT web_id, COUNT(*) FROM sale_sale "
            "GROUP BY web_id"))
    if set(sales) != paid or any(n != 1 for n in sales.values()):
        problems.append("sales: %d trades paid, %d with a sale, %d with "
            "more than one" % (len(paid), len(set(sales) & paid),
                sum(1 for n in sales.values() if n > 1)))
    (shipments, numbered, numbers), = rows(args, "SELECT COUNT(*), "
        "COUNT(shipping_reference), COUNT(DISTINCT shipping_reference) "
        "FROM stock_shipment_out")
    if not shipments == numbered == numbers:
        problems.append("waybills: %d shipments, %d numbered, %d distinct "
            "numbers" % (shipments, numbered, numbers))
    confirmed = server.confirmations
    if (set(confirmed) != paid - held
            or any(n != 1 for n in confirmed.values())):
        problems.append("confirmations: %d trades confirmed, %d missing, "
            "%d more than once" % (len(confirmed),
                len(paid - held - set(confirmed)),
                sum(1 for n in confirmed.values() if n > 1)))
    wrong = rows(args, MONEY_WRONG)
    if wrong:
        problems.append("money: %d orders where payment, sale or invoice "
            "differ from what the buyer paid (%s)" % (
                len(wrong), ', '.join(w for w, in wrong[:5])))
    print("\nchecks: %d paid trades, %d sales (%d left to a person), %d "
        "shipments with %d distinct waybill numbers, %d trades confirmed "
        "once" % (len(paid), len(sales), len(held), shipments, numbers,
            sum(1 for n in confirmed.values() if n == 1)))
    (failed, again, pending), = rows(args, UNFINISHED_BY_KIND)
    print("    queue tasks not finished: %d failed, waiting for a person; "
        "%d queued again as a new task after database errors (locks); "
        "%d pending"
        % (failed, again, pending))
    for problem in problems:
        print("    PROBLEM: %s" % problem)
    if not problems:
        print("    nothing lost, nothing doubled, the money to the fen")
    return not problems


if __name__ == '__main__':
    sys.exit(main())
