# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Retail-delivery documents: waybill, delivery note, pick list, handover list, fleet note"
import datetime as dt
from collections import defaultdict
from functools import partial

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.report import Report
from trytond.tools import grouped_slice
from trytond.transaction import without_check_access
from trytond.wizard import StateAction, StateTransition, Wizard

from . import taobao

WAYBILL = 'shop_fulfilment.waybill'
# Room for the item summary on a 76 mm wide waybill
SUMMARY_LENGTH = 60


class WaybillPrintError(UserError):
    pass


def china_time(value, format='%Y-%m-%d %H:%M'):
    "The China time (UTC+8) text of a naive UTC datetime"
    if not value:
        return ''
    return (value + taobao.CHINA_TZ.utcoffset(None)).strftime(format)


def shipment_sales(shipment):
    """The sales whose goods the shipment carries, earliest paid first:
    a merged shipment carries several"""
    pool = Pool()
    SaleLine = pool.get('sale.line')
    sales = {m.origin.sale for m in outgoing_moves(shipment)
        if isinstance(m.origin, SaleLine)}
    return sorted(sales, key=lambda s: (s.platform_paid or dt.datetime.max,
            s.id))


def trade_ids(shipment, sales=shipment_sales):
    return ', '.join(s.web_id for s in sales(shipment) if s.web_id)


def receiver_phone(shipment, sales=shipment_sales):
    "The phone as the platform gave it: a masked one stays masked"
    for sale in sales(shipment):
        phone = sale.receiver_mobile or sale.receiver_phone
        if phone:
            return phone
    return ''


def receiver_name(shipment):
    address = shipment.delivery_address
    return (address.party_name if address and address.party_name
        else shipment.customer.name)


def shop_name(shipment, sales=shipment_sales):
    sales = sales(shipment)
    return sales[0].web_shop.name if sales and sales[0].web_shop else ''


def carrier_name(shipment):
    carrier = shipment_carrier(shipment)
    return carrier.party.name if carrier else ''


def china_address(address):
    "Province, city and street on one line, as Chinese addresses are written"
    if not address:
        return ''
    return ' '.join(filter(None, [
                address.subdivision.name if address.subdivision else None,
                address.city, address.street]))


def shipment_carrier(shipment):
    return getattr(shipment, 'carrier', None)


def outgoing_moves(shipment):
    """The moves of a customer shipment leaving the warehouse

    Taken from its moves: the outgoing moves field sorts them by product
    name, which costs much for a batch of shipments."""
    ShipmentOut = Pool().get('stock.shipment.out')
    if not isinstance(shipment, ShipmentOut):
        return []
    if shipment.warehouse_output == shipment.warehouse_storage:
        return list(shipment.moves)
    return [m for m in shipment.moves
        if m.from_location == shipment.warehouse_output]


def goods_moves(shipment):
    "The outgoing moves of the shipment in the order of their sales"
    moves = [m for m in outgoing_moves(shipment) if m.state != 'cancelled']
    return sorted(moves, key=move_order)


def move_order(move):
    line = line_of(move)
    if line:
        return (line.sale.id, line.sequence or 0, move.id)
    return (0, 0, move.id)


def line_of(move):
    "The sale line of an outgoing move or of its inventory move"
    pool = Pool()
    Move = pool.get('stock.move')
    SaleLine = pool.get('sale.line')
    origin = move.origin
    if isinstance(origin, Move):
        origin = origin.origin
    return origin if isinstance(origin, SaleLine) else None


def quantity_text(quantity, unit=None):
    text = ('%f' % quantity).rstrip('0').rstrip('.')
    # The unit of goods counted by the piece goes without saying
    if unit and unit.category.id != unit_category_id():
        text += ' ' + unit.symbol
    return text


def unit_category_id():
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    return ModelData.get_id('product', 'uom_cat_unit')


