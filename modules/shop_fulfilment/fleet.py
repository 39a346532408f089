# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Own-fleet delivery and installation (自有车队): areas and their records"
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Workflow, fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction


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
        "Cities and Districts", help="One per line, as on addresses.")

    @staticmethod
    def default_company():
        return Transaction().context.get('company')


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
        states={'readonly': Eval('state') != 'to_dispatch'})
    planned_date = fields.Date(
        "Delivery Date",
        states={'readonly': Eval('state') != 'to_dispatch'})
    address = fields.Many2One(
        'party.address', "Address", readonly=True)
    phone = fields.Char("Phone", readonly=True)
    installation = fields.Boolean(
        "Installation",
        states={'readonly': Eval('state') != 'to_dispatch'})
    notes = fields.Text("Notes")
    state = fields.Selection([
            ('to_dispatch', "To Dispatch"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('planned_date', 'ASC NULLS FIRST'))
        cls._transitions |= {('to_dispatch', 'cancelled')}
        cls._buttons.update({
                'cancel': {
                    'invisible': Eval('state') != 'to_dispatch',
                    'icon': 'tryton-cancel',
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

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, deliveries):
        pass

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
                    address=sale.shipment_address,
                    phone=sale.receiver_mobile or sale.receiver_phone,
                    installation=True, notes=notes or None))
        cls.save(deliveries)
        return deliveries


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

    @classmethod
    def after_finance_review(cls, sales):
        pool = Pool()
        Delivery = pool.get('web.shop.fleet_delivery')
        super().after_finance_review(sales)
        Delivery.from_sales([s for s in sales
                if s.delivery_mode == 'own_fleet' and not s.fleet_deliveries])
