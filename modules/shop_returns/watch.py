# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Watching returns: the return rate per product over the last days, with
an alert above the shop's threshold, and the buyers' reasons summarised"""
import datetime as dt
from decimal import Decimal

from sql import Literal, Null
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Coalesce

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

DEFAULT_DAYS = 30


def _since():
    days = Transaction().context.get('days') or DEFAULT_DAYS
    return dt.datetime.utcnow() - dt.timedelta(days=days)


class Shop(metaclass=PoolMeta):
    __name__ = 'web.shop'

    return_rate_threshold = fields.Float(
        "Return Rate Alert", digits=(3, 2),
        help="Alert when the returned share of a product's sales over the "
        "last 30 days is above it (0.5: above 50% hurts the shop's rating).")

    @classmethod
    def default_return_rate_threshold(cls):
        return 0.5


class ReturnRateContext(ModelView):
    "Return Rate Context"
    __name__ = 'web.shop.return_rate.context'

    shop = fields.Many2One('web.shop', "Shop")
    days = fields.Integer("Days", required=True,
        domain=[('days', '>', 0)])

    @classmethod
    def default_days(cls):
        return DEFAULT_DAYS


class ReturnRate(ModelSQL, ModelView):
    "Return Rate"
    __name__ = 'web.shop.return_rate'

    product = fields.Many2One('product.product', "Product", readonly=True)
    sold = fields.Float("Sold", readonly=True)
    returned = fields.Float("Returned", readonly=True,
        help="The quantity refunded or sent back.")
    rate = fields.Function(fields.Float("Return Rate", digits=(3, 4)),
        'get_rate')
    alert = fields.Function(fields.Boolean("Alert"), 'get_rate')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('returned', 'DESC'), ('product', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Sale = pool.get('sale.sale')
        SaleLine = pool.get('sale.line')
        Approval = pool.get('web.shop.return_approval')
        ApprovalLine = pool.get('web.shop.return_approval.line')
        sale, line = Sale.__table__(), SaleLine.__table__()
        approval, a_line = Approval.__table__(), ApprovalLine.__table__()
        shop = Transaction().context.get('shop')
        since = _since()
        sale_where = ((sale.web_shop != Null)
            & sale.state.in_(['processing', 'done'])
            & (Coalesce(sale.platform_paid, sale.create_date) >= since)
            & (line.product != Null) & (line.platform_oid != Null))
        approval_where = ((approval.state != 'cancelled')
            & (approval.create_date >= since) & (a_line.quantity > 0))
        if shop:
            sale_where &= sale.web_shop == shop
            approval_where &= approval.shop == shop
        sold = line.join(sale, condition=line.sale == sale.id).select(
            line.product, Sum(line.quantity).as_('quantity'),
            where=sale_where, group_by=[line.product])
        returned = a_line.join(approval,
            condition=a_line.approval == approval.id).select(
            a_line.product, Sum(a_line.quantity).as_('quantity'),
            where=approval_where, group_by=[a_line.product])
        query = sold.join(returned, 'LEFT',
            condition=sold.product == returned.product)
        return query.select(
            sold.product.as_('id'),
            Literal(0).as_('create_uid'),
            Literal(dt.datetime.min).as_('create_date'),
            Literal(None).as_('write_uid'),
            Literal(None).as_('write_date'),
            sold.product.as_('product'),
            sold.quantity.as_('sold'),
            Coalesce(returned.quantity, 0).as_('returned'))

    @classmethod
    def get_rate(cls, records, names):
        pool = Pool()
        Shop = pool.get('web.shop')
        shop = Transaction().context.get('shop')
        threshold = (Shop(shop).return_rate_threshold if shop
            else Shop.default_return_rate_threshold()) or 0
        result = {n: {} for n in names}
        for record in records:
            rate = (record.returned or 0) / record.sold if record.sold else 0
            if 'rate' in names:
                result['rate'][record.id] = round(rate, 4)
            if 'alert' in names:
                result['alert'][record.id] = rate > threshold
        return result


class ReturnReason(ModelSQL, ModelView):
    "Return Reason"
    __name__ = 'web.shop.return_reason'

    reason = fields.Char("Reason", readonly=True)
    count = fields.Integer("Refunds", readonly=True)
    amount = fields.Numeric("Amount", digits=(16, 2), readonly=True)
    last = fields.DateTime("Last Requested", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('count', 'DESC'), ('reason', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Refund = pool.get('web.shop.taobao.refund')
        refund = Refund.__table__()
        shop = Transaction().context.get('shop')
        where = (refund.requested >= _since()) & (refund.sale != Null)
        if shop:
            where &= refund.shop == shop
        reason = Coalesce(refund.refund_reason, '')
        return refund.select(
            Min(refund.id).as_('id'),
            Literal(0).as_('create_uid'),
            Literal(dt.datetime.min).as_('create_date'),
            Literal(None).as_('write_uid'),
            Literal(None).as_('write_date'),
            reason.as_('reason'),
            Count(Literal('*')).as_('count'),
            Sum(Coalesce(refund.refund_fee, Decimal(0))).as_('amount'),
            Max(refund.requested).as_('last'),
            where=where, group_by=[reason])
