# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The shop's routing rules: carrier (快递策略), warehouse and gifts (赠品策略)"
from decimal import Decimal

from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, fields, sequence_ordered)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If

from .delivery import DELIVERY_MODES, DELIVERY_MODES_OPTIONAL
from .shop import _PLATFORM, _platform_states

_RANGE_HELP = "Leave empty for no limit."


class Shop(metaclass=PoolMeta):
    __name__ = 'web.shop'

    default_carrier = fields.Many2One(
        'carrier', "Default Carrier", ondelete='RESTRICT',
        domain=[('carrier_product.salable', '=', True)],
        states=_platform_states(),
        help="The shop ships everything by this carrier "
        "unless a rule says otherwise.")
    default_delivery_mode = fields.Selection(
        DELIVERY_MODES, "Default Delivery Mode",
        states=_platform_states(required=True))
    carrier_rules = fields.One2Many(
        'web.shop.carrier_rule', 'shop', "Carrier Rules",
        states=_platform_states(),
        help="The first rule matching an order chooses its carrier.")
    warehouse_rules = fields.One2Many(
        'web.shop.warehouse_rule', 'shop', "Warehouse Rules",
        states=_platform_states(),
        help="The first rule matching an order chooses its warehouse, "
        "else the shop's first warehouse ships it.")
    gift_rules = fields.One2Many(
        'web.shop.gift_rule', 'shop', "Gift Rules",
        states=_platform_states(),
        help="Each rule matching an order adds its gift to it.")

    @classmethod
    def default_default_delivery_mode(cls):
        return 'express'

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('//page[@id="rules"]', 'states', {'invisible': ~_PLATFORM}),
            ]


class CarrierRule(sequence_ordered(), ModelSQL, ModelView):
    "Shop Carrier Rule"
    __name__ = 'web.shop.carrier_rule'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True, ondelete='CASCADE')
    delivery_mode = fields.Selection(
        DELIVERY_MODES_OPTIONAL, "Delivery Mode",
        help="Leave empty for any delivery mode.")
    delivery_mode_string = delivery_mode.translated('delivery_mode')
    subdivision = fields.Many2One(
        'country.subdivision', "Province", ondelete='RESTRICT',
        help="Leave empty for any province.")
    city = fields.Char(
        "City", help="Compared with the city of the shipment address.\n"
        "Leave empty for any city.")
    min_weight = fields.Float(
        "From Weight", digits=(16, 3),
        domain=['OR', ('min_weight', '=', None), ('min_weight', '>=', 0)],
        help="In kg, included: the weight of the goods.\n" + _RANGE_HELP)
    max_weight = fields.Float(
        "Below Weight", digits=(16, 3),
        domain=['OR', ('max_weight', '=', None), ('max_weight', '>', 0)],
        help="In kg, excluded: the weight of the goods.\n" + _RANGE_HELP)
    min_amount = fields.Numeric(
        "From Amount", digits=(16, 2),
        help="Included: the amount of the goods.\n" + _RANGE_HELP)
    max_amount = fields.Numeric(
        "Below Amount", digits=(16, 2),
        help="Excluded: the amount of the goods.\n" + _RANGE_HELP)
    category = fields.Many2One(
        'product.category', "Product Category", ondelete='RESTRICT',
        help="Applies when a product of the order is in this category "
        "or in one of its children.")
    carrier = fields.Many2One(
        'carrier', "Carrier", required=True, ondelete='CASCADE',
        domain=[('carrier_product.salable', '=', True)],
        help="Skipped when the carrier cannot ship the order "
        "(see the carrier selection).")

    def get_rec_name(self, name):
        criteria = [self.subdivision.rec_name if self.subdivision else None,
            self.city,
            self.delivery_mode_string if self.delivery_mode else None,
            self.category.rec_name if self.category else None,
            _range(self.min_weight, self.max_weight, ' kg'),
            _range(self.min_amount, self.max_amount)]
        return '%s: %s' % (
            ', '.join(filter(None, criteria)) or '*', self.carrier.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('carrier.rec_name',) + tuple(clause[1:])]

    def match(self, sale):
        "Tell if the rule applies to the sale"
        if (self.delivery_mode
                and self.delivery_mode != sale_delivery_mode(sale)):
            return False
        if not match_place(self, sale.shipment_address):
            return False
        if (self.min_weight is not None or self.max_weight is not None) \
                and not in_range(goods_weight(sale),
                    self.min_weight, self.max_weight):
            return False
        if not in_range(goods_amount(sale), self.min_amount, self.max_amount):
            return False
        if self.category and not any(
                in_category(l.product, self.category)
                for l in goods_lines(sale)):
            return False
        return True


