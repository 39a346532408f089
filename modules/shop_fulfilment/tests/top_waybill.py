# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The electronic waybill service (cainiao.waybill.ii.get / cancel), as the
local gateway serves it

cainiao.waybill.ii.get takes param_waybill_cloud_print_apply_new_request, a
JSON object (cp_code, sender, trade_order_info_dtos[1..10]), and answers

    {"cainiao_waybill_ii_get_response": {"modules": {
        "waybill_cloud_print_response": [{"object_id", "waybill_code",
            "print_data", "cp_code", "real_cp_code"}, ...]},
        "request_id": ...}}

in the order of the request.  print_data is a JSON text as the cloud print
component reads it:

    {"data": {
        "cpCode": "SF", "waybillCode": "SF1300000000001",
        "sender": {...}, "recipient": {...} (as requested),
        "routingInfo": {
            "routeCode": "571 W12-08",                  三段码 (sorting code)
            "sortation": {"name": "浙江 杭州"},          大头笔 (destination mark)
            "consolidation": {"name": "杭州转运中心",     集包地 (consolidation hub)
                "code": "571001"},
            "origin": {"name": "上海", "code": "021"}},
        "packageInfo": {...} (as requested),
        "shippingOption": {"code": "STANDARD_EXPRESS", "title": "标准快递"}},
     "signature": "MD:...", "templateURL": <template_url>}

