# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Waybill numbers (面单号): number ranges and the electronic waybill service"
import json
import re
from collections import defaultdict

from sql import Null
from sql.aggregate import Count
from sql.functions import CurrentTimestamp
from sql.operators import Equal

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    Exclude, ModelSQL, ModelView, Workflow, fields)
from trytond.modules.stock_package_shipping.exceptions import (
    PackingValidationError)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction, without_check_access

from . import taobao

SERVICES = {'number_range', 'cainiao'}
REQUEST_STATES = ['assigned', 'picked', 'packed']
# The formats of the carriers' numbers (regular expressions): what their
# pre-printed waybills and electronic waybills carry today
NUMBER_FORMATS = {
    'YTO': r'YT\d{13}',
    'SF': r'SF\d{13}|\d{12}',
    'ZTO': r'\d{12,14}',
    'STO': r'\d{12,13}',
    'YUNDA': r'\d{13}|\d{15}',
    'EMS': r'\d{13}|[A-Z]{2}\d{9}CN',
    'POSTB': r'\d{13}',
    }
# cainiao.waybill.ii.get takes at most 10 trade_order_info_dtos a call
CAINIAO_BATCH = 10
CAINIAO_CHANNELS = {'taobao': 'TB', 'tmall': 'TM'}
CAINIAO_ALREADY_CANCELLED = 'isv.waybill-cancelled'
_NUMBER = re.compile(r'(.*?)(\d+)(\D*)')


class WaybillError(UserError):
    "A waybill number that cannot be taken or given"


def next_numbers(number, increment, count):
    """Return count numbers from number on by increment and the number after
    them, keeping the prefix, the suffix and the leading zeros"""
    prefix, digits, suffix = _NUMBER.fullmatch(number).groups()
    numbers = ['%s%0*d%s' % (prefix, len(digits), int(digits) + i * increment,
            suffix) for i in range(count + 1)]
    return numbers[:-1], numbers[-1]


def cainiao_apply(client, request):
    """Request the waybills of the request (cp_code, sender and up to 10
    trade_order_info_dtos) and return the answers by object_id"""
    body = client.call('cainiao.waybill.ii.get',
        param_waybill_cloud_print_apply_new_request=json.dumps(
            request, ensure_ascii=False))
    modules = body.get('modules') or {}
    if isinstance(modules, dict):
        modules = modules.get('waybill_cloud_print_response') or []
    answers = {str(m.get('object_id')): m for m in modules}
    for order in request['trade_order_info_dtos']:
        if not answers.get(order['object_id'], {}).get('waybill_code'):
            raise taobao.TopError(None, 'no waybill_code for object %s'
                % order['object_id'], temporary=False)
    return answers


def cainiao_cancel(client, cp_code, waybill_code):
    "Cancel the waybill code, also when the platform cancelled it already"
    try:
        body = client.call('cainiao.waybill.ii.cancel',
            cp_code=cp_code, waybill_code=waybill_code)
    except taobao.TopError as error:
        if error.sub_code == CAINIAO_ALREADY_CANCELLED:
            return
        raise
    if not body.get('cancel_result'):
        raise taobao.TopError(None, 'cancel_result is false',
            temporary=False)


def print_marks(print_data):
    """Return the sorting code (三段码), the destination mark (大头笔) and the
    consolidation hub (集包地) of the cloud print data"""
    try:
        data = json.loads(print_data)['data']
        routing = data.get('routingInfo') or {}
    except (TypeError, ValueError, KeyError, AttributeError):
        # Encrypted print data (encryptedData) carries no readable marks
        return None, None, None
    return (routing.get('routeCode') or None,
        (routing.get('sortation') or {}).get('name') or None,
        (routing.get('consolidation') or {}).get('name') or None)


def _compact(values):
    "The values without the empty ones, as the platform wants them"
    return {k: v for k, v in values.items() if v not in (None, '', [], {})}


