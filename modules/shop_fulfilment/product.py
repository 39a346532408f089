# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The product mapping (商品编码对照) from platform SKUs to Tryton products"
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice

from .exceptions import TradeMappingError

# From the most to the least specific identifier of a platform line
KEYS = ['sku_id', 'outer_sku_id', 'num_iid', 'outer_iid']


class Mapping(ModelSQL, ModelView):
    "Platform Product Mapping"
    __name__ = 'web.shop.taobao.product'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True, ondelete='CASCADE',
        domain=[('type', 'in', ['taobao', 'tmall'])])
    num_iid = fields.Char("Item ID", help="The platform's num_iid.")
    sku_id = fields.Char("SKU ID", help="The platform's sku_id.")
    outer_iid = fields.Char(
        "Outer Item Code", help="The seller's item code (outer_iid).")
    outer_sku_id = fields.Char(
        "Outer SKU Code", help="The seller's SKU code (outer_sku_id).")
    title = fields.Char("Platform Title")
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE',
        domain=[('salable', '=', True)],
        context={'company': Eval('company', -1)}, depends={'company'})
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('identifiers_unique',
                Unique(t, t.shop, t.num_iid, t.sku_id, t.outer_iid,
                    t.outer_sku_id),
                'shop_fulfilment.msg_product_mapping_unique'),
            ]
        cls._order = [('outer_iid', 'ASC'), ('outer_sku_id', 'ASC')]

    @fields.depends('shop', '_parent_shop.company')
    def on_change_with_company(self, name=None):
        return self.shop.company if self.shop else None

    @classmethod
    def validate_fields(cls, mappings, field_names):
        super().validate_fields(mappings, field_names)
        for mapping in mappings:
            if not any(getattr(mapping, k) for k in KEYS):
                raise TradeMappingError(
                    'shop_fulfilment.msg_product_mapping_empty',
                    product=mapping.product.rec_name)

    @classmethod
    def index(cls, shop, trades):
        "Return a look-up by (key, value) of the products the trades need"
        pool = Pool()
        Product = pool.get('product.product')
        index = {}
        for mapping in cls.search([('shop', '=', shop.id)]):
            if mapping.sku_id or mapping.outer_sku_id:
                keys = ['sku_id', 'outer_sku_id']
            else:
                keys = ['num_iid', 'outer_iid']
            for key in keys:
                if getattr(mapping, key):
                    index[key, getattr(mapping, key)] = mapping.product
        if shop.match_product_code:
            codes = {c for t in trades for l in t.lines
                for c in [l.outer_sku_id, l.outer_iid] if c}
            for sub_codes in grouped_slice(list(codes)):
                for product in Product.search([
                            ('code', 'in', list(sub_codes)),
                            ('salable', '=', True),
                            ]):
                    index['code', product.code] = product
        return index

    @staticmethod
    def lookup(index, line):
        "Return the product of a platform line or None"
        for key in KEYS:
            value = getattr(line, key)
            if value and (key, value) in index:
                return index[key, value]
        for value in [line.outer_sku_id, line.outer_iid]:
            if value and ('code', value) in index:
                return index['code', value]

    @classmethod
    def map_lines(cls, index, trade):
        "Return the product of each line of the trade or raise"
        products = []
        for line in trade.lines:
            product = cls.lookup(index, line)
            if not product:
                raise TradeMappingError(
                    'shop_fulfilment.msg_trade_unmapped_sku',
                    tid=trade.tid, title=line.title,
                    outer_sku_id=line.outer_sku_id or '-',
                    outer_iid=line.outer_iid or '-',
                    sku_id=line.sku_id or '-', num_iid=line.num_iid or '-')
            products.append(product)
        return products
