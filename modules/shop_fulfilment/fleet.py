# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Own-fleet delivery and installation (自有车队): areas, the record of each
order (建档), its dispatch to an outlet and a worker (派网点, 派工) and the
outcome at the buyer's door"""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Workflow, fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from . import taobao
from .dispatch import DispatchError
from .sale import china_date

# The hour of an agreed day without a time: the fleet's first round
FIRST_ROUND = dt.time(9)
_DISPATCHABLE = Eval('state').in_(['to_dispatch', 'failed'])


def china_time(date, time=FIRST_ROUND):
    "The naive UTC datetime of the China time on the date"
    if date:
        return (dt.datetime.combine(date, time, tzinfo=taobao.CHINA_TZ)
            .astimezone(dt.timezone.utc).replace(tzinfo=None))


class ServiceArea(DeactivableMixin, ModelSQL, ModelView):
    "Service Area"
    __name__ = 'web.shop.service_area'

    company = fields.Many2One('company.company', "Company", required=True)
    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code")
    subdivision = fields.Many2One(
        'country.subdivision', "Province",
        help="The province the fleet serves in this area.")
    cities = fields.Text(
        "Cities and Districts",
        help="One per line, as on addresses: the own-fleet orders to these "
        "places get this area.")

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @property
    def places(self):
        return [p.strip() for p in (self.cities or '').splitlines()
            if p.strip()]

    def covers(self, address):
        "The address is in one of the area's cities or districts"
        street = address.street or ''
        return (self.subdivision == address.subdivision
            and any(p == address.city or street.startswith(p)
                for p in self.places))

    @classmethod
    def covering(cls, company, address):
        "The only area of the company listing the address's place, if any"
        if not company or not address or not address.subdivision:
            return
        areas = [a for a in cls.search([
                    ('company', '=', company.id),
                    ('subdivision', '=', address.subdivision.id),
                    ]) if a.covers(address)]
        if len(areas) == 1:
            return areas[0]


