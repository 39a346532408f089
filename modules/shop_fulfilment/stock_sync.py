# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Stock levels pushed to the platform (库存同步): what the shop's warehouse
can promise, less a safety stock, shared between the shops selling it"""
import datetime as dt
import math
from collections import defaultdict
from itertools import groupby

from sql import Literal, Null
from sql.aggregate import Sum

from trytond.config import config
from trytond.i18n import gettext
from trytond.model import Index, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from . import taobao
from .deadline import utc_now

SKUS_UPDATE = 'taobao.skus.quantity.update'
ITEM_UPDATE = 'taobao.item.quantity.update'
FULL = 1
# The platform takes at most 20 SKUs per call
SKUS_PER_CALL = 20
MAX_DELAY = dt.timedelta(hours=1)
SHARES = [
    ('all', "All"),
    ('fixed', "Fixed Quantity"),
    ('percentage', "Percentage"),
    ]
STATES = [
    (None, ""),
    ('synced', "Synced"),
    ('pushing', "Pushing"),
    ('error', "Error"),
    ]
# The fields of a stock move or a sale line changing what a warehouse
# can promise
MOVE_FIELDS = {'state', 'quantity', 'unit', 'product', 'from_location',
    'to_location', 'planned_date', 'effective_date'}
LINE_FIELDS = {'quantity', 'unit', 'product', 'type'}


def _setting(name, default):
    return config.getint('shop_fulfilment', name, default=default)


def backoff(attempts):
    "The delay before the next attempt after attempts temporary errors"
    first = dt.timedelta(seconds=_setting('stock_sync_backoff', 60))
    return min(first * 2 ** (attempts - 1), MAX_DELAY)


def share(available, rule, quantity=None, percentage=None):
    "What a shop may show of available under its share rule"
    if rule == 'fixed':
        return min(available, max(quantity or 0, 0))
    elif rule == 'percentage':
        return int(math.floor(available * (percentage or 0) / 100))
    return available


def mark_dirty(product_ids):
    "Have the next stock sync compute again the mappings of the products"
    pool = Pool()
    Mapping = pool.get('web.shop.taobao.product')
    Shop = pool.get('web.shop')
    table, shop = Mapping.__table__(), Shop.__table__()
    cursor = Transaction().connection.cursor()
    # Only the shops pushing their stock: the others' mappings are not
    # locked by every order and shipment of the product
    syncing = shop.select(shop.id, where=shop.stock_sync == Literal(True))
    for sub_ids in grouped_slice(sorted(set(filter(None, product_ids)))):
        cursor.execute(*table.update(
                [table.stock_dirty], [Literal(True)],
                where=reduce_ids(table.product, sub_ids)
                & (table.stock_dirty == Literal(False))
                & table.shop.in_(syncing)))


class Shop(metaclass=PoolMeta):
    __name__ = 'web.shop'

    stock_sync = fields.Boolean(
        "Push Stock Levels",
        help="Push to the platform the quantity each mapped SKU may show.")
    stock_safety = fields.Integer(
        "Safety Stock", states={'invisible': ~Eval('stock_sync')},
        domain=['OR', ('stock_safety', '=', None), ('stock_safety', '>=', 0)],
        help="Kept back from what the warehouse can promise, "
        "unless the product sets its own.")
    stock_incoming = fields.Boolean(
        "Count Incoming Goods", states={'invisible': ~Eval('stock_sync')},
        help="Count the goods arriving within the horizon as available.")
    stock_incoming_days = fields.Integer(
        "Incoming Horizon (days)", states={
            'invisible': ~Eval('stock_sync') | ~Eval('stock_incoming'),
            },
        domain=['OR', ('stock_incoming_days', '=', None),
            ('stock_incoming_days', '>=', 0)])
    stock_share = fields.Selection(
        SHARES, "Share Rule", states={'invisible': ~Eval('stock_sync')},
        help="What the shop may show of what is available, "
        "when several shops sell the same product.")
    stock_share_quantity = fields.Integer(
        "Share Quantity", states={
            'invisible': ~Eval('stock_sync') | (Eval('stock_share') != 'fixed'),
            'required': Eval('stock_share') == 'fixed',
            },
        domain=['OR', ('stock_share_quantity', '=', None),
            ('stock_share_quantity', '>=', 0)])
    stock_share_percentage = fields.Integer(
        "Share (%)", states={
            'invisible': (~Eval('stock_sync')
                | (Eval('stock_share') != 'percentage')),
            'required': Eval('stock_share') == 'percentage',
            },
        domain=['OR', ('stock_share_percentage', '=', None), [
                ('stock_share_percentage', '>=', 0),
                ('stock_share_percentage', '<=', 100)]])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'push_stock': {
                    'invisible': ~Eval('stock_sync'),
                    'icon': 'tryton-refresh',
                    'depends': ['stock_sync'],
                    },
                })

    @classmethod
    def default_stock_sync(cls):
        return False

    @classmethod
    def default_stock_safety(cls):
        return 3

    @classmethod
    def default_stock_incoming(cls):
        return False

    @classmethod
    def default_stock_incoming_days(cls):
        return 0

    @classmethod
    def default_stock_share(cls):
        return 'all'

    @classmethod
    def write(cls, *args):
        names = {'stock_safety', 'stock_incoming', 'stock_incoming_days',
            'stock_share', 'stock_share_quantity', 'stock_share_percentage',
            'stock_sync', 'warehouses'}
        changed = sum((list(s) for s, v in zip(args[::2], args[1::2])
                if names & set(v)), [])
        super().write(*args)
        if changed:
            pool = Pool()
            Mapping = pool.get('web.shop.taobao.product')
            mark_dirty([m.product.id for m in Mapping.search([
                            ('shop', 'in', [s.id for s in changed])])])

    @property
    def stock_horizon(self):
        "The last day whose incoming goods count as available"
        pool = Pool()
        Date = pool.get('ir.date')
        days = (self.stock_incoming_days or 0) if self.stock_incoming else 0
        return Date.today() + dt.timedelta(days=days)

    def stock_shown(self, available):
        return share(available, self.stock_share, self.stock_share_quantity,
            self.stock_share_percentage)

    @classmethod
    @ModelView.button
    def push_stock(cls, shops):
        "Compute the stock levels of the shops now and push what changed"
        pool = Pool()
        Mapping = pool.get('web.shop.taobao.product')
        Mapping.sync_stock(Mapping.search([
                    ('shop', 'in', [s.id for s in shops if s.stock_sync]),
                    ]), retry_errors=True)


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    platform_safety_stock = fields.Integer(
        "Platform Safety Stock",
        domain=['OR', ('platform_safety_stock', '=', None),
            ('platform_safety_stock', '>=', 0)],
        help="Kept back from the quantity shown on Taobao/Tmall "
        "instead of the shop's safety stock.")

    @classmethod
    def write(cls, *args):
        changed = sum((list(p) for p, v in zip(args[::2], args[1::2])
                if 'platform_safety_stock' in v), [])
        super().write(*args)
        mark_dirty([p.id for p in changed])


class Mapping(metaclass=PoolMeta):
    __name__ = 'web.shop.taobao.product'

    stock_dirty = fields.Boolean(
        "Stock to Compute", readonly=True,
        help="The stock of the product changed since the last computation.")
    stock_forecast = fields.Integer(
        "Forecast", readonly=True,
        help="What the shop's warehouse can promise: on hand, less what "
        "is reserved for moves and orders not done, plus what arrives "
        "within the shop's horizon.")
    stock_safety_used = fields.Integer(
        "Safety Stock Applied", readonly=True)
    stock_available = fields.Integer(
        "Available", readonly=True,
        help="The forecast less the safety stock, never below zero.")
    stock_computed = fields.Integer(
        "Quantity to Show", readonly=True,
        help="The shop's share of what is available.")
    stock_computed_at = fields.DateTime("Computed At", readonly=True)
    stock_share = fields.Function(
        fields.Selection(SHARES, "Share Rule"), 'get_stock_share')
    stock_quantity = fields.Integer(
        "Quantity Shown", readonly=True,
        help="The quantity last pushed to the platform.")
    stock_pushed_at = fields.DateTime("Pushed At", readonly=True)
    stock_state = fields.Selection(
        STATES, "Stock Sync", readonly=True, sort=False)
    stock_attempts = fields.Integer("Push Attempts", readonly=True)
    stock_error = fields.Text("Stock Sync Error", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.stock_dirty, Index.Equality()),
                    where=t.stock_dirty == Literal(True)),
                Index(t, (t.stock_state, Index.Equality()),
                    where=t.stock_state.in_(['pushing', 'error'])),
                Index(t, (t.product, Index.Equality())),
                })
        cls._buttons.update({
                'push_stock_now': {
                    'icon': 'tryton-refresh',
                    },
                })

    @classmethod
    def default_stock_dirty(cls):
        return True

    @classmethod
    def default_stock_attempts(cls):
        return 0

    @classmethod
    def copy(cls, mappings, default=None):
        default = default.copy() if default is not None else {}
        for name in ['stock_forecast', 'stock_safety_used', 'stock_available',
                'stock_computed', 'stock_computed_at', 'stock_quantity',
                'stock_pushed_at', 'stock_state', 'stock_error']:
            default.setdefault(name)
        default.setdefault('stock_dirty', True)
        default.setdefault('stock_attempts', 0)
        return super().copy(mappings, default=default)

    def get_stock_share(self, name):
        return self.shop.stock_share if self.shop.stock_sync else None

    @classmethod
    @ModelView.button
    def push_stock_now(cls, mappings):
        "Compute the stock levels now and push them even when unchanged"
        cls.sync_stock(mappings, force=True)

    @classmethod
    def sync_stock_cron(cls):
        "Compute the mappings whose stock changed and push what differs"
        cls.sync_stock(cls.search([
                    ('stock_dirty', '=', True),
                    ('shop.stock_sync', '=', True),
                    ], order=[('id', 'ASC')]))

    @classmethod
    def reconcile_stock_cron(cls):
        "Compute every mapping and push what differs from what was pushed"
        cls.sync_stock(cls.search([
                    ('shop.stock_sync', '=', True),
                    ], order=[('id', 'ASC')]), retry_errors=True)

    @classmethod
    def sync_stock(cls, mappings, force=False, retry_errors=False):
        """Compute the quantity to show of the mappings and queue the push of
        those that differ from the last pushed; return them"""
        mappings = [m for m in mappings if m.shop.stock_sync]
        values = cls.compute_stock(mappings)
        cls.write_stock(values)
        changed = [m for m in cls.browse([m.id for m in mappings])
            if force or m.stock_computed != m.stock_quantity
            or (retry_errors and m.stock_state in {'error', 'pushing'})]
        cls.queue_push(changed)
        return changed

    @classmethod
    def compute_stock(cls, mappings):
        "The values of the stock computation of each mapping, by id"
        now = utc_now()
        forecasts = cls.stock_forecasts(mappings)
        result = {}
        for mapping in mappings:
            shop = mapping.shop
            forecast = forecasts.get(
                (shop.warehouse.id if shop.warehouse else None,
                    shop.stock_horizon, mapping.product.id), 0)
            forecast = int(math.floor(forecast))
            safety = mapping.product.platform_safety_stock
            if safety is None:
                safety = shop.stock_safety or 0
            available = max(forecast - safety, 0)
            result[mapping.id] = {
                'stock_forecast': forecast,
                'stock_safety_used': safety,
                'stock_available': available,
                'stock_computed': shop.stock_shown(available),
                'stock_computed_at': now,
                'stock_dirty': False,
                }
        return result

    @classmethod
    def stock_forecasts(cls, mappings):
        """The quantity each warehouse can promise by (warehouse id, horizon,
        product id), for the mappings' shops"""
        pool = Pool()
        Product = pool.get('product.product')
        products = defaultdict(set)
        for mapping in mappings:
            shop = mapping.shop
            if shop.warehouse:
                products[shop.warehouse.id, shop.stock_horizon].add(
                    mapping.product.id)
        forecasts = defaultdict(float)
        for (warehouse, horizon), product_ids in products.items():
            committed = cls.stock_committed(warehouse, product_ids)
            with Transaction().set_context(
                    forecast=True, stock_date_end=horizon,
                    stock_skip_warehouse=False):
                for sub_ids in grouped_slice(sorted(product_ids), 10000):
                    quantities = Product.products_by_location(
                        [warehouse], with_childs=True,
                        grouping_filter=(list(sub_ids),))
                    for (_, product_id), quantity in quantities.items():
                        forecasts[warehouse, horizon, product_id] += quantity
            for product_id, quantity in committed.items():
                forecasts[warehouse, horizon, product_id] -= quantity
        return forecasts

    @classmethod
    def stock_committed(cls, warehouse, product_ids):
        """The quantities of the shops' orders from the warehouse not
        processed yet (no stock move): the platform has them taken off
        already, by product id"""
        pool = Pool()
        Sale = pool.get('sale.sale')
        SaleLine = pool.get('sale.line')
        sale, line = Sale.__table__(), SaleLine.__table__()
        cursor = Transaction().connection.cursor()
        committed = defaultdict(float)
        for sub_ids in grouped_slice(sorted(product_ids)):
            cursor.execute(*line.join(sale, condition=line.sale == sale.id
                    ).select(line.product, Sum(line.quantity),
                    where=reduce_ids(line.product, sub_ids)
                    & (line.type == 'line')
                    & (sale.warehouse == warehouse)
                    & (sale.web_shop != Null)
                    & sale.state.in_(['draft', 'quotation', 'confirmed']),
                    group_by=[line.product]))
            for product_id, quantity in cursor:
                committed[product_id] += quantity or 0
        return committed

    @classmethod
    def write_stock(cls, values):
        "Store the computed stock values, by mapping id"
        transaction = Transaction()
        table = cls.__table__()
        cursor = transaction.connection.cursor()
        names = ['stock_forecast', 'stock_safety_used', 'stock_available',
            'stock_computed', 'stock_computed_at', 'stock_dirty']
        columns = [getattr(table, n) for n in names]
        # One update per distinct result, not one per mapping: most SKUs
        # share their figures.  The computation is the server's own
        # record, written without the checks of a user's write
        by_values = defaultdict(list)
        for mapping_id, record in values.items():
            by_values[tuple(record[n] for n in names)].append(mapping_id)
        for row, mapping_ids in by_values.items():
            for sub_ids in grouped_slice(mapping_ids):
                cursor.execute(*table.update(columns, list(row),
                        where=reduce_ids(table.id, sub_ids)))
        if values:
            # The records read before see the new values
            transaction.counter += 1
            for cache in transaction.cache.values():
                if cls.__name__ in cache:
                    for mapping_id in values:
                        cache[cls.__name__].pop(mapping_id, None)

    @classmethod
    def queue_push(cls, mappings):
        "Hand the pushes to the workers, in batches per shop"
        if not mappings:
            return
        cls.write(mappings, {
                'stock_state': 'pushing',
                'stock_attempts': 0,
                })
        batch_size = _setting('stock_sync_batch', 200)
        for _, items in groupby(
                sorted(mappings, key=lambda m: (m.shop.id, m.num_iid or '',
                        m.id)), key=lambda m: m.shop.id):
            for batch in grouped_slice(list(items), batch_size):
                cls.__queue__.push_stock(list(batch))

    @classmethod
    def push_stock(cls, mappings):
        """Push the computed quantities to the platform: the queue's entry
        point, one transaction per batch"""
        cls.lock(mappings)
        mappings = [m for m in cls.browse(mappings)
            if m.stock_state == 'pushing']
        outcomes, retry = [], defaultdict(list)
        mappings.sort(key=lambda m: (m.shop.id, m.id))
        for shop, by_shop in groupby(mappings, key=lambda m: m.shop):
            client = platform_client(shop)
            for num_iid, items in groupby(
                    sorted(by_shop, key=lambda m: (m.num_iid or '', m.id)),
                    key=lambda m: m.num_iid):
                for mapping, values in cls._push_item(
                        client, num_iid, list(items)):
                    outcomes += [[mapping], values]
                    if values.get('stock_state') == 'pushing':
                        retry[values['stock_attempts']].append(mapping)
        if outcomes:
            cls.write(*outcomes)
        for attempts, records in retry.items():
            with Transaction().set_context(
                    queue_scheduled_at=backoff(attempts)):
                cls.__queue__.push_stock(records)

    @classmethod
    def _push_item(cls, client, num_iid, mappings):
        "Yield each mapping of the item num_iid with its outcome values"
        if not num_iid:
            for mapping in mappings:
                yield mapping, mapping._failed_values(gettext(
                        'shop_fulfilment.msg_stock_sync_no_item',
                        mapping=mapping.rec_name))
            return
        skus = [m for m in mappings if m.sku_id]
        for mapping in mappings:
            if not mapping.sku_id:
                yield mapping, mapping._push_one(client)
        for sub_skus in grouped_slice(skus, SKUS_PER_CALL):
            sub_skus = list(sub_skus)
            try:
                client.call(SKUS_UPDATE, num_iid=num_iid, type=FULL,
                    skuid_quantities=';'.join('%s:%s' % (
                                m.sku_id, m.stock_computed)
                        for m in sub_skus))
            except taobao.TopError as error:
                if error.temporary or len(sub_skus) == 1:
                    for mapping in sub_skus:
                        yield mapping, mapping._error_values(error)
                else:
                    # Find the SKU refused: the others are pushed
                    for mapping in sub_skus:
                        yield mapping, mapping._push_one(client)
            else:
                for mapping in sub_skus:
                    yield mapping, mapping._pushed_values()

    def _push_one(self, client):
        "Push the quantity of this mapping alone; return the outcome values"
        params = {'num_iid': self.num_iid, 'quantity': self.stock_computed,
            'type': FULL}
        if self.sku_id:
            params['sku_id'] = self.sku_id
        try:
            client.call(ITEM_UPDATE, **params)
        except taobao.TopError as error:
            return self._error_values(error)
        return self._pushed_values()

    def _pushed_values(self):
        return {
            'stock_state': 'synced', 'stock_quantity': self.stock_computed,
            'stock_pushed_at': utc_now(), 'stock_error': None,
            'stock_attempts': (self.stock_attempts or 0) + 1,
            }

    def _failed_values(self, message):
        return {
            'stock_state': 'error', 'stock_error': message,
            'stock_attempts': (self.stock_attempts or 0) + 1,
            }

    def _error_values(self, error):
        attempts = (self.stock_attempts or 0) + 1
        if not error.temporary:
            return self._failed_values(gettext(
                    'shop_fulfilment.msg_stock_sync_refused',
                    quantity=self.stock_computed, error=str(error)))
        elif attempts >= _setting('stock_sync_attempts', 8):
            return self._failed_values(gettext(
                    'shop_fulfilment.msg_stock_sync_gave_up',
                    attempts=attempts, error=str(error)))
        return {
            'stock_state': 'pushing', 'stock_attempts': attempts,
            'stock_error': str(error),
            }


