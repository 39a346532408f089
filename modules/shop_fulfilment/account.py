# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import weakref

from trytond import backend
from trytond.model import ModelView
from trytond.model.descriptors import dualmethod
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .sequence import numbering

# {transaction: {(journal id, period id)}} of the journal periods created
# for a transaction in one of their own
_journal_periods = weakref.WeakKeyDictionary()


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @dualmethod
    @ModelView.button
    def post(cls, moves):
        # Moves read from their lines (a statement's, an order's) share the
        # list of ids of the lines' read, one entry per line: every
        # attribute of a move not in its cache walks that list, tens of
        # thousands long.  Browsed again, the list holds each move once.
        # The post numbers are taken in bulk (sequence.py): each number
        # written emptied the caches before the next move.
        with numbering():
            super().post(cls.browse(moves))


class MoveLine(metaclass=PoolMeta):
    __name__ = 'account.move.line'

    @classmethod
    def check_journal_period_modify(cls, period, journal):
        # account creates the missing journal period of a move in the
        # transaction of the move, the whole table locked until its commit:
        # meanwhile every other transaction making moves in a journal and
        # period without one fails on that lock (the workers reviewing side
        # by side on the first orders of a month; their tasks queued again
        # seconds later).  On PostgreSQL it is created and committed at once
        # in a transaction of its own; an open journal period is what the
        # move's would have created.
        if backend.name != 'postgresql':
            return super().check_journal_period_modify(period, journal)
        created = _journal_periods.setdefault(Transaction(), set())
        if (journal.id, period.id) in created:
            return
        JournalPeriod = Pool().get('account.journal.period')

        def exists():
            return bool(JournalPeriod.search([
                        ('journal', '=', journal.id),
                        ('period', '=', period.id),
                        ], limit=1))
        if exists():
            # account checks it is not closed
            return super().check_journal_period_modify(period, journal)
        # Committed when the block ends
        with Transaction().new_transaction(
                _lock_tables=[JournalPeriod._table]), \
                without_check_access():
            # Unless another transaction created it meanwhile, seen now
            if not exists():
                JournalPeriod.create([{
                            'journal': journal.id,
                            'period': period.id,
                            }])
        created.add((journal.id, period.id))
