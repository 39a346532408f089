# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Reconciliations of thousands of lines (the finance review, the refunds,
the Alipay statement) without validating again what they cannot change,
nor reading their records one reconciliation at a time"""
from collections import defaultdict

from sql import Null

from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from .validation import BookkeepingValidationMixin


class Reconciliation(metaclass=PoolMeta):
    __name__ = 'account.move.reconciliation'

    @classmethod
    def create(cls, vlist):
        # account looks the sequence up in the configuration for each
        # reconciliation (a search of the configuration's values): once
        # per company is enough
        pool = Pool()
        Configuration = pool.get('account.configuration')
        configuration = Configuration(1)
        default_company = cls.default_company()
        sequences = {}
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            if 'number' not in values:
                company = values.get('company', default_company)
                if company not in sequences:
                    sequences[company] = configuration.get_multivalue(
                        'reconciliation_sequence', company=company)
                values['number'] = sequences[company].get()
        return super().create(vlist)


class MoveLine(BookkeepingValidationMixin, metaclass=PoolMeta):
    __name__ = 'account.move.line'
    # Their account, debit, credit and party are validated against the
    # move's company, date, period and journal, and the account: a quarter
    # of the time of the reconciliations of a statement
    _bookkeeping_fields = frozenset({'reconciliation'})

    @classmethod
    def write(cls, *args):
        # A reconciliation writes its lines as a list browsed apart from
        # the others (One2Many.set), and account reads the move of every
        # list again after the write: one read per reconciliation, for
        # thousands of them.  Browsed together, they are read in batches.
        if len(args) > 2:
            records = iter(cls.browse([l.id for ls in args[::2] for l in ls]))
            args = list(args)
            args[::2] = [[next(records) for _ in ls] for ls in args[::2]]
        super().write(*args)


class Payment(BookkeepingValidationMixin, metaclass=PoolMeta):
    __name__ = 'account.payment'
    # Set once the payment succeeded (the clearing move) and once its
    # clearing lines are reconciled (by a queued task): each write would
    # validate again each payment's line, account and origin
    _bookkeeping_fields = frozenset({'clearing_move', 'clearing_reconciled'})

    @classmethod
    def update_reconciled(cls, payments):
        """account_payment_clearing's, for the whole list at once: it reads
        the clearing lines of each payment through records, and writes
        every payment, changed or not.  The payments with statement lines
        (their moves hold clearing lines too) are left to it."""
        payments = cls.browse(payments)
        unreconciled, with_statement = cls._clearing_state(payments)
        to_write = defaultdict(list)
        for payment in payments:
            if payment.id in with_statement:
                continue
            reconciled = (bool(payment.clearing_move)
                and payment.id not in unreconciled)
            if payment.clearing_reconciled != reconciled:
                to_write[reconciled].append(payment)
        args = []
        for reconciled, records in to_write.items():
            args.extend((records, {'clearing_reconciled': reconciled}))
        if args:
            cls.write(*args)
        if with_statement:
            super().update_reconciled(
                [p for p in payments if p.id in with_statement])

    @classmethod
    def _clearing_state(cls, payments):
        """Return the ids of the payments with a line of their clearing
        move on the clearing account not reconciled, and those of the
        payments with statement lines"""
        pool = Pool()
        Journal = pool.get('account.payment.journal')
        MoveLine = pool.get('account.move.line')
        StatementLine = pool.get('account.statement.line')
        payment = cls.__table__()
        journal = Journal.__table__()
        line = MoveLine.__table__()
        statement_line = StatementLine.__table__()
        cursor = Transaction().connection.cursor()
        unreconciled, with_statement = set(), set()
        for sub in grouped_slice([p.id for p in payments]):
            sub = list(sub)
            cursor.execute(*payment.join(journal,
                    condition=payment.journal == journal.id
                    ).join(line,
                    condition=(line.move == payment.clearing_move)
                    & (line.account == journal.clearing_account)
                    ).select(payment.id,
                    where=reduce_ids(payment.id, sub)
                    & (line.reconciliation == Null),
                    group_by=[payment.id]))
            unreconciled.update(i for i, in cursor)
            cursor.execute(*statement_line.select(statement_line.related_to,
                    where=statement_line.related_to.in_(
                        ['%s,%s' % (cls.__name__, i) for i in sub]),
                    group_by=[statement_line.related_to]))
            with_statement.update(int(r.split(',')[1]) for r, in cursor)
        return unreconciled, with_statement
