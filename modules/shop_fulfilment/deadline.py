# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Ship-by deadlines (发货时效): the shop's rule, lead times and extensions"
import datetime as dt

from sql import Literal
from sql.aggregate import Count

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .shop import PLATFORMS
from .taobao import CHINA_TZ, from_utc

DEFAULT_WITHIN = dt.timedelta(hours=48)
# The seed's Tmall rule: paid before 16:00 leaves the same day, confirmed
# online before 21:00 (China time)
DEFAULT_CUTOFF = dt.time(16, 0)
DEFAULT_SAME_DAY_UNTIL = dt.time(21, 0)
# The order has left or will never leave: no deadline runs
LEFT = ['done', 'cancelled']
REASON_SIZE = (2, 200)
SHIP_BY_STATES = [
    (None, ""),
    ('on_time', "On Time"),
    ('due_today', "Due Today"),
    ('overdue', "Overdue"),
    ]


def utc_now():
    "The current time as a naive UTC datetime"
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def china_day_end(now):
    "The end, as naive UTC, of the China calendar day of now (naive UTC)"
    offset = CHINA_TZ.utcoffset(None)
    day = (now + offset).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time()) - offset


def china_to_utc(day, time):
    "The naive UTC datetime of a China date and time"
    return (dt.datetime.combine(day, time, CHINA_TZ)
        .astimezone(dt.timezone.utc).replace(tzinfo=None))


class Shop(metaclass=PoolMeta):
    __name__ = 'web.shop'

    ship_rule = fields.Selection([
            ('within', "Within a Delay after Payment"),
            ('cutoff', "Same Day before Cut-off"),
            ], "Ship Rule",
        states={
            'invisible': ~Eval('type').in_(list(PLATFORMS)),
            'required': Eval('type').in_(list(PLATFORMS)),
            },
        help="How the ship-by deadline of an order follows its payment.")
    ship_within = fields.TimeDelta(
        "Ship Within",
        domain=['OR',
            ('ship_within', '=', None),
            ('ship_within', '>', dt.timedelta()),
            ],
        states={
            'invisible': Eval('ship_rule') != 'within',
            'required': Eval('ship_rule') == 'within',
            },
        help="The delay after payment to ship an order.")
    ship_cutoff = fields.Time(
        "Cut-off Time",
        states={
            'invisible': Eval('ship_rule') != 'cutoff',
            'required': Eval('ship_rule') == 'cutoff',
            },
        help="China time: an order paid before it ships the same day, "
        "otherwise the next day.")
    ship_same_day_until = fields.Time(
        "Ship Until",
        states={
            'invisible': Eval('ship_rule') != 'cutoff',
            'required': Eval('ship_rule') == 'cutoff',
            },
        help="China time: the deadline on the shipping day, "
        "when the shipment must be confirmed online.")
    overdue_count = fields.Function(
        fields.Integer("Overdue Orders",
            help="The orders past their ship-by deadline that have not "
            "left: each is a penalty risk."),
        'get_overdue_count')

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('//page[@id="ship_by"]', 'states', {
                    'invisible': ~Eval('type').in_(list(PLATFORMS)),
                    }),
            ]

    @classmethod
    def default_ship_rule(cls):
        return 'within'

    @classmethod
    def default_ship_within(cls):
        return DEFAULT_WITHIN

    @classmethod
    def default_ship_cutoff(cls):
        return DEFAULT_CUTOFF

    @classmethod
    def default_ship_same_day_until(cls):
        return DEFAULT_SAME_DAY_UNTIL

    def compute_ship_by(self, paid):
        "Return the deadline (naive UTC) of an order paid at paid (naive UTC)"
        if self.ship_rule == 'cutoff':
            local = paid.replace(tzinfo=dt.timezone.utc).astimezone(CHINA_TZ)
            day = local.date()
            if local.time() >= (self.ship_cutoff or DEFAULT_CUTOFF):
                day += dt.timedelta(days=1)
            return china_to_utc(
                day, self.ship_same_day_until or DEFAULT_SAME_DAY_UNTIL)
        if self.ship_within is not None:
            return paid + self.ship_within
        return paid + DEFAULT_WITHIN

    @classmethod
    def get_overdue_count(cls, shops, name):
        pool = Pool()
        Sale = pool.get('sale.sale')
        sale = Sale.__table__()
        cursor = Transaction().connection.cursor()
        counts = dict.fromkeys([s.id for s in shops], 0)
        for sub_shops in grouped_slice(shops):
            query = Sale.search([
                    ('web_shop', 'in', [s.id for s in sub_shops]),
                    ('ship_by_state', '=', 'overdue'),
                    ], query=True)
            cursor.execute(*sale.select(
                    sale.web_shop, Count(Literal('*')),
                    where=sale.id.in_(query),
                    group_by=[sale.web_shop]))
            counts.update(cursor)
        return counts


