# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The customer review (客审) of platform orders"
import datetime as dt

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction, check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import china, taobao
from .delivery import DELIVERY_MODES_OPTIONAL
from .exceptions import ReviewError

REVIEW_STATES = [
    (None, ""),
    ('customer', "To Customer Review"),
    ('exception', "Exception"),
    ('finance', "To Finance Review"),
    ('done', "Reviewed"),
    ]
# Reviewed by the server, not by a person: only their own code sets them
CUSTOMER_REVIEW = '_shop_customer_review'
FINANCE_REVIEW = '_shop_finance_review'
REVIEW_REJECT = '_shop_review_reject'
_DRAFT = Eval('state') == 'draft'


def raise_first(sale, problems):
    "Raise the first of the (message id, values) that stop the sale"
    for message, values in problems:
        raise ReviewError(gettext('shop_fulfilment.' + message,
                sale=sale.rec_name, **values))


class Shop(metaclass=PoolMeta):
    __name__ = 'web.shop'

    auto_review = fields.Boolean(
        "Automatic Review",
        help="Pass the customer review of the imported orders "
        "that meet the conditions below.")
    auto_review_no_notes = fields.Boolean(
        "Only without Message or Memo",
        states={'invisible': ~Eval('auto_review')})
    auto_review_max_amount = fields.Numeric(
        "Maximal Amount", digits=(16, 2),
        states={'invisible': ~Eval('auto_review')},
        help="Leave empty for no limit.")
    auto_review_carrier_rule = fields.Boolean(
        "Only when a Carrier Rule Matched",
        states={'invisible': ~Eval('auto_review')})
    distinct_reviewers = fields.Boolean(
        "Distinct Reviewers",
        help="Forbid the same person passing both reviews of an order.")

    @classmethod
    def default_auto_review_no_notes(cls):
        return True


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    review_state = fields.Selection(
        REVIEW_STATES, "Review State", readonly=True)
    delivery_mode = fields.Selection(
        DELIVERY_MODES_OPTIONAL, "Delivery Mode",
        states={
            'readonly': ~_DRAFT,
            'invisible': ~Eval('platform_trade'),
            })
    scheduled_date = fields.Date(
        "Agreed Delivery Date",
        states={
            'readonly': ~_DRAFT,
            'invisible': Eval('delivery_mode') != 'scheduled',
            'required': Eval('review_state').in_(['finance', 'done'])
            & (Eval('delivery_mode') == 'scheduled'),
            },
        help="The day agreed with the buyer, as the seller memo says.")
    service_area = fields.Many2One(
        'web.shop.service_area', "Service Area", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={
            'readonly': ~_DRAFT,
            'invisible': Eval('delivery_mode') != 'own_fleet',
            'required': Eval('review_state').in_(['finance', 'done'])
            & (Eval('delivery_mode') == 'own_fleet'),
            })
    notes_acknowledged = fields.Boolean(
        "Notes Acknowledged",
        states={
            'readonly': ~_DRAFT,
            'invisible': ~Eval('buyer_message') & ~Eval('seller_memo'),
            },
        help="The reviewer read the buyer message and the seller memo.")
    auto_reviewed = fields.Boolean("Automatically Reviewed", readonly=True)
    customer_reviewed_by = fields.Many2One(
        'res.user', "Customer Reviewed By", readonly=True)
    customer_reviewed_at = fields.DateTime(
        "Customer Reviewed At", readonly=True)
    exception_reason = fields.Text(
        "Exception Reason", readonly=True,
        states={'invisible': ~Eval('exception_reason')})
    exception_by = fields.Many2One(
        'res.user', "Exception By", readonly=True,
        states={'invisible': ~Eval('exception_reason')})
    exception_at = fields.DateTime(
        "Exception At", readonly=True,
        states={'invisible': ~Eval('exception_reason')})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        platform = Bool(Eval('platform_trade'))
        for name in ['quote', 'confirm']:
            button = cls._buttons[name]
            button['invisible'] = button.get('invisible', False) | platform
            button.setdefault('depends', []).append('platform_trade')
        cls._buttons.update({
                'customer_review': {
                    'invisible': ~platform | ~_DRAFT
                    | (Eval('review_state') != 'customer'),
                    'icon': 'tryton-ok',
                    'depends': ['platform_trade', 'state', 'review_state'],
                    },
                'reject_review': {
                    'invisible': ~Eval('review_state').in_(
                        ['customer', 'finance']),
                    'icon': 'tryton-cancel',
                    'depends': ['review_state'],
                    },
                'resume_review': {
                    'invisible': Eval('review_state') != 'exception',
                    'icon': 'tryton-back',
                    'depends': ['review_state'],
                    },
                })

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', If(Eval('review_state') == 'exception',
                    'danger', '')),
            ('//page[@id="review"]', 'states', {
                    'invisible': ~Eval('platform_trade')}),
            ]

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        for name in ['review_state', 'customer_reviewed_by',
                'customer_reviewed_at', 'exception_reason', 'exception_by',
                'exception_at', 'auto_reviewed']:
            default.setdefault(name)
        return super().copy(sales, default=default)

    @classmethod
    def from_platform(cls, shop, values, products, party, address, trade):
        sale = super().from_platform(
            shop, values, products, party, address, trade)
        sale.review_state = 'customer'
        sale.notes_acknowledged = False
        sale.auto_reviewed = False
        if not getattr(sale, 'delivery_mode', None):
            sale.delivery_mode = getattr(shop, 'default_delivery_mode', None)
        # Platform orders are collected: shipped and invoiced as ordered
        sale.invoice_method = 'order'
        sale.shipment_method = 'order'
        return sale

    def _set_platform_values(self, values):
        def notes():
            return (getattr(self, 'buyer_message', None),
                getattr(self, 'seller_memo', None))
        before = notes()
        changed = super()._set_platform_values(values)
        if before != notes():
            # A new memo must be read again
            self.notes_acknowledged = False
        return changed

    # Tryton's own steps are the reviews' for platform orders
    @classmethod
    def quote(cls, sales):
        cls._check_platform_step(sales, CUSTOMER_REVIEW,
            'shop_fulfilment.msg_review_quote_platform')
        super().quote(sales)

    @classmethod
    def confirm(cls, sales):
        cls._check_platform_step(sales, FINANCE_REVIEW,
            'shop_fulfilment.msg_review_confirm_platform')
        super().confirm(sales)

    @classmethod
    def draft(cls, sales):
        cls._check_platform_step(
            [s for s in sales if s.state == 'quotation'], REVIEW_REJECT,
            'shop_fulfilment.msg_review_draft_platform')
        super().draft(sales)

    @classmethod
    def _check_platform_step(cls, sales, key, message):
        if Transaction().context.get(key):
            return
        for sale in sales:
            if sale.platform_trade and sale.review_state:
                raise AccessError(gettext(message, sale=sale.rec_name))

    @property
    def refund_in_progress(self):
        "A refund is in progress on the platform for the order or a line"
        return self.platform_hold or any(
            l.platform_refund_status in taobao.REFUND_IN_PROGRESS
            for l in self.lines)

    def customer_review_problems(self):
        "Yield (message id, values) for what prevents the customer review"
        if not self.delivery_mode:
            yield 'msg_review_delivery_mode', {}
        if not self.carrier:
            yield 'msg_review_carrier', {}
        if not self.warehouse:
            yield 'msg_review_warehouse', {}
        if self.delivery_mode == 'scheduled' and not self.scheduled_date:
            yield 'msg_review_scheduled_date', {}
        if self.delivery_mode == 'own_fleet' and not self.service_area:
            yield 'msg_review_service_area', {}
        address = self.shipment_address
        if (not address or not address.subdivision or not address.city
                or not address.street):
            yield 'msg_review_address', {}
        if not (china.phone_kind(self.receiver_mobile)
                or china.phone_kind(self.receiver_phone)):
            yield 'msg_review_phone', {
                'phone': self.receiver_mobile or self.receiver_phone or ''}
        for line in self.lines:
            if line.type == 'line' and not line.product:
                yield 'msg_review_line_product', {
                    'line': line.description or ''}
        if self.refund_in_progress:
            yield 'msg_review_refund', {}
        if ((self.buyer_message or self.seller_memo)
                and not self.notes_acknowledged):
            yield 'msg_review_notes', {}

    def check_customer_review(self):
        raise_first(self, self.customer_review_problems())

    @classmethod
    @ModelView.button
    def customer_review(cls, sales):
        sales = [s for s in sales
            if s.state == 'draft' and s.review_state == 'customer']
        for sale in sales:
            sale.check_customer_review()
        cls._pass_customer_review(sales, auto=False)

    @classmethod
    def _pass_customer_review(cls, sales, auto):
        if not sales:
            return
        with Transaction().set_context({CUSTOMER_REVIEW: True}):
            cls.quote(sales)
        cls.write(sales, {
                'review_state': 'finance',
                'customer_reviewed_by': (
                    None if auto else Transaction().user),
                'customer_reviewed_at': dt.datetime.now(),
                'auto_reviewed': auto,
                'exception_reason': None,
                'exception_by': None,
                'exception_at': None,
                })
        cls.update_stock_short(sales)

    @classmethod
    def auto_customer_review(cls, sales):
        "Pass the customer review of the sales meeting their shop's rules"
        passed = [s for s in sales if s.can_auto_review()]
        cls._pass_customer_review(passed, auto=True)
        return passed

    def can_auto_review(self):
        shop = self.web_shop
        if (not shop or not shop.auto_review or self.state != 'draft'
                or self.review_state != 'customer'):
            return False
        if shop.auto_review_no_notes and (
                self.buyer_message or self.seller_memo):
            return False
        if (shop.auto_review_max_amount is not None
                and self.total_amount > shop.auto_review_max_amount):
            return False
        if (shop.auto_review_carrier_rule
                and not getattr(self, 'carrier_rule', None)):
            return False
        if self.merged_with or self.merged_sales:
            return False
        return not any(True for _ in self.customer_review_problems()
            if _[0] != 'msg_review_notes')

    @classmethod
    @ModelView.button_action('shop_fulfilment.wizard_review_reject')
    def reject_review(cls, sales):
        pass

    @classmethod
    def send_to_exception(cls, sales, reason):
        "Send the sales back to customer service with the reason"
        quoted = [s for s in sales if s.state == 'quotation']
        with Transaction().set_context({REVIEW_REJECT: True}):
            cls.draft(quoted)
        cls.write(sales, {
                'review_state': 'exception',
                'exception_reason': reason,
                'exception_by': Transaction().user,
                'exception_at': dt.datetime.now(),
                })
        cls.log(sales, 'button', 'reject_review: %s' % reason[:200])

    @classmethod
    @ModelView.button
    def resume_review(cls, sales):
        cls.write([s for s in sales if s.review_state == 'exception'], {
                'review_state': 'customer',
                })


class RejectStart(ModelView):
    "Reject Review"
    __name__ = 'sale.review.reject.start'

    reason = fields.Text("Reason", required=True)


class Reject(Wizard):
    "Reject Review"
    __name__ = 'sale.review.reject'
    start = StateView('sale.review.reject.start',
        'shop_fulfilment.review_reject_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Reject", 'reject', 'tryton-ok', default=True),
            ])
    reject = StateTransition()

    def transition_reject(self):
        # Only the groups of the reject button may reject
        with check_access():
            self.model.reject_review(self.records)
        sales = [s for s in self.records
            if s.review_state in {'customer', 'finance'}]
        reason = self.start.reason.strip()
        if len(reason) < 2:
            raise ReviewError(gettext(
                    'shop_fulfilment.msg_review_reason_short'))
        self.model.send_to_exception(sales, reason)
        return 'end'