def inventory_moves(shipment):
    """The moves of a customer shipment picking the goods

    Taken from its moves, as outgoing_moves."""
    ShipmentOut = Pool().get('stock.shipment.out')
    if not isinstance(shipment, ShipmentOut):
        return []
    return [m for m in shipment.moves
        if m.to_location == shipment.warehouse_output]


def shipment_items(shipment, goods=goods_moves):
    return [move_item(m) for m in goods(shipment)]


def move_item(move):
    "What a document prints of the goods of a move"
    line = line_of(move)
    return {
        'code': move.product.code or '',
        'name': move.product.name,
        'sku': (line.sku_properties or '') if line else '',
        'quantity': quantity_text(move.quantity, move.unit),
        'gift': is_gift(line),
        }


def line_item(line):
    return {
        'code': line.product.code or '',
        'name': line.product.name,
        'sku': line.sku_properties or '',
        'quantity': quantity_text(line.quantity, line.unit),
        'gift': is_gift(line),
        }


def is_gift(line):
    "Given by a rule of the shop or by the platform"
    return bool(line and (line.platform_gift or line.gift_rule))


def parcel_moves(package, goods=goods_moves):
    "The goods in the parcel; all of the shipment's when it is the only one"
    if package.moves:
        return sorted((m for m in package.moves if m.state != 'cancelled'),
            key=move_order)
    shipment = package.shipment
    if shipment and len(getattr(shipment, 'root_packages', [])) <= 1:
        return goods(shipment)
    return []


def item_summary(moves, length=SUMMARY_LENGTH):
    "Product names × quantities, cut to fit the waybill"
    text = '; '.join('%s ×%s' % (m.product.name, quantity_text(m.quantity))
        for m in moves)
    if len(text) > length:
        text = text[:length - 1] + '…'
    return text


def parcel_position(package):
    "The parcel's place among those of its shipment, as 1/2"
    ids = sorted({p.id for p in getattr(package.shipment, 'root_packages', [])}
        | {package.id})
    return '%s/%s' % (ids.index(package.id) + 1, len(ids))


def moves_weight(moves):
    "The kilograms of the goods, None unless every product has a weight"
    pool = Pool()
    Uom = pool.get('product.uom')
    ModelData = pool.get('ir.model.data')
    kg = Uom(ModelData.get_id('product', 'uom_kilogram'))
    weight = 0
    for move in moves:
        product = move.product
        if product.weight is None or not product.weight_uom:
            return None
        quantity = Uom.compute_qty(
            move.unit, move.quantity, product.default_uom, round=False)
        weight += quantity * Uom.compute_qty(
            product.weight_uom, product.weight, kg, round=False)
    return weight


def parcel_weight(package):
    "The weight the scale showed, else the one expected"
    if package.measured_weight is not None:
        return package.measured_weight
    return package.expected_weight


def weight_text(weight):
    return '%.2f' % weight if weight is not None else ''


