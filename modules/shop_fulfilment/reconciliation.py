# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Reconciliations of thousands of lines (the finance review, the refunds,
the Alipay statement) without validating again what they cannot change,
and the fields move lines take from their move read for all at once"""
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction, without_check_access


class ReconcilingValidationMixin:
    """Tryton validates again, on any write, every field whose domain
    depends on a function field, record by record.  The fields that
    reconciling writes change none of those function fields (see
    test_reconciling_validation) and have no domain of their own: when
    only they are written, only the model's own checks run."""
    __slots__ = ()
    _reconciling_fields = frozenset()

    @classmethod
    @without_check_access
    def _validate(cls, records, field_names=None):
        if (field_names is not None
                and set(field_names) <= cls._reconciling_fields):
            records = cls.browse(records)
            for record in records:
                record.pre_validate()
            cls.validate(records)
            cls.validate_fields(records, set(field_names))
            return
        super()._validate(records, field_names)


class MoveLine(ReconcilingValidationMixin, metaclass=PoolMeta):
    __name__ = 'account.move.line'
    # Their account, debit, credit and party are validated against the
    # move's company, date, period and journal, and the account: a quarter
    # of the time of the reconciliations of a statement
    _reconciling_fields = frozenset({'reconciliation'})
    # Read from the move by account line by line; the validation of the
    # lines and every reconciliation read them for thousands of lines
    _move_columns = {
        'journal': 'journal',
        'period': 'period',
        'company': 'company',
        'move_origin': 'origin',
        }

    @classmethod
    def __setup__(cls):
        super().__setup__()
        for name in cls._move_columns:
            getattr(cls, name).getter = 'get_move_columns'

    @classmethod
    def get_move_columns(cls, lines, names):
        pool = Pool()
        Move = pool.get('account.move')
        line = cls.__table__()
        move = Move.__table__()
        cursor = Transaction().connection.cursor()
        values = {n: {} for n in names}
        for sub in grouped_slice([l.id for l in lines]):
            cursor.execute(*line.join(move,
                    condition=move.id == line.move
                    ).select(line.id,
                    *(getattr(move, cls._move_columns[n]) for n in names),
                    where=reduce_ids(line.id, sub)))
            for id_, *row in cursor:
                for name, value in zip(names, row):
                    values[name][id_] = value
        return values


class Payment(ReconcilingValidationMixin, metaclass=PoolMeta):
    __name__ = 'account.payment'
    # Set once the clearing lines are reconciled, by a queued task that
    # would validate again each payment's line, account and origin
    _reconciling_fields = frozenset({'clearing_reconciled'})
