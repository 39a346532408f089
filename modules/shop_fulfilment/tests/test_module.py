# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import os
import random
from decimal import Decimal
from types import SimpleNamespace

import polib

from trytond.model import fields
from trytond.model.fields.field import get_eval_fields
from trytond.modules.company.tests import create_company, set_company
from trytond.modules import create_graph, load_translations
from trytond.modules.shop_fulfilment.multivalue import (
    CachedMultiValueMixin, ValueClearCacheMixin)
from trytond.modules.shop_fulfilment.product import Mapping
from trytond.modules.shop_fulfilment.sale import split_amount
from trytond.modules.shop_fulfilment.sequence import numbering
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

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

    @with_transaction()
    def test_bookkeeping_validation(self):
        """The move lines, payments, sales, invoices and stock moves are
        not validated again on the writes of their bookkeeping (reconciling,
        states, amounts' caches, shipment costs): what their validation
        depends on is not computed from what these write"""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        Payment = pool.get('account.payment')
        Sale = pool.get('sale.sale')
        Invoice = pool.get('account.invoice')
        Move = pool.get('stock.move')
        # Computed from the move, the account, the amounts and the
        # journal; a module adding to these must be checked before it is
        # added here
        for Model, known in [
                (MoveLine, {'company', 'currency', 'date',
                        'has_maturity_date', 'journal', 'move_state',
                        'party_required', 'payment_kind', 'period',
                        'second_currency_required'}),
                (Payment, {'currency', 'process_method'}),
                (Sale, {'available_carriers', 'total_amount'}),
                (Invoice, {'company_party', 'total_amount'}),
                (Move, {'cost_price_required', 'invoice_types',
                        'product_uom_category', 'unit_price_required'}),
                ]:
            function_fields = {n for n, f in Model._fields.items()
                if isinstance(f, fields.Function)}
            # What Tryton validates again on any write
            depends = {n for f in Model._fields.values()
                if not isinstance(f, fields.Function)
                for n in f.validation_depends & function_fields}
            self.assertTrue(depends, msg=Model.__name__)
            self.assertLessEqual(depends, known, msg=Model.__name__)
            for name in depends:
                field = Model._fields[name]
                # What its getter reads, when it is an on_change_with
                computed_from = field.depends | (field.on_change_with or set())
                self.assertFalse(
                    computed_from & (Model._bookkeeping_fields
                        | {'reconciliations_delegated', 'clearing_lines'}),
                    msg=name)
            for name in Model._bookkeeping_fields:
                self.assertFalse(Model._fields[name].domain, msg=name)
            # Nor do the domains and required states of the others
            for name, field in Model._fields.items():
                validated = (get_eval_fields(field.domain)
                    | get_eval_fields(field.states.get('required')))
                self.assertFalse(
                    validated & Model._bookkeeping_fields, msg=name)

    def _warehouse_moves_setup(self):
        """Return the goods, their unit, the warehouse, the customer
        location and a party, for shipments of several moves"""
        pool = Pool()
        Location = pool.get('stock.location')
        Party = pool.get('party.party')
        Address = pool.get('party.address')
        Template = pool.get('product.template')
        Product = pool.get('product.product')
        Uom = pool.get('product.uom')
        unit, = Uom.search([('name', '=', 'Unit')])
        products = []
        for name in ['Teapot', 'Cup', 'Tray']:
            template = Template(name=name, type='goods',
                default_uom=unit, list_price=Decimal(10),
                products=[Product()])
            template.save()
            products.append(template.products[0])
        warehouse, = Location.search([('type', '=', 'warehouse')])
        customer, = Location.search([('type', '=', 'customer')])
        party = Party(name="Buyer", addresses=[Address()])
        party.save()
        return products, unit, warehouse, customer, party

    def _assert_warehouse_moves(self, Shipment, shipments, names):
        "The moves computed in bulk are those of stock's own getters"
        bulk = Shipment.get_warehouse_moves(Shipment.browse(shipments), names)
        for shipment in Shipment.browse(shipments):
            for name in names:
                method = getattr(Shipment, 'get_' + name)
                self.assertEqual(bulk[name][shipment.id],
                    method(shipment, name), msg=name)
        # And it is the one the fields use
        for name in names:
            self.assertEqual(getattr(Shipment, name).getter,
                'get_warehouse_moves', msg=name)
        return bulk

    @with_transaction()
    def test_shipment_warehouse_moves(self):
        "The moves of customer shipments computed in bulk are stock's own"
        pool = Pool()
        Shipment = pool.get('stock.shipment.out')
        Move = pool.get('stock.move')
        company = create_company()
        with set_company(company):
            products, unit, warehouse, customer, party = (
                self._warehouse_moves_setup())
            shipments = []
            several = [(products[2], 1), (products[0], 2), (products[1], 3),
                (products[0], 1)]
            # The second ships straight from the storage, the third has a
            # single move (not sorted)
            for output, lines in [
                    (warehouse.output_location, several),
                    (warehouse.storage_location, several),
                    (warehouse.output_location, [(products[1], 5)])]:
                shipment = Shipment(customer=party, warehouse=warehouse,
                    company=company, delivery_address=party.addresses[0])
                shipment.on_change_warehouse()
                shipment.warehouse_output = output
                shipment.moves = [Move(product=p, unit=unit, quantity=q,
                        from_location=output, to_location=customer,
                        company=company, unit_price=Decimal(10),
                        currency=company.currency)
                    for p, q in lines]
                shipments.append(shipment)
            Shipment.save(shipments)
            Shipment.wait(shipments)

            bulk = self._assert_warehouse_moves(
                Shipment, shipments, ['inventory_moves', 'outgoing_moves'])
            self.assertEqual(len(bulk['inventory_moves'][shipments[0].id]), 4)
            self.assertEqual(len(bulk['outgoing_moves'][shipments[1].id]), 4)
            self.assertEqual(len(bulk['inventory_moves'][shipments[2].id]), 1)
            self.assertEqual(len(bulk['outgoing_moves'][shipments[2].id]), 1)

    @with_transaction()
    def test_return_shipment_warehouse_moves(self):
        "The moves of customer returns computed in bulk are stock's own"
        pool = Pool()
        Return = pool.get('stock.shipment.out.return')
        Move = pool.get('stock.move')
        company = create_company()
        with set_company(company):
            products, unit, warehouse, customer, party = (
                self._warehouse_moves_setup())
            returns = []
            several = [(products[2], 1), (products[0], 2), (products[1], 3),
                (products[0], 1)]
            # The second is received straight into the storage, the third
            # has a single move (not sorted)
            for input_, lines in [
                    (warehouse.input_location, several),
                    (warehouse.storage_location, several),
                    (warehouse.input_location, [(products[1], 5)])]:
                return_ = Return(customer=party, warehouse=warehouse,
                    company=company)
                return_.on_change_warehouse()
                return_.warehouse_input = input_
                return_.moves = [Move(product=p, unit=unit, quantity=q,
                        from_location=customer, to_location=input_,
                        company=company, unit_price=Decimal(10),
                        currency=company.currency)
                    for p, q in lines]
                returns.append(return_)
            Return.save(returns)
            # Moves without origin: a warning otherwise
            with Transaction().set_context(_skip_warnings=True):
                Return.receive(returns)

            bulk = self._assert_warehouse_moves(
                Return, returns, ['incoming_moves', 'inventory_moves'])
            self.assertEqual(len(bulk['incoming_moves'][returns[0].id]), 4)
            self.assertEqual(len(bulk['inventory_moves'][returns[0].id]), 4)
            self.assertEqual(len(bulk['incoming_moves'][returns[1].id]), 4)
            self.assertEqual(len(bulk['inventory_moves'][returns[1].id]), 0)
            self.assertEqual(len(bulk['inventory_moves'][returns[2].id]), 1)

    @with_transaction()
    def test_multivalue_cache(self):
        "The configuration values kept are read again when they change"
        pool = Pool()
        Configuration = pool.get('account.configuration')
        Journal = pool.get('account.journal')
        Sequence = pool.get('ir.sequence')
        SequenceType = pool.get('ir.sequence.type')
        ModelData = pool.get('ir.model.data')
        company = create_company()
        with set_company(company):
            cache = Configuration._multivalue_cache

            def tax_rounding():
                return Configuration(1).get_multivalue(
                    'tax_rounding', company=company.id)
            self.assertEqual(tax_rounding(), 'document')
            hits = cache.hit
            self.assertEqual(tax_rounding(), 'document')
            self.assertEqual(cache.hit, hits + 1)

            configuration = Configuration(1)
            configuration.tax_rounding = 'line'
            configuration.save()
            self.assertEqual(tax_rounding(), 'line')

            journal, = Journal.search([('code', '=', 'REV')])
            default = journal.get_multivalue('sequence', company=company.id)
            self.assertEqual(Journal(journal.id).get_multivalue(
                    'sequence', company=company.id), default)
            sequence_type = SequenceType(ModelData.get_id(
                    'account', 'sequence_type_account_journal'))
            sequence = Sequence(name="Moves", sequence_type=sequence_type,
                company=company)
            sequence.save()
            journal.sequence = sequence
            journal.save()
            self.assertNotEqual(sequence, default)
            self.assertEqual(Journal(journal.id).get_multivalue(
                    'sequence', company=company.id), sequence)

    @with_transaction()
    def test_multivalue_cache_cleared(self):
        "Every configuration value kept is cleared by its value model"
        pool = Pool()
        owners = [M for _, M in pool.iterobject()
            if issubclass(M, CachedMultiValueMixin)]
        self.assertGreaterEqual(len(owners), 5)
        for Model in owners:
            self.assertTrue(Model._multivalue_cached, msg=Model.__name__)
            for name in Model._multivalue_cached:
                Value = Model.multivalue_model(name)
                self.assertTrue(
                    issubclass(Value, ValueClearCacheMixin), msg=name)
                self.assertEqual(
                    Value._multivalue_owner, Model.__name__, msg=name)

    @with_transaction()
    def test_strict_sequence_numbering(self):
        "Numbers taken in bulk follow the sequence, written at the end"
        pool = Pool()
        Sequence = pool.get('ir.sequence.strict')
        SequenceType = pool.get('ir.sequence.type')
        sequence_type, = SequenceType.search([], limit=1)
        sequence = Sequence(name="Invoices", sequence_type=sequence_type,
            prefix='INV', padding=4, number_next=7, number_increment=2)
        sequence.save()
        other = Sequence(name="Moves", sequence_type=sequence_type)
        other.save()
        transaction = Transaction()

        def number_next(record):
            return Sequence(record.id).number_next_internal

        counter = transaction.counter
        with numbering():
            numbers = [sequence.get() for _ in range(3)]
            with numbering():
                numbers.append(sequence.get())
            numbers.append(other.get())
            # Nothing written, no cache emptied, until the block ends
            self.assertEqual(transaction.counter, counter)
            self.assertEqual(number_next(sequence), 7)
        self.assertEqual(
            numbers, ['INV0007', 'INV0009', 'INV0011', 'INV0013', '1'])
        self.assertEqual(number_next(sequence), 15)
        self.assertEqual(number_next(other), 2)
        self.assertEqual(sequence.get(), 'INV0015')

        # A block that fails writes nothing
        with self.assertRaises(ZeroDivisionError):
            with numbering():
                sequence.get()
                1 / 0
        self.assertEqual(number_next(sequence), 17)
        self.assertEqual(sequence.get(), 'INV0017')

    @with_transaction()
    def test_chinese_overrides_loaded(self):
        "With Chinese loaded, Tryton's own forms are in Chinese too"
        pool = Pool()
        Lang = pool.get('ir.lang')
        Module = pool.get('ir.module')
        ModelData = pool.get('ir.model.data')
        Menu = pool.get('ir.ui.menu')
        Sale = pool.get('sale.sale')
        Shop = pool.get('web.shop')
        ShipmentOut = pool.get('stock.shipment.out')
        ActionDomain = pool.get('ir.action.act_window.domain')

        override = {(e.msgctxt, e.msgid): e.msgstr
            for e in polib.pofile(os.path.join(os.path.dirname(
                        os.path.dirname(__file__)), 'locale', 'override',
                    'zh_CN.po'))}
        chinese, = Lang.search([('code', '=', 'zh_CN')])
        chinese.translatable = True
        chinese.save()
        graph = create_graph({m.name for m in Module.search(
                    [('state', '=', 'activated')])})

        def load(*modules):
            # As trytond does when it activates or upgrades the modules
            for node in graph:
                if not modules or node.name in modules:
                    load_translations(pool, node, ['zh_CN'])

        def check():
            with Transaction().set_context(language='zh_CN'):
                sale_fields = Sale.fields_get(
                    ['party', 'state', 'description'])
                self.assertEqual(sale_fields['party']['string'],
                    override[('field:sale.sale,party:sale.', 'Party')])
                # Marked fuzzy by sale with the translation it should have
                self.assertEqual(sale_fields['description']['string'], '描述')
                self.assertEqual(ActionDomain(ModelData.get_id(
                            'sale', 'act_sale_form_domain_all')).name, '全部')
                self.assertIn(('draft', '草稿'),
                    sale_fields['state']['selection'])
                self.assertEqual(
                    Shop.fields_get(['warehouses'])['warehouses']['string'],
                    override[('field:web.shop,warehouses:web_shop.',
                            'Warehouses')])
                # A translation of Tryton corrected: the number is no
                # quantity
                self.assertEqual(ShipmentOut.fields_get(
                        ['number'])['number']['string'], '编号')
                menu = Menu(ModelData.get_id('sale', 'menu_sale'))
                self.assertEqual(menu.name, override[
                        ('model:ir.ui.menu,name:sale.menu_sale', 'Sales')])
            with Transaction().set_context(language='en'):
                self.assertEqual(Sale.fields_get(['party'])['party'][
                        'string'], 'Party')

        load()
        check()
        # Upgrading sale alone reloads its .po, then the modules that
        # depend on it: the override is applied again
        load('sale', 'shop_fulfilment')
        check()


del ModuleTestCase
