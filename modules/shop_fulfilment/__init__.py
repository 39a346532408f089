# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool

from . import (
    carrier, consignment, deadline, dispatch, finance, fleet, merge, party,
    product, report, review, rule, sale, shipping_exception, shop, stock,
    trade, tracking, warehouse, waybill)

__all__ = ['register']


def register():
    Pool.register(
        shop.Shop,
        shop.Cron,
        trade.Trade,
        trade.Payload,
        trade.ImportFileStart,
        trade.ImportFileResult,
        product.Mapping,
        party.Buyer,
        party.Party,
        party.Address,
        sale.Sale,
        sale.Line,
        carrier.Carrier,
        rule.Shop,
        rule.CarrierRule,
        rule.WarehouseRule,
        rule.GiftRule,
        rule.Sale,
        rule.Line,
        review.Shop,
        review.Sale,
        review.RejectStart,
        finance.Shop,
        finance.Sale,
        finance.Invoice,
        stock.Sale,
        stock.ShipmentOut,
        merge.Sale,
        merge.ShipmentOut,
        merge.SplitStart,
        merge.SplitLine,
        fleet.ServiceArea,
        fleet.FleetDelivery,
        fleet.Sale,
        deadline.Shop,
        deadline.Template,
        deadline.Sale,
        deadline.Line,
        deadline.ShipByExtension,
        deadline.ExtendShipByStart,
        deadline.ShipmentOut,
        # waybill models
        # report models
        # warehouse models
        # consignment models
        # tracking models
        # dispatch models
        # shipping_exception models
        module='shop_fulfilment', type_='model')
    Pool.register(
        trade.ImportFile,
        review.Reject,
        merge.Merge,
        merge.Split,
        deadline.ExtendShipBy,
        # waybill wizards
        # report wizards
        # warehouse wizards
        # consignment wizards
        # tracking wizards
        # dispatch wizards
        # shipping_exception wizards
        module='shop_fulfilment', type_='wizard')
    Pool.register(
        # report reports
        module='shop_fulfilment', type_='report')