class Template(metaclass=PoolMeta):
    __name__ = 'product.template'

    ship_lead_time = fields.TimeDelta(
        "Ship Lead Time",
        domain=['OR',
            ('ship_lead_time', '=', None),
            ('ship_lead_time', '>=', dt.timedelta()),
            ],
        help="Made to order: ships within this delay after payment, "
        "when it is later than the shop's deadline.")


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    ship_by = fields.DateTime(
        "Ship By", readonly=True,
        help="When the order must have left, "
        "from its payment time and the shop's rule.")
    ship_by_state = fields.Function(fields.Selection(
            SHIP_BY_STATES, "Deadline State"),
        'get_ship_by_state', searcher='search_ship_by_state')
    ship_by_extensions = fields.One2Many(
        'sale.ship_by.extension', 'sale', "Deadline Extensions",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.ship_by, Index.Range())))
        cls._buttons.update({
                'extend_ship_by': {
                    'invisible': (~Eval('ship_by')
                        | Eval('state').in_(LEFT)
                        | (Eval('shipment_state') == 'sent')),
                    'depends': ['ship_by', 'state', 'shipment_state'],
                    },
                })

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree/field[@name="ship_by"]', 'visual',
                If(Eval('ship_by_state') == 'overdue', 'danger',
                    If(Eval('ship_by_state') == 'due_today', 'warning', ''))),
            ]

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('ship_by', None)
        default.setdefault('ship_by_extensions', None)
        return super().copy(sales, default=default)

    @classmethod
    def from_platform(cls, shop, values, products, party, address, trade):
        sale = super().from_platform(
            shop, values, products, party, address, trade)
        sale.ship_by = sale.compute_ship_by()
        return sale

    def _set_platform_values(self, values):
        paid = getattr(self, 'platform_paid', None)
        changed = super()._set_platform_values(values)
        # A new sale gets its deadline from from_platform
        if (self.id is not None and self.id >= 0
                and self.platform_paid != paid
                and not self.ship_by_extensions):
            self.ship_by = self.compute_ship_by()
        return changed

    def compute_ship_by(self):
        """Return the latest of the shop's deadline and of the lead times
        of the goods, counted from the payment"""
        paid = self.platform_paid or self.platform_created
        if not paid or not self.web_shop:
            return None
        deadlines = [self.web_shop.compute_ship_by(paid)]
        for line in self.lines or []:
            lead_time = line._ship_lead_time()
            if lead_time is not None:
                deadlines.append(paid + lead_time)
        return max(deadlines)

    @classmethod
    def set_ship_by(cls, sales):
        "Compute again the deadline of the sales not extended"
        sales = [s for s in sales if not s.ship_by_extensions]
        for sale in sales:
            sale.ship_by = sale.compute_ship_by()
        cls.save(sales)

    @classmethod
    def get_ship_by_state(cls, sales, name):
        now = utc_now()
        end = china_day_end(now)
        return {s.id: s._ship_by_state(now, end) for s in sales}

    def _ship_by_state(self, now, end):
        if (not self.ship_by or self.state in LEFT
                or self.shipment_state == 'sent'):
            return None
        if self.ship_by < now:
            return 'overdue'
        elif self.ship_by < end:
            return 'due_today'
        return 'on_time'

    @classmethod
    def search_ship_by_state(cls, name, clause):
        _, operator, value = clause[:3]
        now = utc_now()
        end = china_day_end(now)
        running = [
            ('ship_by', '!=', None),
            ('state', 'not in', LEFT),
            ('shipment_state', '!=', 'sent'),
            ]
        domains = {
            None: ['OR',
                ('ship_by', '=', None),
                ('state', 'in', LEFT),
                ('shipment_state', '=', 'sent'),
                ],
            'overdue': running + [('ship_by', '<', now)],
            'due_today': running + [
                ('ship_by', '>=', now), ('ship_by', '<', end)],
            'on_time': running + [('ship_by', '>=', end)],
            }
        values = value if operator in {'in', 'not in'} else [value]
        values = {v or None for v in values}
        if operator in {'!=', 'not in'}:
            values = set(domains) - values
        elif operator not in {'=', 'in'}:
            raise NotImplementedError(operator)
        if not values:
            return [('id', '=', None)]
        return ['OR'] + [domains[v] for v in domains if v in values]

    @classmethod
    @ModelView.button_action('shop_fulfilment.wizard_ship_by_extend')
    def extend_ship_by(cls, sales):
        pass


