# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Numbers of a strict sequence taken in bulk.

ir.sequence.strict writes its next number for each number it gives: a
write of the sequence through the ORM (checked, validated) which also
empties the local cache of every record the transaction holds, so that
posting thousands of invoices or moves reads them again after each number.
The first number locks the sequence until the commit: no other transaction
can take one meanwhile.  Within ``numbering()``, the next number of each
sequence is kept in memory after the first one and written once when the
block ends, the same numbers in the same order, without gaps.

The lock of a strict sequence is taken at the start of a transaction,
without waiting (trytond restarts the transaction to take it): a second
transaction asking for it while the first one holds it fails at once (see
locking.py).  The tasks posting invoices take ``posting_turn()`` first
and, when another transaction has it, come back a second later."""
import weakref
from contextlib import contextmanager

from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .locking import take_turn

# {transaction: {sequence id: next number}} of the open numbering blocks
_next_numbers = weakref.WeakKeyDictionary()


@contextmanager
def numbering():
    "Take the numbers of strict sequences in bulk in the block"
    transaction = Transaction()
    if transaction in _next_numbers:
        # Nested: the outer block writes them
        yield
        return
    next_numbers = _next_numbers[transaction] = {}
    try:
        yield
        if next_numbers:
            Pool().get('ir.sequence.strict').write_next_numbers(next_numbers)
    finally:
        del _next_numbers[transaction]


def posting_turn():
    """Take the turn of posting invoices for the transaction; return False
    when another transaction has it"""
    # Not waiting for it: the posting's transaction restarts to take the
    # sequence's lock, which ends the turn it waited for
    return take_turn('account.invoice.posting')


class SequenceStrict(metaclass=PoolMeta):
    __name__ = 'ir.sequence.strict'

    @classmethod
    def _get_sequence(cls, sequence):
        next_numbers = _next_numbers.get(Transaction())
        if next_numbers is None or sequence.type != 'incremental':
            return super()._get_sequence(sequence)
        # get() has locked the sequence: what it holds is this transaction's
        number = next_numbers.get(sequence.id)
        if number is None:
            number = sequence.number_next_internal
        next_numbers[sequence.id] = number + sequence.number_increment
        return f'{number:0>{sequence.padding}d}'

    @classmethod
    def write_next_numbers(cls, next_numbers):
        "Write the next number of each sequence id of next_numbers"
        args = []
        for number in set(next_numbers.values()):
            ids = [i for i, n in next_numbers.items() if n == number]
            args.extend([cls.browse(ids), {'number_next_internal': number}])
        cls.write(*args)