class Carrier(metaclass=PoolMeta):
    __name__ = 'carrier'

    waybill_next_number = fields.Char(
        "Next Waybill Number",
        states={
            'invisible': Eval('shipping_service') != 'number_range',
            'required': Eval('shipping_service') == 'number_range',
            },
        help="The number of the next pre-printed waybill, "
        "prefix and leading zeros included.")
    waybill_increment = fields.Integer(
        "Waybill Increment",
        states={
            'invisible': Eval('shipping_service') != 'number_range',
            'required': Eval('shipping_service') == 'number_range',
            },
        help="How much the number grows from one waybill to the next.")
    waybill_number_format = fields.Char(
        "Waybill Number Format",
        states={
            'invisible': Eval('shipping_service') != 'number_range',
            },
        help="A regular expression the carrier's numbers match; "
        "when empty, the format known for the platform code.")
    cainiao_template_url = fields.Char(
        "Cloud Print Template",
        states={
            'invisible': Eval('shipping_service') != 'cainiao',
            'required': Eval('shipping_service') == 'cainiao',
            },
        help="The URL of the Cainiao cloud print template of the "
        "carrier's waybills, as "
        "http://cloudprint.cainiao.com/template/standard/101/605.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.shipping_service.selection += [
            ('number_range', "Number Range"),
            ('cainiao', "Cainiao Electronic Waybill"),
            ]

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('//separator[@id="waybill"]', 'states', {
                    'invisible': ~Eval('shipping_service').in_(
                        list(SERVICES)),
                    }),
            ]

    @classmethod
    def default_waybill_increment(cls):
        return 1

    @fields.depends(
        'platform_code', 'shipping_service', 'waybill_number_format')
    def on_change_with_waybill_number_format(self):
        known = set(NUMBER_FORMATS.values())
        if not self.waybill_number_format or (
                self.waybill_number_format in known):
            return NUMBER_FORMATS.get(
                self.platform_code, self.waybill_number_format)
        return self.waybill_number_format

    @property
    def waybill_format(self):
        "The regular expression of the carrier's numbers"
        return self.waybill_number_format or NUMBER_FORMATS.get(
            self.platform_code)

    @classmethod
    def validate_fields(cls, carriers, field_names):
        super().validate_fields(carriers, field_names)
        if field_names & {'shipping_service', 'platform_code',
                'waybill_next_number', 'waybill_increment',
                'waybill_number_format'}:
            for carrier in carriers:
                if carrier.shipping_service == 'number_range':
                    carrier.check_number_range()

    def check_number_range(self):
        if not self.waybill_format:
            raise WaybillError(gettext(
                    'shop_fulfilment.msg_waybill_format_missing',
                    carrier=self.rec_name))
        try:
            re.compile(self.waybill_format)
        except re.error as error:
            raise WaybillError(gettext(
                    'shop_fulfilment.msg_waybill_format_invalid',
                    carrier=self.rec_name, format=self.waybill_format,
                    error=str(error)))
        if (not self.match_waybill_format(self.waybill_next_number)
                or not _NUMBER.fullmatch(self.waybill_next_number)):
            raise WaybillError(gettext(
                    'shop_fulfilment.msg_waybill_next_number_format',
                    carrier=self.rec_name, number=self.waybill_next_number,
                    format=self.waybill_format))
        if (self.waybill_increment or 0) < 1:
            raise WaybillError(gettext(
                    'shop_fulfilment.msg_waybill_increment',
                    carrier=self.rec_name))

    def match_waybill_format(self, number):
        return bool(number and re.fullmatch(self.waybill_format, number))

    def take_waybill_numbers(self, count):
        """Return the next count numbers of the range and move it on

        Writing the row first locks it to the end of the transaction: a
        concurrent transaction waits, then fails and is retried (PostgreSQL)
        or finds the database locked (SQLite); it never reads the same
        next number."""
        table = self.__table__()
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        cursor.execute(*table.update(
                [table.waybill_next_number], [table.waybill_next_number],
                where=table.id == self.id))
        cursor.execute(*table.select(
                table.waybill_next_number, table.waybill_increment,
                where=table.id == self.id))
        number, increment = cursor.fetchone()
        numbers, after = next_numbers(number, increment or 1, count)
        for number in numbers:
            if not self.match_waybill_format(number):
                raise WaybillError(gettext(
                        'shop_fulfilment.msg_waybill_range_exhausted',
                        carrier=self.rec_name, number=number,
                        format=self.waybill_format))
        # The next number past the end of the range is kept as it is: the
        # next request tells the range is exhausted
        cursor.execute(*table.update(
                [table.waybill_next_number, table.write_date,
                    table.write_uid],
                [after, CurrentTimestamp(), transaction.user],
                where=table.id == self.id))
        # The records read before see the new number
        transaction.counter += 1
        return numbers


