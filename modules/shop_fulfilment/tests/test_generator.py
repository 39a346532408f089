# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import importlib.util
import json
import os
import re
import sqlite3
import uuid
from collections import Counter
from decimal import Decimal, InvalidOperation

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

STATUSES = {
    'TRADE_NO_CREATE_PAY', 'WAIT_BUYER_PAY', 'WAIT_SELLER_SEND_GOODS',
    'SELLER_CONSIGNED_PART', 'WAIT_BUYER_CONFIRM_GOODS', 'TRADE_BUYER_SIGNED',
    'TRADE_FINISHED', 'TRADE_CLOSED', 'TRADE_CLOSED_BY_TAOBAO', 'PAY_PENDING',
    'PAID_FORBID_CONSIGN'}
REFUND_STATUSES = {
    'NO_REFUND', 'WAIT_SELLER_AGREE', 'WAIT_BUYER_RETURN_GOODS',
    'WAIT_SELLER_CONFIRM_GOODS', 'SELLER_REFUSE_BUYER', 'CLOSED', 'SUCCESS'}
MONEY = re.compile(r'^-?\d+\.\d{2}$')
TIME = re.compile(r'^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$')
TRADE_MONEY = [
    'payment', 'total_fee', 'post_fee', 'discount_fee', 'adjust_fee']
ORDER_MONEY = [
    'price', 'total_fee', 'payment', 'discount_fee', 'adjust_fee',
    'divide_order_fee', 'part_mjz_discount']


def _load(name, path):
    "Load a module of this package by path, whatever the package imports"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


china = _load('shop_fulfilment_china', os.path.join(HERE, '..', 'china.py'))
generator = _load(
    'shop_fulfilment_tests_generator', os.path.join(HERE, 'generator.py'))


@pytest.fixture(scope='module')
def trades():
    return generator.generate_trades(1000)


def D(value):
    return Decimal(value)


def orders_of(trade):
    return trade['orders']['order']


def parse(value):
    return dt.datetime.strptime(value, '%Y-%m-%d %H:%M:%S')


def test_deterministic():
    first = generator.generate_trades(50, seed=7)
    assert first == generator.generate_trades(50, seed=7)
    assert first[:20] == generator.generate_trades(20, seed=7)
    assert first != generator.generate_trades(50, seed=8)
    assert ([generator.response_text(t) for t in first]
        == [generator.response_text(t)
            for t in generator.generate_trades(50, seed=7)])
    assert generator.bad_payloads() == generator.bad_payloads()


def test_arguments():
    start = dt.datetime(2026, 6, 18, 20, 0)
    trades = generator.generate_trades(
        30, seed=3, seller_nick='测试店', start=start,
        status_weights={'WAIT_BUYER_PAY': 1})
    assert {t['seller_nick'] for t in trades} == {'测试店'}
    assert {t['status'] for t in trades} == {'WAIT_BUYER_PAY'}
    assert all(parse(t['created']) > start for t in trades)
    assert not any('pay_time' in t for t in trades)
    with pytest.raises(ValueError):
        generator.generate_trades(1, status_weights={'WAIT_ALIENS': 1})


def test_catalogue():
    catalogue = generator.CATALOGUE
    gifts = [p for p in catalogue if p['gift']]
    assert 35 <= len(catalogue) - len(gifts) <= 50
    assert len(gifts) == 3
    assert all(p['price'] == '0.00' and '赠品' in p['title'] for p in gifts)
    codes = [p['code'] for p in catalogue]
    assert len(codes) == len(set(codes))
    for product in catalogue:
        assert product['code'] == (
            product['outer_sku_id'] or product['outer_iid'])
        assert isinstance(product['num_iid'], int)
        assert len(str(product['num_iid'])) == 12
        assert (product['sku_id'] is None) == (product['outer_sku_id'] is None)
        assert (product['sku_id'] is None) == (
            product['sku_properties_name'] == '')
        if product['sku_id'] is not None:
            assert len(str(product['sku_id'])) == 13
            assert product['outer_sku_id'].startswith(
                product['outer_iid'] + '-')
            assert ':' in product['sku_properties_name']
        assert MONEY.match(product['price'])
        assert isinstance(product['weight'], Decimal)
        assert product['weight'] > 0
    assert any(p['sku_id'] is None and not p['gift'] for p in catalogue)
    sku_ids = [p['sku_id'] for p in catalogue if p['sku_id']]
    assert len(sku_ids) == len(set(sku_ids))


