# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Short stock (缺货) on platform orders"
import datetime as dt
from collections import defaultdict

from trytond.model import dualmethod, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    stock_short = fields.Boolean(
        "Short Stock", readonly=True,
        help="The warehouse cannot ship the order yet; "
        "the supply of the warehouse covers it.")

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('stock_short')
        return super().copy(sales, default=default)

    @classmethod
    @without_check_access
    def update_stock_short(cls, sales):
        """Flag the reviewed sales not yet processed of the sales' warehouses
        whose goods the warehouse cannot promise, the earliest paid served
        first; the sales back in draft claim nothing"""
        short, enough = [], []
        warehouses = {s.warehouse for s in sales if s.warehouse}
        for warehouse, w_sales in cls._stock_short_queue(warehouses).items():
            w_short = cls._short_in_warehouse(warehouse, w_sales)
            short.extend(w_short)
            enough.extend(s for s in w_sales if s not in w_short)
        cls._write_stock_short(short, True)
        cls._write_stock_short(
            enough + [s for s in sales if s.state == 'draft'], False)

    @classmethod
    def _stock_short_queue(cls, warehouses):
        """The sales per warehouse that claim its goods before they are
        processed: those waiting for the finance review"""
        queue = defaultdict(list)
        if warehouses:
            for sale in cls.search([
                        ('platform_trade', '!=', None),
                        ('state', '=', 'quotation'),
                        ('review_state', '=', 'finance'),
                        ('warehouse', 'in', [w.id for w in warehouses]),
                        ]):
                queue[sale.warehouse].append(sale)
        return queue

    @classmethod
    def send_to_exception(cls, sales, reason):
        super().send_to_exception(sales, reason)
        # Their goods go to the next orders waiting
        cls.update_stock_short(cls.browse(sales))

    @classmethod
    def _short_in_warehouse(cls, warehouse, sales):
        "Return the sales the forecast quantities of the warehouse miss"
        pool = Pool()
        Product = pool.get('product.product')
        needs = sorted(((s, s._goods_needed()) for s in sales),
            key=lambda n: (n[0].platform_paid or dt.datetime.max, n[0].id))
        products = list({p for _, n in needs for p in n})
        with Transaction().set_context(
                stock_date_end=dt.date.max, company=sales[0].company.id):
            quantities = Product.products_by_location(
                [warehouse.id], with_childs=True,
                grouping_filter=(products,))
        left = {p: quantities.get((warehouse.id, p), 0) for p in products}
        short = []
        for sale, needed in needs:
            if all(left[p] >= q for p, q in needed.items()):
                for p, q in needed.items():
                    left[p] -= q
            else:
                short.append(sale)
        return short

    @classmethod
    @without_check_access
    def _write_stock_short(cls, sales, value):
        "The flag is the server's finding, whoever's action updates it"
        sales = [s for s in sales if bool(s.stock_short) != value]
        if sales:
            cls.write(sales, {'stock_short': value})

    def _goods_needed(self):
        "The quantities of goods per product id, in their default unit"
        pool = Pool()
        Uom = pool.get('product.uom')
        needed = defaultdict(float)
        for line in self.lines:
            if (line.type == 'line' and line.product
                    and line.product.type == 'goods' and line.quantity):
                needed[line.product.id] += Uom.compute_qty(
                    line.unit, line.quantity, line.product.default_uom)
        return needed


class ShipmentOut(metaclass=PoolMeta):
    __name__ = 'stock.shipment.out'

    @classmethod
    def assign(cls, shipments):
        # Every way to assign (try, force, ignore the missing) ends here
        super().assign(shipments)
        cls._update_sales_stock_short(shipments)

    @dualmethod
    def assign_try(cls, shipments):
        # Tryton reserves the goods in the order of the shipments
        shipments = sorted(shipments, key=cls._assign_priority)
        result = super().assign_try(shipments)
        cls._update_sales_stock_short(
            [s for s in cls.browse(shipments) if s.state == 'waiting'])
        return result

    def _assign_priority(self):
        "The earliest paid order is served first, as at its review"
        pool = Pool()
        SaleLine = pool.get('sale.line')
        paid = [m.origin.sale.platform_paid for m in self.outgoing_moves
            if isinstance(m.origin, SaleLine) and m.origin.sale.platform_paid]
        return (min(paid, default=None) or self.create_date, self.id)

    @classmethod
    @without_check_access
    def _update_sales_stock_short(cls, shipments):
        """The platform sales with a shipment waiting for goods are short of
        stock, the others are not"""
        pool = Pool()
        Sale = pool.get('sale.sale')
        SaleLine = pool.get('sale.line')
        sales = {m.origin.sale for s in cls.browse(shipments)
            for m in s.outgoing_moves
            if isinstance(m.origin, SaleLine) and m.origin.sale.platform_trade}
        short = [s for s in Sale.browse(list(sales))
            if any(sh.state == 'waiting' for sh in s.shipments)]
        Sale._write_stock_short(short, True)
        Sale._write_stock_short(
            [s for s in Sale.browse(list(sales)) if s not in short], False)
