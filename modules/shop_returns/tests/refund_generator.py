# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Realistic Taobao/Tmall refunds as taobao.refund.get returns them, for the
trades of shop_fulfilment's generator"""
import copy
import datetime as dt
import json
import random
from decimal import Decimal

from trytond.modules.shop_fulfilment.tests.generator import (
    TIME_FORMAT, _digits, _parse_time, _relay_connect, _time)

_ID_BASE = 2_600_000_000_000_000_000
REASONS = {
    'REFUND': ('不想要了', '拍错/多拍/不喜欢', '未按约定时间发货',
        '快递一直未送到', '协商一致退款'),
    'REFUND_AND_RETURN': ('七天无理由退换货', '质量问题', '商品破损/污渍',
        '与商品描述不符', '尺寸/容量拍错'),
    'TMALL_EXCHANGE': ('颜色/尺码不合适', '七天无理由换货'),
    'TAOBAO_EXCHANGE': ('颜色/尺码不合适',),
    'RESHIPPING': ('少件/漏发', '配件缺失', '发错货'),
    }
DESCS = ('麻烦尽快处理，谢谢', '收到的时候外箱压坏了，机器有划痕😢',
    '家里人已经买了一个', '说好周六送货一直没来', '')
# Return carriers of doorstep pickups: (company_name, waybill prefix)
PICKUPS = (('圆通速递', 'YT'), ('中通快递', '7'), ('顺丰速运', 'SF'))


def _orders(trade):
    return trade['orders']['order']


def _version(modified):
    return int(_parse_time(modified).timestamp() * 1000)


def refund_for(trade, oid=None, kind='REFUND', status='WAIT_SELLER_AGREE',
        fee=None, quantity=None, postage=False, seed=0, reason=None,
        created=None, sid=None, company_name=None):
    """Return the refund of one order line (oid) of the trade, as the
    platform gives it: the whole line by default, fee for a partial one,
    postage to add the trade's postage"""
    rng = random.Random('%s-%s-%s' % (trade['tid'], oid, seed))
    orders = [o for o in _orders(trade) if not o.get('is_free_gift')]
    order = next(o for o in orders if str(o['oid']) == str(oid)) if oid \
        else orders[0]
    if fee is None:
        fee = Decimal(order.get('divide_order_fee') or order['payment'])
        if postage:
            fee += Decimal(trade.get('post_fee') or 0)
    created = created or (_parse_time(trade['modified'])
        + dt.timedelta(hours=rng.randint(1, 30)))
    shipped = trade['status'] not in {
        'WAIT_SELLER_SEND_GOODS', 'WAIT_BUYER_PAY'}
    goods_back = kind in {'REFUND_AND_RETURN', 'TMALL_EXCHANGE',
        'TAOBAO_EXCHANGE'}
    refund = {
        'refund_id': str(_ID_BASE + int(trade['tid']) % 10**15 * 10
            + seed % 10),
        'tid': trade['tid'],
        'oid': order['oid'],
        'alipay_no': trade.get('alipay_no'),
        'buyer_nick': trade['buyer_nick'],
        'buyer_open_uid': trade.get('buyer_open_uid'),
        'seller_nick': trade['seller_nick'],
        'total_fee': trade['total_fee'],
        'payment': trade['payment'],
        'refund_fee': '%.2f' % Decimal(fee),
        'status': status,
        'order_status': trade['status'],
        'dispute_type': kind,
        'has_good_return': goods_back,
        'good_status': ('BUYER_NOT_RECEIVED' if not shipped
            else 'BUYER_RECEIVED'),
        'reason': reason or rng.choice(REASONS.get(kind, ('其他',))),
        'desc': rng.choice(DESCS),
        'num_iid': order['num_iid'],
        'title': order['title'],
        'price': order['price'],
        'num': quantity or order['num'],
        'outer_id': order.get('outer_sku_id') or order.get('outer_iid'),
        'sku': order.get('sku_properties_name') or '',
        'shipping_type': 'express',
        'refund_phase': 'aftersale' if shipped else 'onsale',
        'created': _time(created),
        'modified': _time(created),
        'address': '上海市浦东新区张江镇祖冲之路 888 号 沪上家电售后部 201203',
        }
    if sid:
        refund.update(sid=sid, company_name=company_name or '圆通速递',
            status=status, good_status='BUYER_RETURNED_GOODS')
    refund['refund_version'] = _version(refund['modified'])
    return refund


