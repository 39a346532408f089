# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Taobao/Tmall trades: parsing, the TOP API client and the Jushita relay.

Nothing here depends on the Tryton ORM: times are naive UTC datetimes and
amounts are Decimal quantized to the fen.
"""
import contextlib
import datetime
import hashlib
import hmac
import http.client
import json
import re
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

CHINA_TZ = datetime.timezone(datetime.timedelta(hours=8))
TIME_FORMAT = '%Y-%m-%d %H:%M:%S'

PAID = {'WAIT_SELLER_SEND_GOODS', 'SELLER_CONSIGNED_PART'}
WAITING = {
    'TRADE_NO_CREATE_PAY', 'WAIT_BUYER_PAY', 'PAY_PENDING',
    'PAID_FORBID_CONSIGN', 'WAIT_PRE_AUTH_CONFIRM'}
SHIPPED = {
    'WAIT_BUYER_CONFIRM_GOODS', 'TRADE_BUYER_SIGNED', 'TRADE_FINISHED'}
CLOSED = {'TRADE_CLOSED', 'TRADE_CLOSED_BY_TAOBAO'}
STATUSES = PAID | WAITING | SHIPPED | CLOSED
REFUND_IN_PROGRESS = {
    'WAIT_SELLER_AGREE', 'WAIT_BUYER_RETURN_GOODS',
    'WAIT_SELLER_CONFIRM_GOODS'}

CENT = Decimal('0.01')
ZERO = Decimal('0.00')
_MONEY = re.compile(r'\s*(-?)\d+(\.\d+)?\s*')


class TradeError(Exception):
    """A trade that cannot be mapped

    code names the problem, values fill the message."""

    def __init__(self, code, **values):
        super().__init__(code, values)
        self.code = code
        self.values = values

    def __str__(self):
        return '%s(%s)' % (self.code, ', '.join(
                '%s=%r' % item for item in sorted(self.values.items())))


def to_utc(text, field='time'):
    "Convert a China time 'yyyy-MM-dd HH:mm:ss' into a naive UTC datetime"
    if text is None or text == '':
        return None
    try:
        value = datetime.datetime.strptime(text, TIME_FORMAT)
    except (TypeError, ValueError):
        raise TradeError('bad_time', field=field, value=text)
    return (value.replace(tzinfo=CHINA_TZ)
        .astimezone(datetime.timezone.utc).replace(tzinfo=None))


def from_utc(value):
    "Format a naive UTC datetime as China time 'yyyy-MM-dd HH:mm:ss'"
    return (value.replace(tzinfo=datetime.timezone.utc)
        .astimezone(CHINA_TZ).strftime(TIME_FORMAT))


def money(value, field, signed=False):
    """Return the platform amount as Decimal quantized to the fen

    Only manual adjustments (adjust_fee) may be negative, they are parsed
    with signed set."""
    if value is None or value == '':
        return ZERO
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TradeError('bad_money', field=field, value=value)
    match = _MONEY.fullmatch(str(value))
    if not match or (match.group(1) and not signed):
        raise TradeError('bad_money', field=field, value=value)
    try:
        amount = Decimal(str(value).strip())
        quantized = amount.quantize(CENT)
    except InvalidOperation:
        raise TradeError('bad_money', field=field, value=value)
    if quantized != amount:
        raise TradeError('bad_money', field=field, value=value)
    return quantized + ZERO  # no negative zero


def load_trade(text):
    "Return the trade object of a raw fullinfo payload"
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exception:
        raise TradeError('json', error=str(exception))
    if isinstance(data, dict) and 'error_response' in data:
        raise TradeError('json', error=json.dumps(
                data['error_response'], ensure_ascii=False))
    if isinstance(data, dict) and 'trade_fullinfo_get_response' in data:
        data = data['trade_fullinfo_get_response']
        if not isinstance(data, dict) or 'trade' not in data:
            raise TradeError('json', error='no trade in the response')
    if isinstance(data, dict) and 'trade' in data:
        data = data['trade']
    if not isinstance(data, dict) or not data:
        raise TradeError('json', error='no trade in the response')
    return data


def payload_hash(text):
    if isinstance(text, str):
        text = text.encode('utf-8')
    return hashlib.sha256(text).hexdigest()


@dataclass
class Receiver:
    name: str = ''
    state: str = ''
    city: str = ''
    district: str = ''
    town: str = ''
    address: str = ''
    zip: str = ''
    mobile: str = ''
    phone: str = ''
    oaid: str = ''
    masked: bool = field(init=False)

    def __post_init__(self):
        # OAID privacy masking replaces characters by '*': '屈**'
        self.masked = any('*' in v for v in [
                self.name, self.address, self.mobile, self.phone])


@dataclass
class Line:
    oid: str
    status: str
    refund_status: str
    refund_id: str
    num_iid: str
    sku_id: str
    outer_iid: str
    outer_sku_id: str
    title: str
    sku_properties_name: str
    quantity: int
    price: Decimal
    total_fee: Decimal
    payment: Decimal
    discount_fee: Decimal
    adjust_fee: Decimal
    divide_order_fee: Decimal
    part_mjz_discount: Decimal
    amount: Decimal
    gift: bool

    @property
    def refund_in_progress(self):
        return self.refund_status in REFUND_IN_PROGRESS


@dataclass
class Trade:
    tid: str
    status: str
    type: str
    seller_nick: str
    buyer_nick: str
    buyer_open_uid: str
    created: datetime.datetime
    modified: datetime.datetime
    pay_time: datetime.datetime
    payment: Decimal
    total_fee: Decimal
    post_fee: Decimal
    discount_fee: Decimal
    adjust_fee: Decimal
    receiver: Receiver
    buyer_message: str
    seller_memo: str
    seller_flag: int
    shipping_type: str
    alipay_no: str
    lines: list

    @property
    def paid(self):
        return self.status in PAID

    @property
    def waiting(self):
        return self.status in WAITING

    @property
    def shipped(self):
        return self.status in SHIPPED

    @property
    def closed(self):
        return self.status in CLOSED

    @property
    def refund_in_progress(self):
        return any(l.refund_in_progress for l in self.lines)

    def check_receiver(self):
        for name in ['name', 'state', 'address']:
            if not getattr(self.receiver, name).strip():
                raise TradeError('missing_receiver', field='receiver_' + name)
        # County-level cities under a province have a district, no city
        if not (self.receiver.city.strip() or self.receiver.district.strip()):
            raise TradeError('missing_receiver', field='receiver_city')
        if not (self.receiver.mobile.strip() or self.receiver.phone.strip()):
            raise TradeError('missing_receiver', field='receiver_mobile')


def parse_trade(data):
    "Return the Trade of a platform trade object"
    if not isinstance(data, dict):
        raise TradeError('json', error='the trade is not an object')
    tid = _identifier(data, 'tid')
    status = _required(data, 'status')
    if status not in STATUSES:
        raise TradeError('unknown_status', status=status)
    modified = to_utc(_required(data, 'modified'), 'modified')
    payment = money(data.get('payment'), 'payment')
    post_fee = money(data.get('post_fee'), 'post_fee')
    lines = [_line(o) for o in _orders(data)]
    for line, amount in zip(lines, _amounts(lines, payment, post_fee)):
        line.amount = amount
    return Trade(
        tid=tid,
        status=status,
        type=_text(data, 'type'),
        seller_nick=_text(data, 'seller_nick'),
        buyer_nick=_text(data, 'buyer_nick'),
        buyer_open_uid=_text(data, 'buyer_open_uid'),
        created=to_utc(data.get('created'), 'created'),
        modified=modified,
        pay_time=to_utc(data.get('pay_time'), 'pay_time'),
        payment=payment,
        total_fee=money(data.get('total_fee'), 'total_fee'),
        post_fee=post_fee,
        discount_fee=money(data.get('discount_fee'), 'discount_fee'),
        adjust_fee=money(data.get('adjust_fee'), 'adjust_fee', signed=True),
        receiver=_receiver(data),
        buyer_message=_text(data, 'buyer_message'),
        seller_memo=_text(data, 'seller_memo'),
        seller_flag=_flag(data.get('seller_flag')),
        shipping_type=_text(data, 'shipping_type'),
        alipay_no=_text(data, 'alipay_no'),
        lines=lines)


def _text(data, name):
    value = data.get(name)
    return '' if value is None else str(value)


def _required(data, name):
    value = data.get(name)
    if value is None or value == '':
        raise TradeError('missing_field', field=name)
    return value


def _identifier(data, name):
    "Return the platform id as str, the *_str variant keeps big numbers exact"
    value = data.get(name + '_str') or data.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise TradeError('missing_field', field=name)


def _flag(value):
    try:
        flag = int(value or 0)
    except (TypeError, ValueError):
        return 0
    # Flags outside the documented colours carry no meaning here
    return flag if 0 <= flag <= 5 else 0


def _receiver(data):
    return Receiver(**{
            name: _text(data, 'receiver_' + name)
            for name in ['name', 'state', 'city', 'district', 'town',
                'address', 'zip', 'mobile', 'phone']},
        oaid=_text(data, 'oaid'))


def _orders(data):
    orders = data.get('orders')
    if isinstance(orders, dict):
        orders = orders.get('order')
    if (not isinstance(orders, list) or not orders
            or not all(isinstance(o, dict) for o in orders)):
        raise TradeError('missing_field', field='orders')
    return orders


def _quantity(value, oid):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise TradeError('bad_quantity', oid=oid, value=value)
    return value


def _line(order):
    oid = _identifier(order, 'oid')

    def amount(name, signed=False):
        return money(order.get(name), 'orders.' + name, signed=signed)
    price, payment = amount('price'), amount('payment')
    divide_order_fee = None
    if order.get('divide_order_fee') not in (None, ''):
        divide_order_fee = amount('divide_order_fee')
    gift = order.get('is_free_gift') in (True, 'true') or (
        not price and not payment)
    return Line(
        oid=oid,
        status=_text(order, 'status'),
        refund_status=_text(order, 'refund_status'),
        refund_id=_text(order, 'refund_id'),
        num_iid=_text(order, 'num_iid'),
        sku_id=_text(order, 'sku_id'),
        outer_iid=_text(order, 'outer_iid'),
        outer_sku_id=_text(order, 'outer_sku_id'),
        title=_text(order, 'title'),
        sku_properties_name=_text(order, 'sku_properties_name'),
        quantity=_quantity(order.get('num'), oid),
        price=price,
        total_fee=amount('total_fee'),
        payment=payment,
        discount_fee=amount('discount_fee'),
        adjust_fee=amount('adjust_fee', signed=True),
        divide_order_fee=divide_order_fee,
        part_mjz_discount=amount('part_mjz_discount'),
        amount=ZERO,
        gift=gift)


def _amounts(lines, payment, post_fee):
    "Return what the buyer paid for each line, postage excluded"
    goods = payment - post_fee
    if all(l.divide_order_fee is not None for l in lines if not l.gift):
        amounts = [ZERO if l.gift else l.divide_order_fee for l in lines]
        if sum(amounts) != goods:
            raise TradeError('inconsistent_money',
                payment=payment, computed=sum(amounts) + post_fee)
        return amounts
    if len(lines) == 1:
        # The payment of the only order includes the postage
        bases = [ZERO if lines[0].gift else goods]
    else:
        bases = [ZERO if l.gift else l.payment for l in lines]
    discount = sum(bases) - goods
    if not 0 <= discount <= sum(bases):
        raise TradeError('inconsistent_money',
            payment=payment, computed=sum(bases) + post_fee)
    return [b - s for b, s in zip(bases, _split(discount, bases))]


def _split(amount, weights):
    "Split amount proportionally to weights, to the fen, largest remainder"
    cents = int(amount * 100)
    weights = [int(w * 100) for w in weights]
    whole = sum(weights)
    if not whole:
        return [ZERO] * len(weights)
    shares = [cents * w // whole for w in weights]
    remainders = [cents * w % whole for w in weights]
    largest = sorted(range(len(weights)), key=lambda i: -remainders[i])
    for i in largest[:cents - sum(shares)]:
        shares[i] += 1
    return [Decimal(s).scaleb(-2) for s in shares]


class TopError(Exception):
    "An error answered by the TOP gateway or met on the way to it"

    def __init__(self, code, msg='', sub_code='', sub_msg='', temporary=None):
        super().__init__(code, msg, sub_code, sub_msg)
        self.code = code
        self.msg = msg or ''
        self.sub_code = sub_code or ''
        self.sub_msg = sub_msg or ''
        if temporary is None:
            # 7 and 8 are call limits, isp.* are faults of the platform
            temporary = (code in {7, 8}
                or self.sub_code.startswith('isp.'))
        self.temporary = temporary

    def __str__(self):
        text = 'TOP error %s: %s' % (
            self.code if self.code is not None else '-', self.msg)
        if self.sub_code or self.sub_msg:
            text += ' (%s: %s)' % (self.sub_code, self.sub_msg)
        return text


def sign(params, secret, method='md5'):
    "Return the TOP signature of params"
    text = ''.join(
        key + str(value) for key, value in sorted(params.items())
        if key != 'sign' and value is not None and value != '')
    if method == 'md5':
        return hashlib.md5(
            (secret + text + secret).encode('utf-8')).hexdigest().upper()
    elif method == 'hmac':
        return hmac.new(secret.encode('utf-8'), text.encode('utf-8'),
            hashlib.md5).hexdigest().upper()
    raise ValueError('unknown sign method: %s' % method)


FULLINFO_FIELDS = ','.join([
        'tid', 'tid_str', 'status', 'type', 'seller_nick', 'buyer_nick',
        'buyer_open_uid', 'created', 'modified', 'pay_time', 'payment',
        'total_fee', 'post_fee', 'discount_fee', 'adjust_fee',
        'receiver_name', 'receiver_state', 'receiver_city',
        'receiver_district', 'receiver_town', 'receiver_address',
        'receiver_zip', 'receiver_mobile', 'receiver_phone', 'oaid',
        'buyer_message', 'seller_memo', 'seller_flag', 'shipping_type',
        'alipay_no', 'orders'])


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _form_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


class TopClient:
    "Client of the Taobao Open Platform gateway"
    version = '2.0'

    def __init__(self, url, app_key, app_secret, session=None,
            sign_method='md5', timeout=30, retries=4, backoff=0.5,
            sleep=time.sleep, now=None):
        if sign_method not in {'md5', 'hmac'}:
            raise ValueError('unknown sign method: %s' % sign_method)
        self.url = url
        self.app_key = app_key
        self.app_secret = app_secret
        self.session = session
        self.sign_method = sign_method
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.now = now or _utcnow

    def call(self, method, **params):
        "Return the response object of the API method"
        return self.call_raw(method, **params)[1]

    def call_raw(self, method, **params):
        "Return the response text as received and its response object"
        attempt = 0
        while True:
            try:
                return self._request(method, params)
            except TopError as error:
                if not error.temporary or attempt >= self.retries:
                    raise
            self.sleep(self.backoff * 2 ** attempt)
            attempt += 1

    def _form(self, method, params):
        form = {
            'method': method,
            'app_key': self.app_key,
            'session': self.session,
            'timestamp': from_utc(self.now()),
            'v': self.version,
            'sign_method': self.sign_method,
            'format': 'json',
            }
        form.update(params)
        form = {k: _form_value(v) for k, v in form.items() if v is not None}
        form['sign'] = sign(form, self.app_secret, self.sign_method)
        return form

    def _request(self, method, params):
        text = self._post(self._form(method, params))
        try:
            data = json.loads(text)
        except ValueError as exception:
            raise TopError(None, 'invalid JSON: %s' % exception,
                temporary=True)
        if not isinstance(data, dict):
            raise TopError(None, 'invalid response', temporary=True)
        if 'error_response' in data:
            raise _error(data['error_response'])
        return text, _response_body(data, method)

    def _post(self, form):
        request = urllib.request.Request(
            self.url, data=urllib.parse.urlencode(form).encode('utf-8'),
            headers={
                'Content-Type':
                'application/x-www-form-urlencoded;charset=utf-8',
                })
        try:
            with urllib.request.urlopen(
                    request, timeout=self.timeout) as response:
                content = response.read()
        except urllib.error.HTTPError as error:
            error.close()
            raise TopError(None, 'HTTP %s %s' % (error.code, error.reason),
                temporary=error.code >= 500)
        except (OSError, http.client.HTTPException) as error:
            # URLError, connection errors and timeouts
            raise TopError(None, str(error) or type(error).__name__,
                temporary=True)
        try:
            return content.decode('utf-8')
        except UnicodeDecodeError as error:
            raise TopError(None, 'invalid response: %s' % error,
                temporary=True)

    def sold_increment(self, start, end, page_size=50,
            fields='tid,status,modified'):
        """Yield the summaries of the trades modified from start to end

        Each trade is yielded once, the newest modification wins, ordered by
        modified."""
        newest = {}
        for window in _windows(start, end):
            for summary in self._window_summaries(*window, page_size, fields):
                tid = _identifier(summary, 'tid')
                if (tid not in newest
                        or _modified(summary) >= _modified(newest[tid])):
                    newest[tid] = summary
        yield from sorted(newest.values(),
            key=lambda s: (_modified(s), _identifier(s, 'tid')))

    def _window_summaries(self, start, end, page_size, fields):
        def page(number):
            return self.call('taobao.trades.sold.increment.get',
                fields=fields,
                start_modified=from_utc(start), end_modified=from_utc(end),
                page_no=number, page_size=page_size, use_has_next=False)
        first = page(1)
        summaries = _trades(first)
        pages = -(-int(first.get('total_results') or 0) // page_size)
        if pages > 1:
            # Trades leaving the window move the others towards the first
            # page, walking backwards sees them again instead of missing them
            for number in range(pages, 0, -1):
                summaries.extend(_trades(page(number)))
        return summaries

    def trade_fullinfo(self, tid, fields=FULLINFO_FIELDS):
        "Return the response text of taobao.trade.fullinfo.get as received"
        text, _ = self.call_raw(
            'taobao.trade.fullinfo.get', tid=str(tid), fields=fields)
        return text


def _error(body):
    if not isinstance(body, dict):
        return TopError(None, 'invalid error response', temporary=True)
    code = body.get('code')
    try:
        code = int(code)
    except (TypeError, ValueError):
        pass
    return TopError(code, str(body.get('msg') or ''),
        str(body.get('sub_code') or ''), str(body.get('sub_msg') or ''))


def _response_body(data, method):
    name = method.removeprefix('taobao.').replace('.', '_') + '_response'
    if name not in data:
        names = [k for k in data if k.endswith('_response')]
        if len(names) != 1:
            raise TopError(None, 'no %s in the response' % name,
                temporary=True)
        name, = names
    body = data[name]
    if not isinstance(body, dict):
        raise TopError(None, 'invalid %s' % name, temporary=True)
    return body


def _windows(start, end):
    "Yield the (start, end) windows of at most one day covering the range"
    day = datetime.timedelta(days=1)
    start, end = start.replace(microsecond=0), end.replace(microsecond=0)
    while start < end:
        yield start, min(start + day, end)
        start += day


def _trades(body):
    trades = body.get('trades') or []
    if isinstance(trades, dict):
        trades = trades.get('trade') or []
    return list(trades)


def _modified(summary):
    return str(summary.get('modified') or '')


class RelayError(Exception):
    "The relay database cannot be read"


@dataclass
class RelayRow:
    tid: str
    status: str
    modified: datetime.datetime
    jdp_modified: datetime.datetime
    response: str


class RelayReader:
    "Reader of the trades pushed to the Jushita relay database"
    _china_offset = datetime.timedelta(hours=8)

    def __init__(self, uri):
        scheme = uri.split(':', 1)[0]
        self.text_times = scheme == 'sqlite'
        if scheme == 'sqlite' and uri.startswith('sqlite:///'):
            path = uri[len('sqlite:///'):]
            self.placeholder, self.errors = '?', sqlite3.Error
            with self._reading():
                self.connection = sqlite3.connect(
                    'file:%s?mode=ro' % urllib.parse.quote(path), uri=True)
        elif scheme in {'postgresql', 'postgres'}:
            import psycopg2
            self.placeholder, self.errors = '%s', psycopg2.Error
            with self._reading():
                self.connection = psycopg2.connect(uri)
                # No transaction kept open on the relay between polls
                self.connection.set_session(readonly=True, autocommit=True)
        else:
            raise ValueError('unsupported relay URI: %s' % uri)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self.connection.close()

    def fetch(self, seller_nick, since, after=None, limit=500):
        """Return the rows of the seller modified on the relay since

        after is the (jdp_modified, tid) of the last row read."""
        if after:
            after = (after[0], str(after[1]))
        rows = self._page('jdp_tb_trade', 'tid',
            ['status', 'modified', 'jdp_response'],
            seller_nick, since, after, limit)
        with self._reading():
            return [self._row(t, s, m, j, r) for t, j, s, m, r in rows]

    def _page(self, table, key, columns, seller_nick, since, after, limit):
        """Return (key, jdp_modified, *columns) of the seller's rows of table
        modified since, ordered by (jdp_modified, key)

        The page starts after the (jdp_modified, key) given: keyset paging,
        so that rows sharing a jdp_modified are neither skipped nor read
        twice."""
        query = ('SELECT {key}, jdp_modified, %s FROM {table} '
            'WHERE seller_nick = {p} AND jdp_modified >= {p}'
            % ', '.join(columns))
        params = [seller_nick, self._to_relay(since)]
        if after:
            jdp_modified, last = after
            query += (' AND (jdp_modified > {p} '
                'OR (jdp_modified = {p} AND {key} > {p}))')
            params += [self._to_relay(jdp_modified)] * 2 + [last]
        query += ' ORDER BY jdp_modified, {key} LIMIT {p}'
        params.append(limit)
        with self._reading():
            cursor = self.connection.cursor()
            try:
                cursor.execute(
                    query.format(p=self.placeholder, key=key, table=table),
                    params)
                return cursor.fetchall()
            finally:
                cursor.close()

    @contextlib.contextmanager
    def _reading(self):
        try:
            yield
        except (self.errors, ValueError) as exception:
            # ValueError: a time or a response stored garbled
            raise RelayError(str(exception)) from exception

    def _row(self, tid, status, modified, jdp_modified, response):
        return RelayRow(
            tid=str(tid),
            status=status or '',
            modified=self._from_relay(modified),
            jdp_modified=self._from_relay(jdp_modified),
            response=self._text(response))

    @staticmethod
    def _text(response):
        if isinstance(response, (bytes, memoryview)):
            return bytes(response).decode('utf-8')
        return response

    def _to_relay(self, value):
        if self.text_times:
            return from_utc(value)
        return value + self._china_offset

    def _from_relay(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        if value.tzinfo is not None:
            return value.astimezone(datetime.timezone.utc).replace(
                tzinfo=None)
        return value - self._china_offset