def platform_client(shop):
    """The shop's client for calls made in batches: a temporary error is
    retried by the queue later"""
    client = shop.taobao_client()
    client.retries = _setting('stock_sync_api_retries', 0)
    client.timeout = config.getfloat(
        'shop_fulfilment', 'stock_sync_timeout', default=10)
    return client


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    def create(cls, vlist):
        moves = super().create(vlist)
        mark_dirty([m.product.id for m in moves])
        return moves

    @classmethod
    def write(cls, *args):
        products = set()
        for moves, values in zip(args[::2], args[1::2]):
            if MOVE_FIELDS & set(values):
                products.update(m.product.id for m in moves)
                if values.get('product'):
                    products.add(values['product'])
        super().write(*args)
        mark_dirty(products)

    @classmethod
    def delete(cls, moves):
        products = [m.product.id for m in moves]
        super().delete(moves)
        mark_dirty(products)


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @classmethod
    def write(cls, *args):
        sales = sum((list(s) for s, v in zip(args[::2], args[1::2])
                if {'state', 'warehouse'} & set(v)), [])
        # The state or warehouse written leaves the lines as they are
        products = cls._stock_products(sales)
        super().write(*args)
        mark_dirty(products)

    @classmethod
    def delete(cls, sales):
        products = cls._stock_products(sales)
        super().delete(sales)
        mark_dirty(products)

    @classmethod
    def _stock_products(cls, sales):
        pool = Pool()
        SaleLine = pool.get('sale.line')
        line = SaleLine.__table__()
        cursor = Transaction().connection.cursor()
        products = set()
        for sub_ids in grouped_slice([s.id for s in sales]):
            cursor.execute(*line.select(line.product,
                    where=reduce_ids(line.sale, sub_ids)
                    & (line.product != Null)))
            products.update(p for p, in cursor)
        return products


class SaleLine(metaclass=PoolMeta):
    __name__ = 'sale.line'

    @classmethod
    def create(cls, vlist):
        lines = super().create(vlist)
        mark_dirty([l.product.id for l in lines if l.product])
        return lines

    @classmethod
    def write(cls, *args):
        products = set()
        for lines, values in zip(args[::2], args[1::2]):
            if LINE_FIELDS & set(values):
                products.update(l.product.id for l in lines if l.product)
                if values.get('product'):
                    products.add(values['product'])
        super().write(*args)
        mark_dirty(products)

    @classmethod
    def delete(cls, lines):
        products = [l.product.id for l in lines if l.product]
        super().delete(lines)
        mark_dirty(products)


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('web.shop.taobao.product|sync_stock_cron',
                    "Push Changed Stock Levels to the Platform"),
                ('web.shop.taobao.product|reconcile_stock_cron',
                    "Reconcile All Stock Levels with the Platform"),
                ])
