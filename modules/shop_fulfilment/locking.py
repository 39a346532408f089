# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Turns that transactions take one after the other.

trytond takes its locks without waiting: a transaction that needs rows
another one holds fails at once, and a queue worker tries its task again a
few times in a third of a second, then queues it again seconds later,
longer after each failure.  Work that two workers would otherwise do at the
same time on the same rows (posting invoices from a strict sequence)
takes a turn first, a PostgreSQL advisory lock held until the end of the
transaction; a worker's task that finds it taken queues itself again a
second later (see queue.py's running_task).  Not a turn waited for: the
waiting transaction's snapshot would be older than the other's commit,
and its locks would then fail with a serialization error.  SQLite runs
one writer at a time: the turn is always free there."""
import hashlib

from sql import Select

from trytond.transaction import Transaction


def lock_key(name):
    "The 64-bit key of the advisory lock of name"
    return int.from_bytes(hashlib.blake2b(
            ('shop_fulfilment:%s' % name).encode(), digest_size=8).digest(),
        'big', signed=True)


def take_turn(name):
    """Take the turn of name for the transaction, without waiting; return
    False when another transaction has it"""
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    cursor.execute(*Select([transaction.database.lock_id(lock_key(name))]))
    taken, = cursor.fetchone()
    return bool(taken)
