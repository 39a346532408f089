# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The return approval (退货审批单) as printed and signed"
from decimal import Decimal

from trytond.modules.shop_fulfilment.report import (
    FulfilmentReport, quantity_text)

ZERO = Decimal('0.00')


def approval_items(approval):
    "What the approval prints of each line of goods, in the sale's order"
    lines = sorted((l for l in approval.lines if not l.postage),
        key=lambda l: ((l.sale_line.sequence or 0) if l.sale_line else 0,
            l.sale_line.id if l.sale_line else 0, l.id))
    return [{
            'code': (l.product.code or '') if l.product else '',
            'name': l.product.name if l.product else l.description or '',
            'sku': (l.sale_line.sku_properties or '') if l.sale_line else '',
            'quantity': quantity_text(l.quantity or 0, l.unit),
            'amount': amount_text(l.amount),
            } for l in lines]


def postage_refunded(approval):
    return amount_text(sum(
            (l.amount for l in approval.lines if l.postage), ZERO))


def amount_text(amount):
    "Yuan to the fen"
    return '%.2f' % (amount or ZERO)


def buyer(approval):
    "The buyer's nick, with the name on the sale when it differs"
    nick = approval.refund.buyer_nick or ''
    name = approval.sale.party.name or ''
    if nick and name and name != nick:
        return '%s (%s)' % (nick, name)
    return nick or name


def user_name(user):
    return user.rec_name if user else ''


def return_waybill(approval):
    shipment = approval.return_shipment
    return ((shipment.return_waybill if shipment else None)
        or approval.refund.return_waybill or '')


def return_carrier(approval):
    shipment = approval.return_shipment
    return ((shipment.return_carrier_name if shipment else None)
        or approval.refund.return_carrier_name or '')


class ApprovalReport(FulfilmentReport):
    "Return Approval"
    __name__ = 'web.shop.return_approval'

    @classmethod
    def sort_key(cls, approval):
        number = approval.number or ''
        return (len(number), number, approval.id)

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context.update({
                'approval_items': approval_items,
                'postage_refunded': postage_refunded,
                'amount_text': amount_text,
                'buyer': buyer,
                'user_name': user_name,
                'return_waybill': return_waybill,
                'return_carrier': return_carrier,
                })
        return context
