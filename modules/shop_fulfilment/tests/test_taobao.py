# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime
import hashlib
import hmac
import importlib.util
import json
import random
import sqlite3
import sys
import urllib.parse
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _load(name, path):
    "Load the ORM-free file by path, the module needs no Tryton pool"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


taobao = _load('shop_fulfilment_taobao', HERE.parent / 'taobao.py')
from trytond.modules.shop_fulfilment.tests import top_server  # noqa: E402
TradeError = taobao.TradeError
TopError = taobao.TopError

APP_KEY, SECRET, SESSION = '12345678', 'helloworld', 'session-token'
FULLINFO = 'taobao.trade.fullinfo.get'
INCREMENT = 'taobao.trades.sold.increment.get'
D = Decimal
CHINA_OFFSET = datetime.timedelta(hours=8)


def order(oid, price, num=1, payment=None, **values):
    price = D(price)
    data = {
        'oid': oid, 'status': 'WAIT_SELLER_SEND_GOODS', 'num': num,
        'num_iid': 600000000001, 'sku_id': '4000001', 'title': '保温杯',
        'outer_iid': 'CUP', 'outer_sku_id': 'CUP-RED',
        'price': str(price), 'total_fee': str(price * num),
        'payment': str(price * num if payment is None else D(payment)),
        'discount_fee': '0.00', 'adjust_fee': '0.00',
        }
    data.update(values)
    return data


def trade(tid, lines, payment, post_fee='0.00', **values):
    data = {
        'tid': tid, 'status': 'WAIT_SELLER_SEND_GOODS',
        'type': 'fixed', 'seller_nick': 'shop', 'buyer_nick': 'buyer',
        'buyer_open_uid': 'AAH1', 'created': '2024-03-01 09:00:00',
        'modified': '2024-03-01 09:05:00', 'pay_time': '2024-03-01 09:01:00',
        'payment': str(payment), 'post_fee': str(post_fee),
        'total_fee': '0.00', 'discount_fee': '0.00', 'adjust_fee': '0.00',
        'receiver_name': '张三', 'receiver_state': '上海',
        'receiver_city': '上海市', 'receiver_district': '浦东新区',
        'receiver_town': '张江镇', 'receiver_address': '碧波路 690 号',
        'receiver_zip': '201203', 'receiver_mobile': '13800001234',
        'receiver_phone': '', 'oaid': 'OAID1', 'seller_flag': 2,
        'seller_memo': '送货前电话', 'buyer_message': '',
        'shipping_type': 'express', 'alipay_no': '2024030122001',
        'orders': {'order': lines},
        }
    data.update(values)
    return data


def error_of(function, *args):
    with pytest.raises(TradeError) as info:
        function(*args)
    return info.value


# Signing

SIGN_PARAMS = {
    'method': FULLINFO, 'app_key': APP_KEY, 'session': 'test',
    'timestamp': '2016-01-01 12:00:00', 'format': 'json', 'v': '2.0',
    'sign_method': 'md5', 'fields': 'tid,type,status,payment,orders',
    'tid': '11223344', 'sign': 'IGNORED',
    }
SIGN_TEXT = (
    'app_key12345678' 'fieldstid,type,status,payment,orders' 'formatjson'
    'methodtaobao.trade.fullinfo.get' 'sessiontest' 'sign_methodmd5'
    'tid11223344' 'timestamp2016-01-01 12:00:00' 'v2.0')


def test_sign_md5():
    expected = hashlib.md5(
        ('helloworld' + SIGN_TEXT + 'helloworld').encode()).hexdigest()
    assert taobao.sign(SIGN_PARAMS, 'helloworld') == expected.upper()
    assert taobao.sign(SIGN_PARAMS, 'helloworld', 'md5') == expected.upper()


def test_sign_hmac():
    expected = hmac.new(
        b'helloworld', SIGN_TEXT.encode(), hashlib.md5).hexdigest()
    assert taobao.sign(SIGN_PARAMS, 'helloworld', 'hmac') == expected.upper()


def test_sign_utf8_and_unknown_method():
    params = {'b': '淘宝', 'a': '1'}
    expected = hashlib.md5('sa1b淘宝s'.encode('utf-8')).hexdigest().upper()
    assert taobao.sign(params, 's') == expected
    with pytest.raises(ValueError):
        taobao.sign(params, 's', 'sha1')


# Times and money

def test_to_utc_and_back():
    value = taobao.to_utc('2024-03-01 07:30:00')
    assert value == datetime.datetime(2024, 2, 29, 23, 30)
    assert taobao.from_utc(value) == '2024-03-01 07:30:00'
    assert taobao.to_utc(None) is None
    assert taobao.to_utc('') is None


