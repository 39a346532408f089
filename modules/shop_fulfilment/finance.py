# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The finance review (财审): the money the platform collected settles the
order, which becomes the retail sale (零售单) already paid"""
import datetime as dt
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import ReviewError
from .review import FINANCE_REVIEW, REFUND_IN_PROGRESS


class Shop(metaclass=PoolMeta):
    __name__ = 'web.shop'

    payment_journal = fields.Many2One(
        'account.payment.journal', "Platform Payment Journal",
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        help="Records the buyers' payments collected by the platform; "
        "its clearing account holds what the platform owes the shop.")


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    finance_reviewed_by = fields.Many2One(
        'res.user', "Finance Reviewed By", readonly=True)
    finance_reviewed_at = fields.DateTime(
        "Finance Reviewed At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'finance_review': {
                    'invisible': ((Eval('state') != 'quotation')
                        | (Eval('review_state') != 'finance')),
                    'icon': 'tryton-ok',
                    'depends': ['state', 'review_state'],
                    },
                })

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('finance_reviewed_by')
        default.setdefault('finance_reviewed_at')
        return super().copy(sales, default=default)

    def finance_review_problems(self):
        "Yield (message id, values) for what prevents the finance review"
        shop = self.web_shop
        if self.platform_hold or any(
                l.platform_refund_status in REFUND_IN_PROGRESS
                for l in self.lines):
            yield 'msg_review_refund', {}
        if not shop.payment_journal:
            yield 'msg_finance_payment_journal', {'shop': shop.rec_name}
        paid = self.platform_payment
        if paid is None or self.currency.round(paid) != self.total_amount:
            yield 'msg_finance_amount', {
                'paid': self.currency.round(paid or 0),
                'total': self.total_amount,
                }
        if (shop.distinct_reviewers and self.customer_reviewed_by
                and self.customer_reviewed_by.id == Transaction().user):
            yield 'msg_finance_same_reviewer', {}

    def check_finance_review(self):
        for message, values in self.finance_review_problems():
            raise ReviewError(gettext('shop_fulfilment.' + message,
                    sale=self.rec_name, **values))

    @classmethod
    @ModelView.button
    def finance_review(cls, sales):
        sales = [s for s in sales
            if s.state == 'quotation' and s.review_state == 'finance']
        for sale in sales:
            sale.check_finance_review()
        if not sales:
            return
        cls.write(sales, {
                'review_state': 'done',
                'finance_reviewed_by': Transaction().user,
                'finance_reviewed_at': dt.datetime.now(),
                })
        # The reviewer's approval carries out the accounting and the
        # shipping that follow from it, whatever their own access
        with Transaction().set_context(
                {FINANCE_REVIEW: True}, _check_access=False):
            sales = cls.browse(sales)
            cls.collect_platform_payments(sales)
            cls.process(sales)
            cls.post_platform_invoices(sales)
            cls.after_finance_review(sales)

    @classmethod
    def collect_platform_payments(cls, sales):
        """Record what each buyer paid the platform as a succeeded payment
        on the shop's journal: it confirms the sale (sale_payment) and its
        clearing move moves the receivable onto the platform's account"""
        pool = Pool()
        Payment = pool.get('account.payment')
        Group = pool.get('account.payment.group')
        Move = pool.get('account.move')
        by_journal = defaultdict(list)
        for sale in sales:
            journal = sale.web_shop.payment_journal
            by_journal[journal].append(Payment(
                    company=sale.company, journal=journal,
                    kind='receivable', party=sale.invoice_party or sale.party,
                    amount=sale.currency.round(sale.platform_payment),
                    currency=sale.currency, origin=sale,
                    date=sale.sale_date, description=sale.web_id))
        payments = []
        for journal, journal_payments in by_journal.items():
            Payment.save(journal_payments)
            Payment.submit(journal_payments)

            def group():
                group = Group(company=journal.company, journal=journal,
                    kind='receivable')
                group.save()
                return group
            Payment.process(journal_payments, group)
            payments.extend(journal_payments)
        Payment.succeed(payments)
        Move.post([p.clearing_move for p in payments if p.clearing_move
                and p.clearing_move.state != 'posted'])

    @classmethod
    def post_platform_invoices(cls, sales):
        "Post the invoices, which the platform payments settle"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoices = [i for s in sales for i in s.invoices
            if i.state in {'draft', 'validated'}]
        Invoice.post(invoices)

    @classmethod
    def after_finance_review(cls, sales):
        "Hook for what follows the approval"
        pass
