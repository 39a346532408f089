# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The Chinese translation is complete, checked as shop_fulfilment's is"
import unittest

from trytond.modules.shop_fulfilment.tests.test_translation import (
    TranslationTest)


class TranslationTestCase(TranslationTest, unittest.TestCase):
    "Test the Chinese translation of shop_returns"
    module = 'shop_returns'
