# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Logistics: ship confirmation (taobao.logistics.offline.send) and traces (taobao.logistics.trace.search), as the local gateway serves it"
from .top_server import Refusal, require  # noqa: F401


class LogisticsService:

    @property
    def methods(self):
        methods = super().methods
        return methods
