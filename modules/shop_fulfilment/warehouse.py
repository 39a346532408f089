# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Warehouse steps: pick, check (核对), inspect (验货), pack, weigh, hand over"
from collections import namedtuple

from trytond.exceptions import UserError, UserWarning
from trytond.i18n import gettext
from trytond.model import ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .deadline import utc_now

# The goods fill at most this share of a box: the rest is for the filling,
# and around fragile goods for the padding
FILL = 0.8
FRAGILE_FILL = 0.5
CHECKABLE = {'assigned', 'picked', 'packed'}
INSPECTABLE = {'assigned', 'picked'}
# Set by the pack wizard: the goods are already in the box the packer chose
PARCELS_READY = '_shop_fulfilment_parcels_ready'

Goods = namedtuple('Goods', ['volume', 'weight', 'longest', 'fragile'])


class WarehouseError(UserError):
    "A warehouse step refused"


class WeightWarning(UserWarning):
    "A parcel weighing far from what its goods and box weigh"


def _convert(value, uom, fs_id):
    "Return the value in uom converted to the unit product.<fs_id>"
    pool = Pool()
    Uom = pool.get('product.uom')
    ModelData = pool.get('ir.model.data')
    if value is None or not uom:
        return None
    return Uom.compute_qty(
        uom, value, Uom(ModelData.get_id('product', fs_id)), round=False)


def goods_of(moves):
    """The goods of the moves: volume (m³) and longest side (m) of those
    measured, weight (kg, None unless every product has one), fragility"""
    Uom = Pool().get('product.uom')
    volume, weight, longest, fragile = 0, 0, 0, False
    for move in moves:
        template = move.product.template
        quantity = Uom.compute_qty(
            move.unit, move.quantity, move.product.default_uom, round=False)
        volume += quantity * (_convert(
                template.volume, template.volume_uom, 'uom_cubic_meter') or 0)
        unit_weight = _convert(
            template.weight, template.weight_uom, 'uom_kilogram')
        if weight is not None and unit_weight is not None:
            weight += quantity * unit_weight
        else:
            weight = None
        longest = max([longest] + _sides(template))
        fragile |= bool(template.fragile)
    return Goods(volume, weight, longest, fragile)


def _sides(measured):
    "The length, height and width (m) of a product or box, those known"
    sides = (_convert(getattr(measured, n), getattr(measured, n + '_uom'),
            'uom_meter') for n in ['length', 'height', 'width'])
    return [s for s in sides if s]


def _has_code(product, code):
    "Whether the barcode scanned is the product's"
    return code == product.code or any(
        i.code == code for i in product.identifiers)


def _kg(weight):
    return '%.2f kg' % weight if weight is not None else '?'


def _names(records):
    return ', '.join(r.rec_name for r in records)


class Shop(metaclass=PoolMeta):
    __name__ = 'web.shop'

    inspection_required = fields.Boolean(
        "Inspection Required",
        help="Pack only the shipments whose goods were all scanned "
        "at the inspection.")
    weight_tolerance = fields.Float(
        "Weight Tolerance", digits=(4, 1), required=True,
        help="How much, in percent of the expected weight, a parcel may "
        "weigh more or less before it is flagged.")
    weight_tolerance_min = fields.Float(
        "Minimal Weight Tolerance", digits=(16, 3), required=True,
        help="In kg: the tolerance of the light parcels.")

    @classmethod
    def default_inspection_required(cls):
        return True

    @classmethod
    def default_weight_tolerance(cls):
        return 10.0

    @classmethod
    def default_weight_tolerance_min(cls):
        return 0.1


class Template(metaclass=PoolMeta):
    __name__ = 'product.template'

    fragile = fields.Boolean(
        "Fragile",
        states={
            'invisible': Eval('type') == 'service',
            },
        help="Packed in a reinforced box with padding.")


class PackageType(metaclass=PoolMeta):
    __name__ = 'stock.package.type'

    reinforced = fields.Boolean(
        "Reinforced", help="A box for the fragile goods.")
    padding = fields.Char(
        "Padding", help="What the packer puts around the goods.")
    max_weight = fields.Float(
        "Maximal Weight", digits=(16, 3),
        help="In kg, the goods the box carries at most.")

    @property
    def box_volume(self):
        "The volume (m³) inside the box"
        volume = _convert(self.packaging_volume, self.packaging_volume_uom,
            'uom_cubic_meter')
        sides = _sides(self)
        if volume is None and len(sides) == 3:
            volume = sides[0] * sides[1] * sides[2]
        return volume

    def holds(self, goods):
        "Whether the goods fit in the box"
        fill = FRAGILE_FILL if goods.fragile else FILL
        if self.box_volume and goods.volume > self.box_volume * fill:
            return False
        if self.max_weight and (goods.weight or 0) > self.max_weight:
            return False
        return goods.longest <= max(_sides(self), default=goods.longest)