@pytest.mark.parametrize('text', [
        '2024-03-01', '2024-13-01 00:00:00', '01/03/2024 10:00', 12])
def test_to_utc_bad(text):
    error = error_of(taobao.to_utc, text, 'pay_time')
    assert error.code == 'bad_time'
    assert error.values == {'field': 'pay_time', 'value': text}


@pytest.mark.parametrize('value, expected', [
        ('200.07', D('200.07')), ('5', D('5.00')), ('0.1', D('0.10')),
        (12, D('12.00')), (0.5, D('0.50')), (None, D('0.00')),
        ('', D('0.00')), ('1.500', D('1.50')), (' 3.20 ', D('3.20')),
        ('0.00', D('0.00'))])
def test_money(value, expected):
    result = taobao.money(value, 'payment')
    assert result == expected
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize('value', [
        '-1.00', -1, 'NaN', float('nan'), float('inf'), 'abc', '1.234',
        '1e3', '1,000.00', True, [1]])
def test_money_bad(value):
    error = error_of(taobao.money, value, 'post_fee')
    assert error.code == 'bad_money'
    assert error.values['field'] == 'post_fee'


def test_money_signed():
    assert taobao.money('-5.30', 'adjust_fee', signed=True) == D('-5.30')
    assert str(taobao.money('-0.00', 'adjust_fee', signed=True)) == '0.00'


# Payloads

def test_load_trade_shapes():
    data = {'tid': 1, 'status': 'WAIT_BUYER_PAY'}
    for text in [
            json.dumps({'trade_fullinfo_get_response': {'trade': data}}),
            json.dumps({'trade': data}),
            json.dumps(data)]:
        assert taobao.load_trade(text) == data


@pytest.mark.parametrize('text', [
        '{"trade": ', 'null', '[]', '{}', '"trade"',
        '{"trade_fullinfo_get_response": {"request_id": "x"}}',
        '{"trade_fullinfo_get_response": {"trade": null}}',
        '{"error_response": {"code": 27, "msg": "Invalid session"}}'])
def test_load_trade_bad(text):
    error = error_of(taobao.load_trade, text)
    assert error.code == 'json'
    assert error.values['error']


def test_payload_hash():
    text = '{"trade": {"receiver_name": "张三"}}'
    assert taobao.payload_hash(text) == hashlib.sha256(
        text.encode('utf-8')).hexdigest()
    assert taobao.payload_hash(text) != taobao.payload_hash(text + ' ')


# Parsing

def test_parse_trade():
    data = trade(1234567890123456789, [
            order(98765432101234567, '59.90', 2,
                refund_status='WAIT_SELLER_AGREE', refund_id=771,
                sku_properties_name='颜色:红色'),
            order('98765432101234568', '20.00', payment='20.00')],
        '144.80', post_fee='5.00', adjust_fee='-3.00',
        total_fee='139.80')
    result = taobao.parse_trade(data)
    assert result.tid == '1234567890123456789'
    assert result.status == 'WAIT_SELLER_SEND_GOODS'
    assert (result.paid, result.waiting, result.shipped, result.closed) == (
        True, False, False, False)
    assert result.created == datetime.datetime(2024, 3, 1, 1, 0)
    assert result.modified == datetime.datetime(2024, 3, 1, 1, 5)
    assert result.pay_time == datetime.datetime(2024, 3, 1, 1, 1)
    assert result.payment == D('144.80')
    assert result.post_fee == D('5.00')
    assert result.adjust_fee == D('-3.00')
    assert result.seller_flag == 2
    assert result.seller_memo == '送货前电话'
    assert result.receiver.name == '张三'
    assert result.receiver.town == '张江镇'
    assert result.receiver.oaid == 'OAID1'
    assert result.receiver.masked is False
    first, second = result.lines
    assert first.oid == '98765432101234567'
    assert second.oid == '98765432101234568'
    assert first.num_iid == '600000000001'
    assert first.refund_id == '771'
    assert first.quantity == 2
    assert first.price == D('59.90')
    assert first.divide_order_fee is None
    assert first.sku_properties_name == '颜色:红色'
    assert second.sku_properties_name == ''
    assert first.refund_in_progress and not second.refund_in_progress
    assert result.refund_in_progress
    assert first.amount + second.amount == D('139.80')
    assert not first.gift and not second.gift


def test_parse_trade_identifiers_and_plain_list():
    data = trade(1, [], '10.00', tid_str='11', seller_flag='9',
        orders=[order(2, '10.00', oid_str='22')])
    result = taobao.parse_trade(data)
    assert result.tid == '11'
    assert result.lines[0].oid == '22'
    assert result.seller_flag == 0