class Shop(metaclass=PoolMeta):
    __name__ = 'web.shop'

    seller_user_id = fields.Char(
        "Seller User ID",
        states={
            'invisible': ~Eval('type').in_(list(CAINIAO_CHANNELS)),
            },
        help="The seller's numeric user ID on Taobao/Tmall, "
        "sent as user_id when requesting electronic waybills.")


class Package(metaclass=PoolMeta):
    __name__ = 'stock.package'

    waybill_carrier = fields.Many2One(
        'carrier', "Waybill Carrier", readonly=True, ondelete='RESTRICT',
        help="The carrier whose number the parcel carries.")
    waybill_sorting_code = fields.Char(
        "Sorting Code", readonly=True,
        help="The carrier's three-segment code (三段码) routing the parcel.")
    waybill_destination_mark = fields.Char(
        "Destination Mark", readonly=True,
        help="The big destination mark (大头笔) printed on the waybill.")
    waybill_consolidation_hub = fields.Char(
        "Consolidation Hub", readonly=True,
        help="Where the parcel is bagged with others (集包地).")
    waybill_print_data = fields.Text(
        "Print Data", readonly=True,
        help="The cloud print data of the electronic waybill, as received.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('waybill_number_unique', Exclude(t,
                    (t.waybill_carrier, Equal), (t.shipping_reference, Equal),
                    where=(t.waybill_carrier != Null)
                    & (t.shipping_reference != Null)),
                'shop_fulfilment.msg_waybill_number_unique'),
            ]
        cls._buttons.update({
                'reassign_waybills': {
                    'invisible': ~Eval('waybill_carrier'),
                    'depends': ['waybill_carrier'],
                    },
                })

    @classmethod
    def copy(cls, packages, default=None):
        default = default.copy() if default is not None else {}
        for name in ['waybill_carrier', 'waybill_sorting_code',
                'waybill_destination_mark', 'waybill_consolidation_hub',
                'waybill_print_data']:
            default.setdefault(name)
        return super().copy(packages, default=default)

    @classmethod
    def delete(cls, packages):
        pool = Pool()
        ShipmentOut = pool.get('stock.shipment.out')
        # A parcel gone leaves no live number behind
        voids = cls.void_waybills(packages)
        super().delete(packages)
        with without_check_access():
            ShipmentOut.set_shipping_reference(ShipmentOut.browse(
                    list({v.shipment for v in voids if v.shipment})))

    @property
    def customer_shipment(self):
        ShipmentOut = Pool().get('stock.shipment.out')
        if isinstance(self.shipment, ShipmentOut):
            return self.shipment

    @classmethod
    @ModelView.button
    def reassign_waybills(cls, packages):
        "Drop the numbers of the parcels and give them new ones"
        pool = Pool()
        ShipmentOut = pool.get('stock.shipment.out')
        shipments = list({p.customer_shipment for p in packages} - {None})
        ShipmentOut.check_waybill_requests(shipments)
        with without_check_access():
            cls.void_waybills(packages)
            cls.assign_waybills(cls.browse(packages))
            ShipmentOut.set_shipping_reference(ShipmentOut.browse(shipments))

    @classmethod
    @without_check_access
    def void_waybills(cls, packages):
        """Keep the numbers of the parcels as void and take them off; the
        electronic waybills are cancelled on the platform by the queue"""
        pool = Pool()
        Void = pool.get('stock.package.void_waybill')
        ShipmentOut = pool.get('stock.shipment.out')
        numbered = [p for p in packages
            if p.shipping_reference and p.waybill_carrier]
        shops = ShipmentOut.get_waybill_shops(
            {p.customer_shipment for p in numbered
                if p.waybill_carrier.shipping_service == 'cainiao'}
            - {None})
        voids = [Void.from_package(p,
                shops.get(p.shipment.id) if p.customer_shipment else None)
            for p in numbered]
        Void.save(voids)
        cls.write(numbered, dict.fromkeys([
                    'shipping_reference', 'waybill_carrier',
                    'waybill_sorting_code', 'waybill_destination_mark',
                    'waybill_consolidation_hub', 'waybill_print_data']))
        to_cancel = [v for v in voids if v.state == 'to_cancel']
        if to_cancel:
            Void.__queue__.cancel_on_platform(to_cancel)
        return voids

    @classmethod
    @without_check_access
    def assign_waybills(cls, packages):
        "Give the parcels of customer shipments a number of their carrier"
        by_carrier = defaultdict(list)
        for package in packages:
            shipment = package.customer_shipment
            if (shipment and not package.shipping_reference
                    and shipment.carrier
                    and shipment.carrier.shipping_service in SERVICES):
                by_carrier[shipment.carrier].append(package)
        for carrier, c_packages in by_carrier.items():
            getattr(cls, '_assign_%s' % carrier.shipping_service)(
                carrier, c_packages)
        cls.save(packages)

    @classmethod
    def _assign_number_range(cls, carrier, packages):
        packages = sorted(packages, key=lambda p: p.id)
        numbers = carrier.take_waybill_numbers(len(packages))
        for package, number in zip(packages, numbers):
            package.shipping_reference = number
            package.waybill_carrier = carrier

    @classmethod
    def _assign_cainiao(cls, carrier, packages):
        pool = Pool()
        Void = pool.get('stock.package.void_waybill')
        ShipmentOut = pool.get('stock.shipment.out')
        sales = ShipmentOut.get_waybill_sales(
            list({p.customer_shipment for p in packages}))
        groups = defaultdict(list)
        for package in sorted(packages, key=lambda p: p.id):
            shipment = package.customer_shipment
            shop = sales[shipment.id][0].web_shop
            groups[(shop, shipment.warehouse)].append(package)
        generations = Void.generations(packages)
        for (shop, _), g_packages in groups.items():
            client = shop.taobao_client()
            sender = g_packages[0].customer_shipment.cainiao_sender()
            for chunk in grouped_slice(g_packages, CAINIAO_BATCH):
                chunk = list(chunk)
                request = {
                    'cp_code': carrier.platform_code,
                    'sender': sender,
                    'trade_order_info_dtos': [
                        p.cainiao_trade_order(
                            sales[p.shipment.id], generations.get(p.id, 0))
                        for p in chunk],
                    }
                answers = cls._cainiao_apply(client, request, chunk)
                for package in chunk:
                    package.set_cainiao_waybill(
                        carrier, answers[str(package.id)])

    @classmethod
    def _cainiao_apply(cls, client, request, packages):
        """Return the answers of the request or raise the error naming the
        shipment the platform refuses"""
        try:
            return cainiao_apply(client, request)
        except taobao.TopError as error:
            if not error.temporary and len(packages) > 1:
                # The platform refuses the whole call: ask parcel by parcel
                # to name the one it refuses
                answers = {}
                for order, package in zip(
                        request['trade_order_info_dtos'], packages):
                    answers.update(cls._cainiao_apply(client,
                            dict(request, trade_order_info_dtos=[order]),
                            [package]))
                return answers
            shipments = ', '.join(sorted({
                        p.customer_shipment.rec_name for p in packages}))
            raise WaybillError(gettext(
                    'shop_fulfilment.msg_waybill_platform_unavailable'
                    if error.temporary else
                    'shop_fulfilment.msg_waybill_platform_refused',
                    shipment=shipments, error=error.sub_msg or str(error)))

    def set_cainiao_waybill(self, carrier, answer):
        self.shipping_reference = answer['waybill_code']
        self.waybill_carrier = carrier
        self.waybill_print_data = answer.get('print_data')
        (self.waybill_sorting_code, self.waybill_destination_mark,
            self.waybill_consolidation_hub) = print_marks(
            self.waybill_print_data)

    def cainiao_trade_order(self, sales, generation=0):
        "The trade_order_info_dto of the parcel carrying the platform sales"
        shipment = self.customer_shipment
        shop = sales[0].web_shop
        # The platform gives the same number again for the same package id:
        # the first parcel goes by the shipment's number, which a request
        # rolled back does not change (package numbers may), and a parcel
        # whose number was dropped asks for a new one
        package_id = shipment.number
        if self != min(shipment.root_packages, key=lambda p: p.id):
            package_id += '_' + self.number
        if generation:
            package_id += '_%d' % generation
        package_id = re.sub(r'\W', '_', package_id, flags=re.ASCII)
        return {
            'object_id': str(self.id),
            'order_info': {
                'order_channels_type': CAINIAO_CHANNELS.get(
                    shop.type, 'OTHERS'),
                'trade_order_list': sorted({s.web_id for s in sales}),
                },
            'package_info': self.cainiao_package_info(package_id),
            'recipient': shipment.cainiao_recipient(sales[0]),
            'template_url': shipment.carrier.cainiao_template_url,
            'user_id': (int(shop.seller_user_id)
                if shop.seller_user_id.isdigit() else shop.seller_user_id),
            }

    def cainiao_package_info(self, package_id):
        quantities = defaultdict(float)
        for move in self.moves:
            if move.state != 'cancelled':
                quantities[move.product.name] += move.quantity
        items = [{'name': n, 'count': max(int(round(q)), 1)}
            for n, q in quantities.items()]
        return _compact({
                'id': package_id,
                'items': items,
                'weight': self.waybill_weight(),
                'goods_description': '、'.join(quantities)[:100],
                })

    def waybill_weight(self):
        "The weight of the goods in grams, when the products tell it"
        pool = Pool()
        Uom = pool.get('product.uom')
        ModelData = pool.get('ir.model.data')
        gram = Uom(ModelData.get_id('product', 'uom_gram'))
        grams = 0
        for move in self.moves:
            template = move.product.template
            if move.state == 'cancelled' or not template.weight:
                continue
            quantity = Uom.compute_qty(
                move.unit, move.quantity, move.product.default_uom,
                round=False)
            grams += Uom.compute_qty(template.weight_uom,
                template.weight * quantity, gram, round=False)
        return int(round(grams)) or None


