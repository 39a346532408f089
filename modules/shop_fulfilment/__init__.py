# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool

from . import (
    account, carrier, consignment, deadline, dispatch, finance, fleet, merge,
    multivalue, party, product, queue, reconciliation, report, review, rule,
    sale, sequence, shipping_exception, shop, statement, stock, stock_sync,
    trade, tracking, translation, warehouse, waybill)

__all__ = ['register']


def register():
    Pool.register(
        translation.Translation,
        queue.Queue,
        sequence.SequenceStrict,
        multivalue.AccountConfiguration,
        multivalue.AccountConfigurationTaxRounding,
        multivalue.AccountConfigurationDefaultAccount,
        multivalue.Journal,
        multivalue.JournalSequence,
        multivalue.PartyConfiguration,
        multivalue.PartyConfigurationLang,
        multivalue.SaleConfiguration,
        multivalue.SaleConfigurationSequence,
        multivalue.StockConfiguration,
        multivalue.StockConfigurationSequence,
        queue.Cron,
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
        finance.Queue,
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
        waybill.Carrier,
        waybill.Shop,
        waybill.Package,
        waybill.VoidWaybill,
        waybill.ShipmentOut,
        waybill.ShipmentInReturn,
        waybill.Cron,
        # report models
        report.Shop,
        report.WaybillTemplate,
        report.Package,
        # warehouse models
        warehouse.Shop,
        warehouse.Template,
        warehouse.PackageType,
        warehouse.Package,
        warehouse.Move,
        warehouse.ShipmentOut,
        warehouse.CheckParcelStart,
        warehouse.CheckParcelMismatch,
        warehouse.InspectShipmentStart,
        warehouse.PackShipmentStart,
        warehouse.WeighParcelStart,
        warehouse.HandOverStart,
        # consignment models
        consignment.Consignment,
        consignment.ShipmentOut,
        consignment.Sale,
        consignment.Cron,
        # tracking models
        tracking.ShipmentOut,
        tracking.Cron,
        # dispatch models
        fleet.ShipmentOut,
        dispatch.ServiceOutlet,
        dispatch.DispatchStart,
        dispatch.FailStart,
        # shipping_exception models
        shipping_exception.ShippingException,
        shipping_exception.ShippingExceptionLine,
        shipping_exception.Move,
        shipping_exception.ShipmentOut,
        shipping_exception.ShipmentOutReturn,
        stock.ShipmentOutReturn,
        stock.Move,
        shipping_exception.Sale,
        account.Move,
        account.MoveLine,
        reconciliation.Reconciliation,
        reconciliation.MoveLine,
        reconciliation.Payment,
        # statement models
        statement.Shop,
        statement.ShopStatementFee,
        statement.Payment,
        statement.Statement,
        statement.Origin,
        statement.Line,
        statement.ImportStatementStart,
        statement.Receivable,
        statement.ReceivableContext,
        # stock_sync models
        stock_sync.Shop,
        stock_sync.Product,
        stock_sync.Mapping,
        stock_sync.Move,
        stock_sync.Sale,
        stock_sync.SaleLine,
        stock_sync.Cron,
        module='shop_fulfilment', type_='model')
    Pool.register(
        trade.ImportFile,
        review.Reject,
        merge.Merge,
        merge.Split,
        deadline.ExtendShipBy,
        # waybill wizards
        waybill.CreateShipping,
        # report wizards
        report.PrintWaybill,
        # warehouse wizards
        warehouse.CheckParcel,
        warehouse.InspectShipment,
        warehouse.PackShipment,
        warehouse.WeighParcel,
        warehouse.HandOver,
        # consignment wizards
        # tracking wizards
        # dispatch wizards
        dispatch.Dispatch,
        dispatch.Fail,
        # shipping_exception wizards
        # statement wizards
        statement.ImportStatement,
        module='shop_fulfilment', type_='wizard')
    Pool.register(
        # report reports
        report.WaybillReport,
        report.DeliveryNote,
        report.PickList,
        report.HandoverList,
        report.FleetNote,
        # statement reports
        statement.ReceivableReport,
        statement.ReconciliationReport,
        module='shop_fulfilment', type_='report')