def test_single_order_payment_includes_postage():
    data = trade(1, [order(2, '50.00', 2, payment='108.00')], '108.00',
        post_fee='8.00')
    line, = taobao.parse_trade(data).lines
    assert line.payment == D('108.00')
    assert line.amount == D('100.00')


def test_single_order_base_is_trade_payment():
    # The order payment is not needed, and may not be requested
    data = trade(1, [order(2, '50.00', 2)], '108.00', post_fee='8.00')
    del data['orders']['order'][0]['payment']
    line, = taobao.parse_trade(data).lines
    assert line.amount == D('100.00')


def test_single_order_trade_discount():
    # 10.00 off the order-level payment, the postage is not discounted
    data = trade(1, [order(2, '50.00', 2, payment='108.00')], '98.00',
        post_fee='8.00')
    line, = taobao.parse_trade(data).lines
    assert line.amount == D('90.00')


def test_divide_order_fee():
    data = trade(1, [
            order(2, '100.00', divide_order_fee='93.33',
                part_mjz_discount='6.67'),
            order(3, '50.00', divide_order_fee='46.67',
                part_mjz_discount='3.33')],
        '146.00', post_fee='6.00')
    lines = taobao.parse_trade(data).lines
    assert [l.amount for l in lines] == [D('93.33'), D('46.67')]
    assert lines[0].part_mjz_discount == D('6.67')

    data['payment'] = '147.00'
    error = error_of(taobao.parse_trade, data)
    assert error.code == 'inconsistent_money'
    assert error.values == {
        'payment': D('147.00'), 'computed': D('146.00')}


def test_divide_order_fee_partial_falls_back_to_apportion():
    data = trade(1, [
            order(2, '100.00', divide_order_fee='90.00'),
            order(3, '50.00')],
        '135.00')
    lines = taobao.parse_trade(data).lines
    assert [l.amount for l in lines] == [D('90.00'), D('45.00')]


def test_apportion_largest_remainder():
    # 1.00 off 3 x 10.00: 0.333.. each, the first line gets the extra fen
    data = trade(1, [order(o, '10.00') for o in [2, 3, 4]], '34.00',
        post_fee='5.00')
    lines = taobao.parse_trade(data).lines
    assert [l.amount for l in lines] == [D('9.66'), D('9.67'), D('9.67')]

    # 0.05 off 0.01, 0.02 and 99.97: the shares follow the weights
    data = trade(1, [order(2, '0.01'), order(3, '0.02'), order(4, '99.97')],
        '99.95')
    lines = taobao.parse_trade(data).lines
    assert [l.amount for l in lines] == [D('0.01'), D('0.02'), D('99.92')]


def test_apportion_random():
    rng = random.Random(20240301)
    for n in range(500):
        count = rng.randint(2, 8)
        orders = [order(o, '%d.%02d' % (rng.randint(0, 500),
                    rng.randint(0, 99)), rng.randint(1, 5))
            for o in range(count)]
        if rng.random() < 0.2:
            orders.append(order(99, '0.00', is_free_gift=True))
        goods = sum(D(o['payment']) for o in orders)
        discount = (goods * D(rng.random())).quantize(D('0.01'))
        discount = min(discount, goods)
        post_fee = D(rng.choice(['0.00', '6.00', '12.50']))
        result = taobao.parse_trade(
            trade(n, orders, goods - discount + post_fee, post_fee))
        amounts = [l.amount for l in result.lines]
        assert sum(amounts) + result.post_fee == result.payment
        for line, data in zip(result.lines, orders):
            base = D(data['payment'])
            exact = base - discount * base / goods if goods else base
            assert D('0.00') <= line.amount <= base
            assert abs(line.amount - exact) < D('0.01')
            assert line.amount.as_tuple().exponent == -2


def test_gift_lines():
    data = trade(1, [
            order(2, '30.00'),
            order(3, '0.00', is_free_gift=True),
            order(4, '0.00', payment='0.00')],
        '30.00')
    lines = taobao.parse_trade(data).lines
    assert [l.gift for l in lines] == [False, True, True]
    assert [l.amount for l in lines] == [D('30.00'), D('0.00'), D('0.00')]


def test_masked_receiver():
    for name, value in [
            ('receiver_name', '王*'), ('receiver_mobile', '138****5678'),
            ('receiver_phone', '021-****1234'),
            ('receiver_address', '碧波路***号')]:
        data = trade(1, [order(2, '1.00')], '1.00', **{name: value})
        receiver = taobao.parse_trade(data).receiver
        assert receiver.masked
        assert getattr(receiver, name[len('receiver_'):]) == value
    assert not taobao.Receiver(name='张三', state='北京').masked


