# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""7-day no-reason returns (七天无理由退货): counted from the day after the
buyer signed for the goods, custom-made, perishable and opened digital goods
excepted"""
import datetime as dt

from trytond.model import fields
from trytond.modules.shop_fulfilment.sale import china_date
from trytond.pool import PoolMeta

NO_REASON_DAYS = 7


class Refund(metaclass=PoolMeta):
    __name__ = 'web.shop.taobao.refund'

    delivered_on = fields.Function(
        fields.Date("Delivered On",
            help="The day the buyer signed for the goods (China time)."),
        'get_no_reason')
    no_reason_until = fields.Function(
        fields.Date("No-Reason Return Until"), 'get_no_reason')
    no_reason_eligible = fields.Function(
        fields.Boolean("No-Reason Return",
            help="Asked within 7 days from the day after delivery, "
            "for goods that may be returned without a reason."),
        'get_no_reason')

    @classmethod
    def get_no_reason(cls, refunds, names):
        result = {n: {} for n in names}
        for refund in refunds:
            delivered = refund._delivered_on()
            until = (delivered + dt.timedelta(days=NO_REASON_DAYS)
                if delivered else None)
            template = (refund.sale_line.product.template
                if refund.sale_line and refund.sale_line.product else None)
            asked = china_date(refund.requested) if refund.requested \
                else None
            values = {
                'delivered_on': delivered,
                'no_reason_until': until,
                'no_reason_eligible': bool(until and asked
                    and asked <= until and template
                    and not template.no_reason_exclusion),
                }
            for name in names:
                result[name][refund.id] = values[name]
        return result

    def _delivered_on(self):
        "The delivery of the refunded goods: signed, else handed over"
        if not self.sale_line:
            return
        days = []
        for move in self.sale_line.moves:
            shipment = move.shipment
            if (move.state != 'done' or not shipment
                    or shipment.__name__ != 'stock.shipment.out'):
                continue
            signed = getattr(shipment, 'delivered_at', None)
            days.append(china_date(signed) if signed
                else shipment.effective_date)
        days = [d for d in days if d]
        return max(days) if days else None
