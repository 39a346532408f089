# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The seller's decisions on refunds, told to the platform through the queue:
each (refund, action) once"""
import datetime as dt
from collections import defaultdict
from itertools import groupby

from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.modules.shop_fulfilment import taobao
from trytond.modules.shop_fulfilment.consignment import (
    backoff, platform_client)
from trytond.modules.shop_fulfilment.deadline import utc_now
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from . import taobao_refund

ACTIONS = [
    ('agree_return', "Agree to the Return"),
    ('agree_refund', "Agree to the Refund"),
    ('refuse', "Refuse"),
    ]
METHODS = {
    'agree_return': 'taobao.rp.returngoods.agree',
    'agree_refund': 'taobao.rp.refunds.agree',
    'refuse': 'taobao.refund.refuse',
    }
# The platform statuses showing an action went through
DONE_STATUSES = {
    'agree_return': taobao_refund.AGREED,
    'agree_refund': {'SUCCESS'},
    'refuse': {'SELLER_REFUSE_BUYER'},
    }
STALE = dt.timedelta(hours=1)
MAX_ATTEMPTS = 8


class Decision(Workflow, ModelSQL, ModelView):
    "Refund Decision"
    __name__ = 'web.shop.taobao.refund.decision'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True, readonly=True,
        ondelete='RESTRICT')
    refund = fields.Many2One(
        'web.shop.taobao.refund', "Refund", required=True, readonly=True,
        ondelete='CASCADE')
    action = fields.Selection(ACTIONS, "Action", required=True, readonly=True)
    message = fields.Char("Message", readonly=True,
        help="The refusal reason told to the buyer.")
    state = fields.Selection([
            ('waiting', "Waiting"),
            ('sending', "Sending"),
            ('done', "Done"),
            ('failed', "Failed"),
            ], "State", readonly=True, required=True, sort=False)
    attempts = fields.Integer("Attempts", readonly=True)
    next_attempt_at = fields.DateTime("Next Attempt", readonly=True)
    last_error = fields.Text("Last Error", readonly=True)
    response = fields.Text("Platform Answer", readonly=True)
    sent_at = fields.DateTime("Sent At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('refund_action_unique', Unique(t, t.refund, t.action),
                'shop_returns.msg_decision_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.state, Index.Equality()),
                where=t.state.in_(['waiting', 'sending', 'failed'])))
        cls._transitions |= {
            ('waiting', 'sending'),
            ('failed', 'sending'),
            ('sending', 'done'),
            ('sending', 'failed'),
            }
        cls._buttons.update({
                'send_again': {
                    'invisible': Eval('state') != 'failed',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'waiting'

    @classmethod
    def default_attempts(cls):
        return 0

    def get_rec_name(self, name):
        return '%s: %s' % (self.refund.rec_name, self.action)

    @classmethod
    @without_check_access
    def create_for(cls, refunds, action, reason=None):
        "The decisions not made yet for the refunds"
        made = set()
        for sub in grouped_slice(refunds):
            made.update(d.refund for d in cls.search([
                        ('refund', 'in', [r.id for r in sub]),
                        ('action', '=', action),
                        ]))
        decisions = [cls(shop=r.shop, refund=r, action=action,
                message=reason)
            for r in refunds if r not in made]
        cls.save(decisions)
        # Read together from now on, not one by one as saved
        return cls.browse(decisions)

    @classmethod
    @without_check_access
    def queue(cls, decisions):
        decisions = [d for d in decisions
            if d.state in {'waiting', 'failed', 'sending'}]
        if not decisions:
            return
        cls.write(decisions, {'state': 'sending', 'next_attempt_at': utc_now()})
        for batch in grouped_slice(decisions, 100):
            cls.__queue__.send(list(batch))

    @classmethod
    @ModelView.button
    def send_again(cls, decisions):
        cls.write([d for d in decisions if d.state == 'failed'], {
                'attempts': 0, 'last_error': None})
        cls.queue(cls.browse(decisions))

    @classmethod
    def send_cron(cls):
        cls.queue(cls.search(['OR',
                    ('state', '=', 'waiting'),
                    [('state', '=', 'sending'),
                        ('next_attempt_at', '<', utc_now() - STALE)],
                    ], order=[('id', 'ASC')]))

    @classmethod
    def send(cls, decisions):
        "Tell the platform, once each: the queue's entry point"
        # Locked first: a second task for the same records finds them done
        cls.lock(decisions)
        decisions = [d for d in cls.browse(decisions) if d.state == 'sending']
        outcomes, retry = [], defaultdict(list)
        for shop, items in groupby(
                sorted(decisions, key=lambda d: (d.shop.id, d.id)),
                key=lambda d: d.shop):
            client = platform_client(shop)
            for decision in items:
                values = decision._send(client)
                outcomes += [[decision], values]
                if values.get('state', 'sending') == 'sending':
                    retry[values['attempts']].append(decision)
        if outcomes:
            cls.write(*outcomes)
        for attempts, records in retry.items():
            with Transaction().set_context(
                    queue_scheduled_at=backoff(attempts)):
                cls.__queue__.send(records)

    def _send(self, client):
        attempts = (self.attempts or 0) + 1
        try:
            text, body = client.call_raw(
                METHODS[self.action], **self.params())
        except taobao.TopError as error:
            if not error.temporary and self._done_on_platform(client):
                # An earlier call went through but its answer was lost
                return self._done_values(attempts, str(error))
            return self._error_values(attempts, error)
        if not self._succeeded(body):
            if self._done_on_platform(client):
                return self._done_values(attempts, text)
            return {'state': 'failed', 'attempts': attempts,
                'response': text, 'last_error': text}
        return self._done_values(attempts, text)

    def params(self):
        refund = self.refund
        if self.action == 'agree_refund':
            info = [refund.refund_id,
                str(taobao_refund.fen(refund.approvals[0].refund_amount
                        if refund.approvals else refund.refund_fee)),
                refund.refund_version or '']
            if refund.refund_phase:
                info.append(refund.refund_phase)
            return {'refund_infos': '|'.join(info)}
        params = {'refund_id': refund.refund_id,
            'refund_phase': refund.refund_phase,
            'refund_version': refund.refund_version}
        if self.action == 'refuse':
            params['refuse_message'] = self.message
        else:
            params.update(self.shop.return_address_params())
        return params

    def _succeeded(self, body):
        if self.action == 'agree_refund':
            return bool(body.get('succ'))
        if self.action == 'refuse':
            return bool(body.get('is_success', True))
        return bool(body.get('is_success'))

    def _done_on_platform(self, client):
        try:
            data = taobao_refund.load_refund(
                taobao_refund.refund_detail(client, self.refund.refund_id))
        except (taobao.TopError, taobao.TradeError):
            return False
        return data.get('status') in DONE_STATUSES[self.action]

    def _done_values(self, attempts, text):
        return {'state': 'done', 'attempts': attempts, 'response': text,
            'sent_at': utc_now(), 'next_attempt_at': None,
            'last_error': None}

    def _error_values(self, attempts, error):
        values = {'attempts': attempts, 'last_error': str(error)}
        if not error.temporary or attempts >= MAX_ATTEMPTS:
            values['state'] = 'failed'
        else:
            values['state'] = 'sending'
            values['next_attempt_at'] = utc_now() + backoff(attempts)
        return values
