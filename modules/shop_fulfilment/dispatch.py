# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Own-fleet dispatch (派网点/派工): the service outlets and the wizards
dispatching deliveries and recording failed attempts"""
from trytond.exceptions import UserError
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard


class DispatchError(UserError):
    "A fleet delivery that cannot take the step as it is"


class ServiceOutlet(DeactivableMixin, ModelSQL, ModelView):
    "Service Outlet"
    __name__ = 'web.shop.service_outlet'

    company = fields.Many2One('company.company', "Company", required=True)
    name = fields.Char("Name", required=True)
    code = fields.Char("Code")
    service_area = fields.Many2One(
        'web.shop.service_area', "Service Area", required=True,
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        help="The area whose deliveries the outlet's workers make.")
    address = fields.Char("Address")
    phone = fields.Char("Phone")

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('name', operator, operand, *extra),
            ('code', operator, operand, *extra),
            ]


class DispatchStart(ModelView):
    "Dispatch Fleet Deliveries"
    __name__ = 'shop_fulfilment.dispatch_fleet.start'

    company = fields.Many2One('company.company', "Company", readonly=True)
    service_area = fields.Many2One(
        'web.shop.service_area', "Service Area", readonly=True,
        states={'invisible': ~Eval('service_area')})
    outlet = fields.Many2One(
        'web.shop.service_outlet', "Service Outlet", required=True,
        domain=[
            ('company', '=', Eval('company', -1)),
            If(Eval('service_area'),
                ('service_area', '=', Eval('service_area', -1)),
                ()),
            ])
    worker = fields.Many2One(
        'company.employee', "Worker", required=True,
        domain=[('company', '=', Eval('company', -1))])
    delivery_time = fields.DateTime(
        "Delivery Time", required=True,
        help="The time agreed with the buyers.")


class Dispatch(Wizard):
    "Dispatch Fleet Deliveries"
    __name__ = 'shop_fulfilment.dispatch_fleet'
    start = StateView('shop_fulfilment.dispatch_fleet.start',
        'shop_fulfilment.dispatch_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Dispatch", 'dispatch', 'tryton-ok', default=True),
            ])
    dispatch = StateTransition()

    def default_start(self, fields):
        areas = {d.service_area for d in self.records}
        times = {d.delivery_time for d in self.records}
        return {
            'company': self.records[0].company.id if self.records else None,
            'service_area': areas.pop().id if len(areas) == 1 else None,
            'delivery_time': times.pop() if len(times) == 1 else None,
            }

    def transition_dispatch(self):
        deliveries = [d for d in self.records
            if d.state in {'to_dispatch', 'failed'}]
        for delivery in deliveries:
            delivery.outlet = self.start.outlet
            delivery.worker = self.start.worker
            delivery.delivery_time = self.start.delivery_time
            delivery.check_dispatch()
        self.model.save(deliveries)
        # Only the groups of the dispatch button may dispatch
        with check_access():
            self.model.dispatch(deliveries)
        return 'end'


class FailStart(ModelView):
    "Delivery Failed"
    __name__ = 'shop_fulfilment.fail_fleet.start'

    reason = fields.Char(
        "Reason", required=True, size=200,
        help="Why the goods could not be delivered, "
        "e.g. nobody at home, the buyer refused them.")


class Fail(Wizard):
    "Delivery Failed"
    __name__ = 'shop_fulfilment.fail_fleet'
    start = StateView('shop_fulfilment.fail_fleet.start',
        'shop_fulfilment.dispatch_fail_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Record", 'fail', 'tryton-ok', default=True),
            ])
    fail = StateTransition()

    def transition_fail(self):
        # Only the groups of the fail button may record a failure
        with check_access():
            self.model.fail(self.records)
        self.model.record_failure(
            [d for d in self.records if d.state == 'dispatched'],
            self.start.reason)
        return 'end'