class FleetDelivery(Workflow, ModelSQL, ModelView):
    "Fleet Delivery"
    __name__ = 'web.shop.fleet_delivery'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    sale = fields.Many2One(
        'sale.sale', "Sale", required=True, readonly=True,
        ondelete='CASCADE')
    shipment = fields.Many2One(
        'stock.shipment.out', "Shipment", readonly=True)
    service_area = fields.Many2One(
        'web.shop.service_area', "Service Area", required=True,
        domain=[('company', '=', Eval('company', -1))],
        states={'readonly': ~_DISPATCHABLE})
    planned_date = fields.Date(
        "Delivery Date",
        states={'readonly': ~_DISPATCHABLE})
    address = fields.Many2One(
        'party.address', "Address", readonly=True)
    phone = fields.Char("Phone", readonly=True)
    installation = fields.Boolean(
        "Installation",
        states={'readonly': Eval('state') != 'to_dispatch'})
    notes = fields.Text("Notes")
    outlet = fields.Many2One(
        'web.shop.service_outlet', "Service Outlet", ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ('service_area', '=', Eval('service_area', -1)),
            ],
        states={'readonly': ~_DISPATCHABLE})
    worker = fields.Many2One(
        'company.employee', "Worker", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={'readonly': ~_DISPATCHABLE})
    delivery_time = fields.DateTime(
        "Delivery Time",
        states={'readonly': ~_DISPATCHABLE},
        help="The time agreed with the buyer.")
    dispatched_by = fields.Many2One(
        'res.user', "Dispatched By", readonly=True)
    dispatched_at = fields.DateTime("Dispatched At", readonly=True)
    installed = fields.Boolean(
        "Installed",
        states={
            'invisible': ~Eval('installation'),
            'readonly': Eval('state') != 'dispatched',
            })
    signed_by = fields.Char(
        "Signed By",
        states={'readonly': Eval('state') != 'dispatched'},
        help="The person who signed for the goods (签收人).")
    delivered_at = fields.DateTime(
        "Delivered At", readonly=True,
        states={'invisible': ~Eval('delivered_at')})
    failure_reason = fields.Char(
        "Failure Reason", readonly=True,
        states={'invisible': ~Eval('failure_reason')},
        help="Why the last delivery attempt failed.")
    failed_at = fields.DateTime(
        "Failed At", readonly=True,
        states={'invisible': ~Eval('failed_at')})
    state = fields.Selection([
            ('to_dispatch', "To Dispatch"),
            ('dispatched', "Dispatched"),
            ('delivered', "Delivered"),
            ('failed', "Failed"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('planned_date', 'ASC NULLS FIRST'))
        cls._transitions |= {
            ('to_dispatch', 'dispatched'),
            ('failed', 'dispatched'),
            ('dispatched', 'delivered'),
            ('dispatched', 'failed'),
            ('to_dispatch', 'cancelled'),
            ('failed', 'cancelled'),
            }
        cls._buttons.update({
                'cancel': {
                    'invisible': ~_DISPATCHABLE,
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'dispatch': {
                    'invisible': ~_DISPATCHABLE,
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'fail': {
                    'invisible': Eval('state') != 'dispatched',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'deliver': {
                    'invisible': Eval('state') != 'dispatched',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'to_dispatch'

    def get_rec_name(self, name):
        return self.sale.rec_name

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('sale.rec_name',) + tuple(clause[1:])]

    @classmethod
    def default_installation(cls):
        return True

    @fields.depends('delivery_time')
    def on_change_delivery_time(self):
        if self.delivery_time:
            self.planned_date = china_date(self.delivery_time)

    @classmethod
    def copy(cls, deliveries, default=None):
        default = default.copy() if default is not None else {}
        for name in ['outlet', 'worker', 'dispatched_by', 'dispatched_at',
                'installed', 'signed_by', 'delivered_at', 'failure_reason',
                'failed_at']:
            default.setdefault(name)
        return super().copy(deliveries, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, deliveries):
        pass

    def check_dispatch(self):
        if not (self.outlet and self.worker and self.delivery_time):
            raise DispatchError(gettext(
                    'shop_fulfilment.msg_dispatch_incomplete',
                    delivery=self.rec_name))
        if self.outlet.service_area != self.service_area:
            raise DispatchError(gettext(
                    'shop_fulfilment.msg_dispatch_outlet_area',
                    delivery=self.rec_name, outlet=self.outlet.rec_name,
                    area=self.service_area.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('dispatched')
    def dispatch(cls, deliveries):
        now = dt.datetime.now()
        for delivery in deliveries:
            delivery.check_dispatch()
            delivery.planned_date = china_date(delivery.delivery_time)
            delivery.dispatched_by = Transaction().user
            delivery.dispatched_at = now
        cls.save(deliveries)

    @classmethod
    @ModelView.button_action('shop_fulfilment.wizard_fail_fleet')
    def fail(cls, deliveries):
        pass

    @classmethod
    @Workflow.transition('failed')
    def record_failure(cls, deliveries, reason):
        "The worker could not deliver: the order waits for a new dispatch"
        reason = (reason or '').strip()
        if not 2 <= len(reason) <= 200:
            raise DispatchError(gettext(
                    'shop_fulfilment.msg_dispatch_failure_reason'))
        cls.write(deliveries, {
                'failure_reason': reason,
                'failed_at': dt.datetime.now(),
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('delivered')
    def deliver(cls, deliveries):
        for delivery in deliveries:
            if not (delivery.signed_by or '').strip():
                raise DispatchError(gettext(
                        'shop_fulfilment.msg_dispatch_signed_by',
                        delivery=delivery.rec_name))
        cls.write(deliveries, {'delivered_at': dt.datetime.now()})
        cls.ship(deliveries)
        cls.record_signature(deliveries)

    @classmethod
    def ship(cls, deliveries):
        """The goods the warehouse packed for the truck reached the buyers:
        their shipments are done"""
        pool = Pool()
        Shipment = pool.get('stock.shipment.out')
        shipments = []
        for delivery in deliveries:
            shipment = delivery.shipment
            if not shipment or shipment.state == 'done':
                continue
            if shipment.state != 'packed':
                raise DispatchError(gettext(
                        'shop_fulfilment.msg_dispatch_not_packed',
                        delivery=delivery.rec_name,
                        shipment=shipment.rec_name))
            shipments.append(shipment)
        Shipment.done(shipments)

    @classmethod
    def record_signature(cls, deliveries):
        """The buyers signed at the door: their shipments are delivered,
        which starts the return window as a carrier's signature does"""
        pool = Pool()
        Shipment = pool.get('stock.shipment.out')
        to_write = []
        for delivery in deliveries:
            if delivery.shipment:
                to_write.extend(([delivery.shipment], {
                            'tracking_state': 'delivered',
                            'delivered_at': delivery.delivered_at,
                            }))
        if to_write:
            Shipment.write(*to_write)

    @classmethod
    def from_sales(cls, sales):
        "Create the records (建档) of the own-fleet sales"
        deliveries = []
        for sale in sales:
            notes = '\n'.join(filter(None, [
                        sale.buyer_message, sale.seller_memo]))
            shipments = [s for s in sale.shipments if s.state != 'cancelled']
            deliveries.append(cls(
                    company=sale.company, sale=sale,
                    shipment=shipments[0] if shipments else None,
                    service_area=sale.service_area,
                    planned_date=sale.scheduled_date,
                    delivery_time=china_time(sale.scheduled_date),
                    address=sale.shipment_address,
                    phone=sale.receiver_mobile or sale.receiver_phone,
                    installation=True, notes=notes or None))
        cls.save(deliveries)
        return deliveries


class ShipmentOut(metaclass=PoolMeta):
    __name__ = 'stock.shipment.out'

    @property
    def own_fleet(self):
        "Our own trucks carry the goods"
        return any(m.sale and m.sale.delivery_mode == 'own_fleet'
            for m in self.outgoing_moves)

    @classmethod
    def check_waybills(cls, shipments):
        # No carrier's waybill goes on our own trucks: the fleet note does
        super().check_waybills([s for s in shipments if not s.own_fleet])

    @property
    def platform_waybill_missing(self):
        return super().platform_waybill_missing and not self.own_fleet

    def platform_waybill(self, sale):
        number = super().platform_waybill(sale)
        if not number and self.own_fleet:
            # The platform needs a number for every trade shipped; confirmed
            # as "other" logistics (自己联系物流), the trade's own stands for it
            number = sale.web_id
        return number

    @property
    def tracked_on_platform(self):
        # No carrier scans our own trucks: the fleet records the signature
        return super().tracked_on_platform and not self.own_fleet


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    fleet_deliveries = fields.One2Many(
        'web.shop.fleet_delivery', 'sale', "Fleet Deliveries",
        readonly=True,
        states={'invisible': Eval('delivery_mode') != 'own_fleet'})

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('fleet_deliveries')
        return super().copy(sales, default=default)

    @fields.depends('delivery_mode', 'service_area', 'company',
        'shipment_address')
    def on_change_delivery_mode(self):
        pool = Pool()
        Area = pool.get('web.shop.service_area')
        parent = getattr(super(), 'on_change_delivery_mode', None)
        if parent:
            parent()
        if self.delivery_mode == 'own_fleet' and not self.service_area:
            self.service_area = Area.covering(
                self.company, self.shipment_address)

    @classmethod
    def after_finance_review(cls, sales):
        pool = Pool()
        Delivery = pool.get('web.shop.fleet_delivery')
        super().after_finance_review(sales)
        Delivery.from_sales([s for s in sales
                if s.delivery_mode == 'own_fleet' and not s.fleet_deliveries])