class Package(metaclass=PoolMeta):
    __name__ = 'stock.package'

    measured_weight = fields.Float(
        "Measured Weight", digits=(16, 3), readonly=True,
        help="In kg, as the scale showed.")
    expected_weight = fields.Function(fields.Float(
            "Expected Weight", digits=(16, 3),
            help="In kg, the goods and the box."),
        'get_expected_weight')
    weight_flagged = fields.Boolean(
        "Weight Flagged", readonly=True,
        help="The parcel weighed far from its expected weight.")
    padding = fields.Function(fields.Char("Padding"), 'get_padding')

    @classmethod
    def copy(cls, packages, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('measured_weight')
        default.setdefault('weight_flagged')
        return super().copy(packages, default=default)

    def get_expected_weight(self, name):
        goods = goods_of(self.moves)
        if goods.weight is None:
            return None
        box = self if self.packaging_weight_uom else self.type
        weight = goods.weight + (_convert(box.packaging_weight,
                box.packaging_weight_uom, 'uom_kilogram') or 0)
        for child in self.children:
            if child.expected_weight is None:
                return None
            weight += child.expected_weight
        return weight

    def get_padding(self, name):
        return self.type.padding if self.type else None

    def weight_deviates(self):
        "Whether the measured weight is beyond the shop's tolerance"
        Shop = Pool().get('web.shop')
        expected = self.expected_weight
        if expected is None or self.measured_weight is None:
            return False
        shop = getattr(self.shipment, 'platform_shop', None)
        tolerance = shop.weight_tolerance if shop else (
            Shop.default_weight_tolerance())
        minimum = shop.weight_tolerance_min if shop else (
            Shop.default_weight_tolerance_min())
        return (abs(self.measured_weight - expected)
            > max(expected * tolerance / 100, minimum))

    @classmethod
    def weigh(cls, package, weight):
        """Record the weight the scale showed: a weight beyond the tolerance
        is flagged once the clerk confirmed it"""
        pool = Pool()
        Shipment = pool.get('stock.shipment.out')
        Warning = pool.get('res.user.warning')
        shipment = package.shipment
        if not isinstance(shipment, Shipment) or shipment.state != 'packed':
            raise WarehouseError(gettext(
                    'shop_fulfilment.msg_warehouse_weigh_not_packed',
                    parcel=package.rec_name))
        package.measured_weight = weight
        flagged = package.weight_deviates()
        name = Warning.format('shop_fulfilment_weight', [package, weight])
        if flagged and Warning.check(name):
            raise WeightWarning(name, gettext(
                    'shop_fulfilment.msg_warehouse_weight_deviation',
                    parcel=package.rec_name, weight=_kg(weight),
                    expected=_kg(package.expected_weight)))
        package.weight_flagged = flagged
        package.save()
        Shipment.update_weighed([shipment])


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    inspected_quantity = fields.Float(
        "Inspected Quantity", digits='unit', readonly=True,
        help="The units scanned at the inspection.")

    @classmethod
    def copy(cls, moves, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('inspected_quantity')
        return super().copy(moves, default=default)


class ShipmentOut(metaclass=PoolMeta):
    __name__ = 'stock.shipment.out'

    checked_at = fields.DateTime(
        "Checked At", readonly=True,
        help="When the waybill on the parcel was checked against "
        "the delivery note.")
    checked_by = fields.Many2One('res.user', "Checked By", readonly=True)
    inspected_at = fields.DateTime(
        "Inspected At", readonly=True,
        help="When the last unit of the goods was scanned.")
    inspected_by = fields.Many2One(
        'res.user', "Inspected By", readonly=True)
    weighed_at = fields.DateTime(
        "Weighed At", readonly=True,
        help="When the last parcel was weighed.")
    weighed_by = fields.Many2One('res.user', "Weighed By", readonly=True)
    handed_over_at = fields.DateTime(
        "Handed Over At", readonly=True,
        help="When the parcels were handed to the carrier.")
    handed_over_by = fields.Many2One(
        'res.user', "Handed Over By", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'inspect_wizard': {
                    'invisible': ~Eval('state').in_(list(INSPECTABLE)),
                    'icon': 'tryton-search',
                    'depends': ['state'],
                    },
                'pack_wizard': cls._buttons['pack'].copy(),
                })

    @classmethod
    def copy(cls, shipments, default=None):
        default = default.copy() if default is not None else {}
        for name in ['checked', 'inspected', 'weighed', 'handed_over']:
            default.setdefault(name + '_at')
            default.setdefault(name + '_by')
        return super().copy(shipments, default=default)

    @property
    def platform_shop(self):
        "The shop of the platform orders the shipment sends"
        for move in self.outgoing_moves:
            if move.sale and move.sale.platform_trade:
                return move.sale.web_shop

    @property
    def packing_moves(self):
        "The outgoing moves whose goods go in the parcels"
        return [m for m in self.outgoing_moves
            if m.state != 'cancelled' and m.quantity]

    @property
    def inspection_required(self):
        return bool(self.platform_shop
            and self.platform_shop.inspection_required)

    def inspection_missing(self):
        "Yield the packing moves and the quantity not scanned yet"
        for move in self.packing_moves:
            missing = move.unit.round(
                move.quantity - (move.inspected_quantity or 0))
            if missing > 0:
                yield move, missing

    @classmethod
    def mark(cls, shipments, step):
        "Record who did the step and when"
        cls.write(shipments, {
                step + '_at': utc_now(),
                step + '_by': Transaction().user or None,
                })

    # Check (核对)

    @classmethod
    def check_parcel(cls, delivery_note, waybill):
        """Mark the shipment of the delivery note checked when the waybill is
        on one of its parcels; return whether it is"""
        shipment = cls.from_delivery_note(delivery_note)
        if waybill in {p.shipping_reference for p in shipment.packages}:
            cls.mark([shipment], 'checked')
            return True
        return False

    @classmethod
    def from_delivery_note(cls, number):
        "The shipment of the delivery note's barcode, if it may be checked"
        shipments = cls.search([('number', '=', number)], limit=1)
        if not shipments:
            raise WarehouseError(gettext(
                    'shop_fulfilment.msg_warehouse_delivery_note_unknown',
                    number=number))
        shipment, = shipments
        if shipment.state not in CHECKABLE:
            raise WarehouseError(gettext(
                    'shop_fulfilment.msg_warehouse_check_state',
                    shipment=shipment.rec_name))
        if not shipment.root_packages:
            raise WarehouseError(gettext(
                    'shop_fulfilment.msg_warehouse_check_no_parcel',
                    shipment=shipment.rec_name))
        return shipment

    @classmethod
    def correct_waybill(cls, shipment, waybill):
        """Make the waybill on the shipment's parcel right: a number of a
        waybill service is replaced by a new one; a number typed in moves
        to the parcel that carries it, which gives its own in exchange"""
        Package = Pool().get('stock.package')
        parcel = shipment.root_packages[0]
        if shipment.carrier and shipment.carrier.shipping_service:
            # The parcel gets a new label: part waybill
            Package.reassign_waybills([parcel])
        else:
            holders = Package.search([('shipping_reference', '=', waybill)])
            gone = [h for h in holders if h.shipment.state == 'done']
            if gone:
                raise WarehouseError(gettext(
                        'shop_fulfilment.msg_warehouse_waybill_gone',
                        waybill=waybill,
                        shipment=gone[0].shipment.rec_name))
            own = parcel.shipping_reference
            Package.write(holders, {'shipping_reference': None})
            Package.write([parcel], {'shipping_reference': waybill})
            Package.write(holders, {'shipping_reference': own})
            cls._sync_shipping_reference([shipment] + [h.shipment
                    for h in holders if isinstance(h.shipment, cls)])
        cls.mark([shipment], 'checked')

    @classmethod
    def _sync_shipping_reference(cls, shipments):
        "The shipment's waybill number is its first parcel's"
        for shipment in cls.browse(shipments):
            if shipment.root_packages:
                reference = shipment.root_packages[0].shipping_reference
                if shipment.shipping_reference != reference:
                    cls.write([shipment], {'shipping_reference': reference})

    # Inspection (验货)

    def inspect_scan(self, code):
        "Count one unit of the product of the barcode; return its move"
        pool = Pool()
        Move = pool.get('stock.move')
        Product = pool.get('product.product')
        if self.state not in INSPECTABLE:
            raise WarehouseError(gettext(
                    'shop_fulfilment.msg_warehouse_inspect_state',
                    shipment=self.rec_name))
        moves = [m for m in self.packing_moves if _has_code(m.product, code)]
        if not moves:
            products = Product.search(['OR',
                    ('code', '=', code),
                    ('identifiers.code', '=', code),
                    ], limit=1)
            if products:
                raise WarehouseError(gettext(
                        'shop_fulfilment.msg_warehouse_inspect_wrong_product',
                        product=products[0].rec_name, shipment=self.rec_name))
            raise WarehouseError(gettext(
                    'shop_fulfilment.msg_warehouse_inspect_unknown',
                    code=code, shipment=self.rec_name))
        for move in moves:
            if (move.inspected_quantity or 0) + 1 <= move.quantity:
                break
        else:
            raise WarehouseError(gettext(
                    'shop_fulfilment.msg_warehouse_inspect_too_many',
                    product=moves[0].product.rec_name,
                    quantity='%g' % sum(m.quantity for m in moves),
                    shipment=self.rec_name))
        Move.write([move], {
                'inspected_quantity': (move.inspected_quantity or 0) + 1,
                })
        shipment = self.__class__(self.id)
        if not list(shipment.inspection_missing()):
            self.mark([shipment], 'inspected')
        return Move(move.id)

    @classmethod
    def check_inspection(cls, shipments):
        "Refuse to pack the goods the shop inspects before all were scanned"
        for shipment in shipments:
            if not shipment.inspection_required:
                continue
            missing = list(shipment.inspection_missing())
            if missing:
                raise WarehouseError(gettext(
                        'shop_fulfilment.msg_warehouse_pack_not_inspected',
                        shipment=shipment.rec_name,
                        missing=', '.join('%s %g %s' % (
                                m.product.rec_name, q, m.unit.symbol)
                            for m, q in missing)))

    # Packing

    def suggest_package_type(self):
        "The smallest box the goods fit in, a reinforced one if fragile"
        PackageType = Pool().get('stock.package.type')
        goods = goods_of(self.packing_moves)
        boxes = [t for t in PackageType.search([]) if t.holds(goods)]
        preferred = [t for t in boxes if bool(t.reinforced) == goods.fragile]
        return min(preferred or boxes, default=None,
            key=lambda t: (t.box_volume or float('inf'), t.id))

    @classmethod
    def put_in_parcels(cls, shipments, package_type=None):
        """Put the goods of each shipment in its parcel, of the package type
        or else the box suggested: the parcel made with the waybill is
        reused; parcels the packer split by hand are left as they are"""
        Package = Pool().get('stock.package')
        parcels = []
        for shipment in shipments:
            if len(shipment.packages) > 1:
                continue
            box = package_type or shipment.suggest_package_type()
            if shipment.packages:
                parcel, = shipment.packages
            elif box:
                parcel = Package(company=shipment.company, shipment=shipment)
            else:
                continue
            if box and getattr(parcel, 'type', None) != box:
                parcel.type = box
                parcel.on_change_type()
            parcel.moves = shipment.packing_moves
            parcels.append(parcel)
        Package.save(parcels)

    @classmethod
    @ModelView.button_action('shop_fulfilment.wizard_pack_shipment')
    def pack_wizard(cls, shipments):
        pass

    @classmethod
    @ModelView.button_action('shop_fulfilment.wizard_inspect_shipment')
    def inspect_wizard(cls, shipments):
        pass

    @classmethod
    def pack_in(cls, shipments, package_type):
        "Pack the goods of the shipments in a parcel of the package type"
        shipments = [s for s in shipments
            if (s.state, 'packed') in cls._transitions]
        cls.check_inspection(shipments)
        cls.put_in_parcels(shipments, package_type)
        with Transaction().set_context({PARCELS_READY: True}):
            cls.pack(shipments)

    @classmethod
    @ModelView.button
    @Workflow.transition('packed')
    def pack(cls, shipments):
        cls.check_inspection(shipments)
        if not Transaction().context.get(PARCELS_READY):
            cls.put_in_parcels(shipments)
        super().pack(shipments)

    # Weighing

    @classmethod
    def update_weighed(cls, shipments):
        "Mark the shipments whose parcels were all weighed"
        weighed = [s for s in shipments if s.root_packages
            and all(p.measured_weight is not None for p in s.root_packages)]
        if weighed:
            cls.mark(weighed, 'weighed')

    # Hand over (交接)

    @classmethod
    def hand_over(cls, shipments):
        "Give the packed shipments to their carriers: the goods leave"
        not_packed = [s for s in shipments if s.state != 'packed']
        if not_packed:
            raise WarehouseError(gettext(
                    'shop_fulfilment.msg_warehouse_hand_over_not_packed',
                    shipments=_names(not_packed)))
        cls.done(shipments)

    @classmethod
    def check_waybills(cls, shipments):
        "Refuse to send a platform order's parcel without its waybill number"
        missing = [s for s in shipments
            if s.platform_shop and s.carrier
            and (not s.root_packages
                or not all(p.shipping_reference for p in s.root_packages))]
        if missing:
            raise WarehouseError(gettext(
                    'shop_fulfilment.msg_warehouse_hand_over_no_waybill',
                    shipments=_names(missing)))

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def done(cls, shipments):
        cls.check_waybills(shipments)
        super().done(shipments)
        cls.mark(shipments, 'handed_over')

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, shipments):
        pool = Pool()
        Move = pool.get('stock.move')
        super().draft(shipments)
        # The goods may change: the warehouse starts over
        cls.write(shipments, {
                n: None for n in ['checked_at', 'checked_by', 'inspected_at',
                    'inspected_by', 'weighed_at', 'weighed_by']})
        Move.write([m for s in shipments for m in s.outgoing_moves
                if m.inspected_quantity], {'inspected_quantity': None})


