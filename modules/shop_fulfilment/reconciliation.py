# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Reconciliations of thousands of lines (the finance review, the refunds,
the Alipay statement) without validating again what they cannot change"""
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.transaction import without_check_access

# What reconciling or unreconciling writes on the lines
RECONCILING = {'reconciliation'}


class MoveLine(metaclass=PoolMeta):
    __name__ = 'account.move.line'

    @classmethod
    def validation_function_fields(cls):
        """Return the function fields that the validation of the lines
        depends on: Tryton validates them again on any write, but none is
        computed from the reconciliation"""
        function_fields = {n for n, f in cls._fields.items()
            if isinstance(f, fields.Function)}
        return {n for f in cls._fields.values()
            if not isinstance(f, fields.Function)
            for n in f.validation_depends & function_fields}

    @classmethod
    @without_check_access
    def _validate(cls, lines, field_names=None):
        if field_names is not None and set(field_names) <= RECONCILING:
            # Tryton validates again every field whose domain depends on a
            # function field (the account, debit, credit and party depend
            # on the move's company, date, period and journal, and on the
            # account), record by record: a quarter of the time of the
            # reconciliations of a statement.  The reconciliation changes
            # none of them (see test_reconciling_validation) and has no
            # domain of its own.
            lines = cls.browse(lines)
            for line in lines:
                line.pre_validate()
            cls.validate(lines)
            cls.validate_fields(lines, set(field_names))
            return
        super()._validate(lines, field_names)
