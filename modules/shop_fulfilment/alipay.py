# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The Alipay account statement (账务明细) as sellers download it: a CSV
file, GBK or UTF-8, comment lines around a header row naming the columns
and the data rows.  Plain Python, no ORM."""
import csv
import datetime
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .taobao import CHINA_TZ, to_utc  # noqa: F401

# The column names, as the header row names them (a unit may follow)
COLUMNS = {
    '账务流水号': 'serial',
    '业务流水号': 'business_no',
    '商户订单号': 'merchant_order',
    '商品名称': 'product',
    '发生时间': 'time',
    '对方账号': 'counterpart',
    '收入金额': 'income',
    '支出金额': 'expense',
    '账户余额': 'balance',
    '交易渠道': 'channel',
    '业务类型': 'business_type',
    '备注': 'remark',
    }
REQUIRED = {'serial', 'time', 'income', 'expense'}
# A trade id of Taobao/Tmall inside the merchant order number or remark
TRADE_ID = re.compile(r'(?<!\d)\d{12,20}(?!\d)')
ACCOUNT = re.compile(r'账号[:：]\s*\[?(\d+)')
CENT = Decimal('0.01')


class StatementError(Exception):
    "The file is not an Alipay account statement"

    def __init__(self, code, **values):
        super().__init__(code)
        self.code = code
        self.values = values


@dataclass
class Row:
    "One line of the statement, as received"
    number: int
    serial: str
    business_no: str
    merchant_order: str
    product: str
    time: datetime.datetime
    counterpart: str
    income: Decimal
    expense: Decimal
    balance: Decimal
    channel: str
    business_type: str
    remark: str
    raw: str

    @property
    def amount(self):
        "The signed amount: positive when the account receives"
        return self.income - self.expense

    @property
    def trade_ids(self):
        "The trade ids named by the merchant order number and the remark"
        found = []
        for text in [self.merchant_order, self.remark]:
            for tid in TRADE_ID.findall(text or ''):
                if tid not in found:
                    found.append(tid)
        return found


@dataclass
class Statement:
    account: str
    rows: list

    @property
    def start_balance(self):
        if self.rows:
            first = self.rows[0]
            return first.balance - first.amount

    @property
    def end_balance(self):
        if self.rows:
            return self.rows[-1].balance


def decode(data):
    "Return the text of the file, UTF-8 or GBK (GB18030)"
    if isinstance(data, str):
        return data
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError:
        try:
            return data.decode('gb18030')
        except UnicodeDecodeError:
            raise StatementError('encoding')


def clean(value):
    """Remove the tab and backtick prefixes that keep spreadsheets from
    reading long numbers as numbers"""
    return (value or '').strip().lstrip('`\t').strip()


def column_name(header):
    header = clean(header)
    for name, key in COLUMNS.items():
        if header.startswith(name):
            return key


def parse_amount(value, line, field):
    value = clean(value).replace(',', '')
    if not value:
        return Decimal(0)
    try:
        amount = abs(Decimal(value))
    except InvalidOperation:
        raise StatementError('amount', line=line, field=field, value=value)
    if amount != amount.quantize(CENT):
        raise StatementError('amount', line=line, field=field, value=value)
    return amount.quantize(CENT)


def parse(data):
    "Return the Statement of the file's data (bytes or text)"
    text = decode(data)
    lines = text.splitlines()
    account = ''
    header, start = None, None
    for index, line in enumerate(lines):
        if line.startswith('#'):
            match = ACCOUNT.search(line)
            if match:
                account = match.group(1)
            continue
        cells = next(csv.reader([line]))
        keys = [column_name(c) for c in cells]
        if REQUIRED <= set(keys):
            header, start = keys, index + 1
            break
    if header is None:
        raise StatementError('header')
    rows = []
    for index in range(start, len(lines)):
        line = lines[index]
        # The summary lines at the end begin with '#'
        if not line.strip() or line.startswith('#'):
            continue
        cells = next(csv.reader([line]))
        values = {k: clean(v) for k, v in zip(header, cells) if k}
        if not values.get('serial'):
            continue
        rows.append(_row(index + 1, values, line))
    return Statement(account=account, rows=rows)


def _row(number, values, raw):
    try:
        time = to_utc(values.get('time'))
    except Exception:
        raise StatementError('time', line=number, value=values.get('time'))
    if time is None:
        raise StatementError('time', line=number, value='')
    return Row(
        number=number,
        serial=values['serial'],
        business_no=values.get('business_no', ''),
        merchant_order=values.get('merchant_order', ''),
        product=values.get('product', ''),
        time=time,
        counterpart=values.get('counterpart', ''),
        income=parse_amount(values.get('income'), number, '收入金额'),
        expense=parse_amount(values.get('expense'), number, '支出金额'),
        balance=parse_amount(values.get('balance'), number, '账户余额'),
        channel=values.get('channel', ''),
        business_type=values.get('business_type', ''),
        remark=values.get('remark', ''),
        raw=raw)


# What a line is, from its business type and texts
FEES = [
    # (fee type, words), in the order they are tried
    ('taobaoke', ['淘宝客', '淘宝联盟', '淘客']),
    ('points', ['积分']),
    ('insurance', ['运费险', '保险']),
    ('commission', ['技术服务费', '佣金', '基础软件服务费', '服务费']),
    ]
REFUND_WORDS = ['退款']


def fee_type(row):
    "Return the fee type of an expense line, or None"
    text = ' '.join([row.business_type, row.product, row.remark])
    for type_, words in FEES:
        if any(w in text for w in words):
            return type_


def kind(row):
    "Return income, refund, fee or other"
    if row.amount > 0:
        return 'income'
    text = ' '.join([row.business_type, row.product, row.remark])
    if any(w in text for w in REFUND_WORDS):
        return 'refund'
    if fee_type(row):
        return 'fee'
    return 'other'
