# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool

from . import (
    carrier, deadline, finance, fleet, merge, party, product, review, rule,
    sale, shop, stock, trade)

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
        module='shop_fulfilment', type_='model')
    Pool.register(
        trade.ImportFile,
        review.Reject,
        merge.Merge,
        merge.Split,
        deadline.ExtendShipBy,
        module='shop_fulfilment', type_='wizard')
