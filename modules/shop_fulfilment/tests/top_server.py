# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A local Taobao Open Platform gateway for the tests.

It checks requests as the platform does and answers in its JSON format.  The
signature is verified with its own code, not with the client's.
"""
import collections
import copy
import datetime
import hashlib
import hmac
import itertools
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TIME_FORMAT = '%Y-%m-%d %H:%M:%S'
CHINA_OFFSET = datetime.timedelta(hours=8)
TIMESTAMP_TOLERANCE = datetime.timedelta(minutes=10)

MESSAGES = {
    7: 'App Call Limited',
    8: 'App Call Exceeds Limited Frequency',
    15: 'Remote service error',
    21: 'Missing method',
    22: 'Invalid method',
    23: 'Invalid format',
    24: 'Missing signature',
    25: 'Invalid signature',
    26: 'Missing session',
    27: 'Invalid session',
    28: 'Missing app key',
    29: 'Invalid app key',
    30: 'Missing timestamp',
    31: 'Invalid timestamp',
    32: 'Missing version',
    34: 'Unsupported version',
    40: 'Missing required arguments',
    41: 'Invalid arguments',
    }


class Refusal(Exception):
    "A request the gateway answers with an error_response"

    def __init__(self, code, detail='', sub_code=None, sub_msg=None):
        super().__init__(code, detail, sub_code, sub_msg)
        self.code = code
        self.msg = MESSAGES.get(code, 'Error')
        if detail:
            self.msg += ':' + detail
        self.sub_code = sub_code
        self.sub_msg = sub_msg


def signature(params, secret, method):
    text = ''.join(
        k + v for k, v in sorted(params.items()) if k != 'sign' and v)
    if method == 'hmac':
        digest = hmac.new(secret.encode('utf-8'), text.encode('utf-8'),
            hashlib.md5)
    else:
        digest = hashlib.md5((secret + text + secret).encode('utf-8'))
    return digest.hexdigest().upper()


def china_time(params, name):
    try:
        return datetime.datetime.strptime(params[name], TIME_FORMAT)
    except ValueError:
        raise Refusal(41, name, 'isv.invalid-parameter',
            '%s must be yyyy-MM-dd HH:mm:ss' % name)


def number(params, name, default, minimum, maximum=None):
    try:
        value = int(params.get(name, default))
    except ValueError:
        value = None
    if value is None or value < minimum or (
            maximum is not None and value > maximum):
        raise Refusal(41, name, 'isv.invalid-parameter',
            '%s out of range' % name)
    return value


def require(params, *names):
    for name in names:
        if not params.get(name):
            raise Refusal(40, name, 'isv.missing-parameter',
                'missing %s' % name)


def trade_id(trade):
    return str(trade.get('tid_str') or trade.get('tid'))


class BaseServer:
    "The gateway serving the trades, a list tests may change between calls"

    def __init__(self, app_key, app_secret, session, trades=None):
        self.app_key = app_key
        self.app_secret = app_secret
        self.session = session
        self.trades = [] if trades is None else trades
        self.requests = []
        self.counts = collections.Counter()
        self._faults = collections.deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._request_ids = itertools.count(1)
        self._httpd = None
        self._thread = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self):
        return 'http://127.0.0.1:%s/router/rest' % self._httpd.server_port

    def start(self):
        self._stopping.clear()
        self._httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self._httpd.top = self
        self._thread = threading.Thread(target=self._httpd.serve_forever,
            kwargs={'poll_interval': 0.05}, daemon=True)
        self._thread.start()

    def stop(self):
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def fail_next(self, n=1, code=None, sub_code=None, sub_msg=None,
            status=200, body=None):
        """Answer the next n requests with an error

        code and sub_code make an error_response (code 15 when only sub_code
        is given), status other than 200 an HTTP error, body a raw body."""
        if code is None and sub_code:
            code = 15
        fault = {'code': code, 'sub_code': sub_code, 'sub_msg': sub_msg,
            'status': status, 'body': body}
        with self._lock:
            self._faults.extend([fault] * n)

    def timeout_next(self, n=1, delay=2):
        "Delay the answer of the next n requests by delay seconds"
        with self._lock:
            self._faults.extend([{'delay': delay}] * n)

    def pages(self, method='taobao.trades.sold.increment.get'):
        "Return the (start_modified, end_modified, page_no) requested"
        return [(r.get('start_modified'), r.get('end_modified'),
                int(r.get('page_no', 1)))
            for r in self.requests if r.get('method') == method]

    def answer(self, params):
        "Return the HTTP status and body answering the request"
        with self._lock:
            self.requests.append(dict(params))
            self.counts[params.get('method', '')] += 1
            fault = self._faults.popleft() if self._faults else None
        if fault and 'delay' in fault:
            self._stopping.wait(fault['delay'])
        elif fault:
            return self._fault(fault)
        try:
            self.check(params)
            name, body = self.serve(params)
        except Refusal as refusal:
            return 200, self._error(refusal)
        body['request_id'] = self._request_id()
        return 200, json.dumps({name: body}, ensure_ascii=False)

    def _request_id(self):
        return 'req%08d' % next(self._request_ids)

    def _error(self, refusal):
        body = {'code': refusal.code, 'msg': refusal.msg}
        if refusal.sub_code:
            body['sub_code'] = refusal.sub_code
            body['sub_msg'] = refusal.sub_msg or refusal.sub_code
        body['request_id'] = self._request_id()
        return json.dumps({'error_response': body}, ensure_ascii=False)

    def _fault(self, fault):
        if fault['body'] is not None:
            return fault['status'], fault['body']
        if fault['status'] != 200:
            return fault['status'], 'Service Unavailable'
        return 200, self._error(Refusal(
                fault['code'], sub_code=fault['sub_code'],
                sub_msg=fault['sub_msg']))

    def check(self, params):
        "Check the common parameters in the platform's order"
        method = params.get('method')
        if not method:
            raise Refusal(21)
        if method not in self.methods:
            raise Refusal(22)
        if not params.get('app_key'):
            raise Refusal(28)
        if params['app_key'] != self.app_key:
            raise Refusal(29)
        self._check_timestamp(params.get('timestamp'))
        if not params.get('v'):
            raise Refusal(32)
        if params['v'] != '2.0':
            raise Refusal(34)
        if params.get('format', 'json') != 'json':
            raise Refusal(23)
        sign_method = params.get('sign_method', 'md5')
        if sign_method not in {'md5', 'hmac'}:
            raise Refusal(41, 'sign_method', 'isv.invalid-parameter',
                'sign_method must be md5 or hmac')
        if not params.get('sign'):
            raise Refusal(24)
        if params['sign'] != signature(
                params, self.app_secret, sign_method):
            raise Refusal(25)
        if not params.get('session'):
            raise Refusal(26)
        if params['session'] != self.session:
            raise Refusal(27)

    def _check_timestamp(self, timestamp):
        if not timestamp:
            raise Refusal(30)
        try:
            sent = datetime.datetime.strptime(timestamp, TIME_FORMAT)
        except ValueError:
            raise Refusal(31)
        now = datetime.datetime.now(datetime.timezone.utc).replace(
            tzinfo=None) + CHINA_OFFSET
        if abs(now - sent) > TIMESTAMP_TOLERANCE:
            raise Refusal(31)

    @property
    def methods(self):
        "The API methods served: service mixins add theirs"
        return {
            'taobao.trades.sold.increment.get': self.sold_increment,
            'taobao.trade.fullinfo.get': self.fullinfo,
            }

    def serve(self, params):
        method = params['method']
        name = method.removeprefix('taobao.').replace('.', '_') + '_response'
        return name, self.methods[method](params)

    def trade(self, tid):
        "Return the latest version of the trade or refuse as the platform"
        with self._lock:
            trades = [t for t in self.trades if trade_id(t) == str(tid)]
        if not trades:
            raise Refusal(15, '', 'isv.trade-not-exist',
                'trade %s does not exist' % tid)
        return trades[-1]

    def sold_increment(self, params):
        require(params, 'fields', 'start_modified', 'end_modified')
        start = china_time(params, 'start_modified')
        end = china_time(params, 'end_modified')
        if end <= start:
            raise Refusal(41, 'end_modified', 'isv.invalid-parameter',
                'end_modified must be later than start_modified')
        if end - start > datetime.timedelta(days=1):
            raise Refusal(41, 'end_modified', 'isv.invalid-parameter',
                'the modified window must not exceed one day')
        page_no = number(params, 'page_no', 1, 1)
        page_size = number(params, 'page_size', 40, 1, 100)
        fields = set(params['fields'].split(','))
        with self._lock:
            trades = list(self.trades)
        found = sorted((t for t in trades
                if start <= china_time(t, 'modified') <= end),
            key=lambda t: (t['modified'], trade_id(t)), reverse=True)
        page = found[(page_no - 1) * page_size:page_no * page_size]
        body = {'has_next': page_no * page_size < len(found)}
        if params.get('use_has_next') != 'true':
            body['total_results'] = len(found)
        if page:
            body['trades'] = {'trade': [
                    {k: copy.deepcopy(v) for k, v in t.items() if k in fields}
                    for t in page]}
        return body

    def fullinfo(self, params):
        require(params, 'fields', 'tid')
        if not params['tid'].isdigit():
            raise Refusal(41, 'tid', 'isv.invalid-parameter',
                'tid must be a number')
        with self._lock:
            trades = [t for t in self.trades
                if trade_id(t) == params['tid']]
        if not trades:
            raise Refusal(15, '', 'isv.trade-not-exist',
                'trade %s does not exist' % params['tid'])
        return {'trade': copy.deepcopy(trades[-1])}


class Handler(BaseHTTPRequestHandler):

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        self._answer(self.rfile.read(length).decode('utf-8'))

    def do_GET(self):
        self._answer('')

    def _answer(self, body):
        params = dict(urllib.parse.parse_qsl(
                urllib.parse.urlsplit(self.path).query))
        params.update(urllib.parse.parse_qsl(body))
        status, text = self.server.top.answer(params)
        content = text.encode('utf-8')
        try:
            self.send_response(status)
            self.send_header(
                'Content-Type', 'application/json;charset=UTF-8')
            self.send_header('Content-Length', str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up waiting
            pass

    def log_message(self, format, *args):
        pass


# The services of the gateway, each in its own file, are mixed in here: they
# import what they need from this module, which is defined by now.
from .top_waybill import WaybillService  # noqa: E402
from .top_logistics import LogisticsService  # noqa: E402


class TopServer(WaybillService, LogisticsService, BaseServer):
    "The gateway with all the services the tests use"
