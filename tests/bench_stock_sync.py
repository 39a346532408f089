#!/usr/bin/env python3
# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Benchmark of the stock sync to the platform (prints figures)

    ./run bench stock_sync [--uri URI] [--skus 10000] [--changed 1000]
                           [--database shop_bench_stock_sync]

--skus / 2 products are listed on two shops selling from the same warehouse
(one SKU per product and shop, items of 10 SKUs), all in stock and pushed
once (the set-up).  Then --changed / 2 products receive goods: the scheduled
job computes the change set of the marked SKUs (goal < 5 s for 1,000 of
10,000) and the queue pushes them to a local gateway, the tasks run right
after in this process, as trytond does without workers.  The full
reconciliation of all SKUs, which finds nothing to push, is timed too.
"""
import argparse
import os
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_import  # noqa: E402

APP_KEY, APP_SECRET, SESSION = '12345678', 'bench-secret', 'bench-session'
SKUS_PER_ITEM = 10


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--uri', default=bench_import.DEFAULT_URI)
    parser.add_argument('--database', default='shop_bench_stock_sync')
    parser.add_argument('--skus', type=int, default=10000)
    parser.add_argument('--changed', type=int, default=1000)
    return parser.parse_args(argv)


def setup(args, server):
    "The company, two shops on the gateway, the products in stock"
    from proteus import Model
    from trytond.modules.company.tests.tools import create_company
    from trytond.modules.shop_fulfilment.tests import tools

    bench_import.activate()
    create_company(currency=tools.get_cny())
    shops = [tools.create_shop("天猫旗舰店", 'tmall', order_source='file'),
        tools.create_shop("淘宝店", 'taobao', seller_nick='沪上家电淘宝店',
            order_source='file')]
    for shop in shops:
        shop.api_url = server.url
        shop.app_key, shop.app_secret, shop.session_key = (
            APP_KEY, APP_SECRET, SESSION)
        shop.stock_sync = True
        shop.save()
    shops[1].stock_share = 'percentage'
    shops[1].stock_share_percentage = 50
    shops[1].save()
    Location = Model.get('stock.location')
    storage, = Location.find([('code', '=', 'STO')], limit=1)
    supplier, = Location.find([('code', '=', 'SUP')], limit=1)
    return [s.id for s in shops], storage.id, supplier.id


def create_catalogue(args, shop_ids, storage, supplier, server):
    "Create the products, their mappings and stock in one transaction"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    count = args.skus // 2
    with Transaction().start(args.database, 1, context={
                '_skip_warnings': True, 'company': 1}):
        pool = Pool()
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        Mapping = pool.get('web.shop.taobao.product')
        Move = pool.get('stock.move')
        Company = pool.get('company.company')
        unit, = Uom.search([('symbol', '=', 'u')], limit=1)
        company, = Company.search([], limit=1)
        templates = Template.create([{
                    'name': 'Bench %s' % i, 'type': 'goods',
                    'default_uom': unit.id, 'sale_uom': unit.id,
                    'salable': True,
                    'list_price': Decimal(10),
                    'products': [('create', [{
                                    'suffix_code': 'B%05d' % i}])],
                    } for i in range(count)])
        products = [t.products[0] for t in templates]
        mappings = []
        for shop_id in shop_ids:
            for i, product in enumerate(products):
                num_iid = str(800000000000 + i // SKUS_PER_ITEM)
                mappings.append({
                        'shop': shop_id, 'num_iid': num_iid,
                        'sku_id': str(900000000000 + i),
                        'outer_sku_id': product.code, 'product': product.id})
        Mapping.create(mappings)
        moves = Move.create([{
                    'product': p.id, 'unit': unit.id, 'quantity': 50,
                    'from_location': supplier, 'to_location': storage,
                    'unit_price': Decimal(5), 'currency': company.currency.id,
                    'company': company.id,
                    } for p in products])
        Move.do(moves)
        Transaction().commit()
    for i in range(0, count, SKUS_PER_ITEM):
        server.add_item(800000000000 + i // SKUS_PER_ITEM, skus={
                900000000000 + j: 0
                for j in range(i, min(i + SKUS_PER_ITEM, count))})
    return [p.id for p in products]


def receive(args, product_ids, storage, supplier):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(args.database, 1, context={
                '_skip_warnings': True, 'company': 1}):
        pool = Pool()
        Move = pool.get('stock.move')
        Product = pool.get('product.product')
        Company = pool.get('company.company')
        company, = Company.search([], limit=1)
        moves = Move.create([{
                    'product': p.id, 'unit': p.default_uom.id, 'quantity': 7,
                    'from_location': supplier, 'to_location': storage,
                    'unit_price': Decimal(5), 'currency': company.currency.id,
                    'company': company.id,
                    } for p in Product.browse(product_ids)])
        Move.do(moves)
        Transaction().commit()


def sync(args, method):
    """Run the cron method; return the mappings queued, the seconds to
    compute and queue, and the seconds the pushes took"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from trytond.worker import run_task
    start = time.perf_counter()
    with Transaction().start(args.database, 1, context={'company': 1}) as t:
        Mapping = Pool().get('web.shop.taobao.product')
        getattr(Mapping, method)()
        queued = Mapping.search_count([('stock_state', '=', 'pushing')])
        tasks = list(t.tasks)
        t.tasks.clear()
        t.commit()
    computed = time.perf_counter() - start
    start = time.perf_counter()
    while tasks:
        run_task(args.database, tasks.pop(0))
    return queued, computed, time.perf_counter() - start


def main(argv=None):
    args = parse_args(argv)
    os.environ['TRYTOND_DATABASE_URI'] = args.uri
    os.environ['DB_NAME'] = args.database
    os.environ['TRYTOND_QUEUE__WORKER'] = 'False'
    from trytond.modules.shop_fulfilment.tests.top_inventory import (
        InventoryServer)

    print("PostgreSQL %s, database %s, %d SKUs on two shops, %d changed, "
        "Python %s" % (args.uri, args.database, args.skus, args.changed,
            sys.version.split()[0]))
    with InventoryServer(APP_KEY, APP_SECRET, SESSION) as server:
        start = time.perf_counter()
        shop_ids, storage, supplier = setup(args, server)
        product_ids = create_catalogue(
            args, shop_ids, storage, supplier, server)
        print("set-up: %d products, %d mappings in %.1f s" % (
                len(product_ids), 2 * len(product_ids),
                time.perf_counter() - start))
        queued, computed, pushed = sync(args, 'sync_stock_cron')
        print("first push of every SKU: %d queued, computed in %.2f s, "
            "pushed in %.2f s (%d calls)" % (
                queued, computed, pushed, sum(server.counts.values())))

        receive(args, product_ids[:args.changed // 2], storage, supplier)
        calls = sum(server.counts.values())
        queued, computed, pushed = sync(args, 'sync_stock_cron')
        print("change set: %d SKUs of %d changed, computed and queued in "
            "%.2f s (goal < 5 s)" % (queued, args.skus, computed))
        print("push: %d SKUs in %.2f s, %d calls, %.0f SKUs/s" % (
                queued, pushed, sum(server.counts.values()) - calls,
                queued / pushed if pushed else 0))

        calls = sum(server.counts.values())
        queued, computed, pushed = sync(args, 'reconcile_stock_cron')
        print("full reconciliation of %d SKUs: %.2f s, %d pushed, "
            "%d calls" % (args.skus, computed + pushed, queued,
                sum(server.counts.values()) - calls))


if __name__ == '__main__':
    main()
