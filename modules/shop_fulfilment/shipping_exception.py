# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Shipping exceptions (发货异常): a wrong item (错发), a missing item (漏发),
goods damaged in transit (破损) or a carrier delay, and the replacement sent
at no charge (补发)"""
import datetime as dt
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction, without_check_access

KINDS = [
    ('wrong_item', "Wrong Item"),
    ('missing_item', "Missing Item"),
    ('damaged', "Damaged in Transit"),
    ('delay', "Carrier Delay"),
    ]
# The kinds the warehouse settles by sending the goods again
REPLACED = {'wrong_item', 'missing_item', 'damaged'}
_ACTIVE = Eval('state').in_(['open', 'in_progress'])


class ShippingExceptionError(UserError):
    "A shipping exception that cannot take the step as it is"


class ShippingException(Workflow, ModelSQL, ModelView):
    "Shipping Exception"
    __name__ = 'web.shop.shipping_exception'

    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={'readonly': Eval('state') != 'open'})
    sale = fields.Many2One(
        'sale.sale', "Sale", required=True, ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={'readonly': Eval('state') != 'open'})
    shipment = fields.Many2One(
        'stock.shipment.out', "Shipment", ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ('moves.origin.sale', '=', Eval('sale', -1), 'sale.line'),
            ],
        states={'readonly': Eval('state') != 'open'},
        help="The shipment of the order the exception is about.")
    kind = fields.Selection(
        KINDS, "Kind", required=True, sort=False,
        states={'readonly': Eval('state') != 'open'})
    kind_string = kind.translated('kind')
    description = fields.Text(
        "Description", required=True,
        states={'readonly': ~_ACTIVE})
    lines = fields.One2Many(
        'web.shop.shipping_exception.line', 'exception', "Lines",
        states={
            'readonly': ~_ACTIVE | Bool(Eval('replacement_shipment')),
            'invisible': Eval('kind') == 'delay',
            },
        help="The goods to send again.")
    replacement_shipment = fields.Many2One(
        'stock.shipment.out', "Replacement Shipment", readonly=True,
        states={'invisible': ~Eval('kind').in_(list(REPLACED))},
        help="The goods sent again at no charge.")
    return_shipment = fields.Many2One(
        'stock.shipment.out.return', "Return Shipment", readonly=True,
        states={'invisible': Eval('kind') != 'wrong_item'},
        help="The wrong goods coming back from the buyer.")
    created_by = fields.Many2One('res.user', "Created By", readonly=True)
    created_at = fields.DateTime("Created At", readonly=True)
    resolution = fields.Text(
        "Resolution", states={'readonly': ~_ACTIVE},
        help="How the exception was settled.")
    resolved_by = fields.Many2One('res.user', "Resolved By", readonly=True)
    resolved_at = fields.DateTime("Resolved At", readonly=True)
    state = fields.Selection([
            ('open', "Open"),
            ('in_progress', "In Progress"),
            ('resolved', "Resolved"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('created_at', 'DESC'))
        cls._transitions |= {
            ('open', 'in_progress'),
            ('open', 'resolved'),
            ('in_progress', 'resolved'),
            ('open', 'cancelled'),
            ('in_progress', 'cancelled'),
            }
        cls._buttons.update({
                'process': {
                    'invisible': Eval('state') != 'open',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'create_replacement': {
                    'invisible': (~_ACTIVE
                        | ~Eval('kind').in_(list(REPLACED))
                        | Bool(Eval('replacement_shipment'))),
                    'icon': 'tryton-launch',
                    'depends': ['state', 'kind', 'replacement_shipment'],
                    },
                'resolve': {
                    'invisible': ~_ACTIVE,
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~_ACTIVE,
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def default_created_by(cls):
        return Transaction().user

    @classmethod
    def default_created_at(cls):
        return dt.datetime.now()

    @fields.depends('sale', '_parent_sale.shipments', 'shipment')
    def on_change_sale(self):
        if self.sale and not self.shipment:
            shipments = [s for s in self.sale.shipments
                if s.state != 'cancelled']
            if len(shipments) == 1:
                self.shipment, = shipments

    def get_rec_name(self, name):
        return '%s: %s' % (self.sale.rec_name, self.kind_string)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('sale.rec_name',) + tuple(clause[1:])]

    @classmethod
    def copy(cls, exceptions, default=None):
        default = default.copy() if default is not None else {}
        for name in ['replacement_shipment', 'return_shipment', 'created_by',
                'created_at', 'resolution', 'resolved_by', 'resolved_at']:
            default.setdefault(name)
        return super().copy(exceptions, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('in_progress')
    def process(cls, exceptions):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, exceptions):
        pass

    @classmethod
    @ModelView.button
    def resolve(cls, exceptions):
        "Settled by hand: the note says how"
        for exception in exceptions:
            if not (exception.resolution or '').strip():
                raise ShippingExceptionError(gettext(
                        'shop_fulfilment.msg_shipping_exception_resolution',
                        exception=exception.rec_name))
        cls._resolve(exceptions)

    @classmethod
    @Workflow.transition('resolved')
    def _resolve(cls, exceptions):
        cls.write(exceptions, {
                'resolved_by': Transaction().user,
                'resolved_at': dt.datetime.now(),
                })

    @property
    def shipped(self):
        "The replacement, and the return if any, are done"
        return (self.replacement_shipment
            and self.replacement_shipment.state == 'done'
            and (not self.return_shipment
                or self.return_shipment.state == 'done'))

    @classmethod
    def resolve_shipped(cls, exceptions):
        cls._resolve([e for e in exceptions
                if e.state in {'open', 'in_progress'} and e.shipped])

    @classmethod
    @ModelView.button
    def create_replacement(cls, exceptions):
        "Send the goods again at no charge, and take the wrong ones back"
        pool = Pool()
        ShipmentOut = pool.get('stock.shipment.out')
        Return = pool.get('stock.shipment.out.return')
        exceptions = [e for e in exceptions
            if e.kind in REPLACED and not e.replacement_shipment
            and e.state in {'open', 'in_progress'}]
        for exception in exceptions:
            exception.check_replacement()
            exception.replacement_shipment = (
                exception.get_replacement_shipment())
            if exception.kind == 'wrong_item':
                exception.return_shipment = exception.get_return_shipment()
        ShipmentOut.save([e.replacement_shipment for e in exceptions])
        Return.save([e.return_shipment for e in exceptions
                if e.return_shipment])
        cls.save(exceptions)
        # The warehouse assigns, picks and packs it as any order
        ShipmentOut.wait([e.replacement_shipment for e in exceptions])
        cls.process([e for e in exceptions if e.state == 'open'])

    def check_replacement(self):
        if not self.lines:
            raise ShippingExceptionError(gettext(
                    'shop_fulfilment.msg_shipping_exception_no_lines',
                    exception=self.rec_name))
        if self.kind == 'wrong_item':
            for line in self.lines:
                if not line.wrong_product:
                    raise ShippingExceptionError(gettext(
                            'shop_fulfilment'
                            '.msg_shipping_exception_wrong_product',
                            exception=self.rec_name,
                            product=line.product.rec_name))

    def _shipment_values(self):
        "Customer, address, warehouse and carrier of the original shipment"
        sale, original = self.sale, self.shipment
        if original:
            return (original.customer, original.delivery_address,
                original.warehouse, original.carrier)
        return (sale.shipment_party or sale.party, sale.shipment_address,
            sale.warehouse, sale.carrier)

    def _today(self):
        Date = Pool().get('ir.date')
        with Transaction().set_context(company=self.company.id):
            return Date.today()

    def get_replacement_shipment(self):
        ShipmentOut = Pool().get('stock.shipment.out')
        customer, address, warehouse, carrier = self._shipment_values()
        today = self._today()
        shipment = ShipmentOut(
            company=self.company, customer=customer,
            delivery_address=address, warehouse=warehouse,
            planned_date=today, reference=self.sale.number)
        shipment.on_change_warehouse()
        shipment.carrier = carrier
        shipment.moves = [line.get_move(
                shipment.warehouse_output, customer.customer_location, today)
            for line in self.lines]
        return shipment

    def get_return_shipment(self):
        Return = Pool().get('stock.shipment.out.return')
        customer, address, warehouse, _ = self._shipment_values()
        today = self._today()
        shipment = Return(
            company=self.company, customer=customer,
            contact_address=address, warehouse=warehouse,
            planned_date=today, reference=self.sale.number)
        shipment.on_change_warehouse()
        shipment.moves = [line.get_move(
                customer.customer_location, shipment.warehouse_input, today,
                product=line.wrong_product)
            for line in self.lines]
        return shipment


class ShippingExceptionLine(ModelSQL, ModelView):
    "Shipping Exception Line"
    __name__ = 'web.shop.shipping_exception.line'

    exception = fields.Many2One(
        'web.shop.shipping_exception', "Exception", required=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True,
        domain=[('type', 'in', ['goods', 'assets'])],
        help="The goods the buyer should have received.")
    quantity = fields.Float(
        "Quantity", digits='unit', required=True,
        domain=[('quantity', '>', 0)])
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'on_change_with_unit')
    wrong_product = fields.Many2One(
        'product.product', "Wrong Product",
        domain=[('type', 'in', ['goods', 'assets'])],
        states={
            'invisible': (
                Eval('_parent_exception', {}).get('kind') != 'wrong_item'),
            'required': (
                Eval('_parent_exception', {}).get('kind') == 'wrong_item'),
            },
        help="The goods sent by mistake, to take back.")

    @fields.depends('product')
    def on_change_with_unit(self, name=None):
        return self.product.default_uom if self.product else None

    def get_rec_name(self, name):
        return '%s @ %s' % (self.product.rec_name, self.exception.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('product.rec_name',) + tuple(clause[1:])]

    def get_move(self, from_location, to_location, date, product=None):
        "A move of the line's quantity at no charge"
        pool = Pool()
        Move = pool.get('stock.move')
        product = product or self.product
        company = self.exception.company
        return Move(
            product=product, unit=product.default_uom,
            quantity=self.quantity, from_location=from_location,
            to_location=to_location, planned_date=date, company=company,
            unit_price=Decimal(0), currency=company.currency, origin=self)


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['web.shop.shipping_exception.line']


class ShipmentOut(metaclass=PoolMeta):
    __name__ = 'stock.shipment.out'

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def done(cls, shipments):
        pool = Pool()
        Exception_ = pool.get('web.shop.shipping_exception')
        super().done(shipments)
        with without_check_access():
            Exception_.resolve_shipped(Exception_.search([
                        ('replacement_shipment', 'in',
                            [s.id for s in shipments]),
                        ]))


class ShipmentOutReturn(metaclass=PoolMeta):
    __name__ = 'stock.shipment.out.return'

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def done(cls, shipments):
        pool = Pool()
        Exception_ = pool.get('web.shop.shipping_exception')
        super().done(shipments)
        with without_check_access():
            Exception_.resolve_shipped(Exception_.search([
                        ('return_shipment', 'in', [s.id for s in shipments]),
                        ]))


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    shipping_exceptions = fields.One2Many(
        'web.shop.shipping_exception', 'sale', "Shipping Exceptions",
        readonly=True)
    replacement_shipments = fields.Function(fields.Many2Many(
            'stock.shipment.out', None, None, "Replacement Shipments",
            help="The goods sent again at no charge."),
        'get_replacement_shipments')

    def get_replacement_shipments(self, name):
        return [e.replacement_shipment.id for e in self.shipping_exceptions
            if e.replacement_shipment]

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('shipping_exceptions')
        return super().copy(sales, default=default)
