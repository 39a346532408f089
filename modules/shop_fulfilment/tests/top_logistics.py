# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Logistics: ship confirmation (taobao.logistics.offline.send) and traces (taobao.logistics.trace.search), as the local gateway serves it"
import collections
import datetime
import random
import re
import threading

from .top_server import (  # noqa: F401
    CHINA_OFFSET, TIME_FORMAT, Refusal, number, require)

# The companies of taobao.logistics.companies.get the tests use
COMPANIES = {
    'YTO': '圆通速递', 'ZTO': '中通快递', 'STO': '申通快递',
    'YUNDA': '韵达快递', 'SF': '顺丰速运', 'HTKY': '百世快递',
    'EMS': 'EMS', 'POSTB': '邮政快递包裹', 'ZJS': '宅急送',
    'DBKD': '德邦快递', 'OTHER': '其他',
    }
PAID = {'WAIT_SELLER_SEND_GOODS', 'SELLER_CONSIGNED_PART'}
SHIPPED = 'WAIT_BUYER_CONFIRM_GOODS'
OFFLINE_ERROR = 'isv.logistics-offline-service-error:'
WAYBILL = re.compile(r'[A-Za-z0-9]{8,30}')
# What the platform answers under load, as a random fault
TEMPORARY_FAULTS = [
    (7, None, None),
    (15, 'isp.remote-service-error', '服务暂不可用'),
    (15, 'isp.top-remote-connection-timeout', '远程服务调用超时'),
    ]


def _oid(order):
    return str(order.get('oid_str') or order.get('oid'))


def _orders(trade):
    orders = trade.get('orders') or {}
    if isinstance(orders, dict):
        orders = orders.get('order') or []
    return orders


def _offline_error(code, message):
    return Refusal(15, '', OFFLINE_ERROR + code, message)


def _now():
    return (datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        + CHINA_OFFSET).strftime(TIME_FORMAT)


