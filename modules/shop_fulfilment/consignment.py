# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Ship confirmation to the platform (批量发货): each trade is confirmed once
with the waybill number of the parcel that carries it"""
import datetime as dt
from collections import defaultdict
from itertools import groupby

from sql import Column, Null
from sql.functions import CurrentTimestamp
from sql.operators import Concat

from trytond.config import config
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction, without_check_access

from . import taobao
from .deadline import DEFAULT_SAME_DAY_UNTIL, china_to_utc, utc_now

SEND = 'taobao.logistics.offline.send'
# The trade or these sub-orders are shipped already, or the trade is closed
ALREADY_SHIPPED = 'isv.logistics-offline-service-error:B04'
# 发货异常，请稍后重试: an isv code the platform asks to retry
RETRY_LATER = {'isv.logistics-offline-service-error:B150'}
# A task queued longer ago was lost (a worker stopped): queue it again
STALE = dt.timedelta(hours=1)
MAX_DELAY = dt.timedelta(hours=1)
STATES = [
    ('waiting', "Waiting"),
    ('sending', "Sending"),
    ('done', "Done"),
    ('failed', "Failed"),
    ('cancelled', "Cancelled"),
    ]
UNCONFIRMED = ['waiting', 'sending', 'failed']
CONFIRMATION_STATES = [
    (None, ""),
    ('to_confirm', "To Confirm"),
    ('confirming', "Confirming"),
    ('confirmed', "Confirmed"),
    ('failed', "Failed"),
    ]


def _setting(name, default):
    return config.getint('shop_fulfilment', name, default=default)


def confirm_by(handed_over, until=None):
    """The seed's rule: a parcel is confirmed online by the first cut-off
    (21:00 China time) after it was handed over"""
    until = until or DEFAULT_SAME_DAY_UNTIL
    local = handed_over + taobao.CHINA_TZ.utcoffset(None)
    day = local.date()
    if local.time() >= until:
        day += dt.timedelta(days=1)
    return china_to_utc(day, until)


def backoff(attempts):
    "The delay before the next attempt after attempts temporary errors"
    first = dt.timedelta(seconds=_setting('consignment_backoff', 60))
    return min(first * 2 ** (attempts - 1), MAX_DELAY)


def platform_client(shop):
    """The shop's client, tuned for calls made in batches: a temporary
    error is retried by the queue later, not by sleeping while the batch
    holds its locks"""
    client = shop.taobao_client()
    client.retries = _setting('consignment_api_retries', 0)
    client.timeout = config.getfloat(
        'shop_fulfilment', 'consignment_timeout', default=10)
    return client


class ConsignmentError(UserError):
    pass


class Consignment(Workflow, ModelSQL, ModelView):
    "Ship Confirmation"
    __name__ = 'web.shop.consignment'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    shop = fields.Many2One(
        'web.shop', "Shop", required=True, readonly=True,
        ondelete='RESTRICT')
    sale = fields.Many2One(
        'sale.sale', "Sale", required=True, readonly=True,
        ondelete='RESTRICT')
    shipment = fields.Many2One(
        'stock.shipment.out', "Shipment", required=True, readonly=True,
        ondelete='RESTRICT')
    tid = fields.Char("Trade ID", required=True, readonly=True)
    out_sid = fields.Char(
        "Waybill Number", required=True, readonly=True,
        help="The number of the parcel carrying the trade (运单号).")
    carrier = fields.Many2One('carrier', "Carrier", readonly=True)
    company_code = fields.Char(
        "Carrier Code", readonly=True,
        help="The carrier's code on the platform.")
    sub_tids = fields.Char(
        "Sub-orders", readonly=True, strip=False,
        help="The platform order ids (oid) the parcel carries "
        "when the trade ships in several parcels.")
    is_split = fields.Boolean(
        "Split", readonly=True,
        help="Only some sub-orders of the trade ship with this parcel.")
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    attempts = fields.Integer("Attempts", readonly=True)
    next_attempt_at = fields.DateTime("Next Attempt", readonly=True)
    last_error = fields.Text("Last Error", readonly=True)
    response = fields.Text(
        "Platform Answer", readonly=True,
        help="The answer of the platform as received.")
    request_id = fields.Char("Request ID", readonly=True)
    sent_at = fields.DateTime("Confirmed At", readonly=True)
    deadline = fields.DateTime(
        "Ship By", readonly=True,
        help="The order's ship-by deadline: confirmed after it, "
        "the order is late.")
    late = fields.Function(
        fields.Boolean("Late",
            help="Confirmed after the deadline, "
            "or still not confirmed past it."),
        'get_late', searcher='search_late')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('trade_waybill_unique', Unique(
                    t, t.shop, t.tid, t.out_sid, t.sub_tids),
                'shop_fulfilment.msg_consignment_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality()),
                    where=t.state.in_(UNCONFIRMED)),
                Index(t, (t.tid, Index.Equality())),
                })
        cls._order.insert(0, ('create_date', 'DESC'))
        cls._transitions |= {
            ('waiting', 'sending'),
            ('failed', 'sending'),
            ('sending', 'done'),
            ('sending', 'failed'),
            ('waiting', 'cancelled'),
            ('failed', 'cancelled'),
            }
        cls._buttons.update({
                'confirm': {
                    'invisible': ~Eval('state').in_(['waiting', 'failed']),
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['waiting', 'failed']),
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'waiting'

    @classmethod
    def default_attempts(cls):
        return 0

    @classmethod
    def default_sub_tids(cls):
        # Not NULL: the unique constraint compares it
        return ''

    def get_rec_name(self, name):
        return '%s / %s' % (self.tid, self.out_sid)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('tid', operator, value),
            ('out_sid', operator, value),
            ]

    @classmethod
    def get_late(cls, consignments, name):
        now = utc_now()
        return {c.id: bool(c.deadline and c.state != 'cancelled'
                and (c.sent_at or now) > c.deadline)
            for c in consignments}

    @classmethod
    def search_late(cls, name, clause):
        _, operator, value = clause[:3]
        table = cls.__table__()
        late = table.select(table.id,
            where=(table.deadline != Null)
            & (((table.state == 'done') & (table.sent_at > table.deadline))
                | (table.state.in_(UNCONFIRMED)
                    & (table.deadline < utc_now()))))
        positive = (operator == '=') == bool(value)
        return [('id', 'in' if positive else 'not in', late)]

    @property
    def sub_oids(self):
        return set(filter(None, (self.sub_tids or '').split(',')))

    @classmethod
    @ModelView.button
    def confirm(cls, consignments):
        "Send, or send again once a person has fixed the cause"
        writes = []
        for consignment in consignments:
            if consignment.state == 'failed':
                # The carrier's code may have been set since
                writes += [[consignment], dict(
                        consignment._carrier_values(), attempts=0)]
        if writes:
            cls.write(*writes)
        cls.queue(cls.browse(consignments))

    def _carrier_values(self):
        carrier = self.shipment.carrier or self.sale.carrier
        code = carrier.platform_code if carrier else None
        return {
            'carrier': carrier.id if carrier else None,
            'company_code': code,
            'last_error': None if code else gettext(
                'shop_fulfilment.msg_consignment_no_carrier_code',
                carrier=carrier.rec_name if carrier else '-',
                shipment=self.shipment.rec_name),
            }

    @classmethod
    @ModelView.button
    def cancel(cls, consignments):
        "Not confirmed through here: the platform is told otherwise"
        pool = Pool()
        Shipment = pool.get('stock.shipment.out')
        cls._cancel(consignments)
        Shipment.update_confirmation(list({c.shipment for c in consignments}))

    @classmethod
    @Workflow.transition('cancelled')
    def _cancel(cls, consignments):
        pass

    @classmethod
    def create_for_shipments(cls, shipments):
        """Create the confirmations of the handed-over shipments not made
        yet, one per trade of each shipment; return them"""
        pool = Pool()
        Shipment = pool.get('stock.shipment.out')
        Sale = pool.get('sale.sale')
        shipments = sorted(
            (s for s in shipments
                if s.state == 'done' and not s.platform_waybill_missing),
            key=lambda s: s.id)
        # The unique constraint guards; the lock spares its error to the
        # clerk pressing the button while the scheduled job runs
        Shipment.lock(shipments)
        goods = Shipment.platform_goods(shipments)
        sales = Sale.browse(list({s for g in goods.values() for s in g}))
        # From the same list, the sales are read together
        sale_of = {s.id: s for s in sales}
        trade_oids = Sale.platform_oids(sales)
        made, taken = set(), defaultdict(set)
        for sub_sales in grouped_slice(sales):
            for consignment in cls.search([
                        ('sale', 'in', [s.id for s in sub_sales]),
                        ]):
                sale_id = consignment.sale.id
                made.add((consignment.shipment.id, sale_id))
                if consignment.state != 'cancelled':
                    taken[sale_id] |= (
                        consignment.sub_oids or trade_oids[sale_id])
        consignments, nothing_left = [], []
        for shipment in shipments:
            new = []
            for sale_id, oids in goods.get(shipment.id, {}).items():
                if (shipment.id, sale_id) in made:
                    continue
                # A sub-order is confirmed once, with its first parcel
                oids -= taken[sale_id]
                if oids:
                    taken[sale_id] |= oids
                    new.append(cls.from_shipment(shipment, sale_of[sale_id],
                            oids, split=oids != trade_oids[sale_id]))
            if not new and shipment.confirmation_state == 'to_confirm':
                nothing_left.append(shipment)
            consignments += new
        cls.save(consignments)
        Shipment.update_confirmation(
            list({c.shipment for c in consignments}))
        Shipment.write_confirmation(nothing_left, {
                'confirmation_state': 'confirmed'})
        return consignments

    @classmethod
    def from_shipment(cls, shipment, sale, oids, split=False):
        """The confirmation of the sub-orders oids of sale shipped by
        shipment, split when they are not all the trade's"""
        consignment = cls(
            company=shipment.company, shop=sale.web_shop, sale=sale,
            shipment=shipment, tid=sale.web_id,
            out_sid=shipment.platform_waybill(sale), is_split=split,
            deadline=sale.ship_by,
            sub_tids=','.join(sorted(oids, key=lambda o: (len(o), o)))
            if split else '')
        for name, value in consignment._carrier_values().items():
            setattr(consignment, name, value)
        if not consignment.company_code:
            # Nothing to send until a person sets the carrier's code
            consignment.state = 'failed'
        return consignment

    @classmethod
    def queue(cls, consignments):
        "Hand the consignments to the workers, in batches"
        consignments = [c for c in consignments
            if c.state in {'waiting', 'failed', 'sending'} and c.company_code]
        cls.write(consignments, {
                'state': 'sending',
                'next_attempt_at': utc_now(),
                })
        for batch in grouped_slice(consignments, _setting(
                    'consignment_batch', 100)):
            cls.__queue__.send(list(batch))

    @classmethod
    def confirm_cron(cls):
        """Confirm the handed-over shipments not yet confirmed and send
        again what waits"""
        pool = Pool()
        Shipment = pool.get('stock.shipment.out')
        cls.create_for_shipments(Shipment.search([
                    ('confirmation_state', '=', 'to_confirm'),
                    ]))
        cls.queue(cls.search(['OR',
                    ('state', '=', 'waiting'),
                    [
                        ('state', '=', 'sending'),
                        ('next_attempt_at', '<', utc_now() - STALE),
                        ],
                    ], order=[('id', 'ASC')]))

    @classmethod
    def send(cls, consignments):
        """Confirm the consignments to the platform, once each: the queue's
        entry point, one transaction per batch"""
        pool = Pool()
        Shipment = pool.get('stock.shipment.out')
        # Locked before any call: a second task for the same records waits
        # and then finds them done; the shipments too, as the trades of a
        # merged parcel may be in other batches
        cls.lock(consignments)
        consignments = cls.browse(consignments)
        Shipment.lock(list({c.shipment for c in consignments}))
        consignments = [c for c in consignments if c.state == 'sending']
        outcomes, retry = [], defaultdict(list)
        for shop, items in groupby(
                sorted(consignments, key=lambda c: (c.shop.id, c.id)),
                key=lambda c: c.shop):
            client = platform_client(shop)
            for consignment in items:
                values = consignment._send(client)
                outcomes += [[consignment], values]
                if values['state'] == 'sending':
                    retry[values['attempts']].append(consignment)
        if outcomes:
            cls.write(*outcomes)
        Shipment.update_confirmation(list({c.shipment for c in consignments}))
        for attempts, records in retry.items():
            with Transaction().set_context(
                    queue_scheduled_at=backoff(attempts)):
                cls.__queue__.send(records)

    def _send(self, client):
        "Call the platform; return the values of the outcome"
        params = {
            'tid': self.tid,
            'out_sid': self.out_sid,
            'company_code': self.company_code,
            }
        if self.is_split:
            params.update(is_split=1, sub_tid=self.sub_tids)
        attempts = (self.attempts or 0) + 1
        try:
            text, body = client.call_raw(SEND, **params)
        except taobao.TopError as error:
            try:
                if (error.sub_code == ALREADY_SHIPPED
                        and self._shipped_with_waybill(client)):
                    # An earlier call went through but its answer was lost
                    return self._done_values(attempts, str(error), None)
            except taobao.TopError as check_error:
                error = check_error
            return self._error_values(attempts, error)
        if not (body.get('shipping') or {}).get('is_success'):
            return {
                'state': 'failed', 'attempts': attempts, 'response': text,
                'last_error': gettext(
                    'shop_fulfilment.msg_consignment_not_confirmed',
                    tid=self.tid),
                }
        return self._done_values(attempts, text, body.get('request_id'))

    def _done_values(self, attempts, text, request_id):
        return {
            'state': 'done', 'attempts': attempts, 'response': text,
            'request_id': request_id, 'sent_at': utc_now(),
            'next_attempt_at': None, 'last_error': None,
            }

    def _error_values(self, attempts, error):
        temporary = error.temporary or error.sub_code in RETRY_LATER
        values = {'attempts': attempts, 'last_error': str(error)}
        if not temporary:
            values['state'] = 'failed'
        elif attempts >= _setting('consignment_attempts', 8):
            values['state'] = 'failed'
            values['last_error'] = gettext(
                'shop_fulfilment.msg_consignment_gave_up',
                attempts=attempts, error=str(error))
        else:
            values['state'] = 'sending'
            values['next_attempt_at'] = utc_now() + backoff(attempts)
        return values

    def _shipped_with_waybill(self, client):
        """Whether the platform has the trade shipped with this waybill;
        a temporary error of the platform is raised"""
        params = {'tid': self.tid, 'seller_nick': self.shop.seller_nick}
        if self.is_split:
            params.update(is_split=1, sub_tid=self.sub_tids)
        try:
            body = client.call('taobao.logistics.trace.search', **params)
        except taobao.TopError as error:
            if error.temporary:
                raise
            return False
        return str(body.get('out_sid') or '') == self.out_sid


