# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The money of an approved return: the credit note of the refunded amount,
posted, and the refund paid through the platform's clearing account,
reconciled with it, so that per order paid - refunded = invoiced - credited"""
from decimal import Decimal

from trytond.model import fields
from trytond.modules.shop_fulfilment.finance import FINANCE_CHUNK
from trytond.modules.shop_fulfilment.review import FINANCE_REVIEW
from trytond.modules.shop_fulfilment.sale import split_amount
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

ZERO = Decimal('0.00')


class Approval(metaclass=PoolMeta):
    __name__ = 'web.shop.return_approval'

    @classmethod
    @without_check_access
    def refund_money(cls, approvals):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        approvals = [a for a in approvals
            if a.refund_amount and not a.credit_note]
        if not approvals:
            return
        cls._lock_credit_note_sequences(approvals)
        for approval in approvals:
            approval.credit_note = approval.get_credit_note()
        credit_notes = [a.credit_note for a in approvals]
        # Creating computes the taxes
        Invoice.save(credit_notes)
        # As the finance review: no report rendered, payments linked here;
        # in small chunks, as the finance review posts its invoices
        with Transaction().set_context({FINANCE_REVIEW: True}):
            for chunk in grouped_slice(credit_notes, FINANCE_CHUNK):
                Invoice.post(Invoice.browse(chunk))
        cls.save(approvals)
        cls.pay_refunds(cls.browse(approvals))

    @classmethod
    def _lock_credit_note_sequences(cls, approvals):
        """Lock first the sequences that number the credit notes: locked
        by the posting, the transaction would start again from the
        beginning"""
        pool = Pool()
        Date = pool.get('ir.date')
        InvoiceSequence = pool.get('account.fiscalyear.invoice_sequence')
        Sequence = pool.get('ir.sequence.strict')
        sequences = set()
        for company in {a.company for a in approvals}:
            with Transaction().set_context(company=company.id):
                today = Date.today()
            sequences.update(s.out_credit_note_sequence
                for s in InvoiceSequence.search([
                        ('company', '=', company.id),
                        ('fiscalyear.start_date', '<=', today),
                        ('fiscalyear.end_date', '>=', today),
                        ])
                if s.out_credit_note_sequence)
        Sequence.lock(list(sequences))

    def get_credit_note(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Date = pool.get('ir.date')
        invoice = self.invoice
        with Transaction().set_context(company=self.company.id):
            today = Date.today()
        credit_note = Invoice(
            company=self.company, type='out', party=invoice.party,
            invoice_address=invoice.invoice_address,
            currency=invoice.currency, account=invoice.account,
            journal=invoice.journal, payment_term=invoice.payment_term,
            invoice_date=today, reference=self.sale.web_id,
            description=self.number)
        credit_note.lines = [l for line in self.lines if line.amount
            for l in self._credit_lines(line, invoice)]
        return credit_note

    def _credit_lines(self, line, invoice):
        pool = Pool()
        InvoiceLine = pool.get('account.invoice.line')
        quantity = line.quantity or 1
        # A whole number of goods splits to the fen; a part of one is one
        quantity = int(quantity) if float(quantity).is_integer() else 1
        accounts = [l.account for l in line.sale_line.invoice_lines
            if l.invoice == invoice]
        account = accounts[0] if accounts \
            else line.product.account_revenue_used
        return [InvoiceLine(
                type='line', company=self.company, currency=invoice.currency,
                product=line.product, description=line.description,
                quantity=-q, unit=line.unit, unit_price=p, account=account,
                taxes=[], origin=line)
            for q, p in split_amount(line.amount, quantity, invoice.currency)]

    @classmethod
    def pay_refunds(cls, approvals):
        """The platform pays the buyer back from what it owes the shop: a
        payment on the shop's journal, settled against the credit note"""
        pool = Pool()
        Payment = pool.get('account.payment')
        Group = pool.get('account.payment.group')
        Move = pool.get('account.move')
        payments = []
        for approval in approvals:
            credit_note = approval.credit_note
            line, = [l for l in credit_note.move.lines
                if l.account == credit_note.account]
            payments.append(Payment(
                    company=approval.company,
                    journal=approval.shop.payment_journal, kind='payable',
                    party=credit_note.party, line=line,
                    amount=-credit_note.total_amount,
                    currency=credit_note.currency, origin=approval,
                    date=credit_note.invoice_date,
                    description=approval.refund.refund_id))
        Payment.save(payments)
        Payment.submit(payments)
        for journal in {p.journal for p in payments}:
            def group():
                group = Group(company=journal.company, journal=journal,
                    kind='payable')
                group.save()
                return group
            Payment.process([p for p in payments if p.journal == journal],
                group)
        payments = Payment.browse(payments)
        Payment.succeed(payments)
        payments = Payment.browse(payments)
        # Posted as the credit notes are: in small chunks
        for chunk in grouped_slice([p.clearing_move for p in payments
                    if p.clearing_move
                    and p.clearing_move.state != 'posted'], FINANCE_CHUNK):
            Move.post(Move.browse(chunk))
        for approval, payment in zip(approvals, payments):
            approval.refund_payment = payment
        cls.save(approvals)


class Payment(metaclass=PoolMeta):
    __name__ = 'account.payment'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['web.shop.return_approval']


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['web.shop.return_approval.line']


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    return_approvals = fields.One2Many(
        'web.shop.return_approval', 'sale', "Return Approvals",
        readonly=True)
    platform_refunded = fields.Function(
        fields.Numeric("Refunded", digits=(16, 2),
            help="Given back to the buyer through the platform."),
        'get_money')
    credited_amount = fields.Function(
        fields.Numeric("Credited", digits=(16, 2),
            help="The total of the posted credit notes of the returns."),
        'get_money')
    invoiced_amount = fields.Function(
        fields.Numeric("Invoiced", digits=(16, 2),
            help="The total of the posted invoices."),
        'get_money')

    @classmethod
    def get_money(cls, sales, names):
        result = {n: {s.id: ZERO for s in sales} for n in names}
        for sale in sales:
            values = sale._money()
            for name in names:
                result[name][sale.id] = values[name]
        return result

    def _money(self):
        invoiced = credited = refunded = ZERO
        for invoice in self.invoices:
            if invoice.state in {'posted', 'paid'}:
                invoiced += invoice.total_amount
        for approval in self.return_approvals:
            note = approval.credit_note
            if note and note.state in {'posted', 'paid'}:
                credited -= note.total_amount
            payment = approval.refund_payment
            if payment and payment.state == 'succeeded':
                refunded += payment.amount
        return {
            'platform_refunded': refunded,
            'credited_amount': credited,
            'invoiced_amount': invoiced,
            }

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('return_approvals')
        return super().copy(sales, default=default)