def check_order_money(trade):
    orders = orders_of(trade)
    single = len(orders) == 1
    post_fee = D(trade['post_fee'])
    for order in orders:
        for field in ORDER_MONEY:
            assert MONEY.match(order[field]), (field, order[field])
        total = (D(order['price']) * order['num'] + D(order['adjust_fee'])
            - D(order['discount_fee']))
        assert D(order['total_fee']) == total
        assert D(order['payment']) == (total + post_fee if single else total)
        assert D(order['divide_order_fee']) == (
            D(order['payment']) - (post_fee if single else 0)
            - D(order['part_mjz_discount']))
        assert D(order['divide_order_fee']) >= 0
        assert D(order['part_mjz_discount']) >= 0
        if order['is_free_gift']:
            assert all(D(order[f]) == 0 for f in ORDER_MONEY)
    if single:
        assert D(orders[0]['payment']) == D(trade['payment'])


def check_trade_money(trade):
    orders = orders_of(trade)
    for field in TRADE_MONEY:
        assert MONEY.match(trade[field]), (field, trade[field])
    assert D(trade['total_fee']) == sum(
        D(o['price']) * o['num'] for o in orders)
    trade_level = sum(D(o['part_mjz_discount']) for o in orders)
    assert D(trade['discount_fee']) == sum(
        D(o['discount_fee']) for o in orders) + trade_level
    if len(orders) == 1:
        assert trade['adjust_fee'] == orders[0]['adjust_fee']
    else:
        assert trade['adjust_fee'] == '0.00'
    assert D(trade['payment']) == sum(
        D(o['divide_order_fee']) for o in orders) + D(trade['post_fee'])
    assert D(trade['payment']) == (
        D(trade['total_fee']) - D(trade['discount_fee'])
        + sum(D(o['adjust_fee']) for o in orders) + D(trade['post_fee']))
    assert generator.expected_total(trade) == D(trade['payment'])
    promotions = trade.get('promotion_details', {}).get(
        'promotion_detail', [])
    assert sum(D(p['discount_fee']) for p in promotions) == D(
        trade['discount_fee'])


def test_money(trades):
    for trade in trades:
        check_order_money(trade)
        check_trade_money(trade)


def test_money_variety(trades):
    orders = [o for t in trades for o in orders_of(t)]
    paid = [o for o in orders if not o['is_free_gift']]
    assert Counter(len(orders_of(t)) for t in trades).keys() == {1, 2, 3, 4}
    assert any(o['is_free_gift'] for o in orders)
    assert any(D(o['adjust_fee']) < 0 for o in orders)
    assert any(D(o['adjust_fee']) > 0 for o in orders)
    assert any(D(o['discount_fee']) > 0 for o in orders)
    assert any(D(o['part_mjz_discount']) > 0 for o in orders)
    assert any(o['num'] > 5 for o in orders)
    assert max(o['num'] for o in orders) <= 12
    assert {t['post_fee'] for t in trades} >= {
        '0.00', '8.00', '12.00', '15.50'}
    assert any(
        D(o['divide_order_fee']) * 100 % o['num'] != 0
        for o in paid if o['num'] > 1)
    assert any('sku_id' in o for o in orders)
    assert any('sku_id' not in o for o in paid)


