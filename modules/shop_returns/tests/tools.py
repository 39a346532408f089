# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Helpers of the returns scenarios, through proteus as a user would"
from proteus import Model, Wizard

from trytond.modules.shop_returns.tests import refund_generator


def import_refunds(shop, refunds, config=None):
    "Import the refund versions through the file wizard; return the summary"
    wizard = Wizard('web.shop.taobao.refund.import_file', config=config)
    wizard.form.shop = shop
    wizard.form.file_ = '\n'.join(
        refund_generator.response_text(r) for r in refunds).encode()
    wizard.execute('import_')
    summary = wizard.form.summary
    wizard.execute('end')
    return summary


def refund(shop, refund_id, config=None):
    Refund = Model.get('web.shop.taobao.refund', config=config)
    record, = Refund.find([
            ('shop', '=', shop.id), ('refund_id', '=', str(refund_id))])
    return record


def hand_over(shipments, number, config=None):
    "Assign, pick, pack and hand the shipments to the carrier"
    Shipment = Model.get('stock.shipment.out', config=config)
    Package = Model.get('stock.package', config=config)
    PackageType = Model.get('stock.package.type', config=config)
    package_type, = (PackageType.find([('name', '=', "纸箱")])
        or [PackageType(name="纸箱")])
    package_type.save()
    Shipment.click(shipments, 'assign_try')
    Shipment.click(shipments, 'pick')
    for i, shipment in enumerate(shipments):
        shipment.reload()
        shipment.shipping_reference = 'YT%010d' % (number + i)
        package = shipment.packages.new(type=package_type)
        package.shipping_reference = shipment.shipping_reference
        package.moves.extend(
            Model.get('stock.move', config=config)(m.id)
            for m in shipment.outgoing_moves if m.state != 'cancelled')
    Shipment.save(shipments)
    Shipment.click(shipments, 'pack')
    Shipment.click(shipments, 'done')
    for shipment in shipments:
        shipment.reload()


def balanced(sale):
    """Per order: what the buyer paid minus what was refunded equals what
    was invoiced minus what was credited, to the fen"""
    sale.reload()
    return (sale.platform_payment - sale.platform_refunded
        == sale.invoiced_amount - sale.credited_amount)


def user(login, *groups, config=None):
    "A user in the groups given as 'module.fs_id'"
    User = Model.get('res.user', config=config)
    Group = Model.get('res.group', config=config)
    ModelData = Model.get('ir.model.data', config=config)
    record = User(name=login, login=login)
    for group in groups:
        module, fs_id = group.split('.')
        data, = ModelData.find(
            [('module', '=', module), ('fs_id', '=', fs_id)])
        record.groups.append(Group(data.db_id))
    record.save()
    return record
