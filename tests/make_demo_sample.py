#!/usr/bin/env python3
# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Write the relay database bundled with the demo (deterministic).

    python tests/make_demo_sample.py [PATH]

240 generated trades of the demo shop (paid, unpaid, closed, refunds in
progress, masked receivers, gifts, discounts, postage) and the bad payloads
the importer puts in its exception list, as Jushita rows."""
import datetime as dt
import os
import re
import sqlite3
import sys

from trytond.modules.shop_fulfilment.tests import generator

SAMPLE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    'modules', 'shop_fulfilment', 'demo', 'relay_sample.sqlite')
COUNT = 240


def write_bad_rows(path):
    "Store the bad payloads as the relay would: as received"
    connection = sqlite3.connect(path)
    when = dt.datetime(2026, 11, 11, 23, 59, 0)
    with connection:
        for i, (name, text) in enumerate(
                sorted(generator.bad_payloads().items())):
            tid = int(re.search(r'"tid":\s*(\d+)', text).group(1))
            stamp = (when + dt.timedelta(seconds=i)).strftime(
                '%Y-%m-%d %H:%M:%S')
            connection.execute(
                'INSERT OR REPLACE INTO jdp_tb_trade (tid, status, type, '
                'seller_nick, buyer_nick, created, modified, jdp_hashcode, '
                'jdp_response, jdp_created, jdp_modified) '
                'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                (tid, 'WAIT_SELLER_SEND_GOODS',
                    'fixed', '沪上家电旗舰店', name, stamp, stamp, name, text,
                    stamp, stamp))
    connection.close()


def main(path=SAMPLE):
    if os.path.exists(path):
        os.remove(path)
    generator.write_relay(path, generator.generate_trades(COUNT, seed=2026))
    write_bad_rows(path)
    connection = sqlite3.connect(path)
    connection.execute('VACUUM')
    connection.close()
    print(path)


if __name__ == '__main__':
    main(*sys.argv[1:])
