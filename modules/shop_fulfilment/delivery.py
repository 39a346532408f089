# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The ways an order reaches the buyer"

# The seed's three delivery modes
DELIVERY_MODES = [
    ('express', "Third-Party Express"),
    ('scheduled', "Scheduled Delivery"),
    ('own_fleet', "Own Fleet"),
    ]
DELIVERY_MODES_OPTIONAL = [(None, "")] + DELIVERY_MODES
