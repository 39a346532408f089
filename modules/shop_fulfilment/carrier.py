# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Carriers as the platform knows them"
from trytond.model import fields
from trytond.pool import PoolMeta

# The logistics company codes of taobao.logistics.offline.send
PLATFORM_CODES = [
    (None, ""),
    ('YTO', "YTO Express"),
    ('ZTO', "ZTO Express"),
    ('STO', "STO Express"),
    ('YUNDA', "Yunda Express"),
    ('SF', "SF Express"),
    ('HTKY', "Best Express"),
    ('EMS', "EMS"),
    ('POSTB', "China Post Parcel"),
    ('ZJS', "ZJS Express"),
    ('DBKD', "Deppon Express"),
    ('OTHER', "Other"),
    ]


class Carrier(metaclass=PoolMeta):
    __name__ = 'carrier'

    platform_code = fields.Selection(
        PLATFORM_CODES, "Platform Code", sort=False,
        help="The code of the logistics company on Taobao/Tmall, "
        "sent when the shipment is confirmed to the platform.")
    platform_code_string = platform_code.translated('platform_code')
