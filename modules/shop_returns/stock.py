# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Goods back (零售退货入库): the customer return shipment of an approval,
found by the return waybill, received with inspection; and the shipments
held, cancelled or sent again because of a refund"""
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import RefundError

# Not shipped yet: a refund may still stop it
UNSHIPPED = {'draft', 'waiting', 'assigned', 'picked', 'packed'}


def _today(company):
    pool = Pool()
    Date = pool.get('ir.date')
    with Transaction().set_context(company=company.id):
        return Date.today()


def _split_move(move, quantity):
    """Return a draft move of the quantity split off the move, which keeps
    the rest in its state; the move itself for all of it"""
    pool = Pool()
    Move = pool.get('stock.move')
    if quantity >= move.quantity:
        return move
    assigned = move.state == 'assigned'
    # An assigned quantity cannot change
    Move.draft([move])
    Move.write([move], {'quantity': move.unit.round(move.quantity - quantity)})
    part, = Move.copy([move], default={'quantity': quantity})
    if assigned:
        Move.assign([move])
    return part


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['web.shop.return_approval.line']


class ShipmentOutReturn(metaclass=PoolMeta):
    __name__ = 'stock.shipment.out.return'

    return_waybill = fields.Char(
        "Return Waybill", states={'readonly': Eval('state') != 'draft'},
        help="The waybill number of the parcel sent back by the buyer, "
        "as the doorstep pickup's carrier reports it.")
    return_carrier_name = fields.Char(
        "Return Carrier", states={'readonly': Eval('state') != 'draft'})
    quantity_flagged = fields.Boolean(
        "Quantity Differs", readonly=True,
        help="The goods received differ from the goods approved.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'inspect': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def search_rec_name(cls, name, clause):
        domain = super().search_rec_name(name, clause)
        _, operator, value = clause[:3]
        if operator.startswith('!') or operator.startswith('not '):
            return [domain, ('return_waybill', operator, value)]
        return ['OR', domain, ('return_waybill', operator, value)]

    @classmethod
    def copy(cls, shipments, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('return_waybill')
        default.setdefault('quantity_flagged')
        return super().copy(shipments, default=default)

    @classmethod
    @ModelView.button_action('shop_returns.wizard_inspect_return')
    def inspect(cls, shipments):
        pass

    @classmethod
    @without_check_access
    def create_for_approvals(cls, approvals):
        """The returns expected for the approvals: one per return waybill,
        several orders may travel back in one parcel"""
        pool = Pool()
        Approval = pool.get('web.shop.return_approval')
        shipments = cls._by_waybill(
            {a.refund.return_waybill for a in approvals} - {None})
        for approval in approvals:
            waybill = approval.refund.return_waybill
            shipment = shipments.get(waybill) if waybill else None
            if not shipment:
                shipment = cls.from_approval(approval)
                if waybill:
                    shipments[waybill] = shipment
            shipment.moves = list(getattr(shipment, 'moves', ())) + [
                approval.return_move(l) for l in approval.lines if l.goods]
            approval.return_shipment = shipment
        cls.save(list({a.return_shipment for a in approvals}))
        Approval.save(approvals)

    @classmethod
    def _by_waybill(cls, waybills):
        shipments = {}
        for sub in grouped_slice(list(waybills)):
            for shipment in cls.search([
                        ('return_waybill', 'in', list(sub)),
                        ('state', '=', 'draft'),
                        ], order=[('id', 'ASC')]):
                shipments.setdefault(shipment.return_waybill, shipment)
        return shipments

    @classmethod
    def from_approval(cls, approval):
        sale, refund = approval.sale, approval.refund
        warehouse = approval.shipment.warehouse if approval.shipment \
            else sale.warehouse
        return cls(
            company=approval.company,
            customer=sale.shipment_party or sale.party,
            contact_address=sale.shipment_address,
            warehouse=warehouse, warehouse_input=warehouse.input_location,
            warehouse_storage=warehouse.storage_location,
            planned_date=_today(approval.company), reference=sale.web_id,
            return_waybill=refund.return_waybill,
            return_carrier_name=refund.return_carrier_name, moves=[])

    @classmethod
    @without_check_access
    def set_waybills(cls, approvals):
        """Write the waybill the platform reports; a parcel already
        expected with that number takes the goods"""
        pool = Pool()
        Move = pool.get('stock.move')
        Approval = pool.get('web.shop.return_approval')
        todo = [a for a in approvals
            if a.return_shipment.state == 'draft'
            and a.return_shipment.return_waybill != a.refund.return_waybill]
        shipments = cls._by_waybill({a.refund.return_waybill for a in todo})
        emptied, move_writes, writes = [], [], []
        for approval in todo:
            current, refund = approval.return_shipment, approval.refund
            target = shipments.get(refund.return_waybill)
            if target and target != current:
                move_writes += [[m for m in current.moves
                        if m.origin and m.origin.approval == approval],
                    {'shipment': str(target)}]
                approval.return_shipment = target
                emptied.append(current)
            else:
                writes += [[current], {
                        'return_waybill': refund.return_waybill,
                        'return_carrier_name': refund.return_carrier_name,
                        }]
                shipments[refund.return_waybill] = current
        # At once: each write of a shipment plans its moves again
        if writes:
            cls.write(*writes)
        if move_writes:
            Move.write(*move_writes)
        Approval.save(todo)
        cls.delete([s for s in cls.browse(emptied) if not s.moves])

    @classmethod
    @without_check_access
    def receive_inspected(cls, shipments, inspections):
        """Receive the goods as inspected: {move: (good, damaged)}; the good
        go to storage, the damaged to the warehouse's waste location"""
        pool = Pool()
        Move = pool.get('stock.move')
        Approval = pool.get('web.shop.return_approval')
        Line = pool.get('web.shop.return_approval.line')
        shipments = cls.browse(shipments)
        # Read together, not move by move
        inspections = dict(zip(
                Move.browse([m.id for m in inspections]),
                inspections.values()))
        inspections = {m: v for m, v in inspections.items()
            if m.shipment in shipments}
        flagged, changed = set(), []
        for move, (good, damaged) in inspections.items():
            if (good + damaged) != move.quantity:
                flagged.add(move.shipment)
                move.quantity = good + damaged
                changed.append(move)
        Move.save(changed)
        cls.receive(shipments)
        shipments = cls.browse(shipments)
        moves = []
        for shipment in shipments:
            moves += shipment._inspected_moves(inspections)
        Move.save(moves)
        cls.done(shipments)
        # Only where it changes: each write of a shipment plans its moves
        to_flag = [s for s in shipments
            if (s in flagged) != bool(s.quantity_flagged)]
        if to_flag:
            cls.write(
                [s for s in to_flag if s in flagged],
                {'quantity_flagged': True},
                [s for s in to_flag if s not in flagged],
                {'quantity_flagged': False})
        lines, approvals = [], set()
        for move, (good, damaged) in inspections.items():
            if isinstance(move.origin, Line):
                move.origin.received_quantity = good
                move.origin.damaged_quantity = damaged
                lines.append(move.origin)
                approvals.add(move.origin.approval)
        Line.save(lines)
        for approval in approvals:
            approval.quantity_flagged = any(
                (l.received_quantity or 0) + (l.damaged_quantity or 0)
                != l.quantity for l in approval.lines if l.goods)
        Approval.save(list(approvals))
        Approval.goods_received(Approval.browse(list(approvals)))

    def _inspected_moves(self, inspections):
        "The inventory moves to save: the damaged goods to the waste location"
        pool = Pool()
        Move = pool.get('stock.move')
        damaged_location = self.damaged_location()
        moves = []
        for move in self.inventory_moves:
            good, damaged = inspections[move.origin]
            if damaged:
                if not damaged_location:
                    raise RefundError(gettext(
                            'shop_returns.msg_return_no_damaged_location',
                            warehouse=self.warehouse.rec_name))
                move.quantity = good
                moves.append(Move(**{f: getattr(move, f) for f in [
                                'product', 'unit', 'from_location',
                                'planned_date', 'company', 'origin',
                                'shipment']},
                        quantity=damaged, to_location=damaged_location))
                if not good:
                    move.quantity, move.to_location = damaged, \
                        damaged_location
                    moves.pop()
                moves.append(move)
        return moves

    def damaged_location(self):
        locations = self.warehouse.waste_locations
        return locations[0] if locations else None


