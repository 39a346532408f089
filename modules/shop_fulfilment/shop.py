# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import logging
from collections import Counter

from sql import Select

from trytond import backend
from trytond.config import config
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from . import taobao
from .exceptions import ShopFetchBusy
from .locking import lock_key
from .trade import summary

PLATFORMS = {'taobao', 'tmall'}
DEFAULT_API_URL = 'https://eco.taobao.com/router/rest'
API_FIRST_WINDOW = dt.timedelta(days=1)
RELAY_PAGE = 500
API_CHUNK = 50

logger = logging.getLogger(__name__)


def fetch_lock_id(shop_id, kind='orders'):
    "The id of the advisory lock of the fetches of kind of the shop"
    return lock_key('web.shop.fetch,%d,%s' % (shop_id, kind))


_PLATFORM = Eval('type').in_(list(PLATFORMS))


def _platform_states(required=False):
    states = {'invisible': ~_PLATFORM}
    if required:
        states['required'] = _PLATFORM
    return states


def _source_states(source, required=False):
    "Shown, and maybe required, for the shops fetching from source"
    states = {'invisible': ~_PLATFORM | (Eval('order_source') != source)}
    if required:
        states['required'] = _PLATFORM & (Eval('order_source') == source)
    return states


class Shop(metaclass=PoolMeta):
    __name__ = 'web.shop'

    seller_nick = fields.Char(
        "Seller Nick", states=_platform_states(required=True),
        help="The seller's nick on Taobao/Tmall, as in seller_nick.")
    order_source = fields.Selection([
            ('relay', "Relay Database"),
            ('api', "Platform API"),
            ('file', "File"),
            ], "Order Source", states=_platform_states(),
        help="Where the scheduled job and the Refresh button fetch orders "
        "from.")
    relay_uri = fields.Char(
        "Relay Database URI",
        states=_source_states('relay', required=True),
        help="The Jushita relay database holding jdp_tb_trade, "
        "as sqlite:////path/to/file or postgresql://user@host:port/db.")
    relay_watermark = fields.DateTime(
        "Relay Watermark", states=_platform_states(),
        help="The newest jdp_modified read from the relay database.\n"
        "Set it back to read the rows again from that time.")
    api_url = fields.Char(
        "API URL", states=_source_states('api'))
    app_key = fields.Char(
        "App Key", states=_source_states('api'))
    app_secret = fields.Char(
        "App Secret", strip=False, states=_source_states('api'))
    session_key = fields.Char(
        "Session Key", strip=False, states=_source_states('api'))
    sign_method = fields.Selection([
            ('md5', "MD5"),
            ('hmac', "HMAC-MD5"),
            ], "Sign Method", states=_source_states('api'))
    api_watermark = fields.DateTime(
        "API Watermark", states=_platform_states(),
        help="The end of the last increment window fetched from the API.\n"
        "Set it back to fetch the trades changed since that time again; "
        "when empty, the first fetch starts one day ago.")
    import_overlap = fields.TimeDelta(
        "Import Overlap", states=_platform_states(),
        help="How far before the watermark each fetch starts again, "
        "so that rows committed late are not missed.")
    postage_product = fields.Many2One(
        'product.product', "Postage Product",
        domain=[('type', '=', 'service')],
        states=_platform_states(required=True),
        context={'company': Eval('company', -1)}, depends={'company'},
        help="The service that carries the postage paid by the buyer.")
    match_product_code = fields.Boolean(
        "Match Product Code", states=_platform_states(),
        help="Map a platform SKU to the product whose code equals its "
        "outer_sku_id or outer_iid when no mapping exists.")
    last_fetch = fields.DateTime(
        "Last Fetch", readonly=True, states=_platform_states())
    last_fetch_summary = fields.Text(
        "Last Fetch Summary", readonly=True, states=_platform_states())
    last_fetch_error = fields.Text(
        "Last Fetch Error", readonly=True, states={
            'invisible': (~_PLATFORM
                | ~Eval('last_fetch_error')),
            })
    product_mappings = fields.One2Many(
        'web.shop.taobao.product', 'shop', "Product Mappings",
        states=_platform_states())

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.type.selection += [
            ('taobao', "Taobao"),
            ('tmall', "Tmall"),
            ]
        cls._buttons.update({
                'refresh_orders': {
                    'invisible': (~_PLATFORM
                        | ~Eval('order_source').in_(['relay', 'api'])),
                    'depends': ['type', 'order_source'],
                    },
                })

    @classmethod
    def view_attributes(cls):
        platform = ~_PLATFORM
        return super().view_attributes() + [
            ('//page[@id="platform"]', 'states', {'invisible': platform}),
            ('//page[@name="product_mappings"]', 'states', {
                    'invisible': platform}),
            ('//separator[@id="relay"]', 'states', {
                    'invisible': Eval('order_source') != 'relay'}),
            ('//separator[@id="api"]', 'states', {
                    'invisible': Eval('order_source') != 'api'}),
            ]

    @classmethod
    def default_order_source(cls):
        return 'relay'

    @classmethod
    def default_api_url(cls):
        return DEFAULT_API_URL

    @classmethod
    def default_sign_method(cls):
        return 'md5'

    @classmethod
    def default_import_overlap(cls):
        return dt.timedelta(minutes=10)

    @classmethod
    def default_match_product_code(cls):
        return True

    @classmethod
    @ModelView.button
    def refresh_orders(cls, shops):
        "Fetch the new and changed trades of the shops"
        for shop in shops:
            shop.fetch_orders()

    @classmethod
    def fetch_orders_cron(cls):
        shops = cls.search([
                ('type', 'in', list(PLATFORMS)),
                ('order_source', 'in', ['relay', 'api']),
                ])
        for shop in shops:
            try:
                shop.fetch_orders()
            except ShopFetchBusy:
                # The other fetch reads the same rows; the next run reads
                # what came after
                logger.info("fetch of shop %s skipped: another one runs",
                    shop.id)

    def lock_fetch(self, kind='orders',
            message='shop_fulfilment.msg_shop_fetch_busy'):
        """Take the lock of the fetches of kind of the shop for the
        transaction or raise ShopFetchBusy with message at once

        Not the shop's row: the workers creating its sales hold it in key
        share (the sales' foreign key), which a FOR UPDATE waits for.  On
        PostgreSQL an advisory lock that only the fetches take; SQLite
        serialises the writers by itself.  A fetch whose snapshot is older
        than the commit of another fetch cannot commit: the payloads are
        unique per shop and hash, and the shop's row, which every fetch
        updates, was updated since (repeatable read)."""
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        cursor.execute(*Select([
                    transaction.database.lock_id(
                        fetch_lock_id(self.id, kind))]))
        locked, = cursor.fetchone()
        if not locked:
            raise ShopFetchBusy(gettext(message, shop=self.rec_name))
        if backend.name == 'postgresql':
            # A fetch that committed after this transaction's snapshot was
            # taken released the lock, and updated the shop's row: fail now
            # with a serialization error, which trytond retries, rather
            # than create its trades again (a unique violation, not
            # retried).  NO KEY UPDATE does not wait for the key share of
            # the workers creating the shop's sales (python-sql's For has
            # no NO KEY UPDATE).
            cursor.execute('SELECT id FROM "%s" WHERE id = %%s '
                'FOR NO KEY UPDATE' % self._table, (self.id,))

    def fetch_orders(self):
        "Fetch from the shop's source; return the counts of what happened"
        pool = Pool()
        Trade = pool.get('web.shop.taobao.trade')
        self.lock_fetch()
        counts, trades = Counter(), []
        now = dt.datetime.utcnow()
        try:
            if self.order_source == 'relay':
                self._fetch_relay(counts, trades)
            else:
                self._fetch_api(counts, trades, now)
        except (taobao.TopError, taobao.RelayError) as exception:
            # What was received is kept and processed, the watermark stays
            self.last_fetch_error = gettext(
                'shop_fulfilment.msg_shop_fetch_error',
                shop=self.rec_name, error=str(exception))
        else:
            self.last_fetch_error = None
        counts.update(Trade.process_received(trades))
        self.last_fetch = now
        self.last_fetch_summary = summary(counts)
        self.save()
        return counts

    def _fetch_relay(self, counts, trades):
        pool = Pool()
        Trade = pool.get('web.shop.taobao.trade')
        since = self._fetch_start(self.relay_watermark)
        watermark, after = self.relay_watermark, None
        with taobao.RelayReader(self.relay_uri) as reader:
            while True:
                rows = reader.fetch(
                    self.seller_nick, since, after=after, limit=RELAY_PAGE)
                if not rows:
                    break
                trades += Trade.receive(self, 'relay', [
                        (r.response, r.tid) for r in rows], counts)
                after = (rows[-1].jdp_modified, rows[-1].tid)
                watermark = max(filter(None, [watermark, after[0]]))
        self.relay_watermark = watermark

    def _fetch_start(self, watermark):
        if watermark:
            return watermark - (self.import_overlap or dt.timedelta(0))
        return dt.datetime(1970, 1, 1)

    def _fetch_api(self, counts, trades, now):
        """Walk the increment windows and fetch each changed trade in full;
        the watermark moves only when every window was read"""
        pool = Pool()
        Trade = pool.get('web.shop.taobao.trade')
        client = self.taobao_client()
        end = now - dt.timedelta(seconds=5)
        if self.api_watermark:
            start = self._fetch_start(self.api_watermark)
        else:
            start = end - API_FIRST_WINDOW
        known = Trade.known_modified(self, start)
        payloads = []
        for brief in client.sold_increment(start, end):
            tid = str(brief.get('tid_str') or brief.get('tid'))
            modified = taobao.to_utc(brief.get('modified'))
            if modified and known.get(tid) and known[tid] >= modified:
                counts['unchanged'] += 1
                continue
            payloads.append((client.trade_fullinfo(tid), tid))
            if len(payloads) >= API_CHUNK:
                trades += Trade.receive(self, 'api', payloads, counts)
                payloads = []
        trades += Trade.receive(self, 'api', payloads, counts)
        self.api_watermark = end

    def taobao_client(self):
        with Transaction().set_context(_check_access=False):
            shop = self.__class__(self.id)
            return taobao.TopClient(
                shop.api_url or DEFAULT_API_URL, shop.app_key,
                shop.app_secret, session=shop.session_key,
                sign_method=shop.sign_method or 'md5',
                retries=config.getint(
                    'shop_fulfilment', 'api_retries', default=4))


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('web.shop|fetch_orders_cron', "Fetch Taobao/Tmall Orders"))
        cls.method.selection.append(
            ('web.shop.taobao.trade|process_pending_cron',
                "Process Pending Taobao/Tmall Trades"))