def test_trade_fields(trades):
    for trade in trades:
        assert isinstance(trade['tid'], int)
        assert 18 <= len(str(trade['tid'])) <= 19
        assert trade['tid_str'] == str(trade['tid'])
        assert trade['status'] in STATUSES
        assert trade['type'] in {'fixed', 'step'}
        assert trade['shipping_type'] == 'express'
        assert trade['seller_flag'] in range(6)
        assert isinstance(trade['has_yfx'], bool)
        assert re.match(r'^\d{28}$', trade['alipay_no'])
        assert trade['buyer_open_uid'].startswith('AAH')
        assert re.match(r'^.\*\*.$', trade['buyer_nick'])
        assert trade['oaid']
        for field in [
                'created', 'modified', 'est_con_time', 'pay_time',
                'timeout_action_time', 'end_time', 'consign_time']:
            if field in trade:
                assert TIME.match(trade[field]), (field, trade[field])
        created, modified = parse(trade['created']), parse(trade['modified'])
        if trade['status'] in {'WAIT_BUYER_PAY', 'TRADE_CLOSED_BY_TAOBAO'}:
            assert 'pay_time' not in trade
            assert created <= modified
        else:
            assert created < parse(trade['pay_time']) <= modified
        for field in ['receiver_name', 'receiver_state', 'receiver_district',
                'receiver_address', 'receiver_zip', 'receiver_mobile']:
            assert isinstance(trade[field], str) and trade[field]
        assert set(trade['orders']) == {'order'}
        for order in orders_of(trade):
            check_order(trade, order)
        if len(orders_of(trade)) == 1:
            assert orders_of(trade)[0]['oid'] == trade['tid']
    oids = [o['oid'] for t in trades for o in orders_of(t)]
    assert len(oids) == len(set(oids))
    assert len({t['tid'] for t in trades}) == len(trades)


def check_order(trade, order):
    assert isinstance(order['oid'], int)
    assert order['oid_str'] == str(order['oid'])
    assert isinstance(order['num_iid'], int)
    assert isinstance(order['num'], int) and order['num'] >= 1
    assert order['status'] in STATUSES
    assert order['refund_status'] in REFUND_STATUSES
    assert ('refund_id' in order) == (order['refund_status'] != 'NO_REFUND')
    assert isinstance(order['is_free_gift'], bool)
    if 'sku_id' in order:
        assert re.match(r'^\d{13}$', order['sku_id'])
        assert order['outer_sku_id'] and order['sku_properties_name']
    sku_id = int(order['sku_id']) if 'sku_id' in order else None
    product = next(
        p for p in generator.CATALOGUE
        if (p['num_iid'], p['sku_id']) == (order['num_iid'], sku_id))
    assert product['code'] == order.get('outer_sku_id', order['outer_iid'])
    assert product['price'] == order['price']
    assert product['gift'] == order['is_free_gift']


def test_statuses(trades):
    statuses = Counter(t['status'] for t in trades)
    assert set(statuses) == {
        'WAIT_SELLER_SEND_GOODS', 'WAIT_BUYER_PAY', 'SELLER_CONSIGNED_PART',
        'TRADE_CLOSED_BY_TAOBAO', 'TRADE_CLOSED'}
    assert statuses['WAIT_SELLER_SEND_GOODS'] > len(trades) * 0.7
    asked = [
        t for t in trades if t['status'] == 'WAIT_SELLER_SEND_GOODS'
        and any(o['refund_status'] == 'WAIT_SELLER_AGREE'
            for o in orders_of(t))]
    assert asked
    for trade in trades:
        orders = orders_of(trade)
        statuses = {o['status'] for o in orders}
        if trade['status'] == 'SELLER_CONSIGNED_PART':
            assert statuses == {
                'WAIT_BUYER_CONFIRM_GOODS', 'WAIT_SELLER_SEND_GOODS'}
            assert all(o['invoice_no'] for o in orders
                if o['status'] == 'WAIT_BUYER_CONFIRM_GOODS')
        else:
            assert statuses == {trade['status']}
        if trade['status'] == 'TRADE_CLOSED':
            assert {o['refund_status'] for o in orders} == {'SUCCESS'}
            assert trade['end_time'] == trade['modified']