class InspectStart(ModelView):
    "Inspect Return"
    __name__ = 'stock.shipment.out.return.inspect.start'

    shipment = fields.Many2One(
        'stock.shipment.out.return', "Shipment", readonly=True)
    lines = fields.One2Many(
        'stock.shipment.out.return.inspect.line', None, "Lines")


class InspectLine(ModelView):
    "Inspect Return Line"
    __name__ = 'stock.shipment.out.return.inspect.line'

    move = fields.Many2One('stock.move', "Move", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    expected = fields.Float("Expected", readonly=True)
    good = fields.Float("Good", required=True,
        domain=[('good', '>=', 0)])
    damaged = fields.Float("Damaged", required=True,
        domain=[('damaged', '>=', 0)])


class Inspect(Wizard):
    "Inspect Return"
    __name__ = 'stock.shipment.out.return.inspect'

    start = StateView('stock.shipment.out.return.inspect.start',
        'shop_returns.return_inspect_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Receive", 'receive', 'tryton-ok', default=True),
            ])
    receive = StateTransition()

    def default_start(self, fields):
        "The parcels scanned together are inspected and received at once"
        for shipment in self.records:
            if shipment.state != 'draft':
                raise RefundError(gettext(
                        'shop_returns.msg_return_not_draft',
                        shipment=shipment.rec_name))
        parcel, = self.records if len(self.records) == 1 else [None]
        return {
            'shipment': parcel.id if parcel else None,
            'lines': [{
                    'move': m.id, 'product': m.product.id,
                    'expected': m.quantity, 'good': m.quantity,
                    'damaged': 0,
                    } for s in self.records for m in s.incoming_moves],
            }

    def transition_receive(self):
        self.model.receive_inspected(self.records, {
                l.move: (l.good, l.damaged) for l in self.start.lines})
        return 'end'