def test_check_receiver():
    taobao.parse_trade(trade(1, [order(2, '1.00')], '1.00')).check_receiver()
    phone_only = trade(1, [order(2, '1.00')], '1.00',
        receiver_mobile='', receiver_phone='021-12345678')
    taobao.parse_trade(phone_only).check_receiver()
    # 济源 is a county-level city under the province: a district, no city
    district_only = trade(1, [order(2, '1.00')], '1.00',
        receiver_state='河南省', receiver_city='', receiver_district='济源市')
    taobao.parse_trade(district_only).check_receiver()
    for name in ['receiver_name', 'receiver_state', 'receiver_city',
            'receiver_address', 'receiver_mobile']:
        data = trade(1, [order(2, '1.00')], '1.00', **{name: ''})
        data.pop('receiver_phone')
        data.pop('receiver_district')
        result = taobao.parse_trade(data)
        error = error_of(result.check_receiver)
        assert error.code == 'missing_receiver'
        assert error.values == {'field': name}


@pytest.mark.parametrize('name', ['tid', 'status', 'modified', 'orders'])
def test_missing_field(name):
    data = trade(1, [order(2, '1.00')], '1.00')
    del data[name]
    error = error_of(taobao.parse_trade, data)
    assert (error.code, error.values) == ('missing_field', {'field': name})


def test_missing_order_fields():
    for orders in [{'order': []}, [], {'order': ['x']}]:
        error = error_of(taobao.parse_trade,
            trade(1, [], '1.00', orders=orders))
        assert error.values == {'field': 'orders'}
    line = order(2, '1.00')
    del line['oid']
    error = error_of(taobao.parse_trade, trade(1, [line], '1.00'))
    assert (error.code, error.values) == ('missing_field', {'field': 'oid'})


def test_unknown_status():
    data = trade(1, [order(2, '1.00')], '1.00', status='TRADE_LOST')
    error = error_of(taobao.parse_trade, data)
    assert (error.code, error.values) == (
        'unknown_status', {'status': 'TRADE_LOST'})


@pytest.mark.parametrize('num', [0, -1, 'x', 1.5, None, True])
def test_bad_quantity(num):
    data = trade(1, [order(2, '1.00', num=1)], '1.00')
    data['orders']['order'][0]['num'] = num
    error = error_of(taobao.parse_trade, data)
    assert (error.code, error.values) == (
        'bad_quantity', {'oid': '2', 'value': num})


def test_quantity_as_text():
    data = trade(1, [order(2, '1.00', num=3)], '3.00')
    data['orders']['order'][0]['num'] = '3'
    assert taobao.parse_trade(data).lines[0].quantity == 3


def test_bad_money_and_time():
    data = trade(1, [order(2, '1.00', discount_fee='-1')], '1.00')
    error = error_of(taobao.parse_trade, data)
    assert (error.code, error.values) == (
        'bad_money', {'field': 'orders.discount_fee', 'value': '-1'})
    data = trade(1, [order(2, '1.00')], '1.0x')
    assert error_of(taobao.parse_trade, data).values == {
        'field': 'payment', 'value': '1.0x'}
    data = trade(1, [order(2, '1.00')], '1.00', pay_time='yesterday')
    error = error_of(taobao.parse_trade, data)
    assert (error.code, error.values) == (
        'bad_time', {'field': 'pay_time', 'value': 'yesterday'})


@pytest.mark.parametrize('payment, post_fee', [
        ('31.00', '0.00'),  # paid more than the orders
        ('3.00', '5.00'),  # postage above the payment
        ])
def test_inconsistent_money(payment, post_fee):
    data = trade(1, [order(2, '10.00'), order(3, '20.00')], payment,
        post_fee)
    error = error_of(taobao.parse_trade, data)
    assert error.code == 'inconsistent_money'
    assert error.values == {
        'payment': D(payment), 'computed': D('30.00') + D(post_fee)}


def test_statuses():
    assert taobao.STATUSES == (
        taobao.PAID | taobao.WAITING | taobao.SHIPPED | taobao.CLOSED)
    for status, attribute in [
            ('WAIT_BUYER_PAY', 'waiting'), ('TRADE_FINISHED', 'shipped'),
            ('TRADE_CLOSED_BY_TAOBAO', 'closed'),
            ('SELLER_CONSIGNED_PART', 'paid')]:
        data = trade(1, [order(2, '1.00')], '1.00', status=status)
        assert getattr(taobao.parse_trade(data), attribute)


# Client against the local gateway

class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def server():
    with top_server.TopServer(APP_KEY, SECRET, SESSION) as server:
        yield server


