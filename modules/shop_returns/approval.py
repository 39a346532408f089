# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The return approval (退货审批单): generated when the seller agrees, it
lists what comes back and what is refunded; finance approves the money"""
import datetime as dt
from decimal import Decimal

from sql import Null

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.modules.shop_fulfilment import taobao
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .exceptions import RefundError, RefundMappingError
from .refund import DISPUTE_TYPES

ZERO = Decimal('0.00')
STATES = [
    ('awaiting_goods', "Awaiting Goods"),
    ('awaiting_finance', "Awaiting Finance"),
    ('approved', "Approved"),
    ('cancelled', "Cancelled"),
    ]
# A replacement is sent instead of, or besides, money
REPLACED = {'TMALL_EXCHANGE', 'TAOBAO_EXCHANGE', 'RESHIPPING'}


class Approval(Workflow, ModelSQL, ModelView):
    "Return Approval"
    __name__ = 'web.shop.return_approval'
    _rec_name = 'number'

    number = fields.Char("Number", readonly=True)
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    shop = fields.Many2One(
        'web.shop', "Shop", required=True, readonly=True,
        ondelete='RESTRICT')
    refund = fields.Many2One(
        'web.shop.taobao.refund', "Platform Refund", required=True,
        readonly=True, ondelete='RESTRICT')
    kind = fields.Selection(DISPUTE_TYPES, "Kind", readonly=True)
    kind_string = kind.translated('kind')
    sale = fields.Many2One(
        'sale.sale', "Sale", required=True, readonly=True,
        ondelete='RESTRICT')
    shipment = fields.Many2One(
        'stock.shipment.out', "Shipment", readonly=True,
        help="The shipment that carried the goods to the buyer.")
    invoice = fields.Many2One(
        'account.invoice', "Invoice", readonly=True,
        help="The sale's invoice the credit note corrects.")
    lines = fields.One2Many(
        'web.shop.return_approval.line', 'approval', "Lines",
        states={'readonly': Eval('state') != 'awaiting_finance'})
    refund_amount = fields.Function(
        fields.Numeric("Refund Amount", digits=(16, 2)),
        'get_refund_amount')
    return_expected = fields.Boolean(
        "Goods Back", readonly=True,
        help="The buyer sends goods back to the warehouse.")
    return_shipment = fields.Many2One(
        'stock.shipment.out.return', "Return Shipment", readonly=True)
    replacement_shipment = fields.Many2One(
        'stock.shipment.out', "Replacement Shipment", readonly=True,
        help="The goods sent at no charge: the exchange or the reshipping.")
    credit_note = fields.Many2One(
        'account.invoice', "Credit Note", readonly=True)
    refund_payment = fields.Many2One(
        'account.payment', "Refund Payment", readonly=True,
        help="The money given back through the platform.")
    quantity_flagged = fields.Boolean(
        "Quantity Differs", readonly=True,
        help="The goods received differ from the goods approved.")
    agreed_by = fields.Many2One('res.user', "Agreed By", readonly=True)
    agreed_at = fields.DateTime("Agreed At", readonly=True)
    approved_by = fields.Many2One('res.user', "Approved By", readonly=True)
    approved_at = fields.DateTime("Approved At", readonly=True)
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('refund_unique', Unique(t, t.refund),
                'shop_returns.msg_approval_refund_unique'),
            # Each order is credited and paid back on its own
            ('credit_note_unique', Unique(t, t.credit_note),
                'shop_returns.msg_approval_credit_note_unique'),
            ('refund_payment_unique', Unique(t, t.refund_payment),
                'shop_returns.msg_approval_refund_payment_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.state, Index.Equality())))
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('awaiting_goods', 'awaiting_finance'),
            ('awaiting_finance', 'approved'),
            ('awaiting_goods', 'cancelled'),
            ('awaiting_finance', 'cancelled'),
            }
        cls._buttons.update({
                'approve': {
                    'invisible': Eval('state') != 'awaiting_finance',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'awaiting_goods'

    def get_refund_amount(self, name):
        return sum((l.amount or ZERO for l in self.lines), ZERO)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('number', operator, value),
            ('refund.refund_id', operator, value),
            ('sale.web_id', operator, value),
            ]

    # Generation

    @classmethod
    @without_check_access
    def create_for_refunds(cls, refunds):
        "Generate the approvals of the agreed refunds that have none"
        pool = Pool()
        Refund = pool.get('web.shop.taobao.refund')
        existing = set()
        for sub in grouped_slice(refunds):
            existing.update(a.refund for a in cls.search([
                        ('refund', 'in', [r.id for r in sub]),
                        ]))
        refunded = cls._refunded([l for r in refunds if r.sale
                for l in r.sale.lines])
        approvals, failed = [], []
        for refund in refunds:
            if refund in existing or not refund.sale:
                continue
            existing.add(refund)
            try:
                approval = cls.from_refund(refund, refunded)
                approvals.append(approval)
                refunded.update(cls._refunded_by(approval.lines, refunded))
            except RefundMappingError as error:
                refund.state = 'exception'
                refund.set_reason(error.message_id, **error.values)
                failed.append(refund)
        Refund.save(failed)
        if not approvals:
            return []
        cls._number(approvals)
        cls.save(approvals)
        # Saved records are read one by one: browsed again, what follows
        # reads them all at once
        approvals = cls.browse(approvals)
        cls.after_creation(approvals)
        return approvals

    @classmethod
    def _number(cls, approvals):
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        sequence = Sequence(ModelData.get_id(
                'shop_returns', 'sequence_return_approval'))
        for approval in approvals:
            approval.number = sequence.get()

    @classmethod
    def _refunded(cls, sale_lines):
        """The (amount, quantity) of each sale line in the approvals not
        cancelled"""
        pool = Pool()
        Line = pool.get('web.shop.return_approval.line')
        lines = []
        for sub in grouped_slice(list({l.id for l in sale_lines})):
            lines += Line.search([
                    ('sale_line', 'in', list(sub)),
                    ('approval.state', '!=', 'cancelled'),
                    ])
        return cls._refunded_by(lines, {})

    @staticmethod
    def _refunded_by(lines, refunded):
        "Add the approval lines to the refunded (amount, quantity)"
        result = {}
        for line in lines:
            amount, quantity = result.get(
                line.sale_line, refunded.get(line.sale_line, (ZERO, 0)))
            result[line.sale_line] = (
                amount + line.amount, quantity + (line.quantity or 0))
        return result

    @classmethod
    def from_refund(cls, refund, refunded=None):
        sale = refund.sale
        shipped = cls._shipped(refund)
        approval = cls(
            company=sale.company, shop=refund.shop, refund=refund,
            kind=refund.dispute_type, sale=sale,
            shipment=shipped[0] if shipped else None,
            invoice=cls._sale_invoice(sale),
            return_expected=bool(shipped) and refund.goods_back,
            agreed_by=Transaction().user, agreed_at=dt.datetime.now())
        if refunded is None:
            refunded = cls._refunded(sale.lines)
        approval.lines = approval.lines_from_refund(refund, refunded)
        approval.state = ('awaiting_goods' if approval.return_expected
            else 'awaiting_finance')
        return approval

    @staticmethod
    def _shipped(refund):
        "The shipments that carried the refunded goods"
        return sorted({m.shipment for l in refund.sale.lines
                if l.platform_oid == refund.oid
                for m in l.moves
                if m.state == 'done' and m.shipment
                and m.shipment.__name__ == 'stock.shipment.out'},
            key=lambda s: s.id)

    @staticmethod
    def _sale_invoice(sale):
        invoices = [i for i in sale.invoices
            if i.state in {'posted', 'paid'} and i.total_amount > 0]
        return invoices[0] if invoices else None

    def lines_from_refund(self, refund, refunded):
        """The goods of the refunded order and the postage part, to the fen,
        out of what other approvals have not refunded yet"""
        pool = Pool()
        Line = pool.get('web.shop.return_approval.line')
        goods = [l for l in refund.sale.lines if l.platform_oid == refund.oid]
        postage = [l for l in refund.sale.lines
            if l.type == 'line' and getattr(l, 'shipment_cost', None)][:1]
        left = {l: (l.amount - refunded.get(l, (ZERO, 0))[0],
                l.quantity - refunded.get(l, (ZERO, 0))[1])
            for l in goods + postage}
        goods_refund = min(refund.refund_fee, sum(left[l][0] for l in goods))
        extra = refund.refund_fee - goods_refund
        if extra > sum(left[l][0] for l in postage):
            self.raise_too_much(refund, goods + postage, refunded)
        quantities = self._quantities(
            [left[l][1] for l in goods], refund.quantity)
        # The goods refunded, not all those bought, share the money
        weights = [left[l][0] * Decimal(str(q / left[l][1])) if left[l][1]
            else ZERO for l, q in zip(goods, quantities)]
        if not any(weights):
            weights = [left[l][0] for l in goods]
        amounts = taobao._split(goods_refund, weights)
        lines = [Line(sale_line=l, product=l.product, quantity=q,
                unit=l.unit, amount=a, description=l.description)
            for l, q, a in zip(goods, quantities, amounts) if q or a]
        if extra:
            line = postage[0]
            lines.append(Line(sale_line=line, product=line.product,
                    quantity=0, unit=line.unit, amount=extra,
                    description=line.description))
        return lines

    @staticmethod
    def raise_too_much(refund, sale_lines, refunded):
        paid = sum(l.amount for l in sale_lines)
        already = sum(refunded.get(l, (ZERO, 0))[0] for l in sale_lines)
        if already:
            raise RefundMappingError(
                'shop_returns.msg_refund_already_refunded',
                refund_id=refund.refund_id, amount=refund.refund_fee,
                paid=paid, refunded=already)
        raise RefundMappingError('shop_returns.msg_refund_too_much',
            refund_id=refund.refund_id, amount=refund.refund_fee, paid=paid)

    @staticmethod
    def _quantities(available, quantity):
        "The refunded quantity spread over the order's lines"
        left = quantity or sum(available)
        result = []
        for line_available in available:
            taken = max(min(line_available, left), 0)
            result.append(taken)
            left -= taken
        return result

    @classmethod
    def after_creation(cls, approvals):
        pool = Pool()
        Return = pool.get('stock.shipment.out.return')
        ShipmentOut = pool.get('stock.shipment.out')
        Return.create_for_approvals(
            [a for a in approvals if a.return_expected])
        ShipmentOut.cancel_refunded(
            [a for a in approvals if not a.shipment])
        ShipmentOut.create_replacements(
            [a for a in approvals if a.kind == 'RESHIPPING'])
        cls.settle_without_money(
            [a for a in approvals if a.state == 'awaiting_finance'])

    @classmethod
    @without_check_access
    def follow_refunds(cls, refunds):
        "Follow the platform: return waybills and closed refunds"
        pool = Pool()
        Return = pool.get('stock.shipment.out.return')
        approvals = []
        for sub in grouped_slice(refunds):
            approvals += cls.search([('refund', 'in', [r.id for r in sub])])
        Return.set_waybills([a for a in approvals
                if a.return_shipment and a.refund.return_waybill])
        cls.cancel([a for a in approvals if a.refund.status == 'CLOSED'
                and a.state in {'awaiting_goods', 'awaiting_finance'}])

    @classmethod
    @Workflow.transition('cancelled')
    def cancel(cls, approvals):
        pool = Pool()
        Return = pool.get('stock.shipment.out.return')
        Return.cancel([a.return_shipment for a in approvals
                if a.return_shipment and a.return_shipment.state == 'draft'
                and all(m.origin.approval in approvals
                    for m in a.return_shipment.moves if m.origin)])

    @classmethod
    @without_check_access
    def goods_received(cls, approvals):
        "The return shipment was received and inspected"
        pool = Pool()
        ShipmentOut = pool.get('stock.shipment.out')
        approvals = [a for a in approvals if a.state == 'awaiting_goods']
        ShipmentOut.create_replacements(
            [a for a in approvals if a.kind in REPLACED])
        cls.awaiting_finance(approvals)
        cls.settle_without_money(approvals)

    @classmethod
    @Workflow.transition('awaiting_finance')
    def awaiting_finance(cls, approvals):
        pass

    @classmethod
    def settle_without_money(cls, approvals):
        "Nothing to refund (an exchange, a reshipping): nothing to approve"
        cls._approved([a for a in approvals if not a.refund_amount])

    # Finance

    @classmethod
    @ModelView.button
    def approve(cls, approvals):
        "Finance approves the money: credit note, refund and platform"
        pool = Pool()
        Decision = pool.get('web.shop.taobao.refund.decision')
        # Two clicks at once must not credit a refund twice
        cls.lock(approvals)
        for approval in approvals:
            approval.check_unclaimed()
        approvals = [a for a in approvals if a.state == 'awaiting_finance']
        for approval in approvals:
            approval.check_approvable()
        cls.refund_money(approvals)
        Decision.queue(Decision.create_for(
                [a.refund for a in approvals
                    if a.refund.status != 'SUCCESS' and a.refund_amount],
                'agree_refund'))
        cls._approved(approvals)

    def check_unclaimed(self):
        "A refund is credited and paid back once"
        if self.credit_note or self.refund_payment:
            raise RefundError(gettext('shop_returns.msg_approval_claimed',
                    approval=self.rec_name, refund=self.refund.rec_name,
                    document=(self.credit_note or self.refund_payment
                        ).rec_name))

    def check_approvable(self):
        if not self.invoice:
            raise RefundError(gettext('shop_returns.msg_approval_no_invoice',
                    approval=self.rec_name, sale=self.sale.rec_name))
        if not self.shop.payment_journal:
            raise RefundError(gettext(
                    'shop_returns.msg_approval_payment_journal',
                    shop=self.shop.rec_name))

    @classmethod
    @Workflow.transition('approved')
    def _approved(cls, approvals):
        cls.write(approvals, {
                'approved_by': Transaction().user,
                'approved_at': dt.datetime.now(),
                })


class ApprovalLine(ModelSQL, ModelView):
    "Return Approval Line"
    __name__ = 'web.shop.return_approval.line'

    approval = fields.Many2One(
        'web.shop.return_approval', "Approval", required=True,
        ondelete='CASCADE')
    sale_line = fields.Many2One(
        'sale.line', "Sale Line", readonly=True, ondelete='RESTRICT')
    product = fields.Many2One('product.product', "Product", readonly=True)
    description = fields.Char("Description", readonly=True)
    quantity = fields.Float(
        "Quantity", digits='unit', readonly=True,
        help="The quantity refunded (and sent back when goods come back).")
    unit = fields.Many2One('product.uom', "Unit", readonly=True)
    amount = fields.Numeric(
        "Refund Amount", digits=(16, 2), required=True,
        domain=[('amount', '>=', 0)])
    received_quantity = fields.Float(
        "Received", digits='unit', readonly=True,
        help="Received in good condition.")
    damaged_quantity = fields.Float(
        "Damaged", digits='unit', readonly=True,
        help="Received damaged: kept apart from the stock.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # What other approvals refunded of a sale line
        cls._sql_indexes.add(
            Index(t, (t.sale_line, Index.Range()),
                where=t.sale_line != Null))

    @classmethod
    def default_amount(cls):
        return ZERO

    def get_rec_name(self, name):
        return '%s @ %s' % (
            self.product.rec_name if self.product else '',
            self.approval.rec_name)

    @property
    def goods(self):
        return bool(self.quantity) and self.product.type == 'goods'

    @property
    def postage(self):
        "The part of the postage the buyer paid that is refunded"
        return bool(self.sale_line
            and getattr(self.sale_line, 'shipment_cost', None))
