# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Own-fleet dispatch (派网点/派工) and delivery results"
