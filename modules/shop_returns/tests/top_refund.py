# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Refunds on the local Taobao Open Platform gateway: listing, detail and the
seller's decisions, which change the refund as the platform does"""
import collections
import copy
import datetime
from decimal import Decimal

from trytond.modules.shop_fulfilment.tests.top_server import (
    CHINA_OFFSET, TIME_FORMAT, Refusal, TopServer, china_time, number,
    require)


def _now():
    return (datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        + CHINA_OFFSET).strftime(TIME_FORMAT)


def _version(modified):
    return int(datetime.datetime.strptime(
            modified, TIME_FORMAT).timestamp() * 1000)


def _status_refusal(refund):
    return Refusal(15, '', 'isv.refund-status-not-support',
        '退款状态不支持此操作: %s' % refund['status'])


class RefundService:
    """The refunds (every version tests put in refunds, the last one of a
    refund_id is current) and the decisions taken, counted per
    (method, refund_id) in decided"""
    tmall = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.refunds = []
        self.decided = collections.Counter()

    @property
    def methods(self):
        methods = super().methods
        methods.update({
                'taobao.refunds.receive.get': self.refunds_receive,
                'taobao.refund.get': self.refund_get,
                'taobao.rp.refunds.agree': self.refunds_agree,
                'taobao.rp.returngoods.agree': self.returngoods_agree,
                'taobao.refund.refuse': self.refund_refuse,
                })
        return methods

    def current(self, refund_id):
        with self._lock:
            found = [r for r in self.refunds
                if str(r['refund_id']) == str(refund_id)]
        if not found:
            raise Refusal(15, '', 'isv.refund-not-exist',
                'refund %s does not exist' % refund_id)
        return found[-1]

    def change(self, refund, **changes):
        "Record a new version of the refund, modified now"
        refund = copy.deepcopy(refund)
        refund.update(changes)
        refund['modified'] = max(_now(), refund['modified'])
        refund['refund_version'] = max(_version(refund['modified']),
            int(refund['refund_version']) + 1)
        with self._lock:
            self.refunds.append(refund)
        return refund

    def refunds_receive(self, params):
        require(params, 'fields')
        page_no = number(params, 'page_no', 1, 1)
        page_size = number(params, 'page_size', 40, 1, 100)
        start = end = None
        if params.get('start_modified'):
            start = china_time(params, 'start_modified')
        if params.get('end_modified'):
            end = china_time(params, 'end_modified')
        with self._lock:
            latest = {}
            for refund in self.refunds:
                latest[str(refund['refund_id'])] = refund
        found = [r for r in latest.values()
            if (not start or china_time(r, 'modified') >= start)
            and (not end or china_time(r, 'modified') <= end)
            and (not params.get('status')
                or r['status'] == params['status'])]
        found.sort(key=lambda r: (r['modified'], str(r['refund_id'])),
            reverse=True)
        page = found[(page_no - 1) * page_size:page_no * page_size]
        fields = set(params['fields'].split(','))
        body = {'has_next': page_no * page_size < len(found)}
        if params.get('use_has_next') != 'true':
            body['total_results'] = len(found)
        if page:
            body['refunds'] = {'refund': [
                    {k: v for k, v in r.items() if k in fields}
                    for r in page]}
        return body

    def refund_get(self, params):
        require(params, 'fields', 'refund_id')
        if not params['refund_id'].isdigit():
            raise Refusal(41, 'refund_id', 'isv.invalid-parameter',
                'refund_id must be a number')
        refund = self.current(params['refund_id'])
        fields = set(params['fields'].split(','))
        return {'refund': {k: copy.deepcopy(v) for k, v in refund.items()
                if k in fields}}

    def _check_version(self, refund, params):
        if self.tmall:
            require(params, 'refund_phase', 'refund_version')
        version = params.get('refund_version')
        if version and version != str(refund['refund_version']):
            raise Refusal(15, '', 'isv.refund-version-not-match',
                '退款版本号不匹配')

    def returngoods_agree(self, params):
        require(params, 'refund_id', 'seller_address_id')
        if self.tmall:
            require(params, 'remark')
        else:
            require(params, 'name', 'address', 'post', 'mobile', 'tel')
        refund = self.current(params['refund_id'])
        self._check_version(refund, params)
        if refund['status'] != 'WAIT_SELLER_AGREE':
            raise _status_refusal(refund)
        self.decided['taobao.rp.returngoods.agree', refund['refund_id']] += 1
        self.change(refund, status='WAIT_BUYER_RETURN_GOODS')
        return {'is_success': True}

    def refund_refuse(self, params):
        require(params, 'refund_id', 'refuse_message')
        if not 2 <= len(params['refuse_message']) <= 200:
            raise Refusal(41, 'refuse_message', 'isv.invalid-parameter',
                '拒绝说明长度必须在2-200之间')
        refund = self.current(params['refund_id'])
        self._check_version(refund, params)
        if refund['status'] != 'WAIT_SELLER_AGREE':
            raise _status_refusal(refund)
        self.decided['taobao.refund.refuse', refund['refund_id']] += 1
        refund = self.change(refund, status='SELLER_REFUSE_BUYER')
        return {'is_success': True, 'refund': {
                'refund_id': refund['refund_id'],
                'status': refund['status'],
                'modified': refund['modified']}}

    def refunds_agree(self, params):
        require(params, 'refund_infos')
        infos = params['refund_infos'].split(',')
        if len(infos) > (30 if self.tmall else 20):
            raise Refusal(41, 'refund_infos', 'isv.invalid-parameter',
                'too many refunds')
        results = [self._agree_one(info) for info in infos]
        succeeded = sum(1 for r in results if r['succ'])
        code = ('OP_SUCC' if succeeded == len(results)
            else 'SOME_OP_SUCC' if succeeded else 'OP_FAILURE_UE')
        return {'succ': succeeded == len(results), 'msg_code': code,
            'message': code, 'results': {'refund_mapping_result': results}}

    def _agree_one(self, info):
        parts = info.split('|')
        if len(parts) < 3 or (self.tmall and len(parts) < 4):
            raise Refusal(41, 'refund_infos', 'isv.invalid-parameter',
                'refund_id|amount|version|phase expected')
        refund_id, amount, version = parts[:3]
        refund = self.current(refund_id)

        def result(succ, message):
            return {'refund_id': refund_id, 'succ': succ, 'message': message}
        if refund['status'] not in {
                'WAIT_SELLER_AGREE', 'WAIT_SELLER_CONFIRM_GOODS'}:
            return result(False, '退款状态不支持此操作')
        if version != str(refund['refund_version']):
            return result(False, '退款版本号不匹配')
        if int(amount) != int(Decimal(refund['refund_fee']) * 100):
            return result(False, '退款金额不一致')
        self.decided['taobao.rp.refunds.agree', refund['refund_id']] += 1
        self.change(refund, status='SUCCESS')
        return result(True, '退款成功')


class ReturnsServer(RefundService, TopServer):
    "The gateway with the refund service and all of shop_fulfilment's"
