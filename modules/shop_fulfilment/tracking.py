# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Tracking of the parcels in transit (在途跟踪): the carrier's scans as the
platform reports them, and the parcels someone must follow up"""
import datetime as dt
import re
from dataclasses import dataclass

from trytond.config import config
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import without_check_access

from . import taobao
from .consignment import platform_client
from .deadline import china_to_utc, utc_now

TRACE = 'taobao.logistics.trace.search'
NO_PICKUP = dt.timedelta(hours=24)
STALLED = dt.timedelta(hours=48)
# 7-day returns count from the day after signing
RETURN_DAYS = 7
# Steps of the seller or of the platform, not scans of the carrier
SELLER_ACTIONS = {'CREATE', 'CONSIGN'}
SIGNED = re.compile('已签收|签收人|本人签收|代签收')
NOT_SIGNED = re.compile('失败|拒收|未签收|拒签')
TRACKING_STATES = [
    (None, ""),
    ('awaiting_pickup', "Awaiting Pickup"),
    ('no_pickup', "No Pickup Scan"),
    ('in_transit', "In Transit"),
    ('stalled', "Stalled"),
    ('delivered', "Delivered"),
    ]
FOLLOW_UP = ['no_pickup', 'stalled']


@dataclass
class Step:
    time: dt.datetime
    desc: str
    action: str

    @property
    def signed(self):
        return self.action == 'SIGNED' or bool(
            SIGNED.search(self.desc) and not NOT_SIGNED.search(self.desc))

    @property
    def scan(self):
        return self.action not in SELLER_ACTIONS


def parse_trace(body):
    "Return the steps of a trace.search response, oldest first"
    steps = (body.get('trace_list') or {})
    if isinstance(steps, dict):
        steps = steps.get('transit_step_info') or []
    result = []
    for step in steps:
        try:
            time = taobao.to_utc(step.get('status_time'))
        except taobao.TradeError:
            time = None
        if time:
            result.append(Step(time, str(step.get('status_desc') or ''),
                    str(step.get('action') or '').upper()))
    return sorted(result, key=lambda s: s.time)


def follow(steps, handed_over, now):
    "Return the tracking values of a parcel handed over with its steps"
    scans = [s for s in steps if s.scan]
    signed = next((s for s in scans if s.signed), None)
    values = {
        'picked_up_at': scans[0].time if scans else None,
        'last_movement_at': scans[-1].time if scans else None,
        'delivered_at': signed.time if signed else None,
        }
    if signed:
        state = 'delivered'
    elif not scans:
        state = ('no_pickup' if handed_over and now - handed_over >= NO_PICKUP
            else 'awaiting_pickup')
    elif now - scans[-1].time >= STALLED:
        state = 'stalled'
    else:
        state = 'in_transit'
    values['tracking_state'] = state
    return values


def render(steps):
    "The steps as the clerk reads them, in China time"
    return '\n'.join('%s %s%s' % (taobao.from_utc(s.time), s.desc,
            ' [%s]' % s.action if s.action else '') for s in steps) or None


class ShipmentOut(metaclass=PoolMeta):
    __name__ = 'stock.shipment.out'

    tracking_state = fields.Selection(
        TRACKING_STATES, "Tracking", readonly=True, sort=False)
    picked_up_at = fields.DateTime(
        "Picked Up At", readonly=True,
        help="The first scan of the carrier.")
    last_movement_at = fields.DateTime("Last Movement", readonly=True)
    delivered_at = fields.DateTime(
        "Delivered At", readonly=True,
        help="When the buyer signed for the parcel: "
        "the return window starts the day after.")
    return_window_end = fields.Function(
        fields.DateTime("Return Window End",
            help="The end of the 7-day no-reason return window."),
        'get_return_window_end')
    tracking_trace = fields.Text("Trace", readonly=True)
    tracking_checked_at = fields.DateTime("Trace Checked At", readonly=True)
    tracking_error = fields.Text(
        "Tracking Error", readonly=True,
        states={'invisible': ~Eval('tracking_error')})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'refresh_tracking': {
                    'invisible': Eval('confirmation_state') != 'confirmed',
                    'icon': 'tryton-refresh',
                    'depends': ['confirmation_state'],
                    },
                })

    @classmethod
    def copy(cls, shipments, default=None):
        default = default.copy() if default is not None else {}
        for name in ['tracking_state', 'picked_up_at', 'last_movement_at',
                'delivered_at', 'tracking_trace', 'tracking_checked_at',
                'tracking_error']:
            default.setdefault(name)
        return super().copy(shipments, default=default)

    def get_return_window_end(self, name):
        if self.delivered_at:
            signed = (self.delivered_at
                + taobao.CHINA_TZ.utcoffset(None)).date()
            return china_to_utc(
                signed + dt.timedelta(days=RETURN_DAYS + 1), dt.time())

    @property
    def tracked_on_platform(self):
        "The carrier's scans of the parcel are on the platform"
        return True

    @classmethod
    def in_transit_domain(cls):
        "The confirmed parcels not delivered, handed over recently"
        days = config.getint('shop_fulfilment', 'tracking_days', default=30)
        return [
            ('state', '=', 'done'),
            ('confirmation_state', '=', 'confirmed'),
            ['OR',
                ('tracking_state', '=', None),
                ('tracking_state', '!=', 'delivered'),
                ],
            ('effective_date', '>=',
                dt.date.today() - dt.timedelta(days=days)),
            ]

    @classmethod
    def update_tracking_cron(cls):
        "Fetch the traces of the parcels in transit, through the queue"
        shipments = cls.search(cls.in_transit_domain(), order=[('id', 'ASC')])
        for batch in grouped_slice(shipments, config.getint(
                    'shop_fulfilment', 'tracking_batch', default=100)):
            cls.__queue__.update_tracking(list(batch))

    @classmethod
    @ModelView.button
    def refresh_tracking(cls, shipments):
        cls.update_tracking(shipments)

    @classmethod
    @without_check_access
    def update_tracking(cls, shipments):
        "Fetch the traces of the shipments and follow them"
        pool = Pool()
        Consignment = pool.get('web.shop.consignment')
        first = {}
        for sub_shipments in grouped_slice(shipments):
            for consignment in Consignment.search([
                        ('shipment', 'in', [s.id for s in sub_shipments]),
                        ('state', '=', 'done'),
                        ], order=[('id', 'ASC')]):
                first.setdefault(consignment.shipment, consignment)
        now, clients, writes = utc_now(), {}, []
        for shipment in cls.browse(shipments):
            consignment = first.get(shipment)
            if not consignment or not shipment.tracked_on_platform:
                continue
            if consignment.shop not in clients:
                clients[consignment.shop] = platform_client(consignment.shop)
            values = shipment._tracking_values(
                clients[consignment.shop], consignment, now)
            writes += [[shipment], values]
        if writes:
            cls.write(*writes)

    def _tracking_values(self, client, consignment, now):
        # A merged parcel carries several trades: any of them gives its trace
        params = {'tid': consignment.tid,
            'seller_nick': consignment.shop.seller_nick}
        if consignment.is_split:
            params.update(is_split=1, sub_tid=consignment.sub_tids)
        try:
            body = client.call(TRACE, **params)
        except taobao.TopError as error:
            return {'tracking_error': str(error), 'tracking_checked_at': now}
        steps = parse_trace(body)
        values = follow(steps, self._handed_over_at(consignment), now)
        values.update({
                'tracking_trace': render(steps),
                'tracking_error': None,
                'tracking_checked_at': now,
                })
        return values

    def _handed_over_at(self, consignment):
        """When the carrier took the parcel: the warehouse's record, else
        when its confirmation to the platform started"""
        return getattr(self, 'handed_over_at', None) or consignment.create_date


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('stock.shipment.out|update_tracking_cron',
                "Track Parcels in Transit"))
