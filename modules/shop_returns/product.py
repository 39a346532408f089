# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta


class Template(metaclass=PoolMeta):
    __name__ = 'product.template'

    no_reason_exclusion = fields.Selection([
            (None, ""),
            ('custom', "Custom-Made"),
            ('perishable', "Perishable"),
            ('digital_opened', "Digital Goods once Opened"),
            ], "No-Reason Return Exclusion",
        help="Why the goods cannot be returned within 7 days without "
        "a reason (七天无理由退货).")
