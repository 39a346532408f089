# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Returns and refunds of Taobao/Tmall orders (售后): platform refunds in,
the return approval (退货审批单), the goods back (零售退货入库), the money.

Built on stock.shipment.out.return and account.invoice/account.payment
directly, not on sale_complaint.  A complaint's actions correct a document
through a *return sale* (a copy of the sale with negative quantities) or a
credit note copied from an invoice, one origin per complaint.  Here one
platform refund needs the goods back *and* the money, split to the fen over
the order's lines and its postage, and a return sale would go again through
shop_fulfilment's order reviews, platform payments and invoicing, meant for
what buyers pay.  So the approval follows complaint.py's shape (numbered,
states with transitions, who approved, do-it methods) and creates the
return shipment, the credit note and the refund payment itself.
"""
from trytond.pool import Pool

from . import (
    approval, decision, eligibility, money, product, refund, report,
    statement, stock, watch)

__all__ = ['register']


def register():
    Pool.register(
        refund.Refund,
        refund.Payload,
        refund.Shop,
        refund.ImportFileStart,
        refund.ImportFileResult,
        refund.RefuseStart,
        refund.Cron,
        approval.Approval,
        approval.ApprovalLine,
        decision.Decision,
        stock.Move,
        stock.ShipmentOutReturn,
        stock.InspectStart,
        stock.InspectLine,
        stock.ShipmentOut,
        stock.Approval,
        money.Approval,
        money.Payment,
        money.InvoiceLine,
        money.Sale,
        product.Template,
        eligibility.Refund,
        watch.Shop,
        watch.ReturnRate,
        watch.ReturnReason,
        watch.ReturnRateContext,
        # statement models
        statement.Payment,
        module='shop_returns', type_='model')
    Pool.register(
        refund.ImportFile,
        refund.Refuse,
        stock.Inspect,
        module='shop_returns', type_='wizard')
    Pool.register(
        report.ApprovalReport,
        module='shop_returns', type_='report')