class Line(metaclass=PoolMeta):
    __name__ = 'sale.line'

    def _ship_lead_time(self):
        "The lead time of a made-to-order product or None"
        if (self.type == 'line' and self.product
                and self.product.type == 'goods'):
            return self.product.template.ship_lead_time


class ShipByExtension(ModelSQL, ModelView):
    "Ship-by Extension"
    __name__ = 'sale.ship_by.extension'

    sale = fields.Many2One(
        'sale.sale', "Sale", required=True, readonly=True,
        ondelete='CASCADE')
    previous = fields.DateTime("Previous Deadline", readonly=True)
    deadline = fields.DateTime("New Deadline", required=True, readonly=True)
    reason = fields.Text(
        "Reason", required=True, readonly=True,
        help="Why the deadline moves, the buyer having agreed.")
    user = fields.Many2One('res.user', "User", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('sale')
        cls._order.insert(0, ('create_date', 'ASC'))

    @classmethod
    def extend(cls, sales, deadline, reason):
        """Move the deadline of the sales to deadline for the reason
        and record it; only before the deadline expires"""
        pool = Pool()
        Sale = pool.get('sale.sale')
        now = utc_now()
        reason = (reason or '').strip()
        for sale in sales:
            cls._check_extension(sale, deadline, reason, now)
        cls.save([cls(sale=s, previous=s.ship_by, deadline=deadline,
                    reason=reason, user=Transaction().user)
                for s in sales])
        Sale.write(list(sales), {'ship_by': deadline})

    @classmethod
    def _check_extension(cls, sale, deadline, reason, now):
        if not sale.ship_by:
            raise UserError(gettext(
                    'shop_fulfilment.msg_deadline_missing',
                    sale=sale.rec_name))
        if sale.ship_by < now:
            raise UserError(gettext(
                    'shop_fulfilment.msg_deadline_expired',
                    sale=sale.rec_name, deadline=from_utc(sale.ship_by)))
        if not deadline or deadline <= sale.ship_by:
            raise UserError(gettext(
                    'shop_fulfilment.msg_deadline_not_later',
                    sale=sale.rec_name, deadline=from_utc(sale.ship_by)))
        minimum, maximum = REASON_SIZE
        if not minimum <= len(reason) <= maximum:
            raise UserError(gettext(
                    'shop_fulfilment.msg_deadline_reason',
                    sale=sale.rec_name, minimum=minimum, maximum=maximum))


class ExtendShipByStart(ModelView):
    "Extend Ship-by Deadline"
    __name__ = 'sale.ship_by.extend.start'

    current = fields.DateTime("Current Deadline", readonly=True)
    deadline = fields.DateTime("New Deadline", required=True)
    reason = fields.Text(
        "Reason", required=True,
        help="Why the deadline moves, the buyer having agreed.")


class ExtendShipBy(Wizard):
    "Extend Ship-by Deadline"
    __name__ = 'sale.ship_by.extend'

    start = StateView('sale.ship_by.extend.start',
        'shop_fulfilment.ship_by_extend_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Extend", 'extend', 'tryton-ok', default=True),
            ])
    extend = StateTransition()

    def default_start(self, fields):
        deadlines = [s.ship_by for s in self.records if s.ship_by]
        return {'current': min(deadlines, default=None)}

    def transition_extend(self):
        pool = Pool()
        Extension = pool.get('sale.ship_by.extension')
        Extension.extend(self.records, self.start.deadline, self.start.reason)
        return 'end'


class ShipmentOut(metaclass=PoolMeta):
    __name__ = 'stock.shipment.out'

    ship_by = fields.Function(
        fields.DateTime("Ship By",
            help="The earliest ship-by deadline of the shipment's sales."),
        'get_ship_by', searcher='search_ship_by')

    def get_ship_by(self, name):
        pool = Pool()
        SaleLine = pool.get('sale.line')
        deadlines = [m.origin.sale.ship_by for m in self.outgoing_moves
            if isinstance(m.origin, SaleLine) and m.origin.sale.ship_by]
        return min(deadlines, default=None)

    @classmethod
    def search_ship_by(cls, name, clause):
        # Exact for "before": the earliest is before when any is
        return [('moves.origin.sale.ship_by',) + tuple(clause[1:3])
            + ('sale.line',)]
