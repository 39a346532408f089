# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The electronic waybill service (cainiao.waybill.ii.get / cancel), as the local gateway serves it"
from .top_server import Refusal, require  # noqa: F401


class WaybillService:

    @property
    def methods(self):
        methods = super().methods
        return methods
