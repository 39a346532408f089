# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Platform trades mapped onto sales"
from collections import Counter, defaultdict
from decimal import ROUND_DOWN, Decimal

from trytond.model import fields
from trytond.modules.product import price_digits
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from . import taobao
from .exceptions import TradeMappingError
from .trade import STATUSES

SELLER_FLAGS = [
    (None, ""),
    ('1', "Red"),
    ('2', "Yellow"),
    ('3', "Green"),
    ('4', "Blue"),
    ('5', "Purple"),
    ]
REFUND_STATUSES = [
    (None, ""),
    ('NO_REFUND', "No Refund"),
    ('WAIT_SELLER_AGREE', "Waiting for Seller to Agree"),
    ('WAIT_BUYER_RETURN_GOODS', "Waiting for Buyer to Return"),
    ('WAIT_SELLER_CONFIRM_GOODS', "Waiting for Seller to Confirm Goods"),
    ('SELLER_REFUSE_BUYER', "Refused by Seller"),
    ('CLOSED', "Refund Closed"),
    ('SUCCESS', "Refunded"),
    ]
# The order is not reviewed yet: the platform's changes apply
EDITABLE = {'draft'}
# Not confirmed yet: a closed trade cancels it
CANCELLABLE = {'draft', 'quotation'}


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    platform_trade = fields.Many2One(
        'web.shop.taobao.trade', "Platform Trade", readonly=True)
    platform_status = fields.Selection(
        STATUSES, "Platform Status", readonly=True)
    platform_created = fields.DateTime("Order Time", readonly=True)
    platform_paid = fields.DateTime("Payment Time", readonly=True)
    platform_modified = fields.DateTime("Platform Modified", readonly=True)
    platform_payment = fields.Numeric(
        "Paid by Buyer", readonly=True, digits=(16, 2),
        help="The trade's payment, postage included.")
    buyer_nick = fields.Char("Buyer Nick", readonly=True)
    buyer_message = fields.Text("Buyer Message", readonly=True)
    seller_memo = fields.Text("Seller Memo", readonly=True)
    seller_flag = fields.Selection(SELLER_FLAGS, "Seller Flag", readonly=True)
    receiver_mobile = fields.Char("Receiver Mobile", readonly=True)
    receiver_phone = fields.Char("Receiver Phone", readonly=True)
    platform_hold = fields.Boolean(
        "On Hold", readonly=True,
        help="A line has a refund in progress on the platform.")
    receiver_masked = fields.Function(
        fields.Boolean("Receiver Masked"), 'get_receiver_masked')

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('//page[@id="platform"]', 'states', {
                    'invisible': ~Eval('platform_trade')}),
            ]

    def get_receiver_masked(self, name):
        return bool(self.shipment_address
            and self.shipment_address.platform_masked)

    def set_shipment_cost(self):
        # The buyer paid the platform's postage: keep it as imported
        if self.platform_trade:
            return []
        return super().set_shipment_cost()

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('platform_trade', None)
        return super().copy(sales, default=default)

    @classmethod
    def apply_platform_trades(cls, items):
        """Create or update the sales of the (trade, payload, values)
        and return the counts of the outcomes"""
        counts = Counter()
        by_shop = defaultdict(list)
        for trade, payload, values in items:
            by_shop[trade.shop].append((trade, payload, values))
        for shop, shop_items in by_shop.items():
            counts.update(cls._apply_platform_trades(shop, shop_items))
        return counts

    @classmethod
    def _apply_platform_trades(cls, shop, items):
        pool = Pool()
        Mapping = pool.get('web.shop.taobao.product')
        Line = pool.get('sale.line')
        Address = pool.get('party.address')
        counts, new = Counter(), []
        changes = {'save': [], 'cancel': [], 'delete': []}
        index = Mapping.index(shop, [v for _, _, v in items])
        provinces = Address.china_provinces()
        for trade, payload, values in items:
            try:
                outcome = cls._platform_outcome(
                    trade, payload, values, index, provinces, changes)
                if outcome == 'create':
                    values.check_receiver()
                    Address.check_province(values, provinces)
                    new.append((trade, payload, values,
                            Mapping.map_lines(index, values)))
                    continue
            except taobao.TradeError as error:
                trade.fail(payload,
                    TradeMappingError.from_trade_error(error, trade.tid),
                    values)
                outcome = 'exception'
            except TradeMappingError as error:
                trade.fail(payload, error, values)
                outcome = 'exception'
            counts[outcome] += 1
        Line.delete(changes['delete'])
        cls.save(changes['save'])
        cls.cancel(changes['cancel'])
        counts.update(cls._create_platform_sales(shop, new, provinces))
        return counts

    @classmethod
    def _platform_outcome(
            cls, trade, payload, values, index, provinces, changes):
        "Apply what does not create a sale; return 'create' or the outcome"
        sale = trade.sale
        if trade.modified and values.modified \
                and values.modified < trade.modified:
            payload.outdate()
            return 'outdated'
        if sale:
            return sale._update_from_platform(
                trade, payload, values, index, provinces, changes)
        if values.paid:
            return 'create'
        if values.waiting:
            trade.applied(payload, values, 'waiting')
            return 'waiting'
        message = ('shop_fulfilment.msg_trade_closed_unknown' if values.closed
            else 'shop_fulfilment.msg_trade_shipped_unknown')
        trade.applied(payload, values, 'ignored', message, tid=trade.tid)
        return 'ignored'

    @classmethod
    def _create_platform_sales(cls, shop, items, provinces):
        pool = Pool()
        Buyer = pool.get('web.shop.taobao.buyer')
        Address = pool.get('party.address')
        counts = Counter()
        checked = cls._check_tid_elsewhere(shop, items, counts)
        if not checked:
            return counts
        trades = [v for _, _, v, _ in checked]
        parties = Buyer.get_parties(shop, trades)
        addresses = Address.get_receiver_addresses(
            parties, trades, provinces)
        Address.add_contact_mechanisms(parties, trades)
        sales = [cls.from_platform(shop, values, products,
                parties[values.tid], addresses[values.tid], trade)
            for trade, _, values, products in checked]
        cls.save(sales)
        for (trade, payload, values, _), sale in zip(checked, sales):
            trade.sale = sale
            trade.applied(payload, values, 'imported')
        counts['created'] += len(sales)
        counts['auto_reviewed'] += len(cls.auto_customer_review(sales))
        return counts

    @classmethod
    def _check_tid_elsewhere(cls, shop, items, counts):
        "Put in exception the trades whose ID another shop already has"
        tids = [v.tid for _, _, v, _ in items]
        taken = {}
        for sub_tids in grouped_slice(tids):
            for sale in cls.search([('web_id', 'in', list(sub_tids))]):
                taken[sale.web_id] = sale
        kept = []
        for item in items:
            trade, payload, values, _ = item
            if values.tid in taken:
                trade.fail(payload, TradeMappingError(
                        'shop_fulfilment.msg_trade_tid_other_shop',
                        tid=values.tid, sale=taken[values.tid].rec_name,
                        shop=taken[values.tid].web_shop.rec_name
                        if taken[values.tid].web_shop else ''), values)
                counts['exception'] += 1
            else:
                kept.append(item)
        return kept

    @classmethod
    def from_platform(cls, shop, values, products, party, address, trade):
        "Return a new sale for the platform trade"
        sale = cls(
            company=shop.company, currency=shop.currency, web_shop=shop,
            web_id=values.tid, reference=values.tid, party=party,
            invoice_address=address, shipment_address=address,
            warehouse=shop.warehouse, platform_trade=trade,
            # The carrier, and so the cost method, come with the review
            shipment_cost_method=None, payment_term=None)
        sale.sale_date = china_date(values.pay_time or values.created)
        sale._set_platform_values(values)
        sale.lines = sale._platform_lines(shop, values, products)
        return sale

    def _set_platform_values(self, values):
        changes = {
            'platform_status': values.status,
            'platform_created': values.created,
            'platform_paid': values.pay_time,
            'platform_modified': values.modified,
            'platform_payment': values.payment,
            'buyer_nick': values.buyer_nick,
            'buyer_message': values.buyer_message or None,
            'seller_memo': values.seller_memo or None,
            'seller_flag': str(values.seller_flag) if values.seller_flag
            else None,
            'platform_hold': values.refund_in_progress,
            'receiver_mobile': values.receiver.mobile or None,
            'receiver_phone': values.receiver.phone or None,
            }
        changed = False
        for name, value in changes.items():
            if getattr(self, name, None) != value:
                setattr(self, name, value)
                changed = True
        return changed

    def _platform_lines(self, shop, values, products):
        pool = Pool()
        Line = pool.get('sale.line')
        lines = []
        for line, product in zip(values.lines, products):
            lines.extend(Line.from_platform(self, line, product))
        if values.post_fee:
            lines.append(Line.postage(self, shop, values.post_fee))
        for sequence, line in enumerate(lines, 1):
            line.sequence = sequence
        return lines

    def _update_from_platform(
            self, trade, payload, values, index, provinces, changes):
        """Apply a newer version of the trade; return the outcome
        and add the sale to the changes to save, cancel or delete"""
        pool = Pool()
        Mapping = pool.get('web.shop.taobao.product')
        if values.closed and self.state in CANCELLABLE:
            # Nothing left to ship: the buyer was refunded
            self._set_platform_values(values)
            changes['save'].append(self)
            changes['cancel'].append(self)
            trade.applied(payload, values, 'cancelled',
                'shop_fulfilment.msg_trade_closed', tid=trade.tid)
            return 'cancelled'
        if self.state not in EDITABLE:
            if self._set_platform_values(values):
                changes['save'].append(self)
            trade.applied(payload, values, 'imported',
                'shop_fulfilment.msg_trade_change_recorded', recorded=True,
                tid=trade.tid, sale_state=self.state_string)
            return 'recorded'
        if not values.paid:
            trade.applied(payload, values, 'imported',
                'shop_fulfilment.msg_trade_change_recorded', recorded=True,
                tid=trade.tid, sale_state=self.state_string)
            return 'recorded'
        values.check_receiver()
        products = Mapping.map_lines(index, values)
        lines = self._platform_lines(self.web_shop, values, products)
        if [l.platform_key for l in lines] != [l.platform_key
                for l in self.lines if not getattr(l, 'gift_rule', None)]:
            changes['delete'].extend(self.lines)
            self.lines = lines
        self._set_receiver(values, provinces)
        self._set_platform_values(values)
        changes['save'].append(self)
        trade.applied(payload, values, 'imported')
        return 'updated'

    def _set_receiver(self, values, provinces):
        "Follow the buyer's change of address before the review"
        pool = Pool()
        Address = pool.get('party.address')
        Address.check_province(values, provinces)
        address = Address.get_receiver_addresses(
            {values.tid: self.party}, [values], provinces)[values.tid]
        if address != self.shipment_address:
            self.shipment_address = self.invoice_address = address
            Address.add_contact_mechanisms({values.tid: self.party}, [values])