class Batch:
    """The sales and the goods of a batch of customer shipments

    A document asks them of each shipment, some several times; read
    record by record through the shipments' moves they cost more than the
    rendering of a large batch.  The first asking reads them for all the
    shipments of the batch at once."""

    def __init__(self, shipments):
        ShipmentOut = Pool().get('stock.shipment.out')
        self._ids = sorted({s.id for s in shipments
                if isinstance(s, ShipmentOut)})
        self._sales = None
        self._goods = None

    def sales(self, shipment):
        "The same as shipment_sales(shipment)"
        if self._sales is None:
            self._sales = self._read_sales()
        return self._get(self._sales, shipment_sales, shipment)

    def goods(self, shipment):
        "The same as goods_moves(shipment)"
        if self._goods is None:
            self._goods = self._read_goods()
        return self._get(self._goods, goods_moves, shipment)

    @staticmethod
    def _get(cache, read, shipment):
        ShipmentOut = Pool().get('stock.shipment.out')
        if isinstance(shipment, ShipmentOut) and shipment.id in cache:
            return cache[shipment.id]
        return read(shipment)

    @without_check_access
    def _outgoing_moves(self, domain, fields_names):
        """Yield the shipment id and the values of the outgoing moves of
        the shipments within the domain"""
        pool = Pool()
        ShipmentOut = pool.get('stock.shipment.out')
        Move = pool.get('stock.move')
        shipments = {s['id']: s for s in ShipmentOut.read(
                self._ids, ['warehouse_output', 'warehouse_storage'])}
        for sub_ids in grouped_slice(self._ids):
            for values in Move.search_read([
                        ('shipment', 'in', [
                                'stock.shipment.out,%s' % i for i in sub_ids]),
                        domain,
                        ], order=[('id', 'ASC')],
                    fields_names=['shipment', 'from_location'] + fields_names):
                shipment = shipments[int(values['shipment'].split(',')[1])]
                output = shipment['warehouse_output']
                if (output == shipment['warehouse_storage']
                        or values['from_location'] == output):
                    yield shipment['id'], values

    @without_check_access
    def _read_sales(self):
        pool = Pool()
        Sale = pool.get('sale.sale')
        SaleLine = pool.get('sale.line')
        line_ids = defaultdict(set)
        for shipment_id, values in self._outgoing_moves(
                ('origin', 'like', 'sale.line,%'), ['origin']):
            line_id = int(values['origin'].split(',')[1])
            if line_id >= 0:
                line_ids[shipment_id].add(line_id)
        sale_of = {}
        for sub_ids in grouped_slice(set().union(*line_ids.values())):
            sale_of.update((l['id'], l['sale'])
                for l in SaleLine.read(list(sub_ids), ['sale']))
        sales = {s.id: s for s in Sale.browse(sorted(set(sale_of.values())))}
        return {i: sorted({sales[sale_of[l]] for l in line_ids[i]},
                key=lambda s: (s.platform_paid or dt.datetime.max, s.id))
            for i in self._ids}

    @without_check_access
    def _read_goods(self):
        Move = Pool().get('stock.move')
        shipment_of = dict((v['id'], i) for i, v in self._outgoing_moves(
                ('state', '!=', 'cancelled'), []))
        goods = {i: [] for i in self._ids}
        for move in Move.browse(sorted(shipment_of)):
            goods[shipment_of[move.id]].append(move)
        return {i: sorted(m, key=move_order) for i, m in goods.items()}


class Shop(metaclass=PoolMeta):
    __name__ = 'web.shop'

    waybill_templates = fields.One2Many(
        'web.shop.waybill_template', 'shop', "Waybill Layouts",
        help="The layout of the waybills of each carrier.")


class WaybillTemplate(ModelSQL, ModelView):
    "Waybill Layout"
    __name__ = 'web.shop.waybill_template'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True, ondelete='CASCADE')
    carrier = fields.Many2One(
        'carrier', "Carrier", ondelete='CASCADE',
        help="Leave empty for the other carriers of the shop.")
    report = fields.Many2One(
        'ir.action.report', "Layout", required=True, ondelete='CASCADE',
        domain=[
            ('report_name', '=', WAYBILL),
            ('model', '=', 'stock.package'),
            ])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('shop_carrier_unique', Unique(t, t.shop, t.carrier),
                'shop_fulfilment.msg_report_waybill_template_unique'),
            ]

    @classmethod
    def get_layouts(cls, shops):
        "Return the layouts by (shop id, carrier id or None)"
        templates = cls.search([('shop', 'in', [s.id for s in shops])])
        return {(t.shop.id, t.carrier.id if t.carrier else None): t.report
            for t in templates}