def client_of(server, **values):
    values.setdefault('sleep', Sleeps())
    values.setdefault('timeout', 5)
    return taobao.TopClient(server.url, APP_KEY,
        values.pop('secret', SECRET), values.pop('session', SESSION),
        **values)


def china(value):
    return value.strftime('%Y-%m-%d %H:%M:%S')


@pytest.mark.parametrize('sign_method', ['md5', 'hmac'])
def test_client_increment_windows_and_pages(server, sign_method):
    start = datetime.datetime(2024, 3, 1, 0, 0)  # UTC, 08:00 in China
    for day in range(3):
        for i in range(12):
            modified = start + datetime.timedelta(days=day, hours=i + 1)
            server.trades.append({
                    'tid': 1000 + day * 100 + i, 'status': 'TRADE_FINISHED',
                    'modified': china(modified + CHINA_OFFSET),
                    'orders': {'order': []}})
    # On the boundary of the first two windows, seen in both
    server.trades.append({'tid': 5000, 'status': 'WAIT_SELLER_SEND_GOODS',
            'modified': '2024-03-02 08:00:00'})
    # An older view of trade 1000 next to the newest one
    server.trades.append({'tid': 1000, 'status': 'WAIT_SELLER_SEND_GOODS',
            'modified': '2024-03-01 08:30:00'})
    client = client_of(server, sign_method=sign_method)

    summaries = list(client.sold_increment(
            start, start + datetime.timedelta(days=3), page_size=5))

    tids = [str(s['tid']) for s in summaries]
    assert len(tids) == len(set(tids)) == 37
    assert set(summaries[0]) == {'tid', 'status', 'modified'}
    assert [s['modified'] for s in summaries] == sorted(
        s['modified'] for s in summaries)
    newest = next(s for s in summaries if s['tid'] == 1000)
    assert newest == {'tid': 1000, 'status': 'TRADE_FINISHED',
        'modified': '2024-03-01 09:00:00'}

    pages = server.pages()
    windows = sorted({(s, e) for s, e, _ in pages})
    assert windows == [
        ('2024-03-01 08:00:00', '2024-03-02 08:00:00'),
        ('2024-03-02 08:00:00', '2024-03-03 08:00:00'),
        ('2024-03-03 08:00:00', '2024-03-04 08:00:00')]
    for window_start, window_end in windows:
        assert (datetime.datetime.fromisoformat(window_end)
            - datetime.datetime.fromisoformat(window_start)
            <= datetime.timedelta(days=1))
    # 14, 13 and 12 trades in the windows: 3 pages each, walked backwards
    assert [p for *_, p in pages] == [1, 3, 2, 1] * 3
    assert all(r['use_has_next'] == 'false' and r['page_size'] == '5'
        for r in server.requests)


def test_client_increment_short_window(server):
    server.trades.append({'tid': 7, 'status': 'WAIT_BUYER_PAY',
            'modified': '2024-03-01 10:00:00'})
    client = client_of(server)
    start = datetime.datetime(2024, 3, 1, 1, 30, 0, 500)
    summaries = list(client.sold_increment(
            start, start + datetime.timedelta(hours=1)))
    assert [s['tid'] for s in summaries] == [7]
    assert server.pages() == [
        ('2024-03-01 09:30:00', '2024-03-01 10:30:00', 1)]
    assert list(client.sold_increment(start, start)) == []


def test_client_fullinfo(server):
    data = trade(3141592653589793, [order(1, '25.00', 2)], '50.00')
    server.trades.append(data)
    client = client_of(server)
    text = client.trade_fullinfo('3141592653589793')
    assert json.loads(text)['trade_fullinfo_get_response']['trade'] == data
    result = taobao.parse_trade(taobao.load_trade(text))
    assert result.tid == '3141592653589793'
    assert result.lines[0].amount == D('50.00')
    request, = server.requests
    assert request['fields'] == taobao.FULLINFO_FIELDS
    assert request['tid'] == '3141592653589793'
    for name in ['payment', 'receiver_mobile', 'seller_flag', 'orders']:
        assert name in taobao.FULLINFO_FIELDS.split(',')

    raw, body = client.call_raw(FULLINFO, tid=3141592653589793, fields='tid')
    assert body == json.loads(raw)['trade_fullinfo_get_response']
    assert body['request_id']


def test_client_unknown_trade_is_permanent(server):
    client = client_of(server)
    with pytest.raises(TopError) as info:
        client.trade_fullinfo('42')
    assert info.value.code == 15
    assert info.value.sub_code == 'isv.trade-not-exist'
    assert not info.value.temporary
    assert server.counts[FULLINFO] == 1


