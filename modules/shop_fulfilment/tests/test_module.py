# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import random
from decimal import Decimal
from types import SimpleNamespace

from trytond.modules.shop_fulfilment.product import Mapping
from trytond.modules.shop_fulfilment.sale import split_amount
from trytond.tests.test_tryton import ModuleTestCase

from .views import ListViewMixin


class Currency:
    "The rounding of the Renminbi"

    @staticmethod
    def round(amount):
        return amount.quantize(Decimal('0.01'))


class ShopFulfilmentTestCase(ListViewMixin, ModuleTestCase):
    "Test Shop Fulfilment module"
    module = 'shop_fulfilment'

    def test_split_amount_to_the_fen(self):
        "The rounded line amounts add up to what the buyer paid"
        rng = random.Random(42)
        cases = [(Decimal('100.00'), 3), (Decimal('0.01'), 7),
            (Decimal('99.99'), 12)] + [
            (Decimal(rng.randint(1, 2_000_000)) / 100, rng.randint(1, 120))
            for _ in range(2000)]
        for amount, quantity in cases:
            parts = split_amount(amount, quantity, Currency)
            self.assertEqual(sum(q for q, _ in parts), quantity)
            self.assertEqual(
                sum(Currency.round(p * q) for q, p in parts), amount,
                msg='%s for %s' % (amount, quantity))
            self.assertLessEqual(len(parts), 2)

    def test_split_amount_even(self):
        "An amount that divides evenly is one line"
        self.assertEqual(
            split_amount(Decimal('299.70'), 3, Currency),
            [(3, Decimal('99.9000'))])

    def test_mapping_lookup_most_specific(self):
        "The SKU identifiers win over the item's, the code comes last"
        index = {
            ('sku_id', '51'): 'sku',
            ('outer_sku_id', 'A-1'): 'outer sku',
            ('num_iid', '70'): 'item',
            ('outer_iid', 'A'): 'outer item',
            ('code', 'B'): 'code',
            }

        def line(**values):
            values = dict(dict.fromkeys(
                    ['sku_id', 'outer_sku_id', 'num_iid', 'outer_iid']),
                **values)
            return SimpleNamespace(**values)
        self.assertEqual(Mapping.lookup(index, line(
                    sku_id='51', outer_sku_id='A-1', num_iid='70')), 'sku')
        self.assertEqual(Mapping.lookup(index, line(
                    sku_id='52', outer_sku_id='A-1', num_iid='70')),
            'outer sku')
        self.assertEqual(Mapping.lookup(index, line(
                    sku_id='53', num_iid='70')), 'item')
        self.assertEqual(Mapping.lookup(index, line(
                    outer_iid='B', num_iid='71')), 'code')
        self.assertIsNone(Mapping.lookup(index, line(num_iid='72')))


del ModuleTestCase
