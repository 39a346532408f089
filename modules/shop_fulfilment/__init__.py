# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool

from . import party, product, sale, shop, trade

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
        module='shop_fulfilment', type_='model')
    Pool.register(
        trade.ImportFile,
        module='shop_fulfilment', type_='wizard')
