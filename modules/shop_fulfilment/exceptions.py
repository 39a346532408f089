# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError


class TradeMappingError(UserError):
    "A platform trade that cannot become a sale as it is"

    def __init__(self, message_id, **values):
        from trytond.i18n import gettext
        super().__init__(gettext(message_id, **values))
        self.message_id = message_id
        self.values = values

    @classmethod
    def from_trade_error(cls, error, tid):
        "The translated error of a taobao.TradeError"
        return cls('shop_fulfilment.msg_trade_%s' % error.code,
            **dict(error.values, tid=tid))


class PlatformError(UserError):
    pass


class ShopFetchBusy(UserError):
    "Another transaction is fetching the same records of the shop"


class ReviewError(UserError):
    "An order that cannot pass a review as it is"