class VoidWaybill(ModelSQL, ModelView):
    "Void Waybill"
    __name__ = 'stock.package.void_waybill'
    _rec_name = 'number'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    number = fields.Char("Number", required=True, readonly=True)
    carrier = fields.Many2One(
        'carrier', "Carrier", required=True, readonly=True,
        ondelete='RESTRICT')
    package = fields.Many2One(
        'stock.package', "Parcel", readonly=True, ondelete='SET NULL')
    shipment = fields.Many2One(
        'stock.shipment.out', "Shipment", readonly=True,
        ondelete='SET NULL')
    shop = fields.Many2One(
        'web.shop', "Shop", readonly=True, ondelete='SET NULL',
        help="The shop whose account issued the electronic waybill.")
    state = fields.Selection([
            ('void', "Void"),
            ('to_cancel', "To Cancel"),
            ('cancelled', "Cancelled"),
            ('failed', "Failed"),
            ], "State", required=True, readonly=True, sort=False,
        help="A number of a range is just void; an electronic waybill is "
        "cancelled on the platform.")
    error = fields.Text(
        "Error", readonly=True,
        states={'invisible': ~Eval('error')})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('create_date', 'DESC'))
        cls._buttons.update({
                'cancel_on_platform': {
                    'invisible': ~Eval('state').in_(['to_cancel', 'failed']),
                    'depends': ['state'],
                    },
                })

    @classmethod
    def from_package(cls, package, shop=None):
        "The number of the package made void, cancelled with the shop's"
        cainiao = package.waybill_carrier.shipping_service == 'cainiao'
        return cls(
            company=package.company, number=package.shipping_reference,
            carrier=package.waybill_carrier, package=package,
            shipment=package.customer_shipment, shop=shop,
            state='to_cancel' if cainiao else 'void')

    @classmethod
    def generations(cls, packages):
        "Return by package id how many numbers it had before"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        counts = {}
        for sub_ids in grouped_slice([p.id for p in packages]):
            cursor.execute(*table.select(table.package, Count(table.id),
                    where=table.package.in_(list(sub_ids)),
                    group_by=[table.package]))
            counts.update(cursor)
        return counts

    @classmethod
    @ModelView.button
    @without_check_access
    def cancel_on_platform(cls, voids):
        "Cancel the electronic waybills on the platform"
        voids = [v for v in cls.browse(voids)
            if v.state in {'to_cancel', 'failed'}]
        clients = {}
        for void in voids:
            try:
                if not void.shop:
                    raise taobao.TopError(None, 'no shop to cancel with',
                        temporary=False)
                if void.shop not in clients:
                    clients[void.shop] = void.shop.taobao_client()
                cainiao_cancel(clients[void.shop],
                    void.carrier.platform_code, void.number)
            except taobao.TopError as error:
                # An outage keeps it to cancel for the scheduler to retry
                void.state = 'to_cancel' if error.temporary else 'failed'
                void.error = str(error)
            else:
                void.state = 'cancelled'
                void.error = None
        cls.save(voids)

    @classmethod
    def cancel_on_platform_cron(cls):
        cls.cancel_on_platform(cls.search([('state', '=', 'to_cancel')]))


