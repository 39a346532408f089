# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A queue worker killed (SIGKILL) in the middle of a task, then restarted:
the task is run again, once.

Runs only on PostgreSQL (TRYTOND_DATABASE_URI=postgresql://...):

1. a task is queued (a party renamed) while the test holds the party's row,
   so that the `trytond-worker` that takes it waits in the middle of it;
2. while the worker lives, the orphan recovery (shop_fulfilment/queue.py)
   leaves the task alone: the worker holds it;
3. the worker is killed with SIGKILL and the row released: its work is
   rolled back and the task, dequeued but never finished, is put back in
   the queue by the recovery;
4. a new worker runs it: the party is renamed, by exactly one finished
   task;
5. a task that failed with an error for a person (ir.error) is not taken
   from them, nor one that the worker queued again itself.
"""
import os
import signal
import subprocess
import sys
import time

import pytest

URI = os.environ.get('TRYTOND_DATABASE_URI', '')
ON_POSTGRESQL = URI.startswith(('postgresql:', 'postgres:'))
TIMEOUT = 60

if not ON_POSTGRESQL:
    pytest.skip(
        "the worker test needs PostgreSQL: "
        "set TRYTOND_DATABASE_URI=postgresql://...",
        allow_module_level=True)


def _connect(database):
    import urllib.parse

    import psycopg2
    parts = urllib.parse.urlsplit(URI)
    return psycopg2.connect(urllib.parse.urlunsplit(
            (parts.scheme, parts.netloc, '/' + database, '', '')))


def _in_transaction(database, func):
    from trytond.transaction import Transaction
    with Transaction().start(database, 0) as transaction:
        result = func()
        # Nothing runs the queued tasks in this process: the worker does
        transaction.tasks.clear()
        transaction.commit()
    return result


def _wait(what, condition, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out waiting for %s" % what
        time.sleep(0.2)


def _start_worker(config, database, log):
    # Its own session: the worker and its pool process are killed together
    return subprocess.Popen([
            os.path.join(os.path.dirname(sys.executable), 'trytond-worker'),
            '-c', config, '-d', database, '-n', '1', '-v'],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process, sig=signal.SIGTERM):
    if process.poll() is None:
        os.killpg(process.pid, sig)
        process.wait(timeout=TIMEOUT)


def test_worker_killed(tmp_path):
    from trytond.modules.company.tests.tools import create_company
    from trytond.modules.shop_fulfilment.tests import tools
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, drop_db
    from trytond.config import config as trytond_config
    from trytond.tests.tools import activate_modules

    config = tmp_path / 'trytond.conf'
    config.write_text(
        '[database]\nuri = %s\n'
        '[queue]\nworker = True\n'
        # The test decides when a task counts as orphaned
        '[shop_fulfilment]\nqueue_orphan_grace = 0\n' % URI)
    # Here too: the recovery runs in this process
    if not trytond_config.has_section('shop_fulfilment'):
        trytond_config.add_section('shop_fulfilment')
    trytond_config.set('shop_fulfilment', 'queue_orphan_grace', '0')
    log = open(tmp_path / 'worker.log', 'w')
    drop_db()
    workers = []
    holder = None
    try:
        activate_modules('shop_fulfilment')
        create_company(currency=tools.get_cny())

        def queue_rename():
            Party = Pool().get('party.party')
            party, = Party.create([{'name': "张三"}])
            Party.__queue__.write([party], {'name': "张三（已改名）"})
            return party.id
        party_id = _in_transaction(DB_NAME, queue_rename)

        def requeue():
            return Pool().get('ir.queue').requeue_orphans()

        def one(query, *params):
            connection = _connect(DB_NAME)
            try:
                with connection.cursor() as cursor:
                    cursor.execute(query, params)
                    return cursor.fetchone()
            finally:
                connection.close()

        def party_name():
            return one(
                'SELECT name FROM party_party WHERE id = %s', party_id)[0]

        # The party's row held: the worker will wait in the middle of the
        # task, its transaction open
        holder = _connect(DB_NAME)
        with holder.cursor() as cursor:
            cursor.execute(
                'SELECT id FROM party_party WHERE id = %s FOR UPDATE',
                (party_id,))
        workers.append(_start_worker(str(config), DB_NAME, log))
        _wait("the worker to wait for the party", lambda: one(
                "SELECT COUNT(*) FROM pg_stat_activity "
                "WHERE datname = %s AND wait_event_type = 'Lock'",
                DB_NAME)[0])
        task_id, = one("SELECT id FROM ir_queue "
            "WHERE dequeued_at IS NOT NULL AND finished_at IS NULL")

        # A live worker's task is not taken from it
        assert _in_transaction(DB_NAME, requeue) == []

        _stop(workers[-1], signal.SIGKILL)
        holder.rollback()
        # Its transaction is rolled back once the server sees it gone
        assert _wait("the task to be requeued",
            lambda: _in_transaction(DB_NAME, requeue)) == [task_id]
        assert party_name() == "张三"
        assert one("SELECT dequeued_at FROM ir_queue WHERE id = %s",
            task_id) == (None,)

        workers.append(_start_worker(str(config), DB_NAME, log))
        _wait("the task to be run again", lambda: one(
                "SELECT finished_at FROM ir_queue WHERE id = %s",
                task_id)[0])
        assert party_name() == "张三（已改名）"
        assert one("SELECT COUNT(*) FROM ir_queue") == (1,)
        # Nothing left behind
        assert _in_transaction(DB_NAME, requeue) == []

        # A task that failed with an error for a person to solve stays
        # with the person (solving the error queues it again)
        def queue_failed():
            pool = Pool()
            Party = pool.get('party.party')
            Error = pool.get('ir.error')
            Queue = pool.get('ir.queue')
            Party.__queue__.write([Party(party_id)], {'name': "李四"})
            task, = Queue.search([('finished_at', '=', None)])
            task.dequeued_at = task.enqueued_at
            task.save()
            Error.create([{'origin': str(task), 'message': "refused"}])
            return task.id
        failed_id = _in_transaction(DB_NAME, queue_failed)
        assert _in_transaction(DB_NAME, requeue) == []
        assert one("SELECT COUNT(*) FROM ir_queue WHERE id = %s "
            "AND dequeued_at IS NOT NULL", failed_id) == (1,)

        # A task that failed on locks too many times: the worker queued it
        # again as a new task and left it unfinished; only the copy runs
        def queue_rescheduled():
            pool = Pool()
            Party = pool.get('party.party')
            Queue = pool.get('ir.queue')
            Party.__queue__.write([Party(party_id)], {'name': "王五"})
            task, = Queue.search([('id', '>', failed_id)])
            task.dequeued_at = task.enqueued_at
            task.save()
            Queue.push(task.name, task.data)
            return task.id
        rescheduled_id = _in_transaction(DB_NAME, queue_rescheduled)
        assert _in_transaction(DB_NAME, requeue) == []
        _wait("the copy to be run", lambda: party_name() == "王五")
        assert one("SELECT finished_at FROM ir_queue WHERE id = %s",
            rescheduled_id) == (None,)
    finally:
        for worker in workers:
            _stop(worker, signal.SIGKILL)
        if holder is not None:
            holder.close()
        log.close()
        trytond_config.remove_option('shop_fulfilment', 'queue_orphan_grace')
        drop_db()