def test_shipped_statuses():
    trades = generator.generate_trades(200, seed=5, status_weights={
            'WAIT_BUYER_CONFIRM_GOODS': 1, 'TRADE_FINISHED': 1})
    assert {t['status'] for t in trades} == {
        'WAIT_BUYER_CONFIRM_GOODS', 'TRADE_FINISHED'}
    for trade in trades:
        check_order_money(trade)
        check_trade_money(trade)
        consigned = parse(trade['consign_time'])
        assert parse(trade['pay_time']) < consigned <= parse(
            trade['modified'])
        for order in orders_of(trade):
            assert order['status'] == trade['status']
            assert order['invoice_no'] and order['logistics_company']
            assert order['consign_time'] == trade['consign_time']
        if trade['status'] == 'TRADE_FINISHED':
            assert trade['end_time'] == trade['modified']


def test_receivers(trades):
    states = {t['receiver_state'] for t in trades}
    codes = {china.province_code(s) for s in states}
    assert None not in codes
    assert len(codes) >= 15
    for trade in trades:
        assert china.phone_kind(trade['receiver_mobile']) == 'mobile'
        if 'receiver_phone' in trade:
            assert china.phone_kind(trade['receiver_phone']) == 'phone'
        assert re.match(r'^\d{6}$', trade['receiver_zip'])
    masked = [t for t in trades if '*' in t['receiver_mobile']]
    assert 0.12 * len(trades) < len(masked) < 0.28 * len(trades)
    for trade in masked:
        assert trade['receiver_name'].endswith('**')
        assert '**' in trade['receiver_address']
    assert any('receiver_phone' in t for t in trades)
    assert any('receiver_city' not in t for t in trades)
    buyers = Counter(t['buyer_open_uid'] for t in trades)
    assert max(buyers.values()) > 1


def test_messages(trades):
    texts = [t[f] for t in trades for f in ['buyer_message', 'seller_memo']
        if f in t]
    text = ''.join(texts)
    for character in ['🎁', '😊', '"', '“', '”', '‘', '’', '\n', '\\']:
        assert character in text, character
    assert 0.1 * len(trades) < len(
        [t for t in trades if 'seller_memo' in t]) < 0.3 * len(trades)
    assert all(t['seller_flag'] for t in trades if 'seller_memo' in t)


def test_response_text(trades):
    for trade in trades[:50]:
        text = generator.response_text(trade)
        assert '\\u' not in text
        assert json.loads(text) == {
            'trade_fullinfo_get_response': {'trade': trade}}


def test_write_files(tmp_path, trades):
    path = tmp_path / 'trades.jsonl'
    generator.write_jsonl(path, trades[:10])
    lines = path.read_text(encoding='utf-8').splitlines()
    assert [json.loads(line)['trade_fullinfo_get_response']['trade']
        for line in lines] == trades[:10]
    path = tmp_path / 'trade.json'
    generator.write_json(path, trades[0])
    assert json.loads(path.read_text(encoding='utf-8')) == {
        'trade_fullinfo_get_response': {'trade': trades[0]}}


def read_relay(path):
    connection = sqlite3.connect(path)
    try:
        return {
            row[0]: row for row in connection.execute(
                'SELECT tid, status, seller_nick, created, modified, '
                'jdp_response, jdp_created, jdp_modified, jdp_hashcode '
                'FROM jdp_tb_trade')}
    finally:
        connection.close()


def test_relay_sqlite(tmp_path, trades):
    path = str(tmp_path / 'relay.db')
    assert generator.write_relay(path, trades[:20]) == 20
    rows = read_relay(path)
    assert set(rows) == {t['tid'] for t in trades[:20]}
    for trade in trades[:20]:
        (_, status, seller_nick, created, modified, response, jdp_created,
            jdp_modified, _) = rows[trade['tid']]
        assert status == trade['status']
        assert seller_nick == trade['seller_nick']
        assert (created, modified) == (trade['created'], trade['modified'])
        assert json.loads(response) == {
            'trade_fullinfo_get_response': {'trade': trade}}
        assert TIME.match(jdp_modified)
        assert jdp_created == jdp_modified
        assert dt.timedelta(0) < (
            parse(jdp_modified) - parse(modified)) < dt.timedelta(minutes=1)


