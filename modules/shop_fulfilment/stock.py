# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Short stock (缺货) on platform orders; the moves of the customer
shipments and returns computed in bulk; their cost shared out on the moves
without validating the moves again"""
import datetime as dt
from collections import defaultdict

from sql import Null

from trytond.model import dualmethod, fields, sort
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction, without_check_access

from .validation import BookkeepingValidationMixin


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
        short, enough = set(), set()
        warehouses = {s.warehouse: s.company for s in sales if s.warehouse}
        for warehouse, company in warehouses.items():
            needs, flagged = cls._stock_short_needs(warehouse)
            w_short = cls._short_in_warehouse(warehouse, company, needs)
            # Only the sales whose flag changes are written (and browsed):
            # on a busy day thousands wait, and reading them all again at
            # every import batch made the import slower as they piled up
            short |= w_short - flagged
            enough |= (set(needs) - w_short) & flagged
        cls._write_stock_short(cls.browse(short), True)
        cls._write_stock_short(cls.browse(enough)
            + [s for s in sales if s.state == 'draft'], False)

    @classmethod
    def _stock_short_needs(cls, warehouse):
        """The goods per product of the sales that claim the warehouse's
        stock before they are processed (those waiting for the finance
        review), by sale id in the order they are served, and the ids of
        those flagged short now: one query, as thousands of them may wait
        on a busy day"""
        pool = Pool()
        Line = pool.get('sale.line')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        sale, line = cls.__table__(), Line.__table__()
        product, template = Product.__table__(), Template.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*sale.join(line, condition=line.sale == sale.id
                ).join(product, condition=line.product == product.id
                ).join(template, condition=product.template == template.id
                ).select(sale.id, sale.stock_short,
                    line.product, line.quantity, line.unit,
                    template.default_uom,
                    where=(sale.platform_trade != Null)
                    & (sale.state == 'quotation')
                    & (sale.review_state == 'finance')
                    & (sale.warehouse == warehouse.id)
                    & (line.type == 'line') & (line.quantity > 0)
                    & (template.type == 'goods'),
                    order_by=[sale.platform_paid.asc, sale.id.asc]))
        needs, flagged = {}, set()
        for (sale_id, short, product_id, quantity, unit,
                default_uom) in cursor:
            if unit != default_uom:
                quantity = Uom.compute_qty(
                    Uom(unit), quantity, Uom(default_uom), round=False)
            needed = needs.setdefault(sale_id, defaultdict(float))
            needed[product_id] += quantity
            if short:
                flagged.add(sale_id)
        return needs, flagged

    @classmethod
    def send_to_exception(cls, sales, reason):
        super().send_to_exception(sales, reason)
        # Their goods go to the next orders waiting
        cls.update_stock_short(cls.browse(sales))

    @classmethod
    def _short_in_warehouse(cls, warehouse, company, needs):
        "Return the ids of the sales the forecast quantities miss"
        pool = Pool()
        Product = pool.get('product.product')
        products = list({p for n in needs.values() for p in n})
        if not products:
            return set()
        with Transaction().set_context(
                stock_date_end=dt.date.max, company=company.id):
            quantities = Product.products_by_location(
                [warehouse.id], with_childs=True,
                grouping_filter=(products,))
        left = {p: quantities.get((warehouse.id, p), 0) for p in products}
        short = set()
        for sale_id, needed in needs.items():
            if all(left[p] >= q for p, q in needed.items()):
                for p, q in needed.items():
                    left[p] -= q
            else:
                short.add(sale_id)
        return short

    @classmethod
    @without_check_access
    def _write_stock_short(cls, sales, value):
        "The flag is the server's finding, whoever's action updates it"
        sales = [s for s in sales if bool(s.stock_short) != value]
        if sales:
            cls.write(sales, {'stock_short': value})


class WarehouseMovesMixin:
    """The moves of customer shipments on each side of their warehouse's
    location (output for a shipment, input for a return) computed for the
    whole list at once: every step of a shipment reads them for the list,
    and stock computes them shipment by shipment.  The class names the
    location and the fields, and tells with `_is_warehouse_move(name,
    location, storage, from_location, to_location)` which moves belong to
    which field, as stock's getters do."""
    __slots__ = ()
    _warehouse_location = None
    _warehouse_move_fields = ()

    @classmethod
    def __setup__(cls):
        super().__setup__()
        for name in cls._warehouse_move_fields:
            getattr(cls, name).getter = 'get_warehouse_moves'

    @classmethod
    def get_warehouse_moves(cls, shipments, names):
        "Return the moves of names, in the order of their field"
        pool = Pool()
        Move = pool.get('stock.move')
        shipment = cls.__table__()
        move = Move.__table__()
        cursor = Transaction().connection.cursor()
        locations, ids = {}, {n: defaultdict(list) for n in names}
        for sub in grouped_slice([s.id for s in shipments]):
            sub = list(sub)
            cursor.execute(*shipment.select(shipment.id,
                    getattr(shipment, cls._warehouse_location),
                    shipment.warehouse_storage,
                    where=reduce_ids(shipment.id, sub)))
            locations.update((i, (l, s)) for i, l, s in cursor)
            cursor.execute(*move.select(move.id, move.shipment,
                    move.from_location, move.to_location,
                    where=move.shipment.in_(
                        ['%s,%s' % (cls.__name__, i) for i in sub]),
                    order_by=[move.id.asc]))
            for id_, reference, from_location, to_location in cursor:
                shipment_id = int(reference.split(',')[1])
                for name in names:
                    if cls._is_warehouse_move(name, *locations[shipment_id],
                            from_location, to_location):
                        ids[name][shipment_id].append(id_)
        # One list of records: their products are read at once to sort.
        # Most platform orders have one line: a single move is not sorted
        # (the sort reads the product's name).
        moves = {m.id: m for m in Move.browse(
                sorted({i for n in names for l in ids[n].values()
                        for i in l if len(l) > 1}))}

        def ordered(name, move_ids):
            if len(move_ids) < 2:
                return move_ids
            return [m.id for m in sort(
                    [moves[i] for i in move_ids], getattr(cls, name).order)]
        return {n: {s.id: ordered(n, ids[n][s.id]) for s in shipments}
            for n in names}


class ShipmentOut(WarehouseMovesMixin, metaclass=PoolMeta):
    __name__ = 'stock.shipment.out'
    _warehouse_location = 'warehouse_output'
    _warehouse_move_fields = ('outgoing_moves', 'inventory_moves')

    @classmethod
    def _is_warehouse_move(
            cls, name, output, storage, from_location, to_location):
        if name == 'outgoing_moves':
            return output == storage or from_location == output
        elif name == 'inventory_moves':
            return to_location == output
        return False

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


class ShipmentOutReturn(WarehouseMovesMixin, metaclass=PoolMeta):
    __name__ = 'stock.shipment.out.return'
    _warehouse_location = 'warehouse_input'
    _warehouse_move_fields = ('incoming_moves', 'inventory_moves')

    @classmethod
    def _is_warehouse_move(
            cls, name, input_, storage, from_location, to_location):
        if name == 'incoming_moves':
            return input_ == storage or to_location == input_
        elif name == 'inventory_moves':
            return from_location == input_
        return False


class Move(BookkeepingValidationMixin, metaclass=PoolMeta):
    __name__ = 'stock.move'
    # The cost of a shipment is shared out on its moves when it is done
    # (stock_shipment_cost), customer returns included: each write
    # validated again every move's product, unit, locations and origin
    _bookkeeping_fields = frozenset({'shipment_out_cost_price'})