def test_client_wrong_secret_not_retried(server):
    client = client_of(server, secret='wrong')
    with pytest.raises(TopError) as info:
        client.call(FULLINFO, tid=1, fields='tid')
    error = info.value
    assert error.code == 25
    assert not error.temporary
    assert 'Invalid signature' in str(error)
    assert server.counts[FULLINFO] == 1
    assert client.sleep == []


@pytest.mark.parametrize('values, code', [
        ({'session': 'expired'}, 27),
        ({'now': lambda: datetime.datetime(2020, 1, 1)}, 31),
        ])
def test_client_permanent_errors(server, values, code):
    client = client_of(server, **values)
    with pytest.raises(TopError) as info:
        client.call(FULLINFO, tid=1, fields='tid')
    assert info.value.code == code
    assert not info.value.temporary
    assert server.counts[FULLINFO] == 1


@pytest.mark.parametrize('fault', [
        {'code': 7}, {'code': 8}, {'sub_code': 'isp.remote-service-error'},
        {'status': 503}, {'body': '<html>busy</html>'}])
def test_client_temporary_errors_retried(server, fault):
    server.trades.append(trade(1, [order(2, '1.00')], '1.00'))
    server.fail_next(2, **fault)
    client = client_of(server)
    text = client.trade_fullinfo(1)
    assert taobao.parse_trade(taobao.load_trade(text)).tid == '1'
    assert server.counts[FULLINFO] == 3
    assert client.sleep == [0.5, 1.0]


def test_client_permanent_fault_not_retried(server):
    server.fail_next(1, code=15, sub_code='isv.invalid-parameter')
    server.fail_next(1, status=404)
    client = client_of(server)
    for code in [15, None]:
        with pytest.raises(TopError) as info:
            client.call(FULLINFO, tid=1, fields='tid')
        assert info.value.code == code
        assert not info.value.temporary
    assert server.counts[FULLINFO] == 2
    assert client.sleep == []


def test_client_timeout_retried(server):
    server.trades.append(trade(1, [order(2, '1.00')], '1.00'))
    server.timeout_next(1, delay=3)
    client = client_of(server, timeout=0.3)
    assert taobao.load_trade(client.trade_fullinfo(1))['tid'] == 1
    assert server.counts[FULLINFO] == 2
    assert client.sleep == [0.5]


def test_client_retries_exhausted(server):
    server.fail_next(10, sub_code='isp.top-remote-connection-timeout')
    client = client_of(server, retries=2, backoff=1)
    with pytest.raises(TopError) as info:
        client.call(FULLINFO, tid=1, fields='tid')
    assert info.value.temporary
    assert info.value.sub_code == 'isp.top-remote-connection-timeout'
    assert server.counts[FULLINFO] == 3
    assert client.sleep == [1, 2]


def test_client_connection_refused():
    with top_server.TopServer(APP_KEY, SECRET, SESSION) as server:
        url = server.url
    client = taobao.TopClient(url, APP_KEY, SECRET, SESSION, retries=1,
        sleep=Sleeps(), timeout=2)
    with pytest.raises(TopError) as info:
        client.call(FULLINFO, tid=1, fields='tid')
    assert info.value.temporary
    assert info.value.code is None
    assert client.sleep == [0.5]


