# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import json
import unittest
from decimal import Decimal

from trytond.modules.shop_fulfilment.taobao import TradeError
from trytond.modules.shop_returns import taobao_refund
from trytond.modules.shop_returns.tests import refund_generator
from trytond.modules.shop_fulfilment.tests import generator
from trytond.modules.shop_fulfilment.tests.views import ListViewMixin
from trytond.tests.test_tryton import ModuleTestCase


class ShopReturnsTestCase(ListViewMixin, ModuleTestCase):
    "Test Shop Returns module"
    module = 'shop_returns'
    extras = []


class RefundParsingTestCase(unittest.TestCase):
    "The platform's refunds parsed without the ORM"

    def setUp(self):
        trades = generator.generate_trades(
            5, seed=3, status_weights={'WAIT_SELLER_SEND_GOODS': 1})
        self.refund = refund_generator.refund_for(trades[0], seed=1)

    def test_parse(self):
        "The generated refund reads back"
        values = taobao_refund.parse_refund(taobao_refund.load_refund(
                refund_generator.response_text(self.refund)))
        self.assertEqual(values.refund_id, str(self.refund['refund_id']))
        self.assertEqual(values.refund_fee, Decimal(self.refund['refund_fee']))
        self.assertEqual(values.status, 'WAIT_SELLER_AGREE')
        self.assertEqual(values.modified.tzinfo, None)

    def test_bad_money(self):
        "A refund amount that is not money is refused"
        self.refund['refund_fee'] = '12.345'
        with self.assertRaises(TradeError) as cm:
            taobao_refund.parse_refund(self.refund)
        self.assertEqual(cm.exception.code, 'bad_money')

    def test_unknown_status(self):
        self.refund['status'] = 'WAIT_ALIENS'
        with self.assertRaises(TradeError):
            taobao_refund.parse_refund(self.refund)

    def test_peek_broken(self):
        "The refund id is found even in a broken payload"
        text = refund_generator.response_text(self.refund)
        self.assertEqual(taobao_refund.peek_refund_id(text[:90]),
            str(self.refund['refund_id']))

    def test_fen(self):
        self.assertEqual(taobao_refund.fen(Decimal('1299.01')), 129901)

    def test_error_response(self):
        with self.assertRaises(TradeError):
            taobao_refund.load_refund(json.dumps(
                    {'error_response': {'code': 15}}))


del ModuleTestCase