class Package(metaclass=PoolMeta):
    __name__ = 'stock.package'

    waybill_layout = fields.Function(fields.Many2One(
            'ir.action.report', "Waybill Layout",
            help="Chosen by the waybill layouts of the shop and carrier."),
        'get_waybill_layout')
    waybill_prints = fields.Integer(
        "Waybill Prints", readonly=True,
        help="How many times its waybill was printed.")
    waybill_printed_at = fields.DateTime("Waybill Printed At", readonly=True)

    @classmethod
    def copy(cls, packages, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('waybill_prints')
        default.setdefault('waybill_printed_at')
        return super().copy(packages, default=default)

    @property
    def waybill_layout_shop(self):
        "The shop whose layout prints the waybill"
        return layout_shop(self)

    @property
    def waybill_layout_carrier(self):
        "The carrier of the number, else the shipment's"
        return self.waybill_carrier or shipment_carrier(self.shipment)

    @classmethod
    def get_waybill_layout(cls, packages, name):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Template = pool.get('web.shop.waybill_template')
        standard = ModelData.get_id('shop_fulfilment', 'report_waybill')
        sales = Batch([p.shipment for p in packages if p.shipment]).sales
        shop_of = {p.id: layout_shop(p, sales) for p in packages}
        layouts = Template.get_layouts(set(shop_of.values()) - {None})
        result = {}
        for package in packages:
            shop = shop_of[package.id]
            carrier = package.waybill_layout_carrier
            layout = shop and (
                layouts.get((shop.id, carrier.id if carrier else None))
                or layouts.get((shop.id, None)))
            result[package.id] = layout.id if layout else standard
        return result

    @classmethod
    @without_check_access
    def record_waybill_print(cls, packages):
        "Count the prints, whoever prints: a reprint is visible"
        now = dt.datetime.now()
        by_count = defaultdict(list)
        for package in packages:
            by_count[package.waybill_prints or 0].append(package)
        args = []
        for count, counted in by_count.items():
            args.extend([counted, {
                        'waybill_prints': count + 1,
                        'waybill_printed_at': now,
                        }])
        if args:
            cls.write(*args)


def layout_shop(package, sales=shipment_sales):
    "The shop of the first sale of the parcel's shipment"
    sales = sales(package.shipment) if package.shipment else []
    return sales[0].web_shop if sales else None


class PrintWaybill(Wizard):
    "Print Waybills"
    __name__ = 'shop_fulfilment.print_waybill'
    start = StateTransition()
    print_ = StateAction('shop_fulfilment.report_waybill')

    def transition_start(self):
        pool = Pool()
        Package = pool.get('stock.package')
        Waybill = pool.get(WAYBILL, type='report')
        packages = self.get_packages()
        Package.record_waybill_print(packages)
        # Popped from the end: the chained actions come out in this order
        self.layouts = Waybill.group_by_layout(packages)
        return 'print_'

    def get_packages(self):
        "The parcels to print, refusing those without a waybill number"
        if self.model.__name__ == 'stock.package':
            packages = list(self.records)
        else:
            packages = []
            for shipment in self.records:
                if not shipment.root_packages:
                    self.raise_missing(shipment)
                packages.extend(shipment.root_packages)
        for package in packages:
            if not package.shipping_reference:
                self.raise_missing(package.shipment)
        return packages

    def raise_missing(self, shipment):
        raise WaybillPrintError(gettext(
                'shop_fulfilment.msg_report_waybill_missing',
                shipment=shipment.rec_name if shipment else ''))

    def do_print_(self, action):
        pool = Pool()
        Action = pool.get('ir.action')
        layout, packages = self.layouts.pop()
        action = Action.get_action_values('ir.action.report', [layout])[0]
        return action, {
            'model': 'stock.package',
            'id': packages[0],
            'ids': packages,
            }

    def transition_print_(self):
        return 'print_' if self.layouts else 'end'


class FulfilmentReport(Report):
    "The records in a stable order, whatever the selection's order"

    @classmethod
    def _get_records(cls, ids, model, data):
        pool = Pool()
        Model = pool.get(model)
        records = sorted(Model.browse(ids), key=cls.sort_key)
        return super()._get_records([r.id for r in records], model, data)

    @classmethod
    def sort_key(cls, record):
        return (record.id,)

    @classmethod
    def batch_shipments(cls, records):
        "The shipments whose sales and goods the document prints"
        return records

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        batch = Batch(cls.batch_shipments(records))
        context.update({
                'batch': batch,
                'china_time': china_time,
                'printed_at': china_time(
                    dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)),
                'sales': batch.sales,
                'trade_ids': partial(trade_ids, sales=batch.sales),
                'receiver_name': receiver_name,
                'receiver_phone': partial(receiver_phone, sales=batch.sales),
                'shop_name': partial(shop_name, sales=batch.sales),
                'carrier_name': carrier_name,
                'china_address': china_address,
                'items': partial(shipment_items, goods=batch.goods),
                'quantity_text': quantity_text,
                'weight_text': weight_text,
                })
        return context