class WarehouseWizard:
    "A wizard of the warehouse groups"
    __slots__ = ()

    @classmethod
    def check_access(cls):
        # Tryton 7.0 fails formatting its own refusal (KeyError 'wizard')
        pool = Pool()
        ActionWizard = pool.get('ir.action.wizard')
        User = pool.get('res.user')
        transaction = Transaction()
        if transaction.user:
            groups = ActionWizard.get_groups(cls.__name__,
                action_id=transaction.context.get('action_id'))
            if groups and not groups & set(User.get_groups()):
                raise AccessError(gettext('ir.msg_access_wizard_error',
                        wizard=cls.__name__))
        super().check_access()


class CheckParcelStart(ModelView):
    "Check Parcel"
    __name__ = 'shop_fulfilment.check_parcel.start'

    code = fields.Char(
        "Scan", help="Scan the waybill barcode on the parcel's label "
        "and the barcode of the delivery note, in any order.")
    waybill = fields.Char("Waybill Number")
    delivery_note = fields.Char("Delivery Note")
    result = fields.Char("Last Check", readonly=True)


class CheckParcelMismatch(ModelView):
    "Check Parcel Mismatch"
    __name__ = 'shop_fulfilment.check_parcel.mismatch'

    message = fields.Text("Problem", readonly=True)
    shipment = fields.Many2One(
        'stock.shipment.out', "Delivery Note Shipment", readonly=True)
    waybill = fields.Char("Waybill Number", readonly=True)
    waybill_shipments = fields.Many2Many(
        'stock.shipment.out', None, None, "Waybill Shipments", readonly=True)


