# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Platform refunds as received (退款), from the relay table, the API or a
file: kept as received, one record per refund_id, newest version wins"""
import datetime as dt
import logging
from collections import Counter, defaultdict

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.modules.shop_fulfilment import taobao
from trytond.modules.shop_fulfilment.exceptions import ShopFetchBusy
from trytond.modules.shop_fulfilment.shop import PLATFORMS, RELAY_PAGE
from trytond.modules.shop_fulfilment.trade import (
    ReasonMixin, split_file, summary)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import taobao_refund
from .exceptions import RefundError, RefundMappingError

logger = logging.getLogger(__name__)

STATUSES = [
    (None, ""),
    ('WAIT_SELLER_AGREE', "Waiting for Seller to Agree"),
    ('WAIT_BUYER_RETURN_GOODS', "Waiting for Buyer to Return"),
    ('WAIT_SELLER_CONFIRM_GOODS', "Waiting for Seller to Confirm Goods"),
    ('SELLER_REFUSE_BUYER', "Refused by Seller"),
    ('CLOSED', "Closed"),
    ('SUCCESS', "Refunded"),
    ('WAIT_BUYER_CONFIRM_EXCHANGE_SELLER_SEND_GOODS',
        "Exchange Goods Sent"),
    ('EXCHANGE_TRANSFORM_TO_REFUND', "Exchange Turned into Refund"),
    ('WAIT_SELLER_CONSIGN_GOODS', "Waiting for Seller to Send Exchange"),
    ]
DISPUTE_TYPES = [
    (None, ""),
    ('REFUND', "Refund Only"),
    ('REFUND_AND_RETURN', "Return and Refund"),
    ('TMALL_EXCHANGE', "Exchange (Tmall)"),
    ('TAOBAO_EXCHANGE', "Exchange (Taobao)"),
    ('REPAIR', "Repair"),
    ('RESHIPPING', "Reshipping"),
    ('OTHERS', "Other"),
    ]
GOOD_STATUSES = [
    (None, ""),
    ('BUYER_NOT_RECEIVED', "Not Received by Buyer"),
    ('BUYER_RECEIVED', "Received by Buyer"),
    ('BUYER_RETURNED_GOODS', "Returned by Buyer"),
    ]
API_FIRST_WINDOW = dt.timedelta(days=1)
API_CHUNK = 50


def refund_summary(counts):
    "The import summary, refunds applied included"
    lines = [summary(counts)] if summary(counts) else []
    if counts.get('applied'):
        lines.append(gettext(
                'shop_returns.msg_count_applied', count=counts['applied']))
    return '\n'.join(lines)


class Refund(ReasonMixin, ModelSQL, ModelView):
    "Platform Refund"
    __name__ = 'web.shop.taobao.refund'
    _rec_name = 'refund_id'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True, readonly=True,
        ondelete='CASCADE')
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    refund_id = fields.Char("Refund ID", required=True, readonly=True)
    tid = fields.Char("Trade ID", readonly=True)
    oid = fields.Char("Order ID", readonly=True)
    sale = fields.Many2One('sale.sale', "Sale", readonly=True)
    sale_line = fields.Many2One('sale.line', "Sale Line", readonly=True)
    status = fields.Selection(
        STATUSES, "Platform Status", readonly=True, sort=False)
    status_string = status.translated('status')
    dispute_type = fields.Selection(
        DISPUTE_TYPES, "Kind", readonly=True, sort=False)
    refund_fee = fields.Numeric(
        "Refund Amount", digits=(16, 2), readonly=True,
        help="What the buyer asks back, postage included.")
    quantity = fields.Integer("Quantity", readonly=True)
    title = fields.Char("Title", readonly=True)
    has_good_return = fields.Boolean("Goods Back", readonly=True)
    good_status = fields.Selection(
        GOOD_STATUSES, "Goods Status", readonly=True)
    return_waybill = fields.Char(
        "Return Waybill", readonly=True,
        help="The waybill number of the parcel the buyer sends back (sid).")
    return_carrier_name = fields.Char("Return Carrier", readonly=True)
    refund_reason = fields.Char("Buyer's Reason", readonly=True)
    refund_desc = fields.Text("Buyer's Description", readonly=True)
    buyer_nick = fields.Char("Buyer Nick", readonly=True)
    requested = fields.DateTime("Requested", readonly=True)
    modified = fields.DateTime("Platform Modified", readonly=True)
    refund_phase = fields.Char("Refund Phase", readonly=True)
    refund_version = fields.Char("Refund Version", readonly=True)
    state = fields.Selection([
            ('pending', "Pending"),
            ('to_decide', "To Decide"),
            ('agreed', "Agreed"),
            ('refused', "Refused"),
            ('closed', "Closed"),
            ('exception', "Exception"),
            ], "State", readonly=True, required=True, sort=False)
    decision_reason = fields.Char("Refusal Reason", readonly=True)
    approvals = fields.One2Many(
        'web.shop.return_approval', 'refund', "Return Approvals",
        readonly=True)
    decisions = fields.One2Many(
        'web.shop.taobao.refund.decision', 'refund', "Platform Decisions",
        readonly=True)
    payloads = fields.One2Many(
        'web.shop.taobao.refund.payload', 'refund', "Payloads",
        readonly=True, order=[('received', 'DESC'), ('id', 'DESC')])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('shop_refund_unique', Unique(t, t.shop, t.refund_id),
                'shop_returns.msg_refund_id_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality())),
                Index(t, (t.tid, Index.Equality())),
                Index(t, (t.return_waybill, Index.Equality())),
                })
        cls._order = [('modified', 'DESC NULLS FIRST'), ('id', 'DESC')]
        cls._buttons.update({
                'agree': {
                    'invisible': Eval('state') != 'to_decide',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'refuse': {
                    'invisible': Eval('state') != 'to_decide',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'retry': {
                    'invisible': Eval('state') != 'exception',
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

    @property
    def goods_back(self):
        return self.has_good_return or self.dispute_type in {
            'REFUND_AND_RETURN', 'TMALL_EXCHANGE', 'TAOBAO_EXCHANGE',
            'REPAIR'}

    @property
    def in_progress(self):
        return (self.status in taobao_refund.IN_PROGRESS
            and self.state not in {'refused', 'closed'})

    # Intake

    @classmethod
    def receive(cls, shop, source, items, counts):
        """Store the payload texts as received and return the refunds
        to process"""
        pool = Pool()
        Payload = pool.get('web.shop.taobao.refund.payload')
        shop.lock_refund_fetch()
        counts['received'] += len(items)
        fresh = {}
        for text in items:
            fresh.setdefault(taobao.payload_hash(text), text)
        for digests in grouped_slice(list(fresh)):
            for payload in Payload.search([
                        ('shop', '=', shop.id),
                        ('hash', 'in', list(digests)),
                        ]):
                del fresh[payload.hash]
        counts['duplicate'] += len(items) - len(fresh)
        peeks = [Payload.peek(h, t) for h, t in fresh.items()]
        refunds = cls._get_refunds(
            shop, {p['refund_id'] for p in peeks if p['refund_id']})
        now = dt.datetime.utcnow()
        payloads = []
        for peek in peeks:
            refund = refunds.get(peek['refund_id'])
            payload = Payload(shop=shop, source=source, received=now,
                refund=refund, hash=peek['hash'], data=peek['data'],
                refund_id=peek['refund_id'], modified=peek['modified'],
                state='pending' if refund else 'error')
            if not refund:
                payload.set_reason(
                    'shop_returns.msg_refund_payload_unreadable',
                    error=peek['error'])
            payloads.append(payload)
        Payload.save(payloads)
        received = {r.id: r for p in peeks
            if (r := refunds.get(p['refund_id']))}
        cls.write(list(received.values()), {'state': 'pending'})
        return cls.browse(list(received))

    @classmethod
    def _get_refunds(cls, shop, refund_ids):
        refunds = {}
        for sub_ids in grouped_slice(list(refund_ids)):
            for refund in cls.search([
                        ('shop', '=', shop.id),
                        ('refund_id', 'in', list(sub_ids)),
                        ]):
                refunds[refund.refund_id] = refund
        missing = [cls(shop=shop, refund_id=r, state='pending')
            for r in sorted(refund_ids - set(refunds))]
        cls.save(missing)
        refunds.update((r.refund_id, r) for r in missing)
        return refunds

    @classmethod
    def known_modified(cls, shop, since):
        return {r.refund_id: r.modified for r in cls.search([
                    ('shop', '=', shop.id),
                    ('modified', '>=', since),
                    ])}

    @classmethod
    @ModelView.button
    def retry(cls, refunds):
        pool = Pool()
        Payload = pool.get('web.shop.taobao.refund.payload')
        latest, _ = cls._latest_payloads(refunds, ['applied', 'error'])
        Payload.write(list(latest.values()), {'state': 'pending'})
        cls.write(refunds, {'state': 'pending'})
        cls.process(refunds)

    @classmethod
    def process(cls, refunds):
        "Apply the newest pending payload of each refund"
        pool = Pool()
        Payload = pool.get('web.shop.taobao.refund.payload')
        refunds = [r for r in cls.browse(refunds) if r.state == 'pending']
        cls.lock(refunds)
        counts = Counter()
        latest, older = cls._latest_payloads(refunds, ['pending'])
        for payload in older:
            payload.outdate()
            counts['outdated'] += 1
        todo = []
        for refund in refunds:
            payload = latest.get(refund)
            if not payload:
                refund.state = refund.state_after()
                continue
            try:
                values = taobao_refund.parse_refund(
                    taobao_refund.load_refund(payload.data))
            except taobao.TradeError as error:
                refund.fail(payload, RefundMappingError.from_trade_error(
                        error, refund.refund_id))
                counts['exception'] += 1
                continue
            if (refund.modified and values.modified
                    and values.modified < refund.modified):
                payload.outdate()
                refund.state = refund.state_after()
                counts['outdated'] += 1
                continue
            todo.append((refund, payload, values))
        counts.update(cls._apply(todo))
        cls.save(refunds)
        Payload.save(list(latest.values()) + older)
        cls.after_platform_change(
            [r for r, _, _ in todo if r.state != 'exception'])
        return counts

    @classmethod
    def _apply(cls, items):
        "Link and record the platform facts; return the counts"
        counts = Counter()
        lines = cls._sale_lines(items)
        for refund, payload, values in items:
            line = lines.get((refund.shop.id, values.tid, values.oid))
            if not line:
                refund._set_facts(values)
                refund.fail(payload, RefundMappingError(
                        'shop_returns.msg_refund_no_sale',
                        refund_id=refund.refund_id, tid=values.tid,
                        oid=values.oid))
                counts['exception'] += 1
                continue
            refund._set_facts(values)
            refund.sale, refund.sale_line = line.sale, line
            refund.state = refund.state_from_platform()
            refund.set_reason()
            payload.state = 'applied'
            payload.set_reason()
            counts['applied'] += 1
        return counts

    @classmethod
    def _sale_lines(cls, items):
        "The first sale line of each (shop, tid, oid)"
        pool = Pool()
        Line = pool.get('sale.line')
        tids = {v.tid for _, _, v in items}
        lines = {}
        for sub_tids in grouped_slice(list(tids)):
            for line in Line.search([
                        ('sale.web_id', 'in', list(sub_tids)),
                        ('platform_oid', '!=', None),
                        ], order=[('id', 'ASC')]):
                key = (line.sale.web_shop.id if line.sale.web_shop else None,
                    line.sale.web_id, line.platform_oid)
                lines.setdefault(key, line)
        return lines

    def _set_facts(self, values):
        self.tid, self.oid = values.tid, values.oid
        self.status = values.status
        self.dispute_type = values.dispute_type
        self.refund_fee = values.refund_fee
        self.quantity = values.quantity
        self.title = values.title or None
        self.has_good_return = values.has_good_return
        self.good_status = values.good_status or None
        self.return_waybill = values.sid or None
        self.return_carrier_name = values.company_name or None
        self.refund_reason = values.reason or None
        self.refund_desc = values.desc or None
        self.buyer_nick = values.buyer_nick or None
        self.requested = values.created
        self.modified = values.modified
        self.refund_phase = values.refund_phase or None
        self.refund_version = values.refund_version or None

    def state_from_platform(self):
        if self.status == 'CLOSED':
            return 'closed'
        if self.status == 'SELLER_REFUSE_BUYER':
            return 'refused'
        if self.status in taobao_refund.AGREED or self.approvals:
            return 'agreed'
        if self.state in {'agreed', 'refused'}:
            # Our decision is on its way to the platform
            return self.state
        return 'to_decide'

    def state_after(self):
        if not self.sale:
            return 'exception' if self.reason_message else 'pending'
        return self.state_from_platform()

    def fail(self, payload, error):
        self.state = 'exception'
        self.set_reason(error.message_id, **error.values)
        payload.state = 'error'
        payload.set_reason(error.message_id, **error.values)

    @classmethod
    def _latest_payloads(cls, refunds, states):
        pool = Pool()
        Payload = pool.get('web.shop.taobao.refund.payload')
        latest, older = {}, []
        for sub_refunds in grouped_slice(refunds):
            for payload in Payload.search([
                        ('refund', 'in', [r.id for r in sub_refunds]),
                        ('state', 'in', states),
                        ], order=[('id', 'ASC')]):
                current = latest.get(payload.refund)
                if current and not payload.newer_than(current):
                    older.append(payload)
                    continue
                if current:
                    older.append(current)
                latest[payload.refund] = payload
        return latest, older

    @classmethod
    def after_platform_change(cls, refunds):
        """Follow what the platform says: approvals for what it agreed,
        return waybills, closed refunds, and the holds on shipments"""
        pool = Pool()
        Approval = pool.get('web.shop.return_approval')
        Approval.create_for_refunds(
            [r for r in refunds if r.status in taobao_refund.AGREED])
        Approval.follow_refunds(refunds)
        cls.update_holds(refunds)

    @classmethod
    def update_holds(cls, refunds):
        "Hold or release the unshipped goods of the refunds' sales"
        pool = Pool()
        Shipment = pool.get('stock.shipment.out')
        Shipment.update_refund_hold(list({s for r in refunds if r.sale
                    for s in r.sale.shipments}))

    # Decisions

    @classmethod
    @ModelView.button
    def agree(cls, refunds):
        "The seller agrees: the return approval is generated"
        pool = Pool()
        Approval = pool.get('web.shop.return_approval')
        Decision = pool.get('web.shop.taobao.refund.decision')
        refunds = [r for r in refunds if r.state == 'to_decide']
        for refund in refunds:
            refund.check_decidable()
        cls.write(refunds, {'state': 'agreed'})
        approvals = Approval.create_for_refunds(refunds)
        # Goods come back first; the money waits for finance
        Decision.queue(Decision.create_for(
                [a.refund for a in approvals if a.return_expected],
                'agree_return'))
        cls.update_holds(refunds)
        return approvals

    @classmethod
    @ModelView.button_action('shop_returns.wizard_refuse_refund')
    def refuse(cls, refunds):
        pass

    @classmethod
    def refuse_with(cls, refunds, reason):
        pool = Pool()
        Decision = pool.get('web.shop.taobao.refund.decision')
        reason = (reason or '').strip()
        if not 2 <= len(reason) <= 200:
            raise RefundError(gettext(
                    'shop_returns.msg_refund_refuse_reason',
                    length=len(reason)))
        refunds = [r for r in refunds if r.state == 'to_decide']
        for refund in refunds:
            refund.check_decidable()
        cls.write(refunds, {'state': 'refused', 'decision_reason': reason})
        Decision.queue(Decision.create_for(refunds, 'refuse', reason=reason))
        cls.update_holds(refunds)

    def check_decidable(self):
        if not self.sale or self.status != 'WAIT_SELLER_AGREE':
            raise RefundError(gettext(
                    'shop_returns.msg_refund_not_decidable',
                    refund=self.rec_name))


class Payload(ReasonMixin, ModelSQL, ModelView):
    "Platform Refund Payload"
    __name__ = 'web.shop.taobao.refund.payload'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True, readonly=True,
        ondelete='CASCADE')
    refund = fields.Many2One(
        'web.shop.taobao.refund', "Refund", readonly=True,
        ondelete='CASCADE')
    refund_id = fields.Char("Refund ID", readonly=True)
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
            ('outdated', "Outdated"),
            ('error', "Error"),
            ], "State", readonly=True, required=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('shop_hash_unique', Unique(t, t.shop, t.hash),
                'shop_returns.msg_refund_payload_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.refund, Index.Equality())))
        cls._order = [('received', 'DESC'), ('id', 'DESC')]

    @classmethod
    def peek(cls, digest, text):
        "Read what storing needs from a payload that may be broken"
        peek = {'hash': digest, 'data': text, 'modified': None,
            'refund_id': taobao_refund.peek_refund_id(text), 'error': None}
        try:
            data = taobao_refund.load_refund(text)
            peek['modified'] = taobao.to_utc(data.get('modified'))
        except taobao.TradeError as error:
            peek['error'] = error.values.get('error', str(error))
        return peek

    def newer_than(self, other):
        if self.modified and other.modified:
            if self.modified != other.modified:
                return self.modified > other.modified
        return self.id > other.id

    def outdate(self):
        self.state = 'outdated'
        self.set_reason('shop_returns.msg_refund_payload_outdated')


class Shop(metaclass=PoolMeta):
    __name__ = 'web.shop'

    refund_relay_watermark = fields.DateTime(
        "Refund Relay Watermark",
        help="The newest jdp_modified read from jdp_tb_refund.")
    refund_api_watermark = fields.DateTime(
        "Refund API Watermark",
        help="The end of the last window of changed refunds fetched.")
    last_refund_fetch = fields.DateTime("Last Refund Fetch", readonly=True)
    last_refund_fetch_summary = fields.Text(
        "Last Refund Fetch Summary", readonly=True)
    last_refund_fetch_error = fields.Text(
        "Last Refund Fetch Error", readonly=True)
    return_address_id = fields.Char(
        "Return Address ID",
        help="The seller's return address number on the platform "
        "(seller_address_id).")
    return_contact = fields.Char("Return Contact")
    return_mobile = fields.Char("Return Mobile")
    return_phone = fields.Char("Return Phone")
    return_zip = fields.Char("Return Postal Code")
    return_address = fields.Char(
        "Return Address", help="Where the buyers send the goods back.")
    return_remark = fields.Char(
        "Return Remark", help="The seller's message to the buyer with the "
        "return address.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'refresh_refunds': {
                    'invisible': (~Eval('type').in_(list(PLATFORMS))
                        | ~Eval('order_source').in_(['relay', 'api'])),
                    'depends': ['type', 'order_source'],
                    },
                })

    def return_address_params(self):
        "The return address taobao.rp.returngoods.agree tells the buyer"
        params = {
            'seller_address_id': self.return_address_id,
            'remark': self.return_remark,
            'name': self.return_contact,
            'mobile': self.return_mobile,
            'tel': self.return_phone,
            'post': self.return_zip,
            'address': self.return_address,
            }
        return {k: v for k, v in params.items() if v}

    @classmethod
    @ModelView.button
    def refresh_refunds(cls, shops):
        for shop in shops:
            shop.fetch_refunds()

    @classmethod
    def fetch_refunds_cron(cls):
        for shop in cls.search([
                    ('type', 'in', list(PLATFORMS)),
                    ('order_source', 'in', ['relay', 'api']),
                    ]):
            try:
                shop.fetch_refunds()
            except ShopFetchBusy:
                # The next run reads what came after
                logger.info("refund fetch of shop %s skipped: "
                    "another one runs", shop.id)

    def lock_refund_fetch(self):
        "Take the lock of the refund fetches of the shop (not its row)"
        self.lock_fetch('refunds', 'shop_returns.msg_shop_refund_fetch_busy')

    def fetch_refunds(self):
        "Fetch the refunds changed from the order source; return the counts"
        pool = Pool()
        Refund = pool.get('web.shop.taobao.refund')
        self.lock_refund_fetch()
        counts, refunds = Counter(), []
        now = dt.datetime.utcnow()
        try:
            if self.order_source == 'relay':
                self._fetch_refund_relay(counts, refunds)
            else:
                self._fetch_refund_api(counts, refunds, now)
        except (taobao.TopError, taobao.RelayError) as exception:
            self.last_refund_fetch_error = gettext(
                'shop_returns.msg_shop_refund_fetch_error',
                shop=self.rec_name, error=str(exception))
        else:
            self.last_refund_fetch_error = None
        counts.update(Refund.process(refunds))
        self.last_refund_fetch = now
        self.last_refund_fetch_summary = refund_summary(counts)
        self.save()
        return counts

    def _fetch_refund_relay(self, counts, refunds):
        pool = Pool()
        Refund = pool.get('web.shop.taobao.refund')
        since = self._fetch_start(self.refund_relay_watermark)
        watermark, after = self.refund_relay_watermark, None
        with taobao_refund.RefundRelayReader(self.relay_uri) as reader:
            while True:
                rows = reader.fetch(
                    self.seller_nick, since, after=after, limit=RELAY_PAGE)
                if not rows:
                    break
                refunds += Refund.receive(
                    self, 'relay', [t for _, _, t in rows], counts)
                after = (rows[-1][1], rows[-1][0])
                watermark = max(filter(None, [watermark, after[0]]))
        self.refund_relay_watermark = watermark

    def _fetch_refund_api(self, counts, refunds, now):
        pool = Pool()
        Refund = pool.get('web.shop.taobao.refund')
        client = self.taobao_client()
        end = now - dt.timedelta(seconds=5)
        if self.refund_api_watermark:
            start = self._fetch_start(self.refund_api_watermark)
        else:
            start = end - API_FIRST_WINDOW
        known = Refund.known_modified(self, start)
        texts = []
        for refund_id, modified in taobao_refund.changed_refunds(
                client, start, end):
            modified = taobao.to_utc(modified)
            if modified and known.get(refund_id) \
                    and known[refund_id] >= modified:
                counts['unchanged'] += 1
                continue
            texts.append(taobao_refund.refund_detail(client, refund_id))
            if len(texts) >= API_CHUNK:
                refunds += Refund.receive(self, 'api', texts, counts)
                texts = []
        refunds += Refund.receive(self, 'api', texts, counts)
        self.refund_api_watermark = end


class ImportFileStart(ModelView):
    "Import Refunds from File"
    __name__ = 'web.shop.taobao.refund.import_file.start'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True,
        domain=[('type', 'in', list(PLATFORMS))])
    file_ = fields.Binary("File", required=True, filename='filename',
        help="A refund_get_response as JSON, "
        "or one response per line (JSON Lines).")
    filename = fields.Char("File Name")


class ImportFileResult(ModelView):
    "Import Refunds from File"
    __name__ = 'web.shop.taobao.refund.import_file.result'

    summary = fields.Text("Summary", readonly=True)


class ImportFile(Wizard):
    "Import Refunds from File"
    __name__ = 'web.shop.taobao.refund.import_file'

    start = StateView('web.shop.taobao.refund.import_file.start',
        'shop_returns.refund_import_file_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateTransition()
    result = StateView('web.shop.taobao.refund.import_file.result',
        'shop_returns.refund_import_file_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_import_(self):
        pool = Pool()
        Refund = pool.get('web.shop.taobao.refund')
        counts = Counter()
        refunds = Refund.receive(self.start.shop, 'file',
            split_file(self.start.file_), counts)
        counts.update(Refund.process(refunds))
        self.result.summary = refund_summary(counts)
        return 'result'

    def default_result(self, fields):
        return {'summary': self.result.summary}


class RefuseStart(ModelView):
    "Refuse Refund"
    __name__ = 'web.shop.taobao.refund.refuse.start'

    reason = fields.Char("Reason", required=True, size=200,
        help="Told to the buyer on the platform: 2 to 200 characters.")


class Refuse(Wizard):
    "Refuse Refund"
    __name__ = 'web.shop.taobao.refund.refuse'

    start = StateView('web.shop.taobao.refund.refuse.start',
        'shop_returns.refund_refuse_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Refuse", 'refuse', 'tryton-ok', default=True),
            ])
    refuse = StateTransition()

    def transition_refuse(self):
        self.model.refuse_with(self.records, self.start.reason)
        return 'end'


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection += [
            ('web.shop|fetch_refunds_cron', "Fetch Taobao/Tmall Refunds"),
            ('web.shop.taobao.refund.decision|send_cron',
                "Send Refund Decisions to the Platform"),
            ]
