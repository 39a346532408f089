# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Queue tasks that a killed worker leaves behind are run again.

trytond's worker marks a task dequeued in a transaction of its own, then
runs it in another.  When the worker dies (killed, out of memory, the
database restarted), the work is rolled back but the task stays dequeued
and is never run again: the import batch, the finance review or the ship
confirmation it carried would be lost.

Here a task being run holds the lock of its row for as long as it runs, so
that a task dequeued but neither finished nor locked is known to be
orphaned: a cron puts it back in the queue.  The tasks of these modules are
idempotent (they start from the records' states), so a task run again
does what is left and nothing twice."""
import datetime as dt
import logging
import weakref

from sql import For, Null
from sql.operators import Concat, Exists

from trytond.config import config
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

logger = logging.getLogger(__name__)

# The transactions running a queue task
_running = weakref.WeakSet()


def running_task():
    """Whether the transaction runs a queue task taken by a worker, which
    may queue itself again for later (without workers, trytond runs the
    tasks right after the request, again and again)"""
    return (config.getboolean('queue', 'worker', default=False)
        and Transaction() in _running)


def grace():
    """A worker locks its task right after dequeuing it: the tasks dequeued
    less than this ago are left alone, so that none is taken between the
    two"""
    return dt.timedelta(seconds=config.getint(
            'shop_fulfilment', 'queue_orphan_grace', default=60))


class Queue(metaclass=PoolMeta):
    __name__ = 'ir.queue'

    def run(self):
        transaction = Transaction()
        if transaction.database.has_select_for():
            table = self.__table__()
            cursor = transaction.connection.cursor()
            cursor.execute(*table.select(table.id,
                    where=table.id == self.id,
                    for_=For('UPDATE')))
        _running.add(transaction)
        try:
            super().run()
        finally:
            _running.discard(transaction)

    @classmethod
    def requeue_orphans(cls):
        """Put back in the queue the tasks dequeued by a worker that died:
        neither finished nor locked by a running worker"""
        transaction = Transaction()
        database = transaction.database
        if not database.has_select_for():
            return []
        pool = Pool()
        Error = pool.get('ir.error')
        table = cls.__table__()
        error = Error.__table__()
        cursor = transaction.connection.cursor()
        For = database.get_select_for_skip_locked()
        # A task that failed with an error for a person to solve (ir.error)
        # is left to them: solving it queues the task again
        failed = error.select(error.id,
            where=error.origin == Concat(cls.__name__ + ',', table.id))
        # A task that failed on locks too many times was queued again as a
        # new task (trytond.worker.run_task), the old one left unfinished
        copy = cls.__table__()
        queued_again = copy.select(copy.id,
            where=(copy.id > table.id) & (copy.name == table.name)
            & (copy.data == table.data))
        cursor.execute(*table.select(table.id,
                where=(table.dequeued_at != Null)
                & (table.finished_at == Null)
                & (table.dequeued_at < dt.datetime.now() - grace())
                & ~Exists(failed) & ~Exists(queued_again),
                for_=For('UPDATE')))
        ids = [i for i, in cursor]
        if ids:
            cursor.execute(*table.update([table.dequeued_at], [Null],
                    where=table.id.in_(ids)))
            if database.has_channel():
                cursor.execute('NOTIFY "%s"', (cls.__name__,))
            logger.warning("requeued %d orphaned tasks: %s", len(ids), ids)
        return ids


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('ir.queue|requeue_orphans',
                "Requeue the Tasks of Stopped Workers"))