The service is idempotent: the same cp_code, trade order list and package id
get the same code again while it is not cancelled.  It checks the required
parameters of the documents, refuses unknown cp codes, object ids given twice
in a request and, as the platform does, requests beyond the balance of
waybills the seller bought (waybill_balance by cp code, unlimited when
absent).  cainiao.waybill.ii.cancel refuses unknown codes and codes already
cancelled.  issued (code: request values) and cancelled (codes) let the tests
check what happened.
"""
import hashlib
import itertools
import json
import re

from .top_server import Refusal, require

# The codes of the carriers serving electronic waybills, and the shape of
# their numbers: a prefix and how many digits follow
WAYBILL_CARRIERS = {
    'YTO': ('YT', 13, 4400000000000),
    'ZTO': ('', 14, 75000000000000),
    'STO': ('', 13, 7730000000000),
    'YUNDA': ('', 13, 4310000000000),
    'SF': ('SF', 13, 1300000000000),
    'HTKY': ('', 12, 550000000000),
    'EMS': ('', 13, 1100000000000),
    'POSTB': ('', 13, 9800000000000),
    'JD': ('JD', 13, 1000000000000),
    'DBKD': ('DPK', 12, 360000000000),
    }
# Area codes of the cities the tests send to, for the routing of the labels
AREA_CODES = {
    '北京': '010', '上海': '021', '天津': '022', '重庆': '023',
    '广州': '020', '深圳': '755', '杭州': '571', '宁波': '574',
    '南京': '025', '苏州': '512', '成都': '028', '武汉': '027',
    '西安': '029', '长沙': '731', '郑州': '371', '济南': '531',
    '青岛': '532', '合肥': '551', '福州': '591', '厦门': '592',
    }
CHANNELS = {'TB', 'TM', 'JD', 'PDD', 'OTHERS'}
ALREADY_CANCELLED = 'isv.waybill-cancelled'
_IDENTIFIER = re.compile(r'[0-9A-Za-z_-]+')
_PACKAGE_ID = re.compile(r'[0-9A-Za-z_]+')
_TEMPLATE_URL = re.compile(r'https?://cloudprint\.cainiao\.com/template/.+')


def _missing(path):
    return Refusal(40, path, 'isv.missing-parameter', 'missing %s' % path)


def _invalid(path, message):
    return Refusal(41, path, 'isv.invalid-parameter', message)


def _need(data, path, *names):
    "Return the value at the names in data or refuse it as missing"
    for name in names:
        path += '.' + name
        data = data.get(name) if isinstance(data, dict) else None
        if data in (None, '', [], {}):
            raise _missing(path)
    return data


def _short(name):
    for suffix in ['特别行政区', '维吾尔自治区', '壮族自治区', '回族自治区',
            '自治区', '省', '市']:
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def _digest(*values):
    return int(hashlib.md5('|'.join(values).encode('utf-8')).hexdigest(), 16)


class WaybillService:

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.issued = {}
        self.cancelled = set()
        self.waybill_balance = {}
        self._waybill_keys = {}
        self._waybill_serials = itertools.count(1)

    @property
    def methods(self):
        methods = super().methods
        methods['cainiao.waybill.ii.get'] = self.waybill_get
        methods['cainiao.waybill.ii.cancel'] = self.waybill_cancel
        return methods

    def live_waybills(self):
        "Return the codes issued and not cancelled"
        with self._lock:
            return set(self.issued) - self.cancelled

    def waybill_get(self, params):
        require(params, 'param_waybill_cloud_print_apply_new_request')
        request = self._apply_request(params)
        cp_code = request['cp_code']
        sender = self._sender(request)
        orders = self._trade_orders(request)
        with self._lock:
            keys = [self._waybill_key(cp_code, o) for o in orders]
            new = sum(1 for k in keys if not self._live_code(k))
            balance = self.waybill_balance.get(cp_code)
            if balance is not None and new > balance:
                raise Refusal(15, '',
                    'isv.waybill-balance-insufficient',
                    '电子面单余额不足，请充值后再取号')
            if balance is not None:
                self.waybill_balance[cp_code] = balance - new
            modules = [self._module(cp_code, sender, order, key)
                for order, key in zip(orders, keys)]
        return {'modules': {'waybill_cloud_print_response': modules}}

    def waybill_cancel(self, params):
        require(params, 'cp_code', 'waybill_code')
        code = params['waybill_code']
        with self._lock:
            issued = self.issued.get(code)
            if not issued or issued['cp_code'] != params['cp_code']:
                raise Refusal(15, '',
                    'isv.waybill-not-exist', '面单号不存在：%s' % code)
            if code in self.cancelled:
                raise Refusal(15, '',
                    ALREADY_CANCELLED, '面单号已取消：%s' % code)
            self.cancelled.add(code)
        return {'cancel_result': True}

    def _apply_request(self, params):
        try:
            request = json.loads(
                params['param_waybill_cloud_print_apply_new_request'])
        except ValueError:
            raise _invalid('param_waybill_cloud_print_apply_new_request',
                'param_waybill_cloud_print_apply_new_request is not JSON')
        if not isinstance(request, dict):
            raise _invalid('param_waybill_cloud_print_apply_new_request',
                'param_waybill_cloud_print_apply_new_request is no object')
        cp_code = _need(request, 'request', 'cp_code')
        if cp_code not in WAYBILL_CARRIERS:
            raise Refusal(15, '', 'isv.cp-code-invalid',
                '物流公司编码 %s 不支持电子面单' % cp_code)
        return request

    def _sender(self, request):
        sender = _need(request, 'request', 'sender')
        _need(sender, 'sender', 'name')
        _need(sender, 'sender', 'address', 'province')
        _need(sender, 'sender', 'address', 'detail')
        if not (sender.get('mobile') or sender.get('phone')):
            raise _invalid('sender.mobile', '手机号码和固定电话不能同时为空')
        return sender

    def _trade_orders(self, request):
        orders = _need(request, 'request', 'trade_order_info_dtos')
        if not isinstance(orders, list) or len(orders) > 10:
            raise _invalid('trade_order_info_dtos',
                'trade_order_info_dtos takes 1 to 10 orders')
        object_ids, package_ids = set(), set()
        for index, order in enumerate(orders):
            path = 'trade_order_info_dtos[%d]' % index
            self._check_order(request['cp_code'], order, path)
            if order['object_id'] in object_ids:
                raise _invalid(path + '.object_id',
                    'object_id %s 重复' % order['object_id'])
            object_ids.add(order['object_id'])
            package_id = str(order['package_info'].get('id') or '').lower()
            if package_id and package_id in package_ids:
                raise _invalid(path + '.package_info.id',
                    'package_info.id %s 重复' % package_id)
            package_ids.add(package_id)
        return orders

    def _check_order(self, cp_code, order, path):
        if not isinstance(order, dict):
            raise _missing(path)
        _need(order, path, 'object_id')
        channel = _need(order, path, 'order_info', 'order_channels_type')
        if channel not in CHANNELS:
            raise _invalid(path + '.order_info.order_channels_type',
                'unknown order_channels_type %s' % channel)
        trades = _need(order, path, 'order_info', 'trade_order_list')
        if (not isinstance(trades, list) or len(trades) > 100
                or not all(isinstance(t, str) and _IDENTIFIER.fullmatch(t)
                    for t in trades)):
            raise _invalid(path + '.order_info.trade_order_list',
                'trade_order_list takes 1 to 100 order numbers')
        self._check_package(cp_code, order, path)
        _need(order, path, 'recipient', 'name')
        _need(order, path, 'recipient', 'address', 'province')
        _need(order, path, 'recipient', 'address', 'detail')
        url = _need(order, path, 'template_url')
        if not _TEMPLATE_URL.fullmatch(url):
            raise _invalid(path + '.template_url',
                'template_url is no cloud print template')
        user_id = _need(order, path, 'user_id')
        if not str(user_id).isdigit():
            raise _invalid(path + '.user_id', 'user_id must be a number')

    def _check_package(self, cp_code, order, path):
        package = _need(order, path, 'package_info')
        if package.get('id') and not _PACKAGE_ID.fullmatch(
                str(package['id'])):
            raise _invalid(path + '.package_info.id',
                'package_info.id takes digits, letters and _')
        items = _need(package, path + '.package_info', 'items')
        if not isinstance(items, list) or len(items) > 100:
            raise _invalid(path + '.package_info.items',
                'items takes 1 to 100 items')
        for number, item in enumerate(items):
            item_path = '%s.package_info.items[%d]' % (path, number)
            _need(item, item_path, 'name')
            count = _need(item, item_path, 'count')
            if not isinstance(count, int) or count < 1:
                raise _invalid(item_path + '.count', 'count must be >= 1')
        if cp_code == 'SF':
            # "顺丰取号必须传此参数"
            _need(package, path + '.package_info', 'goods_description')

    @staticmethod
    def _waybill_key(cp_code, order):
        return (cp_code, tuple(order['order_info']['trade_order_list']),
            str(order['package_info'].get('id') or '').lower())

    def _live_code(self, key):
        code = self._waybill_keys.get(key)
        if code and code not in self.cancelled:
            return code

    def _module(self, cp_code, sender, order, key):
        code = self._live_code(key)
        if not code:
            prefix, digits, start = WAYBILL_CARRIERS[cp_code]
            code = '%s%0*d' % (
                prefix, digits, start + next(self._waybill_serials))
            self._waybill_keys[key] = code
            self.issued[code] = {
                'cp_code': cp_code,
                'trade_order_list': list(key[1]),
                'package_id': key[2],
                'object_id': order['object_id'],
                'recipient': order['recipient'],
                'user_id': order['user_id'],
                }
        return {
            'object_id': order['object_id'],
            'waybill_code': code,
            'print_data': json.dumps(
                self._print_data(cp_code, code, sender, order),
                ensure_ascii=False),
            'cp_code': cp_code,
            'real_cp_code': cp_code,
            }

    def _print_data(self, cp_code, code, sender, order):
        return {
            'data': {
                'cpCode': cp_code,
                'waybillCode': code,
                'sender': sender,
                'recipient': order['recipient'],
                'routingInfo': self._routing(sender, order['recipient']),
                'packageInfo': order['package_info'],
                'shippingOption': {
                    'code': 'STANDARD_EXPRESS', 'title': '标准快递'},
                },
            'signature': 'MD:' + hashlib.md5(
                code.encode('utf-8')).hexdigest(),
            'templateURL': order['template_url'],
            }

    @staticmethod
    def _routing(sender, recipient):
        "The carrier's routing of the parcel, stable for an address"
        address = recipient['address']
        province = _short(address['province'])
        city = _short(address.get('city') or address['province'])
        area = AREA_CODES.get(city) or '%03d' % (
            _digest(province, city) % 900 + 100)
        number = _digest(address['province'], address.get('city') or '',
            address['detail'])
        origin = _short(sender['address'].get('city')
            or sender['address']['province'])
        return {
            'routeCode': '%s %s%02d-%02d' % (
                area, 'ABCDEFGHJKLMNPQRSTUVWXYZ'[number % 24],
                number // 24 % 100, number // 2400 % 100),
            'sortation': {
                'name': city if city == province else '%s %s' % (
                    province, city)},
            'consolidation': {
                'name': '%s转运中心' % city, 'code': area + '001'},
            'origin': {
                'name': origin, 'code': AREA_CODES.get(origin, '')},
            }
