# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Platform trades as received, and their way onto sales"
import datetime as dt
import json
import re
from collections import Counter

from trytond.config import config
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import taobao
from .exceptions import TradeMappingError

STATUSES = [
    (None, ""),
    ('TRADE_NO_CREATE_PAY', "No Payment Created"),
    ('WAIT_BUYER_PAY', "Waiting for Buyer Payment"),
    ('PAY_PENDING', "Payment Pending"),
    ('PAID_FORBID_CONSIGN', "Paid, Shipping Forbidden"),
    ('WAIT_PRE_AUTH_CONFIRM', "Waiting for Pre-Authorization"),
    ('WAIT_SELLER_SEND_GOODS', "Waiting for Shipment"),
    ('SELLER_CONSIGNED_PART', "Partly Shipped"),
    ('WAIT_BUYER_CONFIRM_GOODS', "Shipped"),
    ('TRADE_BUYER_SIGNED', "Signed by Buyer"),
    ('TRADE_FINISHED', "Finished"),
    ('TRADE_CLOSED', "Closed after Refund"),
    ('TRADE_CLOSED_BY_TAOBAO', "Closed before Payment"),
    ]
TRADE_ID = re.compile(r'"tid(?:_str)?"\s*:\s*"?(\d+)')
BATCH = 100


def _batch_size():
    return config.getint('shop_fulfilment', 'batch', default=BATCH)


class ReasonMixin:
    "A translated reason, rendered in the reader's language"
    __slots__ = ()
    reason_message = fields.Char("Reason Message", readonly=True)
    reason_values = fields.Text("Reason Values", readonly=True)
    reason = fields.Function(fields.Text("Reason"), 'get_reason')

    def get_reason(self, name):
        if self.reason_message:
            values = json.loads(self.reason_values or '{}')
            return gettext(self.reason_message, **values)

    def set_reason(self, message=None, **values):
        self.reason_message = message
        self.reason_values = json.dumps(
            {k: str(v) for k, v in values.items()}, ensure_ascii=False
            ) if message else None