class WarehouseRule(sequence_ordered(), ModelSQL, ModelView):
    "Shop Warehouse Rule"
    __name__ = 'web.shop.warehouse_rule'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True, ondelete='CASCADE')
    subdivision = fields.Many2One(
        'country.subdivision', "Province", required=True,
        ondelete='RESTRICT')
    city = fields.Char(
        "City", help="Compared with the city of the shipment address.\n"
        "Leave empty for the whole province.")
    warehouse = fields.Many2One(
        'stock.location', "Warehouse", required=True, ondelete='CASCADE',
        domain=[('type', '=', 'warehouse')])

    def get_rec_name(self, name):
        place = ' '.join(filter(None, [self.subdivision.rec_name, self.city]))
        return '%s: %s' % (place, self.warehouse.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('warehouse.rec_name',) + tuple(clause[1:])]

    def match(self, sale):
        "Tell if the rule applies to the sale"
        return match_place(self, sale.shipment_address)


class GiftRule(DeactivableMixin, sequence_ordered(), ModelSQL, ModelView):
    "Shop Gift Rule"
    __name__ = 'web.shop.gift_rule'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True, ondelete='CASCADE')
    name = fields.Char("Name", required=True, translate=True)
    start_date = fields.Date(
        "Start Date",
        domain=[If(Eval('start_date') & Eval('end_date'),
                ('start_date', '<=', Eval('end_date')), ())],
        help="The first day of payment (China time) of the orders.")
    end_date = fields.Date(
        "End Date",
        domain=[If(Eval('start_date') & Eval('end_date'),
                ('end_date', '>=', Eval('start_date')), ())],
        help="The last day of payment (China time) of the orders.")
    min_amount = fields.Numeric(
        "From Amount", digits=(16, 2),
        help="Included: the amount of the goods.\n" + _RANGE_HELP)
    product = fields.Many2One(
        'product.product', "Product", ondelete='RESTRICT',
        help="Applies only when the order contains this product.")
    gift_product = fields.Many2One(
        'product.product', "Gift", required=True, ondelete='RESTRICT',
        domain=[('type', '=', 'goods')])
    quantity = fields.Float(
        "Quantity", required=True, digits=(16, 4),
        domain=[('quantity', '>', 0)])

    @classmethod
    def default_quantity(cls):
        return 1

    def match(self, sale):
        "Tell if the rule applies to the sale"
        date = sale.sale_date
        if self.start_date and (not date or date < self.start_date):
            return False
        if self.end_date and (not date or date > self.end_date):
            return False
        if not in_range(goods_amount(sale), self.min_amount, None):
            return False
        if self.product and self.product not in {
                l.product for l in goods_lines(sale)}:
            return False
        return True

    def get_line(self, sale):
        "Return the free sale line of the gift"
        pool = Pool()
        Line = pool.get('sale.line')
        product = self.gift_product
        return Line(
            sale=sale, type='line', product=product, quantity=self.quantity,
            unit=product.sale_uom, unit_price=Decimal(0), taxes=[],
            description=product.name, gift_rule=self,
            platform_oid=None, platform_refund_status=None,
            platform_gift=False, sku_properties=None)


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    carrier_rule = fields.Many2One(
        'web.shop.carrier_rule', "Carrier Rule", readonly=True,
        ondelete='SET NULL',
        states={'invisible': ~Eval('carrier_rule')},
        help="The rule of the shop that chose the carrier.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'apply_rules': {
                    'invisible': ~Eval('platform_trade')
                    | (Eval('state') != 'draft'),
                    'icon': 'tryton-refresh',
                    'depends': ['platform_trade', 'state'],
                    },
                })

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('carrier_rule')
        return super().copy(sales, default=default)

    @classmethod
    def from_platform(cls, shop, values, products, party, address, trade):
        sale = super().from_platform(
            shop, values, products, party, address, trade)
        cls.apply_shop_rules([sale])
        return sale

    def _update_from_platform(
            self, trade, payload, values, index, provinces, changes):
        def routed():
            return (self.shipment_address, [l.platform_key
                    for l in self.lines if not getattr(l, 'gift_rule', None)])
        before = routed()
        outcome = super()._update_from_platform(
            trade, payload, values, index, provinces, changes)
        # Only a new address or new items route the order again: the
        # reviewer's choices stay otherwise
        if outcome == 'updated' and routed() != before:
            self.apply_shop_rules([self])
        return outcome

    @classmethod
    @ModelView.button
    def apply_rules(cls, sales):
        "Choose again the warehouse, the carrier and the gifts"
        sales = [s for s in sales if s.state == 'draft']
        cls.apply_shop_rules(sales)
        cls.save(sales)

    @classmethod
    def apply_shop_rules(cls, sales):
        """Set the warehouse and the carrier and add the gifts that the rules
        of their shop give to the sales, without saving them"""
        for sale in sales:
            shop = sale.web_shop
            if not shop:
                continue
            if ('delivery_mode' in cls._fields
                    and not getattr(sale, 'delivery_mode', None)):
                sale.delivery_mode = shop.default_delivery_mode
            sale._apply_gift_rules(shop.gift_rules)
            sale.warehouse = sale._rule_warehouse(shop)
            sale.carrier, sale.carrier_rule = sale._rule_carrier(shop)

    def _apply_gift_rules(self, rules):
        """Keep one gift line per matching rule, after the other lines;
        the gifts of the rules that no longer match are removed"""
        lines = [l for l in self.lines if not getattr(l, 'gift_rule', None)]
        given = {l.gift_rule: l for l in self.lines
            if getattr(l, 'gift_rule', None)}
        sequence = max((l.sequence or 0 for l in lines), default=0)
        gifts = []
        for rule in rules:
            if not rule.match(self):
                continue
            gift = given.get(rule) or rule.get_line(self)
            sequence += 1
            gift.sequence = sequence
            gifts.append(gift)
        self.lines = lines + gifts

    def _rule_warehouse(self, shop):
        for rule in shop.warehouse_rules:
            if rule.match(self):
                return rule.warehouse
        return shop.warehouse

    def _rule_carrier(self, shop):
        "Return the carrier and the rule that chose it"
        available = self.on_change_with_available_carriers()
        for rule in shop.carrier_rules:
            if rule.carrier in available and rule.match(self):
                return rule.carrier, rule
        if shop.default_carrier in available:
            return shop.default_carrier, None
        return None, None


