# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The finance review (财审): the money the platform collected settles the
order, which becomes the retail sale (零售单) already paid"""
import datetime as dt
from collections import defaultdict

from trytond.model import ModelView, dualmethod, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .queue import running_task
from .review import FINANCE_REVIEW, raise_first
from .sequence import numbering, posting_turn
from .validation import BookkeepingValidationMixin

# The processing already done by the finance review, not to repeat
SKIP_PROCESS = '_shop_skip_process'
FINANCE_CHUNK = 25
# When another transaction is posting invoices, the posting of the finance
# review comes back after this
POSTING_AGAIN = dt.timedelta(seconds=1)


class Queue(metaclass=PoolMeta):
    __name__ = 'ir.queue'

    @classmethod
    def push(cls, name, data, scheduled_at=None, expected_at=None):
        # sale and sale_payment queue the processing of the sales whose
        # invoices, payments and shipments the finance review makes; it
        # processes them itself and queues that processing with SKIP_PROCESS
        # in the context, where Sale.process does nothing: hundreds of tasks
        # that a worker would take, one at a time, to do nothing
        if (data.get('model') == 'sale.sale'
                and data.get('method') == 'process'
                and (data.get('context') or {}).get(SKIP_PROCESS)):
            return None
        return super().push(
            name, data, scheduled_at=scheduled_at, expected_at=expected_at)


class Shop(metaclass=PoolMeta):
    __name__ = 'web.shop'

    payment_journal = fields.Many2One(
        'account.payment.journal', "Platform Payment Journal",
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        help="Records the buyers' payments collected by the platform; "
        "its clearing account holds what the platform owes the shop.")


class Sale(BookkeepingValidationMixin, metaclass=PoolMeta):
    __name__ = 'sale.sale'
    # Written by the processing, several times per order: each write
    # validated again every sale's carrier against the carriers available
    # (computed) and its payments against the total (computed), which they
    # do not change (the amounts' caches hold the total computed).  Not the
    # review state: the agreed delivery date is required by it.
    _bookkeeping_fields = frozenset({
            'invoice_state', 'shipment_state',
            'untaxed_amount_cache', 'tax_amount_cache', 'total_amount_cache',
            })

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
        if self.refund_in_progress:
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
        raise_first(self, self.finance_review_problems())

    @classmethod
    @ModelView.button
    def finance_review(cls, sales):
        sales = [s for s in sales
            if s.state == 'quotation' and s.review_state == 'finance']
        for sale in sales:
            sale.check_finance_review()
        if not sales:
            return
        # Processing locks them: lock first, before any work is done
        cls.lock(sales)
        cls.write(sales, {
                'review_state': 'done',
                'finance_reviewed_by': Transaction().user,
                'finance_reviewed_at': dt.datetime.now(),
                })
        # The reviewer's approval carries out the accounting and the
        # shipping that follow from it, whatever their own access
        with Transaction().set_context(
                {FINANCE_REVIEW: True}, _check_access=False):
            # In small chunks: each write of a chunk empties the records'
            # caches, which a long list reads again (chunks of 100 were no
            # faster for the refunds' credit notes, numbers taken in bulk)
            for chunk in grouped_slice(sales, FINANCE_CHUNK):
                chunk = cls.browse(chunk)
                cls.collect_platform_payments(chunk)
                cls.process(cls.browse(chunk))
                cls.after_finance_review(cls.browse(chunk))
        # The invoices take their numbers from a gapless sequence, locked
        # from the first number to the commit: they are posted in a short
        # transaction of their own, right after this one, so that finance
        # reviews run side by side instead of one after the other
        cls.__queue__.post_finance_invoices(sales)

    @classmethod
    def post_finance_invoices(cls, sales):
        """Post the invoices of the finance-reviewed sales and settle them
        with the payments the platform collected (queued by the finance
        review; what is posted already is left as it is)"""
        pool = Pool()
        Payment = pool.get('account.payment')
        # Taken whoever posts (a worker's task then comes back later)
        if not posting_turn() and running_task():
            # The invoices' strict sequence is taken: rather than fail on
            # its lock (and be queued again later and later), come back
            with Transaction().set_context(queue_scheduled_at=POSTING_AGAIN):
                cls.__queue__.post_finance_invoices(sales)
            return
        sales = [s for s in sales if s.review_state == 'done']
        # Their states are updated once paid: lock them before any work
        # (trytond restarts the transaction to take a lock)
        cls.lock(sales)
        with Transaction().set_context(
                {FINANCE_REVIEW: True}, _check_access=False):
            for chunk in grouped_slice(sales, FINANCE_CHUNK):
                chunk = cls.browse(chunk)
                payments = Payment.search([
                        ('origin', 'in', [str(s) for s in chunk]),
                        ('state', '=', 'succeeded'),
                        ('line', '=', None),
                        ], order=[('id', 'ASC')])
                cls.post_platform_invoices(chunk, payments)

    @classmethod
    def confirm(cls, sales):
        if Transaction().context.get(FINANCE_REVIEW):
            # The finance review processes the sales itself, right away:
            # the processing the confirmation queues would do it again
            with Transaction().set_context({SKIP_PROCESS: True}):
                super().confirm(sales)
        else:
            super().confirm(sales)

    @classmethod
    def process(cls, sales):
        if Transaction().context.get(SKIP_PROCESS):
            return
        super().process(sales)

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
            # One list: what one payment reads, all read at once
            journal_payments = Payment.browse(journal_payments)
            Payment.submit(journal_payments)

            def group():
                group = Group(company=journal.company, journal=journal,
                    kind='receivable')
                group.save()
                return group
            Payment.process(journal_payments, group)
            payments.extend(journal_payments)
        payments = Payment.browse(payments)
        Payment.succeed(payments)
        Move.post(Move.browse([p.clearing_move for p in payments
                    if p.clearing_move and p.clearing_move.state != 'posted']))
        return Payment.browse(payments)

    @classmethod
    def post_platform_invoices(cls, sales, payments):
        """Post the invoices and settle each with the payment the platform
        collected: its clearing line and the invoice's receivable line are
        reconciled, all in one go"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Payment = pool.get('account.payment')
        Line = pool.get('account.move.line')
        invoices = {s: [i.id for i in s.invoices
                if i.state in {'draft', 'validated'}]
            for s in cls.browse(sales)}
        with Transaction().set_context({SKIP_PROCESS: True}):
            Invoice.post(Invoice.browse(sum(invoices.values(), [])))
        # Read again, once, what the posting wrote
        posted = {i.id: i for i in Invoice.browse(
                sum(invoices.values(), []))}
        to_reconcile, linked, paid = [], [], []
        for payment in payments:
            sale_invoices = [
                posted[i] for i in invoices.get(payment.origin, [])]
            if len(sale_invoices) != 1 or not payment.clearing_move:
                continue
            invoice, = sale_invoices
            lines = [l for l in invoice.move.lines
                if l.account == invoice.account]
            clearing = [l for l in payment.clearing_move.lines
                if l.account == invoice.account]
            if len(lines) == 1 and len(clearing) == 1:
                payment.line, = lines
                linked.append(payment)
                if sum(l.debit - l.credit for l in lines + clearing) == 0:
                    to_reconcile.append(lines + clearing)
                    paid.append(invoice)
        Payment.save(linked)
        # The invoices are paid now rather than by the task reconciling
        # queues (which finds them paid), and the sales' states updated
        # without the whole processing that paying them queues
        with Transaction().set_context({SKIP_PROCESS: True}):
            Line.reconcile(*to_reconcile)
            Invoice.process(Invoice.browse(paid))
        cls._process_paid(sales)

    @classmethod
    def _process_paid(cls, sales):
        """Update the states of the sales whose invoices are paid: sale
        queues their whole processing for it, which looks again, line by
        line, for invoices and shipments to create; paying creates none"""
        sales = [s for s in cls.browse(sales)
            if s.state in {'confirmed', 'processing', 'done'}]
        cls.lock(sales)
        cls._process_invoice_shipment_states(sales)
        cls._process_state(sales)

    @classmethod
    def after_finance_review(cls, sales):
        "Hook for what follows the approval"
        pass


class Invoice(BookkeepingValidationMixin, metaclass=PoolMeta):
    __name__ = 'account.invoice'
    # Written on posting: each write validated again every invoice's
    # payment lines against the total (computed) they hold
    _bookkeeping_fields = frozenset({
            'untaxed_amount_cache', 'tax_amount_cache', 'total_amount_cache',
            })

    def add_payments(self, payments=None):
        if Transaction().context.get(FINANCE_REVIEW):
            # The finance review links them, in one go
            return []
        return super().add_payments(payments)

    def reconcile_payments(self):
        if Transaction().context.get(FINANCE_REVIEW):
            return
        super().reconcile_payments()

    @classmethod
    def set_number(cls, invoices):
        # The numbers of the whole list taken in bulk (see sequence.py)
        with numbering():
            super().set_number(invoices)

    @dualmethod
    def print_invoice(cls, invoices):
        # Retail buyers get their invoice (发票) from the platform's service:
        # the finance review does not render thousands of reports that
        # nobody reads; they are rendered when printed.  The queued call
        # keeps the context of the review that posted them.
        if Transaction().context.get(FINANCE_REVIEW):
            return
        super().print_invoice(invoices)
