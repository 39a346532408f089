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


class PlatformError(UserError):
    pass
