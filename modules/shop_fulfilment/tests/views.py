# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"A check of the module's list views that the web client needs"
from lxml import etree

from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction


class ListViewMixin:
    "For a ModuleTestCase: the list views render in sao"

    @with_transaction()
    def test_list_datetime_columns(self):
        """A date-time column of a list has widget date or time: sao 7.0
        renders no other (the whole list fails), as core's lists do"""
        pool = Pool()
        View = pool.get('ir.ui.view')
        failures = []
        for view in View.search([('module', '=', self.module)]):
            type_ = view.inherit.type if view.inherit else view.type
            if type_ != 'tree' or not view.model:
                continue
            fields = pool.get(view.model)._fields
            for field in etree.fromstring(view.arch).iter('field'):
                if (fields[field.get('name')]._type in {
                            'datetime', 'timestamp'}
                        and field.get('widget') not in {'date', 'time'}):
                    failures.append('%s: %s' % (
                            view.rec_name, field.get('name')))
        self.assertEqual(failures, [])
