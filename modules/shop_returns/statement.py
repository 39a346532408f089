# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The refunds paid through the platform, matched by the Alipay statement"
from sql import Null

from trytond.pool import Pool, PoolMeta


class Payment(metaclass=PoolMeta):
    __name__ = 'account.payment'

    @classmethod
    def _platform_clearing_queries(cls):
        """The refund payments of the return approvals: a refund line of the
        statement settles them against the order"""
        pool = Pool()
        Approval = pool.get('web.shop.return_approval')
        Journal = pool.get('account.payment.journal')
        Line = pool.get('account.move.line')
        Sale = pool.get('sale.sale')
        payment = cls.__table__()
        approval = Approval.__table__()
        journal = Journal.__table__()
        line = Line.__table__()
        sale = Sale.__table__()
        return super()._platform_clearing_queries() + [payment
            .join(approval, condition=approval.refund_payment == payment.id)
            .join(sale, condition=sale.id == approval.sale)
            .join(journal, condition=journal.id == payment.journal)
            .join(line, condition=(line.move == payment.clearing_move)
                & (line.account == journal.clearing_account))
            .select(
                line.id.as_('line'), sale.id.as_('sale'),
                sale.web_shop.as_('shop'),
                (line.debit - line.credit).as_('amount'),
                where=(line.reconciliation == Null)
                & (sale.web_shop != Null))]
