# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Realistic Alipay account statements (账务明细) for a set of orders:
income, fees, refunds, payouts of many orders, and seeded anomalies"""
import csv
import datetime as dt
import io
import random
from decimal import Decimal

CENT = Decimal('0.01')
HEADER = ['账务流水号', '业务流水号', '商户订单号', '商品名称', '发生时间',
    '对方账号', '收入金额（+元）', '支出金额（-元）', '账户余额（元）', '交易渠道',
    '业务类型', '备注']
# (fee type, share of the order, every nth order, product name, remark)
FEES = [
    ('commission', Decimal('0.02'), 1, '天猫佣金（类目技术服务费）',
        '基础软件服务费(天猫)扣款{tid}'),
    ('taobaoke', Decimal('0.05'), 3, '淘宝客佣金', '淘宝客佣金代扣款[{tid}]'),
    ('points', Decimal('0.005'), 4, '天猫积分', '天猫积分扣款{tid}'),
    ('insurance', None, 5, '运费险', '保险承保-卖家版运费险{tid}'),
    ]
INSURANCE = Decimal('0.70')


class Generator:

    def __init__(self, seed, start, balance):
        self.rng = random.Random(seed)
        self.time = start
        self.balance = balance
        self.rows = []
        self.expected = {}

    def serial(self):
        return '2026%s' % ''.join(self.rng.choice('0123456789')
            for _ in range(24))

    def add(self, amount, merchant_order='', product='', business_type='',
            remark='', expect=None):
        self.time += dt.timedelta(minutes=self.rng.randint(1, 30))
        self.balance += amount
        serial = self.serial()
        self.rows.append([
                '\t' + serial, '`' + self.serial(),
                '\t' + merchant_order if merchant_order else '',
                product, self.time.strftime('%Y-%m-%d %H:%M:%S'),
                'tmall***@alipay.com',
                '%.2f' % amount if amount > 0 else '',
                '-%.2f' % -amount if amount < 0 else '',
                '%.2f' % self.balance, '支付宝', business_type, remark])
        self.expected[serial] = expect
        return serial


def generate_statement(orders, seed=0, refunds=None, multi=3,
        anomalies=True, start=dt.datetime(2026, 11, 20, 9, 0),
        balance=Decimal('10000.00'), encoding='gbk', account='2088123412341234'):
    """Return (data, expected) of a statement settling the orders, a list
    of (trade id, amount owed); refunds maps trade ids to the amounts paid
    back after the settlement; the last `multi` orders come in one payout.

    expected maps each serial number to None when it should match, or to the
    issue it should be listed with; the tids of the anomalies are in
    expected['unknown'], expected['mismatch'] and expected['duplicate']."""
    gen = Generator(seed, start, balance)
    refunds = refunds or {}
    orders = [(str(t), Decimal(a)) for t, a in orders]
    single = orders[:-multi] if multi > 1 else orders
    grouped = orders[-multi:] if multi > 1 else []
    mismatch = single[0][0] if anomalies and single else None
    for tid, amount in single:
        if tid == mismatch:
            gen.add(amount + 1, 'T200P%s' % tid, '天猫订单', '交易付款',
                expect='amount')
        else:
            gen.add(amount, 'T200P%s' % tid, '天猫订单', '交易付款')
    if grouped:
        gen.add(sum(a for _, a in grouped), '', '多单收尾款', '在线支付',
            '多单收尾款 %s' % ','.join(t for t, _ in grouped))
    for index, (tid, amount) in enumerate(orders):
        for _, share, every, product, remark in FEES:
            if index % every:
                continue
            fee = (amount * share).quantize(CENT) if share else INSURANCE
            if fee:
                gen.add(-fee, 'T200P%s' % tid, product, '收费',
                    remark.format(tid=tid))
    for tid, amount in refunds.items():
        gen.add(-Decimal(amount), 'T200P%s' % tid, '售后退款', '交易退款',
            '售后退款-%s' % tid)
    extra = {}
    if anomalies:
        unknown = '9%s' % ''.join(gen.rng.choice('0123456789')
            for _ in range(15))
        gen.add(Decimal('88.00'), 'T200P%s' % unknown, '天猫订单', '交易付款',
            expect='unknown_order')
        duplicate, amount = single[-1]
        gen.add(amount, 'T200P%s' % duplicate, '天猫订单', '交易付款',
            expect='settled')
        extra = {'unknown': unknown, 'mismatch': mismatch,
            'duplicate': duplicate}
    lines = ['#支付宝账务明细查询',
        '#账号：[%s]' % account,
        '#起始日期：[%s]   终止日期：[%s]' % (
            start.strftime('%Y年%m月%d日 00:00:00'),
            gen.time.strftime('%Y年%m月%d日 23:59:59')),
        '#-----------------------------------------账务明细列表'
        '----------------------------------------',
        ','.join(HEADER)]
    out = io.StringIO()
    csv.writer(out, lineterminator='\n').writerows(gen.rows)
    lines += out.getvalue().splitlines()
    income = [r for r in gen.rows if r[6]]
    expense = [r for r in gen.rows if r[7]]
    lines += [
        '#-----------------------------------------账务明细列表结束'
        '------------------------------------',
        '#支出合计：%s笔，共%s元' % (
            len(expense), sum(Decimal(r[7]) for r in expense)),
        '#收入合计：%s笔，共%s元' % (
            len(income), sum(Decimal(r[6]) for r in income)),
        '#导出时间：[%s]' % gen.time.strftime('%Y年%m月%d日 %H:%M:%S'),
        ]
    expected = dict(gen.expected)
    expected.update(extra)
    return ('\r\n'.join(lines) + '\r\n').encode(encoding), expected
