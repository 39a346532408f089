# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Item stock (taobao.skus.quantity.update, taobao.item.quantity.update), as
the local gateway serves it

The items the seller lists are in items: {num_iid: {'num': quantity,
'outer_id': ..., 'skus': {sku_id: {'quantity': ..., 'outer_id': ...}}}}.
Both methods take type 1 (full: the quantity becomes the value) or 2
(incremental: the value is added, the result not below zero) and answer

    {"skus_quantity_update_response": {"item": {"num_iid": ..., "num": ...,
        "modified": ..., "skus": {"sku": [{"sku_id", "quantity",
        "modified"}, ...]}}, "request_id": ...}}
    {"item_quantity_update_response": {"item": {"num_iid": ..., "num": ...,
        "modified": ..., "skus": {"sku": [...]}}, "request_id": ...}}

The item's num is the sum of its SKUs'.  An unknown num_iid is refused with
isv.item-not-exist, an unknown sku_id or outer id with isv.sku-not-exist;
refused (a set of num_iid or sku_id) lets tests have the platform refuse the
changes of some items or SKUs (isv.item-quantity-item-update-service-error,
as for an item under audit).  updates records every accepted change as
(num_iid, sku_id, quantity).
"""
import copy
import datetime
import re
import threading

from .top_server import (  # noqa: F401
    CHINA_OFFSET, TIME_FORMAT, BaseServer, Refusal, require)

ITEM_NOT_EXIST = 'isv.item-not-exist'
SKU_NOT_EXIST = 'isv.sku-not-exist'
UPDATE_REFUSED = 'isv.item-quantity-item-update-service-error'
SKUS_PER_CALL = 20
MAX_QUANTITY = 999999
_ID = re.compile(r'[0-9]{1,20}')
_QUANTITY = re.compile(r'-?[0-9]{1,7}')
_OUTER_ID = re.compile(r'[^:;]{1,64}')


def _invalid(name, message):
    return Refusal(41, name, 'isv.invalid-parameter', message)


def _now():
    return (datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        + CHINA_OFFSET).strftime(TIME_FORMAT)


def _quantity(text, name, full):
    if not _QUANTITY.fullmatch(text or ''):
        raise _invalid(name, '%s must be an integer' % name)
    value = int(text)
    if full and value < 0:
        raise _invalid(name, '%s must not be negative for a full update'
            % name)
    if abs(value) > MAX_QUANTITY:
        raise _invalid(name, '%s out of range' % name)
    return value


def _pairs(text, name, key_pattern):
    "The (key, quantity text) pairs of 'key:qty;key:qty'"
    pairs = []
    for part in text.split(';'):
        key, colon, quantity = part.partition(':')
        if not colon or not key_pattern.fullmatch(key):
            raise _invalid(name, '%s must be id:quantity;id:quantity' % name)
        pairs.append((key, quantity))
    if len(pairs) > SKUS_PER_CALL:
        raise _invalid(name, 'at most %s SKUs per call' % SKUS_PER_CALL)
    if len({k for k, _ in pairs}) != len(pairs):
        raise _invalid(name, 'a SKU is given twice')
    return pairs


class InventoryService:
    "The stock of the seller's items, changed as the platform does"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = {}
        self.refused = set()
        self.updates = []
        self._stock_lock = threading.Lock()

    @property
    def methods(self):
        methods = super().methods
        methods.update({
                'taobao.skus.quantity.update': self.skus_quantity_update,
                'taobao.item.quantity.update': self.item_quantity_update,
                })
        return methods

    def add_item(self, num_iid, quantity=0, outer_id=None, skus=None):
        """List an item; skus maps each sku_id to its quantity or to
        (quantity, outer_id)"""
        item = {'num': quantity, 'outer_id': outer_id, 'skus': {}}
        for sku_id, value in (skus or {}).items():
            if not isinstance(value, tuple):
                value = (value, None)
            item['skus'][str(sku_id)] = {
                'quantity': value[0], 'outer_id': value[1]}
        if item['skus']:
            item['num'] = sum(s['quantity'] for s in item['skus'].values())
        with self._stock_lock:
            self.items[str(num_iid)] = item

    def quantity(self, num_iid, sku_id=None):
        "The quantity the platform shows of the item or SKU"
        with self._stock_lock:
            item = self.items[str(num_iid)]
            if sku_id:
                return item['skus'][str(sku_id)]['quantity']
            return item['num']

    def _item(self, params):
        require(params, 'num_iid')
        num_iid = params['num_iid']
        if not _ID.fullmatch(num_iid):
            raise _invalid('num_iid', 'num_iid must be a number')
        if num_iid not in self.items:
            raise Refusal(15, '', ITEM_NOT_EXIST,
                '商品不存在 (item %s does not exist)' % num_iid)
        if num_iid in self.refused:
            raise Refusal(15, '', UPDATE_REFUSED,
                '商品库存更新失败 (item %s cannot be changed)' % num_iid)
        return num_iid, self.items[num_iid]

    @staticmethod
    def _type(params):
        value = params.get('type', '1')
        if value not in {'1', '2'}:
            raise _invalid('type', 'type must be 1 (full) or 2 (incremental)')
        return value == '1'

    def _sku(self, num_iid, item, sku_id=None, outer_id=None):
        if sku_id is not None:
            if not _ID.fullmatch(sku_id):
                raise _invalid('sku_id', 'sku_id must be a number')
            if sku_id not in item['skus']:
                raise Refusal(15, '', SKU_NOT_EXIST,
                    'SKU %s does not exist in item %s' % (sku_id, num_iid))
            if sku_id in self.refused:
                raise Refusal(15, '', UPDATE_REFUSED,
                    '商品库存更新失败 (SKU %s cannot be changed)' % sku_id)
            return sku_id
        found = [k for k, s in item['skus'].items()
            if s['outer_id'] == outer_id]
        if not found:
            raise Refusal(15, '', SKU_NOT_EXIST,
                'no SKU with outer id %s in item %s' % (outer_id, num_iid))
        return self._sku(num_iid, item, sku_id=found[0])

    def _apply(self, item, num_iid, changes, full):
        "Apply the (sku_id or None, quantity) changes; return the response"
        now = _now()
        for sku_id, quantity in changes:
            target = item['skus'][sku_id] if sku_id else item
            key = 'quantity' if sku_id else 'num'
            target[key] = quantity if full else max(target[key] + quantity, 0)
            target['modified'] = now
            self.updates.append((num_iid, sku_id, target[key]))
        if item['skus']:
            item['num'] = sum(s['quantity'] for s in item['skus'].values())
        item['modified'] = now
        body = {'num_iid': int(num_iid), 'num': item['num'],
            'modified': now}
        touched = [s for s, _ in changes if s]
        if touched:
            body['skus'] = {'sku': [{
                        'sku_id': int(s),
                        'quantity': item['skus'][s]['quantity'],
                        'modified': now} for s in touched]}
        return {'item': copy.deepcopy(body)}

    def skus_quantity_update(self, params):
        with self._stock_lock:
            num_iid, item = self._item(params)
            full = self._type(params)
            if params.get('skuid_quantities'):
                name = 'skuid_quantities'
                pairs = _pairs(params[name], name, _ID)
                skus = [self._sku(num_iid, item, sku_id=k) for k, _ in pairs]
            elif params.get('outerid_quantities'):
                name = 'outerid_quantities'
                pairs = _pairs(params[name], name, _OUTER_ID)
                skus = [self._sku(num_iid, item, outer_id=k)
                    for k, _ in pairs]
            else:
                raise Refusal(40, 'skuid_quantities', 'isv.missing-parameter',
                    'missing skuid_quantities or outerid_quantities')
            changes = [(s, _quantity(q, name, full))
                for s, (_, q) in zip(skus, pairs)]
            return self._apply(item, num_iid, changes, full)

    def item_quantity_update(self, params):
        with self._stock_lock:
            num_iid, item = self._item(params)
            require(params, 'quantity')
            full = self._type(params)
            quantity = _quantity(params['quantity'], 'quantity', full)
            if params.get('sku_id'):
                sku = self._sku(num_iid, item, sku_id=params['sku_id'])
            elif params.get('outer_id') and item['skus']:
                sku = self._sku(num_iid, item, outer_id=params['outer_id'])
            elif item['skus']:
                raise _invalid('sku_id',
                    'item %s has SKUs: sku_id or outer_id required' % num_iid)
            else:
                sku = None
            return self._apply(item, num_iid, [(sku, quantity)], full)


class InventoryServer(InventoryService, BaseServer):
    "The gateway serving the items' stock"
