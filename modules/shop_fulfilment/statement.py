# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The Alipay account statement (账务明细) imported into account_statement
and matched against the platform orders: income clears what the platform
owes for the orders on the payment journal's clearing account, fees go to
the accounts of the shop, what cannot be matched waits on the shop's
suspense account with its reason"""
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from itertools import groupby

from sql import Literal, Null, Union
from sql.aggregate import Count, Sum
from sql.functions import CurrentTimestamp
from sql.operators import Concat

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.modules.account_statement.exceptions import ImportStatementError
from trytond.modules.company import CompanyReport
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction, record_cache_size

from . import alipay
from .sale import china_date

ZERO = Decimal(0)
FEE_TYPES = [
    ('commission', "Commission (技术服务费)"),
    ('taobaoke', "Taobaoke Commission (淘宝客)"),
    ('points', "Points (积分)"),
    ('insurance', "Return Shipping Insurance (运费险)"),
    ]
KINDS = [
    (None, ''),
    ('income', "Income"),
    ('refund', "Refund"),
    ('fee', "Fee"),
    ('other', "Other"),
    ]
ISSUES = [
    (None, ''),
    ('no_trade', "No Trade ID"),
    ('unknown_order', "Unknown Order"),
    ('amount', "Amount Mismatch"),
    ('settled', "Already Settled"),
    ('refund', "Unrecorded Refund"),
    ('no_fee_account', "No Fee Account"),
    ('other', "Not a Settlement"),
    ]


class Shop(metaclass=PoolMeta):
    __name__ = 'web.shop'

    statement_journal = fields.Many2One(
        'account.statement.journal', "Alipay Statement Journal",
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        help="The journal of the statements of the shop's Alipay account.")
    statement_suspense_account = fields.Many2One(
        'account.account', "Unmatched Settlement Account",
        ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '!=', None),
            ('closed', '!=', True),
            ('party_required', '=', False),
            ],
        help="Holds the statement lines that match no order, "
        "until a person resolves them.")
    statement_fees = fields.One2Many(
        'web.shop.statement_fee', 'shop', "Platform Fee Accounts")

    def statement_fee_account(self, fee_type):
        for fee in self.statement_fees:
            if fee.fee_type == fee_type:
                return fee.account


class ShopStatementFee(ModelSQL, ModelView):
    "Platform Fee Account"
    __name__ = 'web.shop.statement_fee'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True, ondelete='CASCADE')
    fee_type = fields.Selection(FEE_TYPES, "Fee Type", required=True)
    account = fields.Many2One(
        'account.account', "Account", required=True, ondelete='RESTRICT',
        domain=[
            ('type', '!=', None),
            ('closed', '!=', True),
            ('party_required', '=', False),
            ])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('shop_fee_type_unique', Unique(t, t.shop, t.fee_type),
                'shop_fulfilment.msg_statement_fee_unique'),
            ]
        cls.__access__.add('shop')


class Payment(metaclass=PoolMeta):
    __name__ = 'account.payment'

    @classmethod
    def platform_clearing_query(cls):
        """Return the query of the open lines of the platform clearing
        accounts with the sale they belong to: columns line, sale, shop,
        amount (debit - credit)"""
        return Union(*cls._platform_clearing_queries(), all_=True)

    @classmethod
    def _platform_clearing_queries(cls):
        "The payments collected by the finance review, origin the sale"
        pool = Pool()
        Journal = pool.get('account.payment.journal')
        Line = pool.get('account.move.line')
        Sale = pool.get('sale.sale')
        payment = cls.__table__()
        journal = Journal.__table__()
        line = Line.__table__()
        sale = Sale.__table__()
        return [payment
            .join(journal, condition=journal.id == payment.journal)
            .join(line, condition=(line.move == payment.clearing_move)
                & (line.account == journal.clearing_account))
            .join(sale, condition=payment.origin == Concat(
                    Sale.__name__ + ',', sale.id))
            .select(
                line.id.as_('line'), sale.id.as_('sale'),
                sale.web_shop.as_('shop'),
                (line.debit - line.credit).as_('amount'),
                where=(line.reconciliation == Null)
                & (sale.web_shop != Null))]

    @classmethod
    def platform_clearing_lines(cls, shop):
        "Return {sale id: [(line id, amount)]} of the open lines of the shop"
        query = cls.platform_clearing_query()
        cursor = Transaction().connection.cursor()
        cursor.execute(*query.select(
                query.line, query.sale, query.amount,
                where=query.shop == shop.id))
        lines = defaultdict(list)
        for line, sale, amount in cursor:
            lines[sale].append((line, Decimal(str(amount))))
        return lines


class Statement(metaclass=PoolMeta):
    __name__ = 'account.statement'

    alipay_shop = fields.Many2One(
        'web.shop', "Alipay Shop", readonly=True,
        states={'invisible': ~Eval('alipay_shop')})
    alipay_income = fields.Function(Monetary(
            "Matched Income", currency='currency', digits='currency',
            states={'invisible': ~Eval('alipay_shop')}),
        'get_alipay_summary')
    alipay_refunds = fields.Function(Monetary(
            "Matched Refunds", currency='currency', digits='currency',
            states={'invisible': ~Eval('alipay_shop')}),
        'get_alipay_summary')
    alipay_fees = fields.Function(Monetary(
            "Fees", currency='currency', digits='currency',
            states={'invisible': ~Eval('alipay_shop')}),
        'get_alipay_summary')
    alipay_unmatched = fields.Function(Monetary(
            "Unmatched", currency='currency', digits='currency',
            states={'invisible': ~Eval('alipay_shop')}),
        'get_alipay_summary')
    alipay_total = fields.Function(Monetary(
            "Total", currency='currency', digits='currency',
            states={'invisible': ~Eval('alipay_shop')}),
        'get_alipay_summary')
    alipay_unmatched_count = fields.Function(fields.Integer(
            "Unmatched Lines",
            states={'invisible': ~Eval('alipay_shop')}),
        'get_alipay_summary')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'alipay_match': {
                    'invisible': ((Eval('state') != 'draft')
                        | ~Eval('alipay_shop')),
                    'depends': ['state', 'alipay_shop'],
                    },
                })

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('//page[@id="alipay_reconciliation"]', 'states', {
                    'invisible': ~Eval('alipay_shop'),
                    }),
            ]

    @classmethod
    def get_alipay_summary(cls, statements, names):
        pool = Pool()
        Origin = pool.get('account.statement.origin')
        origin = Origin.__table__()
        cursor = Transaction().connection.cursor()
        result = {n: {s.id: ZERO for s in statements} for n in names}
        if 'alipay_unmatched_count' in result:
            result['alipay_unmatched_count'] = {s.id: 0 for s in statements}
        for sub in grouped_slice(statements):
            ids = [s.id for s in sub]
            cursor.execute(*origin.select(
                    origin.statement, origin.alipay_kind, origin.alipay_issue,
                    Sum(origin.amount), Count(Literal('*')),
                    where=origin.statement.in_(ids),
                    group_by=[origin.statement, origin.alipay_kind,
                        origin.alipay_issue]))
            for statement, kind, issue, amount, count in cursor:
                amount = Decimal(str(amount or 0))
                if issue:
                    keys = ['alipay_unmatched']
                else:
                    keys = [{'income': 'alipay_income',
                            'refund': 'alipay_refunds',
                            'fee': 'alipay_fees'}.get(kind)]
                keys.append('alipay_total')
                for key in keys:
                    if key in result:
                        result[key][statement] += amount
                if issue and 'alipay_unmatched_count' in result:
                    result['alipay_unmatched_count'][statement] += count
        for statement in statements:
            # SQLite sums to floats
            for name, values in result.items():
                if name != 'alipay_unmatched_count':
                    values[statement.id] = statement.journal.currency.round(
                        values[statement.id])
        return result

    def _group_key(self, line):
        key = super()._group_key(line)
        if self.alipay_shop:
            # One move a day, not one per line: tens of thousands of lines
            key = tuple((k, None) if k == 'number' else (k, v)
                for k, v in key)
        return key

    @classmethod
    @ModelView.button
    def alipay_match(cls, statements):
        "Match again the lines left on the suspense account"
        pool = Pool()
        Line = pool.get('account.statement.line')
        Origin = pool.get('account.statement.origin')
        statements = [s for s in statements
            if s.state == 'draft' and s.alipay_shop]
        origins = [o for s in statements for o in s.origins
            if o.alipay_issue]
        Line.delete([l for o in origins for l in o.lines])
        Origin.write(origins, {'alipay_issue': None, 'alipay_owed': None})
        cls.match_alipay(cls.browse(statements))

    @classmethod
    def match_alipay(cls, statements):
        "Create the lines of the origins that have none"
        pool = Pool()
        Line = pool.get('account.statement.line')
        Origin = pool.get('account.statement.origin')
        for statement in statements:
            origins = [o for o in statement.origins if not o.lines]
            matcher = AlipayMatcher(statement)
            matcher.match(origins)
            Line.save(matcher.lines)
            Origin.save(matcher.flagged)

    @classmethod
    def _alipay_cache_size(cls, statements):
        """Return the size of the record cache that holds every line of the
        statements: the default (2,000 records a model) is smaller than a
        statement of a busy shop, and a loop over more records than the
        cache holds reads them again and again."""
        pool = Pool()
        Line = pool.get('account.statement.line')
        Origin = pool.get('account.statement.origin')
        cursor = Transaction().connection.cursor()
        count = 0
        ids = [s.id for s in statements if s.alipay_shop]
        for Model in [Line, Origin]:
            table = Model.__table__()
            for sub in grouped_slice(ids):
                cursor.execute(*table.select(Count(Literal('*')),
                        where=table.statement.in_(list(sub))))
                count += cursor.fetchone()[0]
        return max(record_cache_size(Transaction()), 2 * count + 100)

    def _alipay_journal_periods(self):
        """Make sure the journal periods of the moves exist before anything
        is computed: creating one locks the table, and trytond then restarts
        the whole transaction, which would do the validation twice (on
        SQLite: on PostgreSQL it is created in a transaction of its own,
        see account.py)."""
        pool = Pool()
        Line = pool.get('account.statement.line')
        MoveLine = pool.get('account.move.line')
        Period = pool.get('account.period')
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*line.select(line.date,
                where=line.statement == self.id,
                group_by=[line.date]))
        periods = {Period.find(self.company, date=d) for d, in cursor}
        for period in periods:
            MoveLine.check_journal_period_modify(period, self.journal.journal)

    # validate_statement starts with the check of its journal's validation,
    # within the access checks of the button: the journal periods are made
    # sure of there.
    def validate_balance(self):
        if self.alipay_shop:
            self._alipay_journal_periods()
        super().validate_balance()

    def validate_amount(self):
        if self.alipay_shop:
            self._alipay_journal_periods()
        super().validate_amount()

    def validate_number_of_lines(self):
        if self.alipay_shop:
            self._alipay_journal_periods()
        super().validate_number_of_lines()

    @classmethod
    def validate_statement(cls, statements):
        if not any(s.alipay_shop for s in statements):
            return super().validate_statement(statements)
        with Transaction().set_context(
                _record_cache_size=cls._alipay_cache_size(statements)):
            # Browse again to use the cache of that size
            return super().validate_statement(cls.browse(statements))

    @classmethod
    def post(cls, statements):
        if not any(s.alipay_shop for s in statements):
            return super().post(statements)
        with Transaction().set_context(
                _record_cache_size=cls._alipay_cache_size(statements)):
            return super().post(cls.browse(statements))

    @classmethod
    def create_move(cls, statements):
        alipay = [s for s in statements if s.alipay_shop]
        others = [s for s in statements if not s.alipay_shop]
        moves = super().create_move(others) if others else []
        if alipay:
            alipay_moves = cls._alipay_create_move(alipay)
            # As account_payment does after account_statement's create_move
            cls._process_payments(alipay_moves)
            cls.reconcile_alipay(alipay)
            moves += alipay_moves
        return moves

    @classmethod
    def _alipay_create_move(cls, statements):
        """account_statement's create_move, the same moves made in bulk: each
        move is saved with its lines in one call, and the statement lines
        get their move by SQL"""
        pool = Pool()
        Line = pool.get('account.statement.line')
        Move = pool.get('account.move')
        moves, move_lines = [], []
        for statement in statements:
            for key, lines in groupby(statement._alipay_sorted_lines(),
                    key=statement._group_key):
                lines = list(lines)
                move = statement._get_move(dict(key))
                lines_of_move = []
                fees = defaultdict(list)
                amount = amount_second_currency = 0
                for line in lines:
                    if line.origin and line.origin.alipay_kind == 'fee' \
                            and not line.origin.alipay_issue:
                        fees[line.account].append(line)
                        continue
                    move_line = line.get_move_line()
                    if move_line:
                        lines_of_move.append(move_line)
                        move_lines.append((move_line, line))
                lines_of_move += filter(None, (
                        statement._alipay_fee_move_line(l)
                        for l in fees.values()))
                for move_line in lines_of_move:
                    amount += move_line.debit - move_line.credit
                    if move_line.amount_second_currency:
                        amount_second_currency += (
                            move_line.amount_second_currency)
                counterpart = statement._get_move_line(
                    amount, amount_second_currency, lines)
                move.lines = lines_of_move + [counterpart]
                moves.append((move, statement, lines))
        Move.save([m for m, _, _ in moves])
        cls._alipay_set_line_move(moves)
        Line.reconcile(move_lines)
        return moves

    def _alipay_fee_move_line(self, lines):
        """Return the move line of the fees of a day on one account, the
        move line of their sum: a busy shop pays thousands of small fees a
        day, each one a line of the statement"""
        pool = Pool()
        Line = pool.get('account.statement.line')
        move_line = Line(
            statement=self, date=lines[0].date, account=lines[0].account,
            amount=sum(l.amount for l in lines)).get_move_line()
        if move_line:
            move_line.origin = None
            move_line.description = gettext(
                'shop_fulfilment.msg_statement_fee_move_line',
                count=len(lines))
        return move_line

    def _alipay_sorted_lines(self):
        "The lines in the order of their origin, as create_move sorts them"
        index = {o: i for i, o in enumerate(self.origins)}
        return sorted(
            self.lines, key=lambda l: index.get(l.origin, len(index)))

    @classmethod
    def _alipay_set_line_move(cls, moves):
        """Set the move of the statement lines.  Line.write would validate
        again every field of every line (their domains depend on function
        fields), for tens of thousands of lines validated when they were
        created; the move, created for the statement's company, satisfies
        the only domain of the field."""
        pool = Pool()
        Line = pool.get('account.statement.line')
        line = Line.__table__()
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        for move, _, lines in moves:
            for sub in grouped_slice([l.id for l in lines]):
                cursor.execute(*line.update(
                        [line.move, line.write_uid, line.write_date],
                        [move.id, transaction.user, CurrentTimestamp()],
                        where=reduce_ids(line.id, sub)))
        # Forget the lines read without their move (as Move.validate_move
        # does for the lines whose state it updates)
        transaction.counter += 1
        for cache in transaction.cache.values():
            if Line.__name__ in cache:
                cache[Line.__name__].clear()

    @classmethod
    def reconcile_alipay(cls, statements):
        """Reconcile, per order, the open lines of the clearing account with
        the statement lines that settle them, when they balance"""
        pool = Pool()
        Payment = pool.get('account.payment')
        MoveLine = pool.get('account.move.line')
        Line = pool.get('account.statement.line')
        line = Line.__table__()
        move_line = MoveLine.__table__()
        cursor = Transaction().connection.cursor()
        prefix = Line.__name__ + ','
        to_reconcile = []
        for statement in statements:
            clearing = statement.alipay_shop.payment_journal.clearing_account
            if not clearing or not clearing.reconcile:
                continue
            # The statement lines of the orders and the moves of the
            # statement, read by SQL rather than through thousands of records
            cursor.execute(*line.select(line.id, line.related_to,
                    where=(line.statement == statement.id)
                    & (line.account == clearing.id)
                    & line.related_to.like('sale.sale,%')))
            sales = {l: int(r.split(',')[1]) for l, r in cursor}
            if not sales:
                continue
            cursor.execute(*line.select(line.move,
                    where=(line.statement == statement.id)
                    & (line.move != Null),
                    group_by=[line.move]))
            moves = [m for m, in cursor]
            by_sale = defaultdict(list)
            for sub in grouped_slice(moves):
                cursor.execute(*move_line.select(
                        move_line.id, move_line.origin,
                        move_line.debit, move_line.credit,
                        where=move_line.move.in_(list(sub))
                        & (move_line.account == clearing.id)
                        & (move_line.reconciliation == Null)
                        & move_line.origin.like(prefix + '%')))
                for id_, origin, debit, credit in cursor:
                    origin = int(origin[len(prefix):])
                    if origin in sales:
                        by_sale[sales[origin]].append((id_, debit - credit))
            open_lines = Payment.platform_clearing_lines(
                statement.alipay_shop)
            for sale, lines in by_sale.items():
                lines = lines + open_lines.get(sale, [])
                if not sum(a for _, a in lines):
                    to_reconcile.append([l for l, _ in lines])
        # Browse all the lines at once so that they are read in batches,
        # not one group at a time
        records = iter(MoveLine.browse([l for g in to_reconcile for l in g]))
        groups = [[next(records) for _ in g] for g in to_reconcile]
        for sub in grouped_slice(groups, 1000):
            MoveLine.reconcile(*sub)


class AlipayMatcher:
    "Match the origins of one statement against the orders of its shop"

    def __init__(self, statement):
        self.statement = statement
        self.shop = statement.alipay_shop
        self.clearing = self.shop.payment_journal.clearing_account
        self.lines = []
        self.flagged = []

    def match(self, origins):
        tids = {t for o in origins for t in o.alipay_trade_ids}
        self.sales = self.get_sales(tids)
        self.owed = self.get_owed(set(self.sales.values()))
        by_sale, multiple = defaultdict(list), []
        for origin in origins:
            if origin.alipay_kind == 'fee':
                self.match_fee(origin)
            elif origin.alipay_kind not in {'income', 'refund'}:
                self.flag(origin, 'other')
            elif not origin.alipay_trade_ids:
                self.flag(origin, 'no_trade')
            elif any(t not in self.sales for t in origin.alipay_trade_ids):
                self.flag(origin, 'unknown_order')
            elif len(origin.alipay_trade_ids) > 1:
                multiple.append(origin)
            else:
                tid, = origin.alipay_trade_ids
                by_sale[self.sales[tid]].append(origin)
        for sale, sale_origins in by_sale.items():
            self.match_sale(sale, sale_origins)
        for origin in multiple:
            self.match_multiple(origin)

    def get_sales(self, tids):
        "Return {trade id: sale id} of the shop"
        pool = Pool()
        Sale = pool.get('sale.sale')
        sale = Sale.__table__()
        cursor = Transaction().connection.cursor()
        sales = {}
        for sub in grouped_slice(sorted(tids)):
            cursor.execute(*sale.select(sale.web_id, sale.id,
                    where=(sale.web_shop == self.shop.id)
                    & sale.web_id.in_(list(sub))))
            sales.update(cursor)
        return sales

    def get_owed(self, sales):
        """Return {sale id: amount} the platform still owes, less what the
        lines of the draft statements settle already"""
        pool = Pool()
        Payment = pool.get('account.payment')
        StatementLine = pool.get('account.statement.line')
        Statement = pool.get('account.statement')
        owed = defaultdict(Decimal)
        for sale, lines in Payment.platform_clearing_lines(self.shop).items():
            if sale in sales:
                owed[sale] += sum(a for _, a in lines)
        line = StatementLine.__table__()
        statement = Statement.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*line.join(statement,
                condition=statement.id == line.statement
                ).select(line.related_to, Sum(line.amount),
                where=(statement.state == 'draft')
                & (statement.alipay_shop == self.shop.id)
                & (line.account == self.clearing.id)
                & line.related_to.like('sale.sale,%'),
                group_by=[line.related_to]))
        for related_to, amount in cursor:
            sale = int(related_to.split(',')[1])
            if sale in sales:
                owed[sale] -= Decimal(str(amount))
        return owed

    def match_sale(self, sale, origins):
        due = self.owed[sale]
        if due and sum(o.amount for o in origins) == due:
            matched = origins
        else:
            matched = [o for o in origins if due and o.amount == due][:1]
        for origin in origins:
            if origin in matched:
                self.add_line(origin, origin.amount, self.clearing, sale)
                self.owed[sale] -= origin.amount
            elif origin.alipay_kind == 'refund':
                # A refund the order's open lines do not account for: paid
                # back on the platform but not credited here.
                self.flag(origin, 'refund')
            elif matched or not due:
                self.flag(origin, 'settled')
            else:
                self.flag(origin, 'amount', owed=due)

    def match_multiple(self, origin):
        "A payout covering many orders (多单收尾款), split across them"
        sales = [self.sales[t] for t in origin.alipay_trade_ids]
        dues = [self.owed[s] for s in sales]
        if all(dues) and sum(dues) == origin.amount:
            for sale, due in zip(sales, dues):
                self.add_line(origin, due, self.clearing, sale)
                self.owed[sale] = ZERO
        elif not any(dues):
            self.flag(origin, 'settled')
        else:
            self.flag(origin, 'amount', owed=sum(dues))

    def match_fee(self, origin):
        account = self.shop.statement_fee_account(origin.alipay_fee_type)
        if not account:
            self.flag(origin, 'no_fee_account')
            return
        sale = None
        if len(origin.alipay_trade_ids) == 1:
            sale = self.sales.get(origin.alipay_trade_ids[0])
        self.add_line(origin, origin.amount, account, sale)

    def flag(self, origin, issue, owed=None):
        origin.alipay_issue = issue
        origin.alipay_owed = owed
        self.flagged.append(origin)
        self.add_line(origin, origin.amount,
            self.shop.statement_suspense_account, None)

    def add_line(self, origin, amount, account, sale):
        pool = Pool()
        Line = pool.get('account.statement.line')
        Sale = pool.get('sale.sale')
        self.lines.append(Line(
                statement=self.statement, origin=origin,
                number=origin.number, date=origin.date, amount=amount,
                account=account, description=origin.description,
                related_to=Sale(sale) if sale else None))


class StatementFieldsMixin:
    """The company, currency and state of the statement read for a whole
    list at once: account_statement computes them record by record from
    the statement (on_change_with), and the validation of every line and
    origin of a statement evaluates its domains with them (a fifth of the
    time of a statement of thousands of lines)"""
    __slots__ = ()
    _statement_fields = ('company', 'currency', 'statement_state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # The on_change_with methods stay for the client's forms
        for name in cls._statement_fields:
            getattr(cls, name).getter = 'get_statement_fields'

    @classmethod
    def get_statement_fields(cls, records, names):
        pool = Pool()
        Statement = pool.get('account.statement')
        Journal = pool.get('account.statement.journal')
        table = cls.__table__()
        statement = Statement.__table__()
        journal = Journal.__table__()
        cursor = Transaction().connection.cursor()
        columns = {
            'company': statement.company,
            'currency': journal.currency,
            'statement_state': statement.state,
            }
        values = {n: {r.id: None for r in records} for n in names}
        for sub in grouped_slice(records):
            cursor.execute(*table.join(statement,
                    condition=statement.id == table.statement
                    ).join(journal, 'LEFT',
                    condition=journal.id == statement.journal
                    ).select(table.id, *(columns[n] for n in names),
                    where=reduce_ids(table.id, [r.id for r in sub])))
            for id_, *row in cursor:
                for name, value in zip(names, row):
                    values[name][id_] = value
        return values


class Origin(StatementFieldsMixin, metaclass=PoolMeta):
    __name__ = 'account.statement.origin'

    alipay_journal = fields.Many2One(
        'account.statement.journal', "Alipay Journal", readonly=True)
    alipay_serial = fields.Char("Alipay Serial Number", readonly=True)
    alipay_kind = fields.Selection(KINDS, "Kind", readonly=True)
    alipay_fee_type = fields.Selection(
        [(None, '')] + FEE_TYPES, "Fee Type", readonly=True)
    alipay_trades = fields.Char("Trade IDs", readonly=True)
    alipay_issue = fields.Selection(ISSUES, "Issue", readonly=True)
    alipay_owed = Monetary(
        "Owed", currency='currency', digits='currency', readonly=True)
    alipay_reason = fields.Function(
        fields.Char("Reason"), 'get_alipay_reason')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('alipay_serial_unique',
                Unique(t, t.alipay_journal, t.alipay_serial),
                'shop_fulfilment.msg_statement_line_unique'),
            ]
        # account_statement computes it origin by origin from its lines
        # (on_change_with, kept for the client's forms), and the posting of
        # a statement checks it for each of its thousands of origins
        cls.pending_amount.getter = 'get_pending_amount'

    @classmethod
    def get_pending_amount(cls, origins, name):
        pool = Pool()
        Line = pool.get('account.statement.line')
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        amounts = {o.id: o.amount or ZERO for o in origins}
        for sub in grouped_slice(origins):
            cursor.execute(*line.select(line.origin, line.amount,
                    where=reduce_ids(line.origin, [o.id for o in sub])))
            for origin, amount in cursor:
                # Summed here, in Decimal: SQLite would sum to floats
                amounts[origin] -= Decimal(str(amount or 0))
        return amounts

    @property
    def alipay_trade_ids(self):
        return (self.alipay_trades or '').split()

    def get_alipay_reason(self, name):
        pool = Pool()
        Lang = pool.get('ir.lang')
        if not self.alipay_issue:
            return
        lang = Lang.get()
        shop = self.statement.alipay_shop
        return gettext('shop_fulfilment.msg_statement_issue_%s'
            % self.alipay_issue,
            trades=', '.join(self.alipay_trade_ids),
            shop=shop.rec_name if shop else '',
            amount=lang.currency(
                abs(self.amount) if self.alipay_issue == 'refund'
                else self.amount, self.currency),
            owed=lang.currency(self.alipay_owed or 0, self.currency),
            fee_type=dict(self.__class__.fields_get(['alipay_fee_type'])[
                    'alipay_fee_type']['selection']).get(
                self.alipay_fee_type) or '',
            description=self.description or '')

    @classmethod
    def copy(cls, origins, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('alipay_journal')
        default.setdefault('alipay_serial')
        return super().copy(origins, default=default)


class Line(StatementFieldsMixin, metaclass=PoolMeta):
    __name__ = 'account.statement.line'

    @classmethod
    def _get_relations(cls):
        return super()._get_relations() + ['sale.sale']

    @classmethod
    def post_move(cls, lines):
        """Post the draft moves of the lines.  account_statement and
        account_payment_clearing read every line, and its payment, as a
        record, for the few moves a day that tens of thousands of lines of
        an Alipay statement share: the lines of no payment have their draft
        moves found by SQL, the others are left to them."""
        pool = Pool()
        Move = pool.get('account.move')
        line = cls.__table__()
        move = Move.__table__()
        cursor = Transaction().connection.cursor()
        payment_prefix = 'account.payment,'
        with_payment, moves = [], set()
        for sub in grouped_slice(lines):
            cursor.execute(*line.join(move, 'LEFT',
                    condition=move.id == line.move
                    ).select(line.id, line.related_to, move.id, move.state,
                    where=reduce_ids(line.id, [l.id for l in sub])))
            for id_, related_to, move_id, state in cursor:
                if (related_to or '').startswith(payment_prefix):
                    with_payment.append(id_)
                elif move_id is not None and state != 'posted':
                    moves.add(move_id)
        if moves:
            Move.post(Move.browse(sorted(moves)))
        if with_payment:
            # After the others: they skip the moves posted already
            super().post_move(cls.browse(with_payment))


class ImportStatementStart(metaclass=PoolMeta):
    __name__ = 'account.statement.import.start'

    shop = fields.Many2One(
        'web.shop', "Shop",
        domain=[('company', '=', Eval('company', -1))],
        states={
            'invisible': Eval('file_format') != 'alipay',
            'required': Eval('file_format') == 'alipay',
            })

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.file_format.selection.append(
            ('alipay', "Alipay Account Statement (账务明细)"))


class ImportStatement(metaclass=PoolMeta):
    __name__ = 'account.statement.import'

    def do_import_(self, action):
        pool = Pool()
        Statement = pool.get('account.statement')
        if self.start.file_format != 'alipay':
            return super().do_import_(action)
        # A record cache that holds every origin and line of the statement
        # (see Statement._alipay_cache_size), from the rows of the file
        rows = bytes(self.start.file_ or b'').count(b'\n')
        with Transaction().set_context(_record_cache_size=max(
                    record_cache_size(Transaction()), 2 * rows + 100)):
            action, data = super().do_import_(action)
            Statement.match_alipay(Statement.browse(data['res_id']))
        return action, data

    def parse_alipay(self):
        pool = Pool()
        Statement = pool.get('account.statement')
        shop = self.start.shop
        journal = shop.statement_journal
        clearing = (shop.payment_journal.clearing_account
            if shop.payment_journal else None)
        if (not journal or not shop.statement_suspense_account
                or not clearing or not clearing.reconcile):
            raise ImportStatementError(gettext(
                    'shop_fulfilment.msg_statement_shop_setup',
                    shop=shop.rec_name))
        try:
            parsed = alipay.parse(self.start.file_)
        except alipay.StatementError as error:
            raise ImportStatementError(gettext(
                    'shop_fulfilment.msg_statement_file_%s' % error.code,
                    **error.values)) from error
        rows = self.alipay_new_rows(journal, parsed.rows)
        statement = Statement(
            company=self.start.company, journal=journal, alipay_shop=shop,
            name=self.alipay_name(parsed, rows),
            date=china_date(max(r.time for r in rows)),
            start_balance=rows[0].balance - rows[0].amount,
            end_balance=rows[-1].balance,
            total_amount=sum(r.amount for r in rows),
            number_of_lines=len(rows))
        statement.origins = [self.alipay_origin(journal, r) for r in rows]
        yield statement

    def alipay_new_rows(self, journal, rows):
        "Return the rows not imported yet; a repeated row is kept once"
        pool = Pool()
        Origin = pool.get('account.statement.origin')
        origin = Origin.__table__()
        cursor = Transaction().connection.cursor()
        known = set()
        for sub in grouped_slice(sorted({r.serial for r in rows})):
            cursor.execute(*origin.select(origin.alipay_serial,
                    where=(origin.alipay_journal == journal.id)
                    & origin.alipay_serial.in_(list(sub))))
            known.update(s for s, in cursor)
        new = []
        for row in rows:
            if row.serial not in known:
                known.add(row.serial)
                new.append(row)
        if not new:
            raise ImportStatementError(gettext(
                    'shop_fulfilment.msg_statement_imported_already',
                    journal=journal.rec_name))
        return new

    def alipay_name(self, parsed, rows):
        dates = [china_date(r.time) for r in rows]
        return '%s %s - %s' % (
            parsed.account or self.start.shop.rec_name,
            min(dates), max(dates))

    def alipay_origin(self, journal, row):
        pool = Pool()
        Origin = pool.get('account.statement.origin')
        kind = alipay.kind(row)
        return Origin(
            number=row.serial, date=china_date(row.time), amount=row.amount,
            description=row.remark or row.product or row.business_type,
            alipay_journal=journal, alipay_serial=row.serial,
            alipay_kind=kind,
            alipay_fee_type=alipay.fee_type(row) if kind == 'fee' else None,
            alipay_trades=' '.join(row.trade_ids),
            information=self.alipay_information(row))

    def alipay_information(self, row):
        return {
            'alipay_business_no': row.business_no,
            'alipay_merchant_order': row.merchant_order,
            'alipay_product': row.product,
            'alipay_time': row.time.replace(
                tzinfo=dt.timezone.utc).astimezone(
                alipay.CHINA_TZ).strftime('%Y-%m-%d %H:%M:%S'),
            'alipay_counterpart': row.counterpart,
            'alipay_income': str(row.income),
            'alipay_expense': str(row.expense),
            'alipay_balance': str(row.balance),
            'alipay_channel': row.channel,
            'alipay_business_type': row.business_type,
            'alipay_remark': row.remark,
            }


class Receivable(ModelSQL, ModelView):
    "Platform Receivable"
    __name__ = 'web.shop.receivable'

    company = fields.Many2One('company.company', "Company")
    shop = fields.Many2One('web.shop', "Shop")
    sale = fields.Many2One('sale.sale', "Order")
    trade = fields.Char("Trade ID")
    finished = fields.DateTime("Finished")
    currency = fields.Many2One('currency.currency', "Currency")
    amount = Monetary("Owed", currency='currency', digits='currency')
    age = fields.Function(fields.Integer("Age (Days)"), 'get_age')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('shop', 'ASC'), ('finished', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Payment = pool.get('account.payment')
        Sale = pool.get('sale.sale')
        context = Transaction().context
        sale = Sale.__table__()
        clearing = Payment.platform_clearing_query()
        owed = clearing.select(
            clearing.sale, Sum(clearing.amount).as_('amount'),
            group_by=[clearing.sale])
        where = ((sale.platform_status == 'TRADE_FINISHED')
            & (owed.amount != 0)
            & (sale.company == context.get('company', -1)))
        days = context.get('days')
        if days:
            where &= sale.platform_modified <= (
                dt.datetime.utcnow() - dt.timedelta(days=days))
        if context.get('shop'):
            where &= sale.web_shop == context['shop']
        return sale.join(owed, condition=owed.sale == sale.id).select(
            sale.id.as_('id'),
            Literal(0).as_('create_uid'),
            sale.create_date.as_('create_date'),
            Literal(None).as_('write_uid'),
            Literal(None).as_('write_date'),
            sale.company.as_('company'),
            sale.web_shop.as_('shop'),
            sale.id.as_('sale'),
            sale.web_id.as_('trade'),
            sale.platform_modified.as_('finished'),
            sale.currency.as_('currency'),
            owed.amount.as_('amount'),
            where=where)

    def get_age(self, name):
        if self.finished:
            return (dt.datetime.utcnow() - self.finished).days


class ReceivableContext(ModelView):
    "Platform Receivable Context"
    __name__ = 'web.shop.receivable.context'

    company = fields.Many2One('company.company', "Company", required=True)
    shop = fields.Many2One(
        'web.shop', "Shop",
        domain=[('company', '=', Eval('company', -1))])
    days = fields.Integer(
        "Finished Days Ago", required=True,
        domain=[('days', '>=', 0)],
        help="Only the orders finished at least this many days ago.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_days(cls):
        return 7


class ReceivableReport(CompanyReport):
    __name__ = 'web.shop.receivable'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        shops = defaultdict(list)
        for record in records:
            shops[record.shop].append(record)
        context['shops'] = sorted(shops.items(), key=lambda s: s[0].rec_name)
        context['days'] = Transaction().context.get('days')
        return context


class ReconciliationReport(CompanyReport):
    __name__ = 'account.statement.alipay_reconciliation'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['unmatched'] = lambda s: [o for o in s.origins
            if o.alipay_issue]
        return context
