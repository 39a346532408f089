# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Warehouse steps: pick, check (核对), inspect (验货), pack, weigh, hand over"