class CheckParcel(WarehouseWizard, Wizard):
    "Check Parcel"
    __name__ = 'shop_fulfilment.check_parcel'

    start = StateView('shop_fulfilment.check_parcel.start',
        'shop_fulfilment.check_parcel_start_view_form', [
            Button("Close", 'end', 'tryton-close'),
            Button("Check", 'check', 'tryton-ok', default=True),
            ])
    check = StateTransition()
    mismatch = StateView('shop_fulfilment.check_parcel.mismatch',
        'shop_fulfilment.check_parcel_mismatch_view_form', [
            Button("Close", 'end', 'tryton-close'),
            Button("Scan Again", 'again', 'tryton-back'),
            Button("Correct the Waybill", 'correct', 'tryton-ok',
                default=True),
            ])
    again = StateTransition()
    correct = StateTransition()

    def default_start(self, fields):
        return {n: getattr(self.start, n, None)
            for n in ['waybill', 'delivery_note', 'result']}

    def transition_check(self):
        Shipment = Pool().get('stock.shipment.out')
        code = (self.start.code or '').strip()
        self.start.code = None
        # The scanner does not tell which barcode it read
        if code and Shipment.search([('number', '=', code)], limit=1):
            self.start.delivery_note = code
        elif code:
            self.start.waybill = code
        if not (self.start.waybill and self.start.delivery_note):
            return 'start'
        if not Shipment.check_parcel(
                self.start.delivery_note, self.start.waybill):
            return 'mismatch'
        shipment = Shipment.from_delivery_note(self.start.delivery_note)
        return self._checked(
            shipment, self.start.waybill, 'msg_warehouse_checked')

    def _checked(self, shipment, waybill, message):
        self.start.result = gettext('shop_fulfilment.' + message,
            shipment=shipment.rec_name, waybill=waybill)
        self.start.waybill = self.start.delivery_note = None
        return 'start'

    def default_mismatch(self, fields):
        pool = Pool()
        Shipment = pool.get('stock.shipment.out')
        Package = pool.get('stock.package')
        shipment = Shipment.from_delivery_note(self.start.delivery_note)
        others = {p.shipment for p in Package.search(
                [('shipping_reference', '=', self.start.waybill)])}
        if others:
            message = gettext('shop_fulfilment.msg_warehouse_check_mismatch',
                waybill=self.start.waybill, shipment=shipment.rec_name,
                others=_names(others))
        else:
            message = gettext('shop_fulfilment.msg_warehouse_check_unknown',
                waybill=self.start.waybill, shipment=shipment.rec_name)
        return {
            'message': message,
            'shipment': shipment.id,
            'waybill': self.start.waybill,
            'waybill_shipments': [s.id for s in others],
            }

    def transition_again(self):
        self.start.waybill = self.start.delivery_note = None
        return 'start'

    def transition_correct(self):
        Shipment = Pool().get('stock.shipment.out')
        shipment = Shipment.from_delivery_note(self.start.delivery_note)
        Shipment.correct_waybill(shipment, self.start.waybill)
        shipment = Shipment(shipment.id)
        return self._checked(shipment,
            shipment.root_packages[0].shipping_reference,
            'msg_warehouse_corrected')