class LogisticsService:
    """Ship confirmation changes the trade as the platform does and is
    counted per trade in confirmations; the traces answered are those tests
    put in traces, by tid or, for split trades, by waybill number"""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.confirmations = collections.Counter()
        self.consignments = []
        self.traces = {}
        self._consign_lock = threading.Lock()
        self._fault_rate = 0
        self._timeout_rate = 0
        self._timeout_delay = 2
        self._fault_methods = None
        self._fault_random = random.Random()

    @property
    def methods(self):
        methods = super().methods
        methods.update({
                'taobao.logistics.offline.send': self.offline_send,
                'taobao.logistics.trace.search': self.trace_search,
                })
        return methods

    def fault_rate(self, rate, seed=None, methods=None, timeout_rate=0,
            timeout_delay=2):
        """Answer about rate of the calls (of methods, all when None) with a
        temporary error: call limits and faults of the platform; and about
        timeout_rate of them only after timeout_delay seconds, the call
        done: the answer that the client gave up waiting for"""
        with self._lock:
            self._fault_rate = rate
            self._timeout_rate = timeout_rate
            self._timeout_delay = timeout_delay
            self._fault_methods = set(methods) if methods else None
            self._fault_random = random.Random(seed)

    def answer(self, params):
        method = params.get('method', '')
        with self._lock:
            chosen = (self._fault_methods is None
                or method in self._fault_methods)
            draw = self._fault_random.random() if chosen else 1
            fault = draw < self._fault_rate
            late = not fault and draw < self._fault_rate + self._timeout_rate
            if fault:
                code, sub_code, sub_msg = self._fault_random.choice(
                    TEMPORARY_FAULTS)
                self.requests.append(dict(params))
                self.counts[method] += 1
        if fault:
            return 200, self._error(Refusal(code, '', sub_code, sub_msg))
        answer = super().answer(params)
        if late:
            self._stopping.wait(self._timeout_delay)
        return answer

    def offline_send(self, params):
        require(params, 'tid', 'out_sid', 'company_code')
        tid = params['tid']
        if not tid.isdigit():
            raise Refusal(41, 'tid', 'isv.invalid-parameter',
                'tid must be a number')
        code = params['company_code']
        if code not in COMPANIES:
            raise Refusal(41, 'company_code', 'isv.invalid-parameter',
                '物流公司编码不存在: %s' % code)
        split = number(params, 'is_split', 0, 0, 1)
        sub_tids = [s for s in params.get('sub_tid', '').split(',') if s]
        if len(sub_tids) > 50:
            raise Refusal(41, 'sub_tid', 'isv.invalid-parameter',
                'sub_tid has more than 50 items')
        if split and not sub_tids:
            raise Refusal(40, 'sub_tid', 'isv.missing-parameter',
                'missing sub_tid')
        if sub_tids and not split:
            raise Refusal(41, 'sub_tid', 'isv.invalid-parameter',
                'sub_tid is only for a split shipment (is_split=1)')
        if not WAYBILL.fullmatch(params['out_sid']):
            raise _offline_error('B60', '运单号不符合规则')
        trade = self.trade(tid)
        with self._consign_lock:
            orders = self._to_consign(trade, sub_tids)
            self._consign(trade, orders, params['out_sid'], code)
            self.confirmations[tid] += 1
            self.consignments.append(
                (tid, params['out_sid'], code, tuple(sub_tids)))
        return {'shipping': {'is_success': True}}

    def _to_consign(self, trade, sub_tids):
        "Return the orders the confirmation ships or refuse as the platform"
        status = trade['status']
        if status not in PAID:
            raise _offline_error('B04',
                '订单状态不对该物流订单已经发货或者已关闭，不能重复发货')
        orders = {_oid(o): o for o in _orders(trade)}
        if not sub_tids:
            return [o for o in orders.values()
                if o.get('status') == 'WAIT_SELLER_SEND_GOODS']
        if any(s not in orders for s in sub_tids):
            raise _offline_error('P38', '拆单校验未通过：子订单不属于该交易')
        if any(orders[s].get('status') != 'WAIT_SELLER_SEND_GOODS'
                for s in sub_tids):
            raise _offline_error('B04',
                '订单状态不对该物流订单已经发货或者已关闭，不能重复发货')
        return [orders[s] for s in sub_tids]

    def _consign(self, trade, orders, out_sid, code):
        now = _now()
        for order in orders:
            order.update({
                    'status': SHIPPED,
                    'consign_time': now,
                    'invoice_no': out_sid,
                    'logistics_company': COMPANIES[code],
                    'shipping_type': 'express',
                    })
        waiting = [o for o in _orders(trade)
            if o.get('status') == 'WAIT_SELLER_SEND_GOODS']
        trade['status'] = 'SELLER_CONSIGNED_PART' if waiting else SHIPPED
        trade['consign_time'] = now
        trade['modified'] = now

    def trace_search(self, params):
        require(params, 'tid')
        tid = params['tid']
        trade = self.trade(tid)
        sub_tids = set(s for s in params.get('sub_tid', '').split(',') if s)
        with self._consign_lock:
            sent = [c for c in self.consignments if c[0] == tid
                and (not sub_tids or sub_tids <= set(c[3]))]
        if not sent:
            raise Refusal(15, '', 'isv.invalid-parameter',
                '该订单未发货，没有物流信息')
        _, out_sid, code, _ = sent[-1]
        steps = self.traces.get(out_sid) or self.traces.get(tid) or []
        signed = any(s.get('action') == 'SIGNED' for s in steps)
        return {
            'out_sid': out_sid,
            'company_name': COMPANIES[code],
            'tid': int(trade.get('tid') or tid),
            'status': '已签收' if signed else ('运输中' if steps else '已发货'),
            'trace_list': {'transit_step_info': [dict(s) for s in steps]},
            }