def shipment_key(shipment):
    "By carrier, then shipment number"
    carrier = shipment_carrier(shipment) if shipment else None
    number = getattr(shipment, 'number', None) or ''
    return (carrier.party.name if carrier else '', len(number), number,
        shipment.id if shipment else 0)


class WaybillReport(FulfilmentReport):
    "Waybill"
    __name__ = WAYBILL

    @classmethod
    def sort_key(cls, package):
        carrier = package.waybill_layout_carrier
        return (package.waybill_layout.id,
            carrier.party.name if carrier else '',
            shipment_key(package.shipment), package.id)

    @classmethod
    def header_key(cls, package):
        # One document per layout
        return super().header_key(package) + (
            ('layout', package.waybill_layout.id),)

    @classmethod
    def group_by_layout(cls, packages):
        "Return [(layout id, package ids)] in printing order"
        groups = defaultdict(list)
        for package in sorted(packages, key=cls.sort_key):
            groups[package.waybill_layout.id].append(package.id)
        return sorted(groups.items())

    @classmethod
    def _execute(cls, packages, header, data, action):
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        if header.get('layout'):
            action = ActionReport(header['layout'])
        return super()._execute(packages, header, data, action)

    @classmethod
    def batch_shipments(cls, packages):
        return [p.shipment for p in packages if p.shipment]

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        batch = context['batch']
        context.update({
                'parcel_position': parcel_position,
                'waybill_carrier': waybill_carrier_name,
                'waybill_shop_name': partial(
                    waybill_shop_name, sales=batch.sales),
                'item_summary': partial(parcel_summary, goods=batch.goods),
                'sender': sender,
                })
        return context


def waybill_carrier_name(package):
    carrier = package.waybill_layout_carrier
    return carrier.party.name if carrier else ''


def waybill_shop_name(package, sales=shipment_sales):
    shop = layout_shop(package, sales)
    return shop.name if shop else ''


def parcel_summary(package, goods=goods_moves):
    return item_summary(parcel_moves(package, goods))


def sender(shipment):
    "The name, phone and address printed as the sender"
    company = shipment.company
    warehouse = getattr(shipment, 'warehouse', None)
    address = (warehouse.address if warehouse and warehouse.address
        else company.party.address_get())
    return {
        'name': company.party.name,
        'phone': company.party.phone or company.party.mobile or '',
        'address': china_address(address),
        }


class ShipmentReport(FulfilmentReport):

    @classmethod
    def sort_key(cls, shipment):
        return shipment_key(shipment)

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['waybill_numbers'] = waybill_numbers
        return context


def waybill_numbers(shipment):
    numbers = [p.shipping_reference
        for p in sorted(shipment.root_packages, key=lambda p: p.id)
        if p.shipping_reference]
    if not numbers and shipment.shipping_reference:
        numbers = [shipment.shipping_reference]
    return ', '.join(numbers)


class DeliveryNote(ShipmentReport):
    "Delivery Note"
    __name__ = 'shop_fulfilment.delivery_note'


class PickList(ShipmentReport):
    "Pick List"
    __name__ = 'shop_fulfilment.pick_list'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['locations'] = pick_locations(records)
        return context


