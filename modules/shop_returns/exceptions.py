# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError, UserWarning
from trytond.modules.shop_fulfilment.exceptions import TradeMappingError


class RefundMappingError(TradeMappingError):
    "A platform refund that cannot be linked or applied as it is"

    @classmethod
    def from_trade_error(cls, error, refund_id):
        return cls('shop_returns.msg_refund_%s' % error.code,
            **dict(error.values, refund_id=refund_id))


class RefundError(UserError):
    "A refund or return that cannot take the step as it is"


class ReturnWarning(UserWarning):
    pass