class InspectShipmentStart(ModelView):
    "Inspect Shipment"
    __name__ = 'shop_fulfilment.inspect_shipment.start'

    shipment = fields.Many2One(
        'stock.shipment.out', "Shipment", readonly=True)
    code = fields.Char(
        "Scan", help="Scan the barcode of each unit of the goods.")
    moves = fields.Many2Many(
        'stock.move', None, None, "Goods", readonly=True)
    result = fields.Char("Last Scan", readonly=True)


class InspectShipment(WarehouseWizard, Wizard):
    "Inspect Shipment"
    __name__ = 'shop_fulfilment.inspect_shipment'

    start = StateView('shop_fulfilment.inspect_shipment.start',
        'shop_fulfilment.inspect_shipment_start_view_form', [
            Button("Close", 'end', 'tryton-close'),
            Button("Count", 'scan', 'tryton-ok', default=True),
            ])
    scan = StateTransition()

    def default_start(self, fields):
        shipment = self.record
        if shipment.state not in INSPECTABLE:
            raise WarehouseError(gettext(
                    'shop_fulfilment.msg_warehouse_inspect_state',
                    shipment=shipment.rec_name))
        return {
            'shipment': shipment.id,
            'moves': [m.id for m in shipment.packing_moves],
            'result': getattr(self.start, 'result', None),
            }

    def transition_scan(self):
        code = (self.start.code or '').strip()
        self.start.code = None
        if not code:
            return 'start'
        move = self.record.inspect_scan(code)
        self.start.result = gettext(
            'shop_fulfilment.msg_warehouse_inspect_counted',
            product=move.product.rec_name,
            inspected='%g' % move.inspected_quantity,
            quantity='%g' % move.quantity)
        if type(self.record)(self.record.id).inspected_at:
            return 'end'
        return 'start'