class ShipmentOut(metaclass=PoolMeta):
    __name__ = 'stock.shipment.out'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'request_waybills': {
                    'invisible': (~Eval('state').in_(REQUEST_STATES)
                        | ~Eval('has_shipping_service')),
                    'depends': ['state', 'has_shipping_service'],
                    },
                })

    @classmethod
    @ModelView.button
    def request_waybills(cls, shipments):
        """Number the parcels of the shipments with their carrier's service,
        one parcel with all the goods for a shipment without one; numbered
        parcels keep their number"""
        pool = Pool()
        Package = pool.get('stock.package')
        cls.check_waybill_requests(shipments)
        with without_check_access():
            cls.create_waybill_parcels(
                [s for s in shipments if not s.root_packages])
            shipments = cls.browse(shipments)
            packages = [p for s in shipments for p in s.root_packages]
            # A parcel numbered for another carrier takes a new number
            Package.void_waybills([p for p in packages
                    if p.waybill_carrier
                    and p.waybill_carrier != p.customer_shipment.carrier])
            Package.assign_waybills(Package.browse(packages))
            cls.set_shipping_reference(cls.browse(shipments))

    @classmethod
    def check_waybill_requests(cls, shipments):
        "Check the shipments can take numbers of their carrier's service"
        cainiao = []
        for shipment in shipments:
            if shipment.state not in REQUEST_STATES:
                raise WaybillError(gettext(
                        'shop_fulfilment.msg_waybill_shipment_state',
                        shipment=shipment.rec_name,
                        state=dict(shipment.fields_get(['state'])['state'][
                                'selection']).get(shipment.state)))
            carrier = shipment.carrier
            service = carrier.shipping_service if carrier else None
            if service not in SERVICES:
                raise WaybillError(gettext(
                        'shop_fulfilment.msg_waybill_no_service',
                        shipment=shipment.rec_name))
            getattr(shipment, 'validate_packing_%s' % service)()
            if service == 'cainiao':
                cainiao.append(shipment)
        shops = cls.get_waybill_shops(cainiao)
        for shipment in cainiao:
            shipment.check_cainiao(shops[shipment.id])

    @classmethod
    def create_waybill_parcels(cls, shipments):
        "Create one parcel with all the goods of each shipment"
        pool = Pool()
        Package = pool.get('stock.package')
        Move = pool.get('stock.move')
        ModelData = pool.get('ir.model.data')
        type_ = ModelData.get_id('shop_fulfilment', 'package_type_parcel')
        packages = Package.create([{
                    'company': s.company.id,
                    'type': type_,
                    'shipment': str(s),
                    } for s in shipments])
        package_of = {p.shipment.id: p.id for p in packages}
        moves = []
        for sub_shipments in grouped_slice(shipments):
            moves.extend(Move.search([
                        ('shipment', 'in', [str(s) for s in sub_shipments]),
                        ('to_location.type', '=', 'customer'),
                        ('state', '!=', 'cancelled'),
                        ('quantity', '!=', 0),
                        ], order=[('id', 'ASC')]))
        Move.check_period_closed(moves)
        by_package = defaultdict(list)
        for move in moves:
            by_package[package_of[move.shipment.id]].append(move.id)
        cls._set_move_packages(by_package)

    @classmethod
    def _set_move_packages(cls, by_package):
        """Put the moves in their parcel, by parcel id

        Written in SQL: Tryton's write of moves validates again every
        field whose domain depends on a function field, which costs more
        than the rest of the request for a batch; a parcel changes neither
        the quantities nor the measurements of the moves."""
        pool = Pool()
        Move = pool.get('stock.move')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = Move.__table__()
        for package_id, move_ids in by_package.items():
            for sub_ids in grouped_slice(move_ids):
                cursor.execute(*table.update(
                        [table.package, table.write_date, table.write_uid],
                        [package_id, CurrentTimestamp(), transaction.user],
                        where=reduce_ids(table.id, sub_ids)))
        transaction.counter += 1
        for cache in transaction.cache.values():
            if Move.__name__ in cache:
                for move_ids in by_package.values():
                    for move_id in move_ids:
                        cache[Move.__name__].pop(move_id, None)

    @classmethod
    def set_shipping_reference(cls, shipments):
        """The number of the first parcel is the shipment's

        Written in SQL: Tryton's write of shipments would compute again the
        planned dates of all their moves for a plain reference."""
        pool = Pool()
        Package = pool.get('stock.package')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        for sub_shipments in grouped_slice(shipments):
            sub_shipments = list(sub_shipments)
            numbers = {}
            for package in Package.search([
                        ('shipment', 'in', [str(s) for s in sub_shipments]),
                        ('parent', '=', None),
                        ('shipping_reference', '!=', None),
                        ], order=[('id', 'DESC')]):
                numbers[package.shipment.id] = package.shipping_reference
            for shipment in sub_shipments:
                number = numbers.get(shipment.id)
                if shipment.shipping_reference != number:
                    cursor.execute(*table.update(
                            [table.shipping_reference, table.write_date,
                                table.write_uid],
                            [number, CurrentTimestamp(), transaction.user],
                            where=table.id == shipment.id))
        transaction.counter += 1

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, shipments):
        pool = Pool()
        Package = pool.get('stock.package')
        super().cancel(shipments)
        Package.void_waybills(
            [p for s in shipments for p in s.root_packages])
        with without_check_access():
            cls.set_shipping_reference(cls.browse(shipments))

    def validate_packing_number_range(self):
        "A number range needs nothing from the shipment"

    def validate_packing_cainiao(self):
        "The electronic waybill needs the province and street of the receiver"
        address = self.delivery_address
        if address and not (address.subdivision and address.street):
            raise PackingValidationError(gettext(
                    'shop_fulfilment.msg_waybill_no_recipient',
                    shipment=self.rec_name))

    def check_cainiao(self, shop):
        "Check the shop and the sender the electronic waybill needs"
        if not shop:
            raise WaybillError(gettext(
                    'shop_fulfilment.msg_waybill_no_shop',
                    shipment=self.rec_name))
        if not shop.seller_user_id:
            raise WaybillError(gettext(
                    'shop_fulfilment.msg_waybill_no_user_id',
                    shop=shop.rec_name))
        if not self.cainiao_sender():
            raise WaybillError(gettext(
                    'shop_fulfilment.msg_waybill_no_sender',
                    warehouse=self.warehouse.rec_name))

    @classmethod
    def get_waybill_sales(cls, shipments):
        """Return by shipment id the platform sales each shipment carries,
        merged ones included, the earliest paid first"""
        pool = Pool()
        Move = pool.get('stock.move')
        Sale = pool.get('sale.sale')
        SaleLine = pool.get('sale.line')
        shipments = list(shipments)
        # Read as values: browsing the moves and their origins costs more
        # than the rest of the request for a batch
        lines = defaultdict(set)
        for sub_shipments in grouped_slice(shipments):
            for move in Move.search_read([
                        ('shipment', 'in', [str(s) for s in sub_shipments]),
                        ('origin', 'like', 'sale.line,%'),
                        ], order=[], fields_names=['shipment', 'origin']):
                shipment_id = int(move['shipment'].split(',')[1])
                line_id = int(move['origin'].split(',')[1])
                if line_id >= 0:
                    lines[shipment_id].add(line_id)
        sale_of = {}
        with without_check_access():
            for sub_ids in grouped_slice(set().union(*lines.values())):
                sale_of.update((l['id'], l['sale'])
                    for l in SaleLine.read(list(sub_ids), ['sale']))
        sales = {s.id: s for s in Sale.browse(sorted(set(sale_of.values())))
            if s.platform_trade}
        return {s.id: sorted({sales[sale_of[l]] for l in lines[s.id]
                    if sale_of[l] in sales},
                key=lambda s: (s.platform_paid or s.create_date, s.id))
            for s in shipments}

    @classmethod
    def get_waybill_shops(cls, shipments):
        """Return by shipment id the shop whose account requests its
        electronic waybills"""
        return {i: s[0].web_shop if s else None
            for i, s in cls.get_waybill_sales(shipments).items()}

    def cainiao_sender(self):
        "The sender of the warehouse address, else the company's"
        address = (self.warehouse.address
            or self.company.party.address_get())
        if not address or not (address.subdivision and address.street):
            return
        mobile = address.contact_mechanism_get('mobile')
        phone = address.contact_mechanism_get('phone')
        if not (mobile or phone):
            return
        return _compact({
                'name': address.party_name or address.party.name,
                'mobile': mobile.value if mobile else None,
                'phone': phone.value if phone else None,
                'address': _compact({
                        'province': address.subdivision.name,
                        'city': address.city,
                        'detail': address.street,
                        }),
                })

    def cainiao_recipient(self, sale):
        """The receiver of the delivery address, as the platform gave it
        for the sale: masked with its OAID when the platform masked it"""
        address = self.delivery_address
        recipient = {
            'name': address.party_name or address.party.name,
            'mobile': sale.receiver_mobile,
            'phone': sale.receiver_phone,
            'address': _compact({
                    'province': address.subdivision.name,
                    'city': address.city,
                    'detail': address.street,
                    }),
            }
        if address.platform_masked:
            recipient['oaid'] = address.platform_oaid
            recipient['tid'] = sale.web_id
        return _compact(recipient)


class ShipmentInReturn(metaclass=PoolMeta):
    __name__ = 'stock.shipment.in.return'

    def validate_packing_number_range(self):
        "Returns to suppliers take no waybill of these services"

    def validate_packing_cainiao(self):
        "Returns to suppliers take no waybill of these services"


class CreateShipping(metaclass=PoolMeta):
    __name__ = 'stock.shipment.create_shipping'

    def transition_start(self):
        next_state = super().transition_start()
        carrier = self.record.carrier
        if (self.model.__name__ == 'stock.shipment.out' and carrier
                and carrier.shipping_service in SERVICES):
            self.model.request_waybills([self.record])
        return next_state


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('stock.package.void_waybill|cancel_on_platform_cron',
                "Cancel Void Electronic Waybills"))