def pick_locations(shipments):
    """The goods to pick by location then product:
    [(location, [{product, sku, quantity, unit, shipments}])]"""
    pool = Pool()
    Uom = pool.get('product.uom')
    rows = {}
    names = {}

    def move_key(move):
        # As the inventory moves are ordered, the product's name read once
        product = move.product
        if product.id not in names:
            names[product.id] = product.rec_name
        return (names[product.id], move.id)
    for shipment in shipments:
        for move in sorted(inventory_moves(shipment), key=move_key):
            if move.state == 'cancelled':
                continue
            product = move.product
            row = rows.setdefault((move.from_location, product), {
                    'product': product, 'unit': product.default_uom,
                    'sku': move_item(move)['sku'], 'quantity': 0,
                    'shipments': []})
            row['quantity'] += Uom.compute_qty(
                move.unit, move.quantity, product.default_uom, round=False)
            if shipment.number not in row['shipments']:
                row['shipments'].append(shipment.number)
    locations = defaultdict(list)
    for (location, product), row in sorted(rows.items(), key=lambda i: (
                i[0][0].rec_name, i[0][1].code or '', i[0][1].id)):
        row['shipments'].sort(key=lambda n: (len(n), n))
        locations[location].append(row)
    return list(locations.items())


class HandoverList(ShipmentReport):
    "Handover List"
    __name__ = 'shop_fulfilment.handover_list'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        batch = context['batch']
        context['carriers'] = handover_carriers(
            records, sales=batch.sales, goods=batch.goods)
        return context


def handover_carriers(shipments, sales=shipment_sales, goods=goods_moves):
    """The parcels handed to each carrier:
    [{carrier, parcels: [{number, shipment, trades, weight}], count, weight}]
    """
    groups = {}
    for shipment in shipments:
        carrier = shipment_carrier(shipment)
        group = groups.setdefault(carrier, {'carrier': carrier, 'parcels': []})
        group['parcels'].extend(handover_parcels(shipment, sales, goods))
    for group in groups.values():
        weights = [p['weight'] for p in group['parcels']]
        group['count'] = len(weights)
        # A total missing a parcel would mislead the driver
        group['weight'] = (sum(weights) if None not in weights else None)
    return sorted(groups.values(), key=lambda g: (
            g['carrier'].party.name if g['carrier'] else ''))


def handover_parcels(shipment, sales=shipment_sales, goods=goods_moves):
    "Each parcel of the shipment, or the shipment as one without any"
    parcels = sorted(shipment.root_packages, key=lambda p: p.id)
    trades = trade_ids(shipment, sales)
    if not parcels:
        return [{'number': shipment.shipping_reference or '',
                'shipment': shipment, 'trades': trades,
                'weight': moves_weight(goods(shipment))}]
    return [{'number': p.shipping_reference or '', 'shipment': shipment,
            'trades': trades, 'weight': parcel_weight(p)} for p in parcels]


class FleetNote(FulfilmentReport):
    "Fleet Delivery Note"
    __name__ = 'shop_fulfilment.fleet_note'

    @classmethod
    def sort_key(cls, delivery):
        return (delivery.delivery_time or dt.datetime.max,
            delivery.service_area.name, delivery.id)

    @classmethod
    def batch_shipments(cls, deliveries):
        return [d.shipment for d in deliveries if d.shipment]

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['fleet_items'] = partial(
            fleet_items, goods=context['batch'].goods)
        context['fleet_customer'] = fleet_customer
        return context


def fleet_items(delivery, goods=goods_moves):
    "The goods the fleet brings: its shipment's, else the sale's"
    if delivery.shipment:
        return [move_item(m) for m in goods(delivery.shipment)]
    return [line_item(l) for l in delivery.sale.lines
        if l.type == 'line' and l.product and l.product.type == 'goods']


def fleet_customer(delivery):
    address = delivery.address
    if address and address.party_name:
        return address.party_name
    return delivery.sale.party.name