class PackShipmentStart(ModelView):
    "Pack Shipment"
    __name__ = 'shop_fulfilment.pack_shipment.start'

    shipment = fields.Many2One(
        'stock.shipment.out', "Shipment", readonly=True)
    package_type = fields.Many2One(
        'stock.package.type', "Box", required=True,
        help="The box suggested from the goods' measurements.")
    fragile = fields.Boolean("Fragile Goods", readonly=True)
    goods_weight = fields.Float(
        "Goods Weight", digits=(16, 3), readonly=True, help="In kg.")
    goods_volume = fields.Float(
        "Goods Volume", digits=(16, 1), readonly=True, help="In litres.")
    padding = fields.Char("Padding", readonly=True)

    @fields.depends('package_type')
    def on_change_with_padding(self):
        return self.package_type.padding if self.package_type else None


class PackShipment(WarehouseWizard, Wizard):
    "Pack Shipment"
    __name__ = 'shop_fulfilment.pack_shipment'

    start = StateView('shop_fulfilment.pack_shipment.start',
        'shop_fulfilment.pack_shipment_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Pack", 'pack', 'tryton-ok', default=True),
            ])
    pack = StateTransition()

    def default_start(self, fields):
        shipment = self.record
        goods = goods_of(shipment.packing_moves)
        box = shipment.suggest_package_type()
        return {
            'shipment': shipment.id,
            'package_type': box.id if box else None,
            'fragile': goods.fragile,
            'goods_weight': goods.weight,
            'goods_volume': goods.volume * 1000,
            'padding': box.padding if box else None,
            }

    def transition_pack(self):
        self.model.pack_in([self.record], self.start.package_type)
        return 'end'