def post(server, form, secret=SECRET):
    "Post form signed as given, return the JSON answer"
    values = {
        'app_key': APP_KEY, 'session': SESSION, 'v': '2.0',
        'format': 'json', 'sign_method': 'md5',
        'timestamp': taobao.from_utc(datetime.datetime.now(
                datetime.timezone.utc).replace(tzinfo=None)),
        }
    values.update(form)
    values = {k: v for k, v in values.items() if v is not None}
    if 'sign' not in values:
        values['sign'] = taobao.sign(values, secret, values.get('sign_method'))
    data = urllib.parse.urlencode(values).encode()
    with urllib.request.urlopen(server.url, data, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.parametrize('form, code, sub_code', [
        ({'method': None}, 21, None),
        ({'method': 'taobao.unknown.get'}, 22, None),
        ({'method': FULLINFO, 'app_key': None}, 28, None),
        ({'method': FULLINFO, 'app_key': '999'}, 29, None),
        ({'method': FULLINFO, 'timestamp': None}, 30, None),
        ({'method': FULLINFO, 'timestamp': '2024/03/01'}, 31, None),
        ({'method': FULLINFO, 'v': None}, 32, None),
        ({'method': FULLINFO, 'v': '1.0'}, 34, None),
        ({'method': FULLINFO, 'format': 'xml'}, 23, None),
        ({'method': FULLINFO, 'sign_method': 'sha1', 'sign': 'X'}, 41,
            'isv.invalid-parameter'),
        ({'method': FULLINFO, 'sign': ''}, 24, None),
        ({'method': FULLINFO, 'sign': 'ABC'}, 25, None),
        ({'method': FULLINFO, 'session': None}, 26, None),
        ({'method': FULLINFO, 'tid': '1'}, 40, 'isv.missing-parameter'),
        ({'method': FULLINFO, 'fields': 'tid'}, 40, 'isv.missing-parameter'),
        ({'method': FULLINFO, 'fields': 'tid', 'tid': 'x'}, 41,
            'isv.invalid-parameter'),
        ({'method': INCREMENT, 'fields': 'tid',
                'start_modified': '2024-03-01 00:00:00'}, 40,
            'isv.missing-parameter'),
        ({'method': INCREMENT, 'fields': 'tid',
                'start_modified': '2024-03-01 00:00:00',
                'end_modified': '2024-03-02 00:00:01'}, 41,
            'isv.invalid-parameter'),
        ({'method': INCREMENT, 'fields': 'tid',
                'start_modified': '2024-03-01 00:00:00',
                'end_modified': '2024-03-01 00:00:00'}, 41,
            'isv.invalid-parameter'),
        ({'method': INCREMENT, 'fields': 'tid',
                'start_modified': '2024-03-01 00:00:00',
                'end_modified': '2024-03-01 01:00:00',
                'page_size': '101'}, 41, 'isv.invalid-parameter'),
        ({'method': INCREMENT, 'fields': 'tid',
                'start_modified': '2024-03-01 00:00:00',
                'end_modified': '2024-03-01 01:00:00',
                'page_size': '0'}, 41, 'isv.invalid-parameter'),
        ])
def test_server_checks(server, form, code, sub_code):
    error = post(server, form)['error_response']
    assert error['code'] == code
    assert error.get('sub_code') == sub_code
    assert error['msg'] and error['request_id']


def test_server_accepts_signed_requests(server):
    form = {'method': INCREMENT, 'fields': 'tid',
        'start_modified': '2024-03-01 00:00:00',
        'end_modified': '2024-03-02 00:00:00'}
    for method in ['md5', 'hmac']:
        answer = post(server, dict(form, sign_method=method))
        body = answer['trades_sold_increment_get_response']
        assert body['total_results'] == 0
        assert body['has_next'] is False
    answer = post(server, dict(form, use_has_next='true'))
    assert 'total_results' not in answer['trades_sold_increment_get_response']


# Jushita relay

RELAY_ROWS = [
    # tid, seller, status, modified, jdp_modified (China time)
    (101, 'shop', 'WAIT_SELLER_SEND_GOODS', '2024-03-01 07:59:00',
        '2024-03-01 08:00:00'),
    (103, 'shop', 'WAIT_BUYER_PAY', '2024-03-01 08:00:01',
        '2024-03-01 08:00:05'),
    (102, 'shop', 'TRADE_FINISHED', '2024-03-01 08:00:02',
        '2024-03-01 08:00:05'),
    (104, 'other', 'WAIT_SELLER_SEND_GOODS', '2024-03-01 08:00:03',
        '2024-03-01 08:00:06'),
    (105, 'shop', 'TRADE_CLOSED', '2024-03-01 08:59:00',
        '2024-03-01 09:00:00'),
    (106, 'shop', 'WAIT_SELLER_SEND_GOODS', '2024-03-01 09:00:00',
        '2024-03-01 09:00:05'),
    (100, 'shop', 'WAIT_SELLER_SEND_GOODS', '2024-03-01 06:00:00',
        '2024-03-01 07:59:59'),
    ]


def relay_response(tid):
    return ('{"trade_fullinfo_get_response":{"trade":{"tid":%s,'
        '"receiver_name":"屈**"}}}  ' % tid)


def fill_relay(connection, placeholder, time_type, tid_type):
    cursor = connection.cursor()
    cursor.execute(
        'CREATE TABLE jdp_tb_trade ('
        'tid %(tid)s PRIMARY KEY, status VARCHAR(64), type VARCHAR(64), '
        'seller_nick VARCHAR(32), buyer_nick VARCHAR(32), '
        'created %(time)s, modified %(time)s, jdp_hashcode VARCHAR(128), '
        'jdp_response TEXT, jdp_created %(time)s, jdp_modified %(time)s)'
        % {'time': time_type, 'tid': tid_type})
    for tid, seller, status, modified, jdp_modified in RELAY_ROWS:
        cursor.execute(
            'INSERT INTO jdp_tb_trade (tid, status, type, seller_nick, '
            'buyer_nick, created, modified, jdp_hashcode, jdp_response, '
            'jdp_created, jdp_modified) VALUES (%s)'
            % ', '.join([placeholder] * 11),
            (tid, status, 'fixed', seller, 'buyer', modified, modified,
                'h%s' % tid, relay_response(tid), jdp_modified,
                jdp_modified))
    connection.commit()


@pytest.fixture
def sqlite_relay(tmp_path):
    path = tmp_path / 'relay.sqlite'
    connection = sqlite3.connect(path)
    fill_relay(connection, '?', 'DATETIME', 'INTEGER')
    connection.close()
    return 'sqlite:///%s' % path


@pytest.fixture
def postgresql_relay():
    psycopg2 = pytest.importorskip('psycopg2')
    try:
        admin = psycopg2.connect(host='127.0.0.1', port=5432,
            user='postgres', dbname='postgres', connect_timeout=3)
    except psycopg2.OperationalError as exception:
        pytest.skip('PostgreSQL unreachable: %s' % exception)
    admin.autocommit = True
    name = 'shop_relay_test_%s' % uuid.uuid4().hex[:12]
    with admin.cursor() as cursor:
        cursor.execute('CREATE DATABASE "%s"' % name)
    try:
        connection = psycopg2.connect(host='127.0.0.1', port=5432,
            user='postgres', dbname=name)
        fill_relay(connection, '%s', 'TIMESTAMP', 'BIGINT')
        connection.close()
        yield 'postgresql://postgres@127.0.0.1:5432/%s' % name
    finally:
        with admin.cursor() as cursor:
            cursor.execute('DROP DATABASE IF EXISTS "%s"' % name)
        admin.close()


@pytest.fixture(params=['sqlite', 'postgresql'])
def relay(request):
    return request.getfixturevalue('%s_relay' % request.param)


def test_relay_fetch(relay):
    since = datetime.datetime(2024, 3, 1, 0, 0)  # 08:00 in China
    with taobao.RelayReader(relay) as reader:
        rows = reader.fetch('shop', since)
    assert [r.tid for r in rows] == ['101', '102', '103', '105', '106']
    first = rows[0]
    assert first.status == 'WAIT_SELLER_SEND_GOODS'
    assert first.jdp_modified == datetime.datetime(2024, 3, 1, 0, 0)
    assert first.modified == datetime.datetime(2024, 2, 29, 23, 59)
    assert first.response == relay_response(101)
    assert taobao.load_trade(first.response)['receiver_name'] == '屈**'


def test_relay_keyset_paging(relay):
    since = datetime.datetime(2024, 2, 29, 23, 0)
    seen, after = [], None
    with taobao.RelayReader(relay) as reader:
        for page in range(5):
            rows = reader.fetch('shop', since, after=after, limit=2)
            assert len(rows) <= 2
            if not rows:
                break
            seen.extend(rows)
            after = (rows[-1].jdp_modified, rows[-1].tid)
        assert page == 3
        assert reader.fetch('shop', since, after=after) == []
        # Rows of the same second are told apart by the tid
        after = (datetime.datetime(2024, 3, 1, 0, 0, 5), '102')
        assert [r.tid for r in reader.fetch('shop', since, after=after)] == [
            '103', '105', '106']
    assert [r.tid for r in seen] == ['100', '101', '102', '103', '105', '106']
    assert [r.jdp_modified for r in seen] == sorted(
        r.jdp_modified for r in seen)
    assert seen[-1].jdp_modified == datetime.datetime(2024, 3, 1, 1, 0, 5)


def test_relay_bad_uri(tmp_path):
    with pytest.raises(ValueError):
        taobao.RelayReader('mysql://root@localhost/jdp')
    with pytest.raises(taobao.RelayError):
        taobao.RelayReader('sqlite:///%s' % (tmp_path / 'missing.sqlite'))


def test_relay_errors(tmp_path):
    path = tmp_path / 'relay.sqlite'
    connection = sqlite3.connect(path)
    connection.execute('CREATE TABLE jdp_tb_refund (refund_id INTEGER)')
    connection.close()
    with taobao.RelayReader('sqlite:///%s' % path) as reader:
        with pytest.raises(taobao.RelayError):
            reader.fetch('shop', datetime.datetime(2024, 3, 1))


def test_relay_garbled_time(sqlite_relay):
    path = sqlite_relay[len('sqlite:///'):]
    connection = sqlite3.connect(path)
    connection.execute(
        "UPDATE jdp_tb_trade SET modified = 'soon' WHERE tid = 106")
    connection.commit()
    connection.close()
    with taobao.RelayReader(sqlite_relay) as reader:
        with pytest.raises(taobao.RelayError):
            reader.fetch('shop', datetime.datetime(2024, 3, 1))