def advance(refund, status=None, minutes=10, **changes):
    "Return the next version of the refund, modified minutes later"
    refund = copy.deepcopy(refund)
    modified = _parse_time(refund['modified']) + dt.timedelta(
        minutes=minutes)
    refund['modified'] = _time(modified)
    refund['refund_version'] = _version(refund['modified'])
    if status:
        refund['status'] = status
    refund.update(changes)
    return refund


def pickup(refund, rng=None, minutes=60):
    "The buyer hands the goods to a doorstep pickup: the waybill is known"
    rng = rng or random.Random(refund['refund_id'])
    company, prefix = rng.choice(PICKUPS)
    return advance(refund, 'WAIT_SELLER_CONFIRM_GOODS', minutes,
        sid=prefix + _digits(rng, 12), company_name=company,
        good_status='BUYER_RETURNED_GOODS',
        good_return_time=_time(_parse_time(refund['modified'])
            + dt.timedelta(minutes=minutes)))


def response_text(refund):
    "The refund as the platform sends it"
    return json.dumps({'refund_get_response': {'refund': refund}},
        ensure_ascii=False)


def write_jsonl(path, refunds):
    with open(path, 'w', encoding='utf-8') as file:
        for refund in refunds:
            file.write(response_text(refund) + '\n')


_RELAY_COLUMNS = (
    'refund_id', 'seller_nick', 'buyer_nick', 'status', 'created', 'tid',
    'oid', 'modified', 'jdp_hashcode', 'jdp_response', 'jdp_created',
    'jdp_modified')


def write_relay(uri_or_path, refunds, jdp_modified=None):
    "Insert or update the refunds in a Jushita jdp_tb_refund table"
    import hashlib
    connection, postgresql = _relay_connect(uri_or_path)
    timestamp = 'TIMESTAMP' if postgresql else 'DATETIME'
    marker = '%s' if postgresql else '?'
    try:
        cursor = connection.cursor()
        cursor.execute(
            'CREATE TABLE IF NOT EXISTS jdp_tb_refund ('
            'refund_id BIGINT NOT NULL PRIMARY KEY, seller_nick VARCHAR(256), '
            'buyer_nick VARCHAR(256), status VARCHAR(64), created {0}, '
            'tid BIGINT, oid BIGINT, modified {0}, jdp_hashcode VARCHAR(128), '
            'jdp_response TEXT, jdp_created {0}, jdp_modified {0})'.format(
                timestamp))
        rows = []
        for refund in refunds:
            response = response_text(refund)
            modified = jdp_modified or (_parse_time(refund['modified'])
                + dt.timedelta(seconds=2))
            times = [_parse_time(refund['created']),
                _parse_time(refund['modified']), modified, modified]
            if not postgresql:
                times = [_time(t) for t in times]
            rows.append((int(refund['refund_id']), refund['seller_nick'],
                    refund['buyer_nick'], refund['status'], times[0],
                    int(refund['tid']), int(refund['oid']), times[1],
                    hashlib.md5(response.encode('utf-8')).hexdigest(),
                    response, times[2], times[3]))
        cursor.executemany(
            'INSERT INTO jdp_tb_refund (%s) VALUES (%s) '
            'ON CONFLICT (refund_id) DO UPDATE SET %s' % (
                ', '.join(_RELAY_COLUMNS),
                ', '.join([marker] * len(_RELAY_COLUMNS)),
                ', '.join('%s = excluded.%s' % (c, c)
                    for c in _RELAY_COLUMNS
                    if c not in {'refund_id', 'jdp_created'})), rows)
        connection.commit()
    finally:
        connection.close()
    return len(rows)


__all__ = ['refund_for', 'advance', 'pickup', 'response_text',
    'write_jsonl', 'write_relay', 'TIME_FORMAT']