class ShipmentOut(metaclass=PoolMeta):
    __name__ = 'stock.shipment.out'

    refund_hold = fields.Boolean(
        "Refund Hold", readonly=True,
        help="A refund of goods in the shipment waits for the seller's "
        "decision: it does not leave the warehouse.")

    @classmethod
    def copy(cls, shipments, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('refund_hold')
        return super().copy(shipments, default=default)

    @classmethod
    def check_refund_hold(cls, shipments):
        for shipment in shipments:
            if shipment.refund_hold:
                raise RefundError(gettext(
                        'shop_returns.msg_shipment_refund_hold',
                        shipment=shipment.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('picked')
    def pick(cls, shipments):
        cls.check_refund_hold(shipments)
        super().pick(shipments)

    @classmethod
    @ModelView.button
    @Workflow.transition('packed')
    def pack(cls, shipments):
        cls.check_refund_hold(shipments)
        super().pack(shipments)

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def done(cls, shipments):
        cls.check_refund_hold(shipments)
        super().done(shipments)

    @classmethod
    @without_check_access
    def update_refund_hold(cls, shipments):
        "Hold what a refund waiting for a decision is about"
        pool = Pool()
        Refund = pool.get('web.shop.taobao.refund')
        shipments = [s for s in shipments if s.state in UNSHIPPED]
        sales = {m.origin.sale for s in shipments for m in s.outgoing_moves
            if m.origin and m.origin.__name__ == 'sale.line'}
        waiting = set()
        for sub in grouped_slice([s.id for s in sales]):
            waiting.update((r.sale.id, r.oid) for r in Refund.search([
                        ('sale', 'in', list(sub)),
                        ('state', '=', 'to_decide'),
                        ]))
        writes = []
        for shipment in shipments:
            hold = any((m.origin.sale.id, m.origin.platform_oid) in waiting
                for m in shipment.outgoing_moves
                if m.state != 'cancelled' and m.origin
                and m.origin.__name__ == 'sale.line')
            if hold != bool(shipment.refund_hold):
                writes += [[shipment], {'refund_hold': hold}]
        if writes:
            cls.write(*writes)

    @classmethod
    @without_check_access
    def cancel_refunded(cls, approvals):
        """Take the refunded quantities out of the shipments not gone yet:
        nothing ships that is being refunded, the rest still ships"""
        pool = Pool()
        Move = pool.get('stock.move')
        SaleLine = pool.get('sale.line')
        to_cancel, ignored = [], defaultdict(list)
        for approval in approvals:
            for line in approval.lines:
                if not line.goods:
                    continue
                for move, quantity in cls._refunded_moves(line):
                    moves = cls._split_refunded(move, quantity)
                    to_cancel.extend(moves)
                    ignored[line.sale_line].append(moves[0].id)
        Move.cancel(to_cancel)
        for sale_line, move_ids in ignored.items():
            SaleLine.write([sale_line], {
                    'moves_ignored': [('add', move_ids)]})
        shipments = list({m.shipment for m in to_cancel})
        cls.cancel([s for s in cls.browse(shipments)
                if all(m.state == 'cancelled' for m in s.outgoing_moves)])
        cls.update_refund_hold(cls.browse(shipments))

    @classmethod
    def _refunded_moves(cls, line):
        """The (outgoing move, quantity) not shipped yet that make up the
        refunded quantity of the approval line, the latest moves first"""
        pool = Pool()
        Uom = pool.get('product.uom')
        left, result = line.quantity, []
        for move in sorted(line.sale_line.moves, key=lambda m: -m.id):
            if left <= 0:
                break
            if (move.state in {'done', 'cancelled'}
                    or not move.shipment
                    or move.shipment.state not in UNSHIPPED):
                continue
            quantity = min(move.quantity, move.unit.round(
                    Uom.compute_qty(line.unit, left, move.unit, round=False)))
            result.append((move, quantity))
            left = line.unit.round(left - Uom.compute_qty(
                    move.unit, quantity, line.unit, round=False))
        return result

    @classmethod
    def _split_refunded(cls, move, quantity):
        """Split the quantity off the outgoing move and off its inventory
        moves not done yet; return the moves of the quantity, the outgoing
        one first"""
        pool = Pool()
        Move = pool.get('stock.move')
        inventory = sorted((m for m in move.shipment.inventory_moves
                if m.origin == move and m.state not in {'done', 'cancelled'}),
            # Keep what is reserved for the goods that still ship
            key=lambda m: (m.state == 'assigned', m.id))
        part = _split_move(move, quantity)
        parts, left = [part], quantity
        for inventory_move in inventory:
            if left <= 0:
                break
            taken = min(left, inventory_move.quantity)
            parts.append(_split_move(inventory_move, taken))
            left = move.unit.round(left - taken)
        if part != move:
            Move.write(parts[1:], {'origin': str(part)})
        return parts

    @classmethod
    @without_check_access
    def create_replacements(cls, approvals):
        "Send the goods again at no charge: the exchange, the reshipping"
        pool = Pool()
        Approval = pool.get('web.shop.return_approval')
        approvals = [a for a in approvals if not a.replacement_shipment]
        for approval in approvals:
            approval.replacement_shipment = approval.get_replacement()
        cls.save([a.replacement_shipment for a in approvals])
        Approval.save(approvals)
        cls.wait([a.replacement_shipment for a in approvals])


class Approval(metaclass=PoolMeta):
    __name__ = 'web.shop.return_approval'

    def return_move(self, line):
        pool = Pool()
        Move = pool.get('stock.move')
        customer = self.sale.shipment_party or self.sale.party
        warehouse = (self.shipment.warehouse if self.shipment
            else self.sale.warehouse)
        return Move(
            product=line.product, unit=line.unit, quantity=line.quantity,
            from_location=customer.customer_location,
            to_location=warehouse.input_location,
            planned_date=_today(self.company), company=self.company,
            unit_price=(line.amount / Decimal(str(line.quantity))).quantize(
                Decimal('0.0001')),
            currency=self.company.currency, origin=line)

    def get_replacement(self):
        pool = Pool()
        ShipmentOut = pool.get('stock.shipment.out')
        Move = pool.get('stock.move')
        sale = self.sale
        customer = sale.shipment_party or sale.party
        warehouse = (self.shipment.warehouse if self.shipment
            else sale.warehouse)
        today = _today(self.company)
        shipment = ShipmentOut(
            company=self.company, customer=customer,
            delivery_address=sale.shipment_address, warehouse=warehouse,
            warehouse_storage=warehouse.storage_location,
            warehouse_output=warehouse.output_location,
            planned_date=today, reference=sale.web_id)
        shipment.carrier = sale.carrier
        shipment.moves = [Move(
                product=l.product, unit=l.unit, quantity=l.quantity,
                from_location=warehouse.output_location,
                to_location=customer.customer_location, planned_date=today,
                company=self.company, unit_price=Decimal(0),
                currency=self.company.currency, origin=l)
            for l in self.lines if l.goods]
        return shipment
