# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Taobao/Tmall refunds: parsing, the relay table and the refund API calls.

The signing client, the time conversion and the money parsing are
shop_fulfilment's; nothing here depends on the Tryton ORM.
"""
import json
import re
from dataclasses import dataclass

from trytond.modules.shop_fulfilment import taobao
from trytond.modules.shop_fulfilment.taobao import (
    RelayReader, TradeError, money, to_utc)

STATUSES = {
    'WAIT_SELLER_AGREE', 'WAIT_BUYER_RETURN_GOODS',
    'WAIT_SELLER_CONFIRM_GOODS', 'SELLER_REFUSE_BUYER', 'CLOSED', 'SUCCESS',
    # exchanges
    'WAIT_BUYER_CONFIRM_EXCHANGE_SELLER_SEND_GOODS',
    'EXCHANGE_TRANSFORM_TO_REFUND', 'WAIT_SELLER_CONSIGN_GOODS',
    }
# The seller (or the platform for the seller) has agreed
AGREED = {
    'WAIT_BUYER_RETURN_GOODS', 'WAIT_SELLER_CONFIRM_GOODS', 'SUCCESS',
    'WAIT_BUYER_CONFIRM_EXCHANGE_SELLER_SEND_GOODS',
    'WAIT_SELLER_CONSIGN_GOODS'}
IN_PROGRESS = {
    'WAIT_SELLER_AGREE', 'WAIT_BUYER_RETURN_GOODS',
    'WAIT_SELLER_CONFIRM_GOODS', 'WAIT_SELLER_CONSIGN_GOODS',
    'WAIT_BUYER_CONFIRM_EXCHANGE_SELLER_SEND_GOODS'}
DISPUTE_TYPES = {
    'REFUND', 'REFUND_AND_RETURN', 'TMALL_EXCHANGE', 'TAOBAO_EXCHANGE',
    'REPAIR', 'RESHIPPING', 'OTHERS'}
EXCHANGES = {'TMALL_EXCHANGE', 'TAOBAO_EXCHANGE'}
REFUND_ID = re.compile(r'"refund_id"\s*:\s*"?(\d+)')
REFUND_FIELDS = ','.join([
        'refund_id', 'alipay_no', 'tid', 'oid', 'buyer_nick', 'seller_nick',
        'total_fee', 'status', 'created', 'refund_fee', 'good_status',
        'has_good_return', 'payment', 'reason', 'desc', 'num_iid', 'title',
        'price', 'num', 'good_return_time', 'company_name', 'sid',
        'address', 'shipping_type', 'refund_phase', 'refund_version',
        'operation_contraint', 'outer_id', 'dispute_type', 'sku',
        'end_time', 'order_status', 'modified'])
RECEIVE_FIELDS = 'refund_id,tid,oid,status,modified'


@dataclass
class Refund:
    refund_id: str
    tid: str
    oid: str
    status: str
    dispute_type: str
    refund_fee: object
    total_fee: object
    payment: object
    has_good_return: bool
    good_status: str
    company_name: str
    sid: str
    reason: str
    desc: str
    title: str
    quantity: int
    created: object
    modified: object
    refund_phase: str
    refund_version: str
    order_status: str
    buyer_nick: str
    seller_nick: str

    @property
    def agreed(self):
        return self.status in AGREED

    @property
    def in_progress(self):
        return self.status in IN_PROGRESS

    @property
    def goods_back(self):
        "The buyer sends goods back"
        return self.has_good_return or self.dispute_type in (
            EXCHANGES | {'REFUND_AND_RETURN', 'REPAIR'})


def load_refund(text):
    "Return the refund object of a raw refund.get payload"
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exception:
        raise TradeError('json', error=str(exception))
    if isinstance(data, dict) and 'error_response' in data:
        raise TradeError('json', error=json.dumps(
                data['error_response'], ensure_ascii=False))
    if isinstance(data, dict) and 'refund_get_response' in data:
        data = data['refund_get_response']
    if isinstance(data, dict) and 'refund' in data:
        data = data['refund']
    if not isinstance(data, dict) or not data:
        raise TradeError('json', error='no refund in the response')
    return data


def parse_refund(data):
    "Return the Refund of a platform refund object"
    refund_id = taobao._identifier(data, 'refund_id')
    status = taobao._required(data, 'status')
    if status not in STATUSES:
        raise TradeError('unknown_status', status=status)
    dispute_type = data.get('dispute_type') or (
        'REFUND_AND_RETURN' if data.get('has_good_return') in (True, 'true')
        else 'REFUND')
    if dispute_type not in DISPUTE_TYPES:
        raise TradeError('unknown_status', status=dispute_type)
    num = data.get('num')
    quantity = taobao._quantity(num, refund_id) if num not in (
        None, '', 0) else 0
    return Refund(
        refund_id=refund_id,
        tid=taobao._identifier(data, 'tid'),
        oid=taobao._identifier(data, 'oid'),
        status=status,
        dispute_type=dispute_type,
        refund_fee=money(taobao._required(data, 'refund_fee'), 'refund_fee'),
        total_fee=money(data.get('total_fee'), 'total_fee'),
        payment=money(data.get('payment'), 'payment'),
        has_good_return=data.get('has_good_return') in (True, 'true'),
        good_status=taobao._text(data, 'good_status'),
        company_name=taobao._text(data, 'company_name'),
        sid=taobao._text(data, 'sid').strip(),
        reason=taobao._text(data, 'reason'),
        desc=taobao._text(data, 'desc'),
        title=taobao._text(data, 'title'),
        quantity=quantity,
        created=to_utc(data.get('created'), 'created'),
        modified=to_utc(taobao._required(data, 'modified'), 'modified'),
        refund_phase=taobao._text(data, 'refund_phase'),
        refund_version=taobao._text(data, 'refund_version'),
        order_status=taobao._text(data, 'order_status'),
        buyer_nick=taobao._text(data, 'buyer_nick'),
        seller_nick=taobao._text(data, 'seller_nick'))


def peek_refund_id(text):
    "The refund id of a payload, even a broken one"
    try:
        return taobao._identifier(load_refund(text), 'refund_id')
    except TradeError:
        match = REFUND_ID.search(text or '')
        return match.group(1) if match else None


class RefundRelayReader(RelayReader):
    "Reader of the refunds pushed to the Jushita relay (jdp_tb_refund)"

    def fetch(self, seller_nick, since, after=None, limit=500):
        """Return (refund_id, jdp_modified, response) of the seller's rows
        modified on the relay since; after is the last (jdp_modified,
        refund_id) read"""
        if after:
            after = (after[0], int(after[1]))
        with self._reading():
            return [(str(r), self._from_relay(m), self._text(t))
                for r, m, t in self._page('jdp_tb_refund', 'refund_id',
                    ['jdp_response'], seller_nick, since, after, limit)]


def changed_refunds(client, start, end, page_size=100):
    """Yield the (refund_id, modified) of the refunds changed from start to
    end, the newest version of each once"""
    newest = {}
    for window_start, window_end in taobao._windows(start, end):
        number = 1
        while True:
            body = client.call('taobao.refunds.receive.get',
                fields=RECEIVE_FIELDS,
                start_modified=taobao.from_utc(window_start),
                end_modified=taobao.from_utc(window_end),
                page_no=number, page_size=page_size, use_has_next=True)
            refunds = body.get('refunds') or []
            if isinstance(refunds, dict):
                refunds = refunds.get('refund') or []
            for refund in refunds:
                refund_id = taobao._identifier(refund, 'refund_id')
                modified = str(refund.get('modified') or '')
                if modified >= newest.get(refund_id, ''):
                    newest[refund_id] = modified
            if not body.get('has_next') or not refunds:
                break
            number += 1
    yield from sorted(newest.items(), key=lambda i: (i[1], i[0]))


def refund_detail(client, refund_id):
    "Return the response text of taobao.refund.get as received"
    text, _ = client.call_raw(
        'taobao.refund.get', refund_id=str(refund_id), fields=REFUND_FIELDS)
    return text


def fen(amount):
    "The amount in fen, as taobao.rp.refunds.agree wants it"
    return int((amount * 100).to_integral_value())