def test_relay_upsert(tmp_path, trades):
    path = tmp_path / 'relay.db'
    generator.write_relay(path, trades[:10])
    first = read_relay(path)
    changed = json.loads(json.dumps(trades[3]))
    changed['status'] = 'TRADE_CLOSED'
    changed['modified'] = '2026-11-12 09:00:00'
    later = dt.datetime(2026, 11, 12, 9, 0, 5)
    generator.write_relay(
        'sqlite:///' + str(path), [changed, trades[4], trades[10]],
        seller_nick='另一家店', jdp_modified=later)
    rows = read_relay(path)
    assert len(rows) == 11
    row = rows[changed['tid']]
    assert row[1] == 'TRADE_CLOSED'
    assert row[2] == '另一家店'
    assert json.loads(row[5])['trade_fullinfo_get_response']['trade'] == (
        changed)
    assert row[6] == first[changed['tid']][6]
    assert row[7] == '2026-11-12 09:00:05'
    assert row[8] != first[changed['tid']][8]
    assert rows[trades[0]['tid']] == first[trades[0]['tid']]
    assert rows[trades[10]['tid']][6] == '2026-11-12 09:00:05'


def test_relay_postgresql(trades):
    uri = os.environ.get('TRYTOND_DATABASE_URI', '')
    if not uri.startswith('postgresql'):
        pytest.skip('TRYTOND_DATABASE_URI is not PostgreSQL')
    psycopg2 = pytest.importorskip('psycopg2')
    name = 'relay_%s' % uuid.uuid4().hex
    admin = psycopg2.connect(uri.rstrip('/') + '/postgres')
    admin.autocommit = True
    admin.cursor().execute('CREATE DATABASE %s' % name)
    try:
        database = uri.rstrip('/') + '/' + name
        generator.write_relay(database, trades[:5])
        generator.write_relay(database, trades[3:8])
        connection = psycopg2.connect(database)
        try:
            cursor = connection.cursor()
            cursor.execute(
                'SELECT tid, modified, jdp_modified FROM jdp_tb_trade')
            rows = {r[0]: r[1:] for r in cursor.fetchall()}
        finally:
            connection.close()
        assert set(rows) == {t['tid'] for t in trades[:8]}
        modified, jdp_modified = rows[trades[0]['tid']]
        assert modified == parse(trades[0]['modified'])
        assert jdp_modified > modified
    finally:
        admin.cursor().execute('DROP DATABASE %s' % name)
        admin.close()


PROVINCE_CODES = [
    'CN-BJ', 'CN-TJ', 'CN-HE', 'CN-SX', 'CN-NM', 'CN-LN', 'CN-JL', 'CN-HL',
    'CN-SH', 'CN-JS', 'CN-ZJ', 'CN-AH', 'CN-FJ', 'CN-JX', 'CN-SD', 'CN-HA',
    'CN-HB', 'CN-HN', 'CN-GD', 'CN-GX', 'CN-HI', 'CN-CQ', 'CN-SC', 'CN-GZ',
    'CN-YN', 'CN-XZ', 'CN-SN', 'CN-GS', 'CN-QH', 'CN-NX', 'CN-XJ', 'CN-TW',
    'CN-HK', 'CN-MO']


def test_provinces():
    assert [p[0] for p in china.PROVINCES] == PROVINCE_CODES
    assert len({p[1] for p in china.PROVINCES}) == 34
    assert len({p[2] for p in china.PROVINCES}) == 34
    assert set(china.SUBDIVISION_TYPES) == set(PROVINCE_CODES)
    types = Counter(china.SUBDIVISION_TYPES.values())
    assert types == {
        'province': 23, 'municipality': 4, 'autonomous region': 5,
        'special administrative region': 2}
    for code, chinese, english in china.PROVINCES:
        assert china.province_code(chinese) == code
        assert china.province_code(english) == code


