# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Short stock (缺货) on platform orders"
import datetime as dt
from collections import defaultdict

from trytond.model import dualmethod, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    stock_short = fields.Boolean(
        "Short Stock", readonly=True,
        help="The warehouse cannot ship the order yet; "
        "the supply of the warehouse covers it.")

    @classmethod
    def update_stock_short(cls, sales):
        """Flag the sales not yet processed whose goods the warehouse cannot
        promise, the earliest paid served first"""
        pool = Pool()
        Product = pool.get('product.product')
        by_warehouse = defaultdict(list)
        for sale in sales:
            if sale.state in {'draft', 'quotation'} and sale.warehouse:
                by_warehouse[sale.warehouse].append(sale)
        short, enough = [], []
        for warehouse, w_sales in by_warehouse.items():
            needs = [(sale, sale._goods_needed()) for sale in w_sales]
            products = {p for _, n in needs for p in n}
            with Transaction().set_context(
                    stock_date_end=dt.date.max,
                    company=w_sales[0].company.id):
                quantities = Product.products_by_location(
                    [warehouse.id], with_childs=True,
                    grouping_filter=(list(products),))
            left = {p: quantities.get((warehouse.id, p), 0)
                for p in products}
            needs.sort(key=lambda n: (
                    n[0].platform_paid or dt.datetime.max, n[0].id))
            for sale, needed in needs:
                if all(left[p] >= q for p, q in needed.items()):
                    for p, q in needed.items():
                        left[p] -= q
                    enough.append(sale)
                else:
                    short.append(sale)
        cls._write_stock_short(short, True)
        cls._write_stock_short(enough, False)

    @classmethod
    def _write_stock_short(cls, sales, value):
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

    @dualmethod
    def assign_try(cls, shipments):
        result = super().assign_try(shipments)
        cls._update_sales_stock_short(shipments)
        return result

    @classmethod
    def _update_sales_stock_short(cls, shipments):
        "The shipments left waiting are short of stock, the others are not"
        pool = Pool()
        Sale = pool.get('sale.sale')
        short, enough = set(), set()
        for shipment in cls.browse(shipments):
            for move in shipment.outgoing_moves:
                sale = getattr(move.origin, 'sale', None)
                if isinstance(sale, Sale) and sale.platform_trade:
                    if shipment.state == 'waiting':
                        short.add(sale)
                    else:
                        enough.add(sale)
        Sale._write_stock_short(list(short), True)
        Sale._write_stock_short(list(enough - short), False)
