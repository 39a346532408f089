# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Reconciliations of thousands of lines (the finance review, the refunds,
the Alipay statement) without validating again what they cannot change"""
from trytond.pool import PoolMeta
from trytond.transaction import without_check_access


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


class Payment(ReconcilingValidationMixin, metaclass=PoolMeta):
    __name__ = 'account.payment'
    # Set once the clearing lines are reconciled, by a queued task that
    # would validate again each payment's line, account and origin
    _reconciling_fields = frozenset({'clearing_reconciled'})