def test_subdivision_types_are_tryton_ones():
    country = pytest.importorskip('trytond.modules.country.country')
    allowed = {k for k, _ in country.Subdivision.type.selection}
    assert set(china.SUBDIVISION_TYPES.values()) <= allowed


@pytest.mark.parametrize('name, code', [
        ('浙江省', 'CN-ZJ'),
        ('浙江', 'CN-ZJ'),
        ('上海', 'CN-SH'),
        ('上海市', 'CN-SH'),
        (' 上海市\u3000', 'CN-SH'),
        ('北京', 'CN-BJ'),
        ('重庆市', 'CN-CQ'),
        ('内蒙古自治区', 'CN-NM'),
        ('内蒙古', 'CN-NM'),
        ('广西', 'CN-GX'),
        ('广西壮族自治区', 'CN-GX'),
        ('宁夏', 'CN-NX'),
        ('新疆维吾尔自治区', 'CN-XJ'),
        ('新疆', 'CN-XJ'),
        ('西藏', 'CN-XZ'),
        ('黑龙江省', 'CN-HL'),
        ('陕西省', 'CN-SN'),
        ('山西', 'CN-SX'),
        ('香港特别行政区', 'CN-HK'),
        ('香港', 'CN-HK'),
        ('澳门', 'CN-MO'),
        ('台湾', 'CN-TW'),
        ('Shanghai', 'CN-SH'),
        ('火星', None),
        ('浙江市', None),
        ('', None),
        (None, None),
        ])
def test_province_code(name, code):
    assert china.province_code(name) == code


@pytest.mark.parametrize('value, kind', [
        ('13800138000', 'mobile'),
        ('199 1234 5678', 'mobile'),
        ('138-0013-8000', 'mobile'),
        ('+8613800138000', 'mobile'),
        ('+86 138 0013 8000', 'mobile'),
        ('86-13800138000', 'mobile'),
        (' 13800138000 ', 'mobile'),
        ('138****5678', 'mobile'),
        ('12800138000', None),
        ('1380013800', None),
        ('138001380001', None),
        ('021-62345678', 'phone'),
        ('0571-8888888', 'phone'),
        ('0755 2345 6789', 'phone'),
        ('(021)62345678', 'phone'),
        ('（010）88886666', 'phone'),
        ('02162345678', 'phone'),
        ('021-62345678-123', 'phone'),
        ('0571-88888888转8001', 'phone'),
        ('+86-21-62345678', 'phone'),
        ('021-****5678', 'phone'),
        ('62345678', None),
        ('021-0234567', None),
        ('400-820-8820', None),
        ('abc', None),
        ('', None),
        (None, None),
        ])
def test_phone_kind(value, kind):
    assert china.phone_kind(value) == kind


def test_bad_payloads(trades):
    payloads = generator.bad_payloads()
    assert set(payloads) == {
        'malformed_json', 'missing_receiver', 'bad_money',
        'inconsistent_money', 'unknown_status'}
    tids = set()
    for name, text in payloads.items():
        tid = re.search(r'"tid": (\d+)', text).group(1)
        tids.add(tid)
        if name == 'malformed_json':
            with pytest.raises(json.JSONDecodeError):
                json.loads(text)
            continue
        trade = json.loads(text)['trade_fullinfo_get_response']['trade']
        assert trade['tid_str'] == tid
        assert trade['status'] != 'WAIT_BUYER_PAY'
        if name == 'missing_receiver':
            assert 'pay_time' in trade
            assert 'receiver_name' not in trade
            assert 'receiver_address' not in trade
        elif name == 'bad_money':
            with pytest.raises(InvalidOperation):
                D(trade['payment'])
        elif name == 'inconsistent_money':
            lines = sum(D(o['divide_order_fee']) for o in orders_of(trade))
            assert D(trade['payment']) - lines - D(trade['post_fee']) == D(
                '0.01')
        elif name == 'unknown_status':
            assert trade['status'] == 'WAIT_ALIENS'
            assert trade['status'] not in STATUSES
    assert len(tids) == 5
    assert not tids & {str(t['tid']) for t in trades}
