# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Writes of the server's own bookkeeping (states, reconciliation marks)
validated without validating again what they cannot change"""
from trytond.transaction import without_check_access


class BookkeepingValidationMixin:
    """Tryton validates again, on any write, every field whose domain
    depends on a function field, record by record.  The fields named in
    `_bookkeeping_fields` change none of those function fields (see
    test_bookkeeping_validation) and no domain depends on them: when only
    they are written, only the model's own checks run."""
    __slots__ = ()
    _bookkeeping_fields = frozenset()

    @classmethod
    @without_check_access
    def _validate(cls, records, field_names=None):
        if (field_names is not None
                and set(field_names) <= cls._bookkeeping_fields):
            records = cls.browse(records)
            for record in records:
                record.pre_validate()
            cls.validate(records)
            cls.validate_fields(records, set(field_names))
            return
        super()._validate(records, field_names)