class ShipmentOut(metaclass=PoolMeta):
    __name__ = 'stock.shipment.out'

    consignments = fields.One2Many(
        'web.shop.consignment', 'shipment', "Ship Confirmations",
        readonly=True)
    confirmation_state = fields.Selection(
        CONFIRMATION_STATES, "Platform Confirmation", readonly=True,
        help="Whether the platform knows the shipment was handed over "
        "with its waybill number.")
    confirm_by = fields.DateTime(
        "Confirm By", readonly=True,
        help="The cut-off (21:00 China time) of the day the parcel was "
        "handed over: shipped orders are confirmed online by then.")
    confirmed_at = fields.DateTime("Confirmed At", readonly=True)
    confirmation_overdue = fields.Function(
        fields.Boolean("Past Cut-off",
            help="Not confirmed to the platform by the cut-off of the day "
            "it was handed over."),
        'get_confirmation_overdue', searcher='search_confirmation_overdue')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.confirmation_state, Index.Equality()),
                where=t.confirmation_state != Null))
        cls._buttons.update({
                'confirm_to_platform': {
                    'invisible': ((Eval('state') != 'done')
                        | ~Eval('confirmation_state').in_(
                            ['to_confirm', 'confirming', 'failed'])),
                    'icon': 'tryton-forward',
                    'depends': ['state', 'confirmation_state'],
                    },
                })

    @classmethod
    def copy(cls, shipments, default=None):
        default = default.copy() if default is not None else {}
        for name in ['consignments', 'confirmation_state', 'confirm_by',
                'confirmed_at']:
            default.setdefault(name)
        return super().copy(shipments, default=default)

    @property
    def platform_waybill_missing(self):
        "The shipment has no number to be confirmed to the platform with"
        return not self.shipping_reference

    def platform_waybill(self, sale):
        "The waybill number confirming to the platform the sale's goods"
        return self.shipping_reference

    @classmethod
    def platform_goods(cls, shipments):
        """The platform sub-order ids (oid) of the goods each shipment sends,
        by sale id, by shipment id: read at once for a whole batch"""
        pool = Pool()
        Move = pool.get('stock.move')
        SaleLine = pool.get('sale.line')
        Sale = pool.get('sale.sale')
        move, line = Move.__table__(), SaleLine.__table__()
        sale = Sale.__table__()
        cursor = Transaction().connection.cursor()
        goods = defaultdict(lambda: defaultdict(set))
        for sub_shipments in grouped_slice(shipments):
            cursor.execute(*move.join(line,
                    condition=move.origin == Concat('sale.line,', line.id)
                    ).join(sale, condition=line.sale == sale.id
                    ).select(move.shipment, line.sale, line.platform_oid,
                    where=move.shipment.in_([str(s) for s in sub_shipments])
                    & (move.state != 'cancelled')
                    & (line.platform_oid != Null)
                    & (sale.platform_trade != Null)))
            for shipment, sale_id, oid in cursor:
                goods[int(shipment.split(',')[1])][sale_id].add(oid)
        return goods

    @classmethod
    def done(cls, shipments):
        pool = Pool()
        Sale = pool.get('sale.sale')
        super().done(shipments)
        now = utc_now()
        goods = cls.platform_goods(shipments)
        sale_of = {s.id: s for s in Sale.browse(
                list({s for g in goods.values() for s in g}))}
        writes = []
        for shipment in shipments:
            if not goods.get(shipment.id):
                continue
            shop = sale_of[min(goods[shipment.id])].web_shop
            handed_over = getattr(shipment, 'handed_over_at', None) or now
            writes += [[shipment], {
                    'confirmation_state': 'to_confirm',
                    'confirm_by': confirm_by(
                        handed_over, shop.ship_same_day_until),
                    }]
        cls.write_confirmation(*writes)

    @classmethod
    def write_confirmation(cls, *args):
        """Write the confirmation fields of the shipments, as write does

        The confirmation is the server's record, whoever's action moves it;
        and it changes nothing the shipment's write would re-plan (its
        moves), which costs much on a batch."""
        transaction = Transaction()
        table = cls.__table__()
        cursor = transaction.connection.cursor()
        grouped = defaultdict(list)
        for records, values in zip(args[::2], args[1::2]):
            grouped[tuple(sorted(values.items()))].extend(records)
        for values, records in grouped.items():
            columns = [Column(table, n) for n, _ in values]
            for sub_ids in grouped_slice([r.id for r in records]):
                cursor.execute(*table.update(
                        columns + [table.write_date, table.write_uid],
                        [v for _, v in values] + [
                            CurrentTimestamp(), transaction.user],
                        where=reduce_ids(table.id, sub_ids)))
        if grouped:
            # The records read before see the new values
            transaction.counter += 1

    @classmethod
    def update_confirmation(cls, shipments):
        "Follow the state of the shipments' confirmations"
        pool = Pool()
        Consignment = pool.get('web.shop.consignment')
        found = defaultdict(list)
        for sub_shipments in grouped_slice(shipments):
            for consignment in Consignment.search([
                        ('shipment', 'in', [s.id for s in sub_shipments]),
                        ('state', '!=', 'cancelled'),
                        ]):
                found[consignment.shipment].append(consignment)
        writes = []
        for shipment in cls.browse(shipments):
            values = cls._confirmation_values(found[shipment])
            if any(getattr(shipment, k) != v for k, v in values.items()):
                writes += [[shipment], values]
        cls.write_confirmation(*writes)

    @classmethod
    def _confirmation_values(cls, consignments):
        states = {c.state for c in consignments}
        if not states:
            # All cancelled: the shipment is not confirmed through here
            return {'confirmation_state': None, 'confirmed_at': None}
        elif 'failed' in states:
            state = 'failed'
        elif states == {'done'}:
            return {
                'confirmation_state': 'confirmed',
                'confirmed_at': max(c.sent_at for c in consignments),
                }
        else:
            state = 'confirming'
        return {'confirmation_state': state, 'confirmed_at': None}

    @classmethod
    def get_confirmation_overdue(cls, shipments, name):
        now = utc_now()
        result = {}
        for shipment in shipments:
            if shipment.confirmation_state == 'confirmed':
                at = shipment.confirmed_at
            elif shipment.confirmation_state:
                at = now
            else:
                at = None
            result[shipment.id] = bool(at and shipment.confirm_by
                and at > shipment.confirm_by)
        return result

    @classmethod
    def search_confirmation_overdue(cls, name, clause):
        _, operator, value = clause[:3]
        table = cls.__table__()
        overdue = table.select(table.id,
            where=(table.confirm_by != Null)
            & (((table.confirmation_state == 'confirmed')
                    & (table.confirmed_at > table.confirm_by))
                | (table.confirmation_state.in_(
                        ['to_confirm', 'confirming', 'failed'])
                    & (table.confirm_by < utc_now()))))
        positive = (operator == '=') == bool(value)
        return [('id', 'in' if positive else 'not in', overdue)]

    @classmethod
    @ModelView.button
    def confirm_to_platform(cls, shipments):
        "Confirm the handed-over shipments to the platform (批量发货)"
        pool = Pool()
        Consignment = pool.get('web.shop.consignment')
        for shipment in shipments:
            if shipment.state != 'done':
                raise ConsignmentError(gettext(
                        'shop_fulfilment.msg_consignment_not_handed_over',
                        shipment=shipment.rec_name))
            if shipment.platform_waybill_missing:
                raise ConsignmentError(gettext(
                        'shop_fulfilment.msg_consignment_no_waybill',
                        shipment=shipment.rec_name))
        Consignment.create_for_shipments(shipments)
        consignments = Consignment.search([
                ('shipment', 'in', [s.id for s in shipments]),
                ('state', 'in', ['waiting', 'failed']),
                ], order=[('id', 'ASC')])
        with without_check_access():
            Consignment.confirm(consignments)


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @classmethod
    def platform_oids(cls, sales):
        "The ids of the trade's sub-orders (oid) each sale ships, by sale id"
        pool = Pool()
        SaleLine = pool.get('sale.line')
        line = SaleLine.__table__()
        cursor = Transaction().connection.cursor()
        oids = defaultdict(set)
        for sub_ids in grouped_slice([s.id for s in sales]):
            cursor.execute(*line.select(line.sale, line.platform_oid,
                    where=reduce_ids(line.sale, sub_ids)
                    & (line.platform_oid != Null)))
            for sale_id, oid in cursor:
                oids[sale_id].add(oid)
        return oids


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('web.shop.consignment|confirm_cron',
                "Confirm Handed-over Shipments to the Platform"))