class Line(metaclass=PoolMeta):
    __name__ = 'sale.line'

    gift_rule = fields.Many2One(
        'web.shop.gift_rule', "Gift Rule", readonly=True,
        ondelete='RESTRICT',
        states={'invisible': ~Eval('gift_rule')},
        help="The rule of the shop that gave this gift.")


def sale_delivery_mode(sale):
    mode = getattr(sale, 'delivery_mode', None)
    if not mode and sale.web_shop:
        mode = sale.web_shop.default_delivery_mode
    return mode


def goods_lines(sale, gifts=False):
    "The lines of goods of the sale, with the gifts of the rules or not"
    return [l for l in sale.lines
        if l.type == 'line' and l.product and l.product.type != 'service'
        and (gifts or not getattr(l, 'gift_rule', None))]


def goods_amount(sale):
    amount = sum((Decimal(str(l.quantity or 0)) * (l.unit_price or 0)
            for l in goods_lines(sale)), Decimal(0))
    return sale.currency.round(amount) if sale.currency else amount


def goods_weight(sale):
    "The weight in kg of the goods of the sale, the gifts included"
    pool = Pool()
    Uom = pool.get('product.uom')
    ModelData = pool.get('ir.model.data')
    kilogram = Uom(ModelData.get_id('product', 'uom_kilogram'))
    weight = 0
    for line in goods_lines(sale, gifts=True):
        template = line.product.template
        if not template.weight or not line.quantity:
            continue
        quantity = Uom.compute_qty(
            line.unit, line.quantity, template.default_uom, round=False)
        weight += Uom.compute_qty(
            template.weight_uom, template.weight * quantity, kilogram,
            round=False)
    return weight


def in_range(value, minimum, maximum):
    "Tell if minimum <= value < maximum, either limit being optional"
    return ((minimum is None or value >= minimum)
        and (maximum is None or value < maximum))


def _range(minimum, maximum, unit=''):
    if minimum is None and maximum is None:
        return None
    return '[%s%s, %s%s)' % (
        '' if minimum is None else minimum, unit,
        '' if maximum is None else maximum, unit)


def city_key(city):
    "The city as written with or without its 市"
    city = (city or '').strip()
    return city[:-1] if city.endswith('市') else city


def match_place(rule, address):
    "Tell if the address is in the province and city of the rule"
    if rule.subdivision and (not address
            or address.subdivision != rule.subdivision):
        return False
    if rule.city and (not address
            or city_key(address.city) != city_key(rule.city)):
        return False
    return True


def in_category(product, category):
    "Tell if the product is in the category or one of its children"
    for parent in product.template.categories_all:
        while parent:
            if parent == category:
                return True
            parent = parent.parent
    return False
