# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Merged orders (合单) share one shipment, each keeping its own trade;
split orders (拆单) ship part now and the rest later"""
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import ReviewError

MERGEABLE = {'customer', 'exception'}


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    merged_with = fields.Many2One(
        'sale.sale', "Merged With", readonly=True, ondelete='SET NULL',
        states={'invisible': ~Eval('merged_with')},
        help="The order whose shipment carries this one.")
    merged_sales = fields.One2Many(
        'sale.sale', 'merged_with', "Merged Orders", readonly=True,
        states={'invisible': ~Eval('merged_sales')})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'unmerge': {
                    'invisible': ((Eval('state') != 'draft')
                        | (~Eval('merged_with') & ~Eval('merged_sales'))),
                    'icon': 'tryton-clear',
                    'depends': ['state', 'merged_with', 'merged_sales'],
                    },
                })

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('merged_with')
        default.setdefault('merged_sales')
        return super().copy(sales, default=default)

    @property
    def merge_key(self):
        "Orders merge when these are equal"
        return (self.web_shop, self.party, self.shipment_address,
            self.company, self.currency)

    @classmethod
    def merge(cls, sales):
        "Merge the sales into the shipment of the earliest paid"
        for sale in sales:
            if (not sale.platform_trade or sale.state != 'draft'
                    or sale.review_state not in MERGEABLE
                    or sale.merge_key != sales[0].merge_key):
                raise ReviewError(gettext(
                        'shop_fulfilment.msg_merge_not_mergeable',
                        sale=sale.rec_name))
        groups = set(sales)
        for sale in sales:
            groups.update(sale.merge_group)
        if len(groups) < 2:
            raise ReviewError(gettext('shop_fulfilment.msg_merge_two'))
        main = min(groups, key=lambda s: (s.platform_paid, s.id))
        cls.write([main], {'merged_with': None})
        cls.write([s for s in groups if s != main], {'merged_with': main.id})
        return main

    @property
    def merge_group(self):
        "The sales sharing the shipment, self included"
        main = self.merged_with or self
        return [main] + list(main.merged_sales)

    @classmethod
    @ModelView.button
    def unmerge(cls, sales):
        members = set()
        for sale in sales:
            if sale.state == 'draft':
                members.add(sale)
                members.update(sale.merged_sales)
        cls.write([s for s in members if s.merged_with], {
                'merged_with': None})

    @classmethod
    def after_finance_review(cls, sales):
        super().after_finance_review(sales)
        cls.merge_shipments(sales)

    @classmethod
    def merge_shipments(cls, sales):
        """Gather in one shipment the not yet picked shipments of each
        group of merged sales"""
        pool = Pool()
        Shipment = pool.get('stock.shipment.out')
        done = set()
        for sale in sales:
            if not (sale.merged_with or sale.merged_sales) or sale in done:
                continue
            group = sale.merge_group
            done.update(group)
            shipments = sorted({s for g in group for s in g.shipments
                    if s.state in {'draft', 'waiting'}}, key=lambda s: s.id)
            if len(shipments) > 1:
                Shipment.merge_into(shipments[0], shipments[1:])


class ShipmentOut(metaclass=PoolMeta):
    __name__ = 'stock.shipment.out'

    @classmethod
    def merge_into(cls, shipment, others):
        "Move the outgoing moves of the others into the shipment"
        pool = Pool()
        Move = pool.get('stock.move')
        cls.draft([shipment] + others)
        Move.write([m for o in others for m in o.outgoing_moves], {
                'shipment': str(shipment),
                })
        cls.delete(others)
        cls.wait([shipment])

    @classmethod
    def split_off(cls, shipment, later):
        """Put the (outgoing move, quantity) in a new shipment and return it:
        a whole move goes, a part of one goes as a copy"""
        pool = Pool()
        Move = pool.get('stock.move')
        cls.draft([shipment])
        new, = cls.copy([shipment], default={'moves': None})
        for move, quantity in later:
            if quantity >= move.quantity:
                Move.write([move], {'shipment': str(new)})
            else:
                Move.write([move], {'quantity': move.quantity - quantity})
                Move.copy([move], default={
                        'quantity': quantity, 'shipment': str(new)})
        cls.wait([shipment, new])
        return new


class SplitStart(ModelView):
    "Split Shipment"
    __name__ = 'sale.split_shipment.start'

    lines = fields.One2Many(
        'sale.split_shipment.line', None, "Goods",
        help="Enter the quantities that ship later.")


class SplitLine(ModelView):
    "Split Shipment Line"
    __name__ = 'sale.split_shipment.line'

    move = fields.Many2One('stock.move', "Move", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    unit = fields.Many2One('product.uom', "Unit", readonly=True)
    quantity = fields.Float("Quantity", digits='unit', readonly=True)
    later = fields.Float(
        "Ship Later", digits='unit', required=True,
        domain=[
            ('later', '>=', 0),
            ('later', '<=', Eval('quantity', 0)),
            ])


class Split(Wizard):
    "Split Shipment"
    __name__ = 'sale.split_shipment'
    start = StateView('sale.split_shipment.start',
        'shop_fulfilment.split_shipment_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Split", 'split', 'tryton-ok', default=True),
            ])
    split = StateTransition()

    def _waiting_moves(self):
        return [m for s in self.record.shipments if s.state == 'waiting'
            for m in s.outgoing_moves if m.state != 'cancelled']

    def default_start(self, fields):
        moves = self._waiting_moves()
        if not moves:
            raise ReviewError(gettext(
                    'shop_fulfilment.msg_split_no_waiting',
                    sale=self.record.rec_name))
        return {'lines': [{
                        'move': m.id, 'product': m.product.id,
                        'unit': m.unit.id, 'quantity': m.quantity,
                        'later': 0,
                        } for m in moves]}

    def transition_split(self):
        pool = Pool()
        Shipment = pool.get('stock.shipment.out')
        available = set(self._waiting_moves())
        later = [(l.move, l.later) for l in self.start.lines if l.later]
        if any(m not in available or not 0 < q <= m.quantity
                for m, q in later):
            raise ReviewError(gettext(
                    'shop_fulfilment.msg_split_no_waiting',
                    sale=self.record.rec_name))
        for shipment in {m.shipment for m, _ in later}:
            moves = [(m, q) for m, q in later if m.shipment == shipment]
            if all(any(m == move and q >= m.quantity for m, q in moves)
                    for move in shipment.outgoing_moves
                    if move.state != 'cancelled'):
                raise ReviewError(gettext(
                        'shop_fulfilment.msg_split_all',
                        shipment=shipment.rec_name))
            Shipment.split_off(shipment, moves)
        return 'end'


class Merge(Wizard):
    "Merge Orders"
    __name__ = 'sale.merge'
    start = StateTransition()

    def transition_start(self):
        self.model.merge(list(self.records))
        return 'end'