class WeighParcelStart(ModelView):
    "Weigh Parcel"
    __name__ = 'shop_fulfilment.weigh_parcel.start'

    code = fields.Char(
        "Scan", help="Scan the waybill number or the number of the parcel.")
    parcel = fields.Many2One('stock.package', "Parcel", readonly=True)
    expected_weight = fields.Float(
        "Expected Weight", digits=(16, 3), readonly=True, help="In kg.")
    weight = fields.Float(
        "Weight", digits=(16, 3), help="In kg, as the scale shows.")
    result = fields.Char("Last Weighing", readonly=True)


class WeighParcel(WarehouseWizard, Wizard):
    "Weigh Parcel"
    __name__ = 'shop_fulfilment.weigh_parcel'

    start = StateView('shop_fulfilment.weigh_parcel.start',
        'shop_fulfilment.weigh_parcel_start_view_form', [
            Button("Close", 'end', 'tryton-close'),
            Button("Weigh", 'weigh', 'tryton-ok', default=True),
            ])
    weigh = StateTransition()

    def default_start(self, fields):
        parcel = getattr(self.start, 'parcel', None)
        return {
            'parcel': parcel.id if parcel else None,
            'expected_weight': parcel.expected_weight if parcel else None,
            'weight': getattr(self.start, 'weight', None),
            'result': getattr(self.start, 'result', None),
            }

    def transition_weigh(self):
        Package = Pool().get('stock.package')
        code = (self.start.code or '').strip()
        self.start.code = None
        if code:
            parcels = Package.search(['OR',
                    ('shipping_reference', '=', code),
                    ('number', '=', code),
                    ], limit=1)
            if not parcels:
                raise WarehouseError(gettext(
                        'shop_fulfilment.msg_warehouse_parcel_unknown',
                        code=code))
            self.start.parcel, = parcels
        parcel, weight = self.start.parcel, self.start.weight
        if parcel and weight is not None:
            Package.weigh(parcel, weight)
            parcel = Package(parcel.id)
            self.start.result = gettext(
                'shop_fulfilment.msg_warehouse_weighed',
                parcel=parcel.rec_name, weight=_kg(weight),
                expected=_kg(parcel.expected_weight))
            self.start.parcel = self.start.weight = None
        return 'start'


class HandOverStart(ModelView):
    "Hand Over"
    __name__ = 'shop_fulfilment.hand_over.start'

    shipments = fields.Many2Many(
        'stock.shipment.out', None, None, "Shipments", readonly=True)
    carriers = fields.Char("Carriers", readonly=True)
    parcels = fields.Integer("Parcels", readonly=True)


class HandOver(WarehouseWizard, Wizard):
    "Hand Over"
    __name__ = 'shop_fulfilment.hand_over'

    start = StateView('shop_fulfilment.hand_over.start',
        'shop_fulfilment.hand_over_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Hand Over", 'hand_over', 'tryton-ok', default=True),
            ])
    hand_over = StateTransition()

    def default_start(self, fields):
        carriers = {s.carrier.rec_name for s in self.records if s.carrier}
        return {
            'shipments': [s.id for s in self.records],
            'carriers': ', '.join(sorted(carriers)),
            'parcels': sum(len(s.root_packages) for s in self.records),
            }

    def transition_hand_over(self):
        self.model.hand_over(self.records)
        return 'end'