def china_date(value):
    "The China calendar date of a naive UTC datetime"
    if value:
        return (value + taobao.CHINA_TZ.utcoffset(None)).date()


class Line(metaclass=PoolMeta):
    __name__ = 'sale.line'

    platform_oid = fields.Char("Platform Order ID", readonly=True)
    platform_refund_status = fields.Selection(
        REFUND_STATUSES, "Refund Status", readonly=True)
    platform_gift = fields.Boolean("Gift", readonly=True)
    sku_properties = fields.Char("SKU Properties", readonly=True)

    @property
    @fields.depends('sale', '_parent_sale.platform_trade', 'company')
    def planned_shipping_date(self):
        pool = Pool()
        Date = pool.get('ir.date')
        date = super().planned_shipping_date
        if (date is None and self.sale and self.sale.platform_trade
                and self.product and self.product.type != 'service'):
            # Paid platform orders ship as soon as they can, even when the
            # product has no lead time
            with Transaction().set_context(
                    company=self.company.id if self.company else None):
                date = Date.today()
        return date

    @classmethod
    def from_platform(cls, sale, line, product):
        "Return the sale lines of a platform order line"
        return [cls(
                sale=sale, type='line', product=product, quantity=float(quantity),
                unit=product.sale_uom, unit_price=unit_price, taxes=[],
                description=line.title, platform_oid=line.oid,
                platform_refund_status=line.refund_status or None,
                platform_gift=line.gift,
                sku_properties=line.sku_properties_name or None)
            for quantity, unit_price in split_amount(
                line.amount, line.quantity, sale.currency)]

    @classmethod
    def postage(cls, sale, shop, amount):
        product = shop.postage_product
        return cls(
            sale=sale, type='line', product=product, quantity=1,
            unit=product.sale_uom, unit_price=amount, taxes=[],
            description=product.name, shipment_cost=amount,
            platform_oid=None, platform_refund_status=None,
            platform_gift=False)

    @property
    def platform_key(self):
        return (self.platform_oid, self.product.id if self.product else None,
            self.quantity, self.unit_price, self.platform_refund_status,
            self.platform_gift)


def split_amount(amount, quantity, currency):
    """Return (quantity, unit price) pairs whose rounded amounts add up
    to the amount the buyer paid"""
    exp = Decimal(1).scaleb(-price_digits[1])
    unit_price = (amount / quantity).quantize(exp)
    if quantity == 1 or currency.round(unit_price * quantity) == amount:
        return [(quantity, unit_price)]
    unit_price = (amount / quantity).quantize(Decimal('0.01'), ROUND_DOWN)
    return [(quantity - 1, unit_price),
        (1, amount - unit_price * (quantity - 1))]