class Trade(ReasonMixin, ModelSQL, ModelView):
    "Platform Trade"
    __name__ = 'web.shop.taobao.trade'
    _rec_name = 'tid'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True, readonly=True,
        ondelete='CASCADE')
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    tid = fields.Char("Trade ID", required=True, readonly=True)
    status = fields.Selection(STATUSES, "Platform Status", readonly=True)
    buyer_nick = fields.Char("Buyer Nick", readonly=True)
    buyer = fields.Many2One(
        'web.shop.taobao.buyer', "Buyer", readonly=True, ondelete='RESTRICT')
    modified = fields.DateTime(
        "Platform Modified", readonly=True,
        help="When the platform last changed the trade.")
    state = fields.Selection([
            ('pending', "Pending"),
            ('waiting', "Waiting for Payment"),
            ('imported', "Imported"),
            ('exception', "Exception"),
            ('ignored', "Ignored"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    sale = fields.Many2One('sale.sale', "Sale", readonly=True)
    payloads = fields.One2Many(
        'web.shop.taobao.payload', 'trade', "Payloads", readonly=True,
        order=[('received', 'DESC'), ('id', 'DESC')])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('shop_tid_unique', Unique(t, t.shop, t.tid),
                'shop_fulfilment.msg_trade_tid_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.state, Index.Equality())))
        cls._order = [('modified', 'DESC NULLS FIRST'), ('id', 'DESC')]
        cls._buttons.update({
                'retry': {
                    'invisible': ~Eval('state').in_(['exception', 'ignored']),
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    @fields.depends('shop', '_parent_shop.company')
    def on_change_with_company(self, name=None):
        return self.shop.company if self.shop else None

    @classmethod
    def search_company(cls, name, clause):
        return [('shop.' + clause[0],) + tuple(clause[1:])]

    @classmethod
    def known_modified(cls, shop, since):
        "Return the platform modified time per tid changed since"
        trades = cls.search([
                ('shop', '=', shop.id),
                ('modified', '>=', since),
                ])
        return {t.tid: t.modified for t in trades}

    @classmethod
    def receive(cls, shop, source, items, counts):
        """Store the payloads (text, tid) as received
        and return the trades to process"""
        pool = Pool()
        Payload = pool.get('web.shop.taobao.payload')
        Buyer = pool.get('web.shop.taobao.buyer')
        shop.lock_fetch()
        counts['received'] += len(items)
        fresh = {}
        for text, tid in items:
            fresh.setdefault(taobao.payload_hash(text), (text, tid))
        for digests in grouped_slice(list(fresh)):
            for payload in Payload.search([
                        ('shop', '=', shop.id),
                        ('hash', 'in', list(digests)),
                        ]):
                del fresh[payload.hash]
        counts['duplicate'] += len(items) - len(fresh)
        peeks = [Payload.peek(h, text, tid) for h, (text, tid) in fresh.items()]
        trades = cls._get_trades(shop, {p['tid'] for p in peeks if p['tid']})
        buyers = Buyer.get_buyers(
            shop, {p['buyer'] for p in peeks if p['buyer']})
        now = dt.datetime.utcnow()
        payloads = []
        for peek in peeks:
            trade = trades.get(peek['tid'])
            payloads.append(Payload(
                    shop=shop, source=source, received=now, trade=trade,
                    hash=peek['hash'], data=peek['data'], tid=peek['tid'],
                    modified=peek['modified'],
                    state='pending' if trade else 'error'))
            if not trade:
                payloads[-1].set_reason(
                    'shop_fulfilment.msg_payload_unreadable',
                    error=peek['error'])
        Payload.save(payloads)
        received = {}
        for peek in peeks:
            trade = trades.get(peek['tid'])
            if not trade:
                continue
            received[trade.id] = trade
            trade.state = 'pending'
            if peek['buyer']:
                trade.buyer = buyers[peek['buyer']]
        cls.save(list(received.values()))
        return list(received.values())

    @classmethod
    def _get_trades(cls, shop, tids):
        trades = {}
        for sub_tids in grouped_slice(list(tids)):
            for trade in cls.search([
                        ('shop', '=', shop.id),
                        ('tid', 'in', list(sub_tids)),
                        ]):
                trades[trade.tid] = trade
        missing = [cls(shop=shop, tid=t, state='pending')
            for t in sorted(tids - set(trades))]
        cls.save(missing)
        trades.update((t.tid, t) for t in missing)
        return trades

    @classmethod
    def process_received(cls, trades):
        "Process now, or through the queue when workers are running"
        if not trades:
            return Counter()
        if config.getboolean('queue', 'worker', default=False):
            with Transaction().set_context(queue_batch=_batch_size()):
                cls.__queue__.process(trades)
            return Counter(queued=len(trades))
        cls.lock_for_processing(trades)
        counts = Counter()
        # In one transaction anyway: larger batches validate in fewer queries
        for sub_trades in grouped_slice(trades, max(_batch_size(), 500)):
            counts.update(cls.process(cls.browse(sub_trades)))
        return counts

    @classmethod
    def lock_for_processing(cls, trades):
        "Lock the trades and their buyers at once, not batch after batch"
        pool = Pool()
        Buyer = pool.get('web.shop.taobao.buyer')
        cls.lock(trades)
        Buyer.lock(list({t.buyer for t in trades if t.buyer}))

    @classmethod
    def process_pending_cron(cls):
        "Process what waits, for example after a worker was stopped"
        trades = cls.search([('state', '=', 'pending')])
        cls.process_received(trades)

    @classmethod
    @ModelView.button
    def retry(cls, trades):
        pool = Pool()
        Payload = pool.get('web.shop.taobao.payload')
        latest, _ = cls._latest_payloads(
            trades, ['applied', 'recorded', 'error', 'outdated'])
        Payload.write(list(latest.values()), {'state': 'pending'})
        cls.write(trades, {'state': 'pending'})
        cls.process(trades)

    @classmethod
    def process(cls, trades):
        "Map the newest pending payload of each trade onto its sale"
        pool = Pool()
        Sale = pool.get('sale.sale')
        Payload = pool.get('web.shop.taobao.payload')
        trades = [t for t in cls.browse(trades) if t.state == 'pending']
        cls.lock_for_processing(trades)
        counts = Counter()
        latest, older = cls._latest_payloads(trades, ['pending'])
        for payload in older:
            payload.outdate()
            counts['outdated'] += 1
        todo = []
        for trade in trades:
            payload = latest.get(trade)
            if not payload:
                trade.state = trade.state_after_payload()
                continue
            try:
                values = taobao.parse_trade(taobao.load_trade(payload.data))
            except taobao.TradeError as error:
                trade.fail(payload,
                    TradeMappingError.from_trade_error(error, trade.tid))
                counts['exception'] += 1
                continue
            todo.append((trade, payload, values))
        counts.update(Sale.apply_platform_trades(todo))
        cls.save(trades)
        Payload.save(list(latest.values()) + older)
        return counts

    def state_after_payload(self):
        if self.sale:
            return 'imported'
        return 'ignored' if self.state == 'pending' else self.state

    def fail(self, payload, error, values=None):
        if values:
            self._set_platform_facts(values)
        self.state = 'exception'
        self.set_reason(error.message_id, **error.values)
        payload.state = 'error'
        payload.set_reason(error.message_id, **error.values)

    def applied(self, payload, values, state, note=None, recorded=False,
            **note_values):
        "Record the outcome of a payload: applied, or only recorded"
        self._set_platform_facts(values)
        self.state = state
        self.set_reason(note, **note_values)
        recorded = recorded or state == 'ignored'
        payload.state = 'recorded' if recorded else 'applied'
        payload.set_reason(note, **note_values)

    def _set_platform_facts(self, values):
        if values.modified:
            self.modified = values.modified
        self.status = values.status
        self.buyer_nick = values.buyer_nick

    @classmethod
    def _latest_payloads(cls, trades, states):
        "Return the newest payload per trade and the older ones"
        pool = Pool()
        Payload = pool.get('web.shop.taobao.payload')
        latest, older = {}, []
        for sub_trades in grouped_slice(trades):
            for payload in Payload.search([
                        ('trade', 'in', [t.id for t in sub_trades]),
                        ('state', 'in', states),
                        ], order=[('id', 'ASC')]):
                current = latest.get(payload.trade)
                if current and not payload.newer_than(current):
                    older.append(payload)
                    continue
                if current:
                    older.append(current)
                latest[payload.trade] = payload
        return latest, older


class Payload(ReasonMixin, ModelSQL, ModelView):
    "Platform Payload"
    __name__ = 'web.shop.taobao.payload'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True, readonly=True,
        ondelete='CASCADE')
    trade = fields.Many2One(
        'web.shop.taobao.trade', "Trade", readonly=True, ondelete='CASCADE')
    tid = fields.Char("Trade ID", readonly=True)
    source = fields.Selection([
            ('relay', "Relay Database"),
            ('api', "Platform API"),
            ('file', "File"),
            ], "Source", readonly=True, required=True)
    received = fields.DateTime("Received", readonly=True, required=True)
    hash = fields.Char("SHA-256", readonly=True, required=True)
    modified = fields.DateTime("Platform Modified", readonly=True)
    data = fields.Text("Data", readonly=True)
    state = fields.Selection([
            ('pending', "Pending"),
            ('applied', "Applied"),
            ('recorded', "Recorded"),
            ('outdated', "Outdated"),
            ('error', "Error"),
            ], "State", readonly=True, required=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('shop_hash_unique', Unique(t, t.shop, t.hash),
                'shop_fulfilment.msg_payload_hash_unique'),
            ]
        cls._order = [('received', 'DESC'), ('id', 'DESC')]

    @classmethod
    def peek(cls, digest, text, tid):
        "Read what storing needs from a payload that may be broken"
        peek = {'hash': digest, 'data': text, 'tid': tid, 'modified': None,
            'buyer': None, 'error': None}
        try:
            data = taobao.load_trade(text)
        except taobao.TradeError as error:
            peek['error'] = error.values.get('error', '')
            match = TRADE_ID.search(text or '')
            if not tid and match:
                peek['tid'] = match.group(1)
            return peek
        peek['tid'] = str(data.get('tid_str') or data.get('tid') or tid or '')
        try:
            peek['modified'] = taobao.to_utc(data.get('modified'))
        except taobao.TradeError:
            pass
        peek['buyer'] = data.get('buyer_open_uid') or data.get('buyer_nick')
        return peek

    def newer_than(self, other):
        if self.modified and other.modified:
            if self.modified != other.modified:
                return self.modified > other.modified
        return self.id > other.id

    def outdate(self):
        self.state = 'outdated'
        self.set_reason('shop_fulfilment.msg_payload_outdated')


class ImportFileStart(ModelView):
    "Import Orders from File"
    __name__ = 'web.shop.taobao.import_file.start'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True,
        domain=[('type', 'in', ['taobao', 'tmall'])])
    file_ = fields.Binary("File", required=True, filename='filename',
        help="A trade_fullinfo_get_response as JSON, "
        "or one response per line (JSON Lines).")
    filename = fields.Char("File Name")


class ImportFileResult(ModelView):
    "Import Orders from File"
    __name__ = 'web.shop.taobao.import_file.result'

    summary = fields.Text("Summary", readonly=True)


class ImportFile(Wizard):
    "Import Orders from File"
    __name__ = 'web.shop.taobao.import_file'

    start = StateView('web.shop.taobao.import_file.start',
        'shop_fulfilment.import_file_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateTransition()
    result = StateView('web.shop.taobao.import_file.result',
        'shop_fulfilment.import_file_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        if self.model and self.model.__name__ == 'web.shop' and self.record:
            return {'shop': self.record.id}
        return {}

    def transition_import_(self):
        pool = Pool()
        Trade = pool.get('web.shop.taobao.trade')
        counts = Counter()
        items = [(text, None) for text in split_file(self.start.file_)]
        trades = Trade.receive(self.start.shop, 'file', items, counts)
        counts.update(Trade.process_received(trades))
        self.result.summary = summary(counts)
        return 'result'

    def default_result(self, fields):
        return {'summary': self.result.summary}


def split_file(data):
    "Split the file into payload texts: one JSON document or JSON Lines"
    text = bytes(data).decode('utf-8-sig')
    stripped = text.strip()
    if not stripped:
        return []
    try:
        json.loads(stripped)
    except ValueError:
        return [line for line in stripped.splitlines() if line.strip()]
    return [stripped]


def summary(counts):
    "A translated one-line-per-count summary of an import"
    labels = [
        ('received', 'msg_count_received'),
        ('duplicate', 'msg_count_duplicate'),
        ('unchanged', 'msg_count_unchanged'),
        ('created', 'msg_count_created'),
        ('auto_reviewed', 'msg_count_auto_reviewed'),
        ('updated', 'msg_count_updated'),
        ('waiting', 'msg_count_waiting'),
        ('ignored', 'msg_count_ignored'),
        ('cancelled', 'msg_count_cancelled'),
        ('recorded', 'msg_count_recorded'),
        ('outdated', 'msg_count_outdated'),
        ('exception', 'msg_count_exception'),
        ('queued', 'msg_count_queued'),
        ]
    return '\n'.join(
        gettext('shop_fulfilment.' + message, count=counts[key])
        for key, message in labels if counts.get(key))
