# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Realistic Taobao/Tmall trades as taobao.trade.fullinfo.get returns them"
import datetime as dt
import hashlib
import json
import random
import sqlite3
from decimal import ROUND_DOWN, Decimal

ZERO = Decimal('0.00')
CENT = Decimal('0.01')
TIME_FORMAT = '%Y-%m-%d %H:%M:%S'
# tid, oid and refund_id of generated trades; bad_payloads() uses tids above
_ID_RANGE = (3_700_000_000_000_000_000, 3_990_000_000_000_000_000)

# num_iid, outer_iid, title,
# ((sku_id, outer_sku_id suffix, sku_properties_name, price, weight), ...)
_ITEMS = (
    (702318456120, 'RSQ-E60',
        '沪上电热水器家用储水式一级能效速热洗澡 上海包安装', (
            (5123401234560, '60L', '容量:60升;颜色分类:白色', '1299.00', '21.5'),
            (5123401234561, '80L', '容量:80升;颜色分类:白色', '1499.00', '25.0'),
            )),
    (702318456121, 'RSQ-G16',
        '燃气热水器家用天然气恒温强排式 上海包安装', (
            (5123401234570, '16T', '容量:16升;气源类别:天然气(12T)',
                '1899.00', '14.0'),
            (5123401234571, '13T', '容量:13升;气源类别:天然气(12T)',
                '1599.00', '12.5'),
            (5123401234572, '16Y', '容量:16升;气源类别:液化气(20Y)',
                '1899.00', '14.0'),
            )),
    (702318456122, 'JSQ-A100',
        '净水器家用直饮RO反渗透厨下式净水机1000G大通量', (
            (5123401234580, 'WH', '颜色分类:白色', '2599.00', '11.0'),
            (5123401234581, 'GY', '颜色分类:深空灰', '2699.00', '11.0'),
            )),
    (702318456123, 'JSQ-F01', '净水器滤芯原装替换 PP棉/活性炭/RO膜', (
            (5123401234590, 'PP', '滤芯类型:PP棉滤芯', '89.00', '0.6'),
            (5123401234591, 'C', '滤芯类型:活性炭滤芯', '129.00', '0.8'),
            (5123401234592, 'RO', '滤芯类型:RO反渗透膜', '499.00', '1.2'),
            )),
    (702318456124, 'DFB-30', '电饭煲家用智能多功能预约不粘内胆', (
            (5123401234600, '3L', '容量:3L;颜色分类:珍珠白', '299.00', '3.2'),
            (5123401234601, '4L', '容量:4L;颜色分类:珍珠白', '349.00', '3.8'),
            (5123401234602, '5L', '容量:5L;颜色分类:香槟金', '399.00', '4.5'),
            )),
    (702318456125, 'YLG-50', '电压力锅5L家用双胆智能高压锅', (
            (None, None, '', '459.00', '5.6'),)),
    (702318456126, 'KQZG-55', '空气炸锅家用5.5L大容量无油电炸锅', (
            (5123401234620, 'WH', '颜色分类:奶白色', '269.00', '4.8'),
            (5123401234621, 'BK', '颜色分类:曜石黑', '269.00', '4.8'),
            )),
    (702318456127, 'DSH-17', '电水壶304不锈钢烧水壶1.7L自动断电', (
            (None, None, '', '89.00', '1.3'),)),
    (702318456128, 'YYJ-T90', '吸油烟机家用顶吸大吸力抽油烟机 上海包安装', (
            (None, None, '', '1999.00', '28.0'),)),
    (702318456129, 'RQZ-2', '燃气灶双灶家用嵌入式台式猛火灶', (
            (5123401234650, 'T', '气源类别:天然气', '899.00', '9.5'),
            (5123401234651, 'Y', '气源类别:液化气', '899.00', '9.5'),
            )),
    (702318456130, 'DFS-40', '电风扇家用静音遥控七叶大风量', (
            (5123401234660, 'LD', '款式:落地扇;颜色分类:白色', '199.00', '5.2'),
            (5123401234661, 'TS', '款式:台扇;颜色分类:白色', '159.00', '3.6'),
            )),
    (702318456131, 'QNQ-22', '取暖器家用节能速热油汀电暖器2200W', (
            (None, None, '', '259.00', '9.8'),)),
    (702318456132, 'MJ-CT', '纯棉毛巾家用成人洗脸面巾 3条装', (
            (5123401234680, 'BL', '颜色分类:天空蓝 3条装', '39.90', '0.36'),
            (5123401234681, 'GR', '颜色分类:高级灰 3条装', '39.90', '0.36'),
            (5123401234682, 'PK', '颜色分类:樱花粉 3条装', '39.90', '0.36'),
            )),
    (702318456133, 'YUJ-70', '纯棉浴巾 70x140cm 柔软吸水', (
            (None, None, '', '59.00', '0.45'),)),
    (702318456134, 'SNH-L', '收纳盒塑料带盖衣物整理箱家用', (
            (5123401234700, 'S', '尺码:小号', '19.90', '0.4'),
            (5123401234701, 'M', '尺码:中号', '29.90', '0.7'),
            (5123401234702, 'L', '尺码:大号', '39.90', '1.1'),
            )),
    (702318456135, 'YJ-20', '防滑衣架 20只装 无痕浸塑', (
            (None, None, '', '29.90', '1.0'),)),
    (702318456136, 'SJX-C', '数据线快充线 Type-C/苹果 编织耐用', (
            (5123401234720, 'C1', '接口类型:Type-C;长度:1米', '19.90', '0.05'),
            (5123401234721, 'C2', '接口类型:Type-C;长度:2米', '25.90', '0.08'),
            (5123401234722, 'L1', '接口类型:苹果Lightning;长度:1米',
                '29.90', '0.05'),
            )),
    (702318456137, 'CDT-20W', '20W快充充电头 PD快充 适用苹果/安卓', (
            (None, None, '', '49.00', '0.06'),)),
    (702318456138, 'CXB-6', '插线板 新国标 带USB 排插', (
            (5123401234740, '6W18', '规格:6位1.8米', '59.00', '0.55'),
            (5123401234741, '8W30', '规格:8位3米', '79.00', '0.8'),
            )),
    (702318456139, 'BWB-500', '316不锈钢保温杯500ml 大容量', (
            (5123401234750, 'WH', '颜色分类:月光白', '89.00', '0.35'),
            (5123401234751, 'BK', '颜色分类:曜石黑', '89.00', '0.35'),
            )),
    (702318456140, 'TB-X', '免手洗平板拖把 家用懒人拖布', (
            (None, None, '', '69.00', '1.6'),)),
    (702318456141, 'LJD-100', '加厚垃圾袋 家用 100只装', (
            (None, None, '', '9.90', '0.5'),)),
    (702318456142, 'CZ-24', '原木抽纸 24包整箱 家用', (
            (None, None, '', '39.90', '3.6'),)),
    (702318456143, 'XJJ-15', '洗洁精 食品级 1.5kg 家庭装', (
            (None, None, '', '12.90', '1.6'),)),
    )
_GIFTS = (
    (702318456190, 'ZP-HS', '【赠品】增压花洒喷头 勿拍 单拍不发货', '0.3'),
    (702318456191, 'ZP-LX', '【赠品】PP棉滤芯一支 勿拍 单拍不发货', '0.6'),
    (702318456192, 'ZP-SND', '【赠品】无纺布收纳袋 勿拍 单拍不发货', '0.1'),
    )


def _catalogue():
    products = []
    for num_iid, outer_iid, title, skus in _ITEMS:
        for sku_id, suffix, properties, price, weight in skus:
            outer_sku_id = '%s-%s' % (outer_iid, suffix) if suffix else None
            products.append({
                    'num_iid': num_iid,
                    'sku_id': sku_id,
                    'outer_iid': outer_iid,
                    'outer_sku_id': outer_sku_id,
                    'title': title,
                    'sku_properties_name': properties,
                    'price': price,
                    'weight': Decimal(weight),
                    'code': outer_sku_id or outer_iid,
                    'gift': False,
                    })
    for num_iid, outer_iid, title, weight in _GIFTS:
        products.append({
                'num_iid': num_iid,
                'sku_id': None,
                'outer_iid': outer_iid,
                'outer_sku_id': None,
                'title': title,
                'sku_properties_name': '',
                'price': '0.00',
                'weight': Decimal(weight),
                'code': outer_iid,
                'gift': True,
                })
    return tuple(products)


CATALOGUE = _catalogue()
_PRODUCTS = [p for p in CATALOGUE if not p['gift']]
_POPULARITY = [
    1 if Decimal(p['price']) >= 1000 else 2 if Decimal(p['price']) >= 200
    else 4 for p in _PRODUCTS]
_GIFT_FOR = {
    'RSQ-E60': 'ZP-HS', 'RSQ-G16': 'ZP-HS',
    'JSQ-A100': 'ZP-LX',
    }

# receiver_state, receiver_city, receiver_district, receiver_town,
# receiver_zip, area code, roads, weight
_PLACES = (
    ('上海', '上海市', '浦东新区', '张江镇', '201203', '021',
        ('祖冲之路', '晨晖路'), 8),
    ('上海', '上海市', '闵行区', '莘庄镇', '201100', '021',
        ('莘建路', '沁春路'), 6),
    ('上海', '上海市', '徐汇区', '田林街道', '200233', '021',
        ('田林路', '钦州路'), 5),
    ('上海', '上海市', '杨浦区', '五角场街道', '200433', '021',
        ('国权路', '政通路'), 4),
    ('上海', '上海市', '宝山区', '大场镇', '200436', '021',
        ('沪太路', '环镇北路'), 4),
    ('上海', '上海市', '松江区', '九亭镇', '201615', '021',
        ('九亭大街', '涞寅路'), 3),
    ('北京', '北京市', '朝阳区', '望京街道', '100102', '010',
        ('阜通东大街', '望京西路'), 3),
    ('北京', '北京市', '海淀区', '中关村街道', '100080', '010',
        ('中关村大街', '海淀南路'), 2),
    ('天津', '天津市', '南开区', '学府街道', '300071', '022',
        ('卫津路', '复康路'), 2),
    ('重庆', '重庆市', '渝北区', '龙溪街道', '401147', '023',
        ('新牌坊一路', '松牌路'), 2),
    ('浙江省', '杭州市', '西湖区', '西溪街道', '310012', '0571',
        ('文二路', '教工路'), 4),
    ('浙江省', '宁波市', '鄞州区', '钟公庙街道', '315100', '0574',
        ('天童南路', '四明中路'), 2),
    ('江苏省', '苏州市', '工业园区', '斜塘街道', '215028', '0512',
        ('星湖街', '现代大道'), 4),
    ('江苏省', '南京市', '鼓楼区', '湖南路街道', '210009', '025',
        ('湖南路', '中山北路'), 2),
    ('江苏省', '无锡市', '梁溪区', '崇安寺街道', '214000', '0510',
        ('中山路', '人民中路'), 1),
    ('安徽省', '合肥市', '蜀山区', '稻香村街道', '230031', '0551',
        ('长江西路', '黄山路'), 2),
    ('广东省', '广州市', '天河区', '石牌街道', '510630', '020',
        ('天河路', '石牌西路'), 2),
    ('广东省', '深圳市', '南山区', '粤海街道', '518057', '0755',
        ('科技南十二路', '高新南一道'), 2),
    ('福建省', '厦门市', '思明区', '鹭江街道', '361001', '0592',
        ('中山路', '鹭江道'), 1),
    ('山东省', '青岛市', '市南区', '香港中路街道', '266071', '0532',
        ('香港中路', '闽江路'), 1),
    ('山东省', '济南市', '历下区', '泉城路街道', '250011', '0531',
        ('泉城路', '黑虎泉西路'), 1),
    ('河南省', '郑州市', '金水区', '花园路街道', '450003', '0371',
        ('花园路', '农业路'), 1),
    # A county-level city under the province: Taobao leaves the city out
    ('河南省', None, '济源市', '沁园街道', '459000', '0391',
        ('济源大道', '宣化街'), 1),
    ('湖北省', '武汉市', '洪山区', '珞南街道', '430070', '027',
        ('珞喻路', '广八路'), 1),
    ('湖南省', '长沙市', '岳麓区', '望月湖街道', '410006', '0731',
        ('银盆南路', '枫林一路'), 1),
    ('四川省', '成都市', '武侯区', '玉林街道', '610041', '028',
        ('玉林北路', '芳草街'), 1),
    ('陕西省', '西安市', '雁塔区', '小寨路街道', '710061', '029',
        ('长安中路', '小寨东路'), 1),
    ('河北省', '石家庄市', '长安区', '建北街道', '050011', '0311',
        ('中山东路', '建设北大街'), 1),
    ('辽宁省', '沈阳市', '和平区', '南湖街道', '110001', '024',
        ('三好街', '文艺路'), 1),
    ('黑龙江省', '哈尔滨市', '南岗区', '花园街道', '150001', '0451',
        ('西大直街', '红军街'), 1),
    ('江西省', '南昌市', '东湖区', '公园街道', '330006', '0791',
        ('八一大道', '阳明路'), 1),
    ('云南省', '昆明市', '五华区', '华山街道', '650032', '0871',
        ('东风西路', '翠湖南路'), 1),
    ('广西壮族自治区', '南宁市', '青秀区', '新竹街道', '530022', '0771',
        ('民族大道', '竹溪大道'), 1),
    ('内蒙古自治区', '呼和浩特市', '新城区', '海拉尔东路街道', '010010',
        '0471', ('海拉尔东路', '新华大街'), 1),
    ('新疆维吾尔自治区', '乌鲁木齐市', '天山区', '燕儿窝街道', '830002',
        '0991', ('新华南路', '团结路'), 1),
    ('海南省', '海口市', '美兰区', '海甸街道', '570208', '0898',
        ('人民大道', '海甸五西路'), 1),
    ('贵州省', '贵阳市', '云岩区', '中华北路街道', '550001', '0851',
        ('中华北路', '北京路'), 1),
    ('山西省', '太原市', '小店区', '坞城街道', '030006', '0351',
        ('坞城路', '学府街'), 1),
    ('香港特别行政区', '九龙', '油尖旺区', None, '999077', None,
        ('弥敦道', '广东道'), 1),
    )
_COMMUNITIES = (
    '阳光花园', '锦绣苑', '翠湖天地', '金色家园', '幸福里', '桂花园',
    '城市花园', '世纪公寓', '滨江苑', '银杏小区')
_SURNAMES = (
    '王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙',
    '马', '朱', '胡', '郭', '何', '林', '罗', '高', '屈', '欧阳', '诸葛')
_GIVEN_NAMES = (
    '伟', '芳', '娜', '秀英', '敏', '静', '丽', '强', '磊', '军', '洋', '勇',
    '艳', '杰', '娟', '涛', '明', '超', '秀兰', '霞', '子涵', '浩然', '一诺')
_NICKS = (
    'tb88345210', '小鱼儿爱吃鱼', 'jerry_wang88', 'sunny雨天', '上海阿姨',
    'momo_2012', '蓝色天空123', 'lucky猫咪', '张江码农', 'vivian_lin',
    '开心每一天', 'tb_1573920', '静待花开ing', 'david陈', '吃货一枚')
_MOBILE_PREFIXES = (
    '130', '131', '133', '135', '136', '137', '138', '139', '150', '151',
    '152', '157', '158', '159', '166', '176', '177', '180', '181', '186',
    '187', '188', '189', '191', '195', '198', '199')
_BUYER_MESSAGES = (
    '请尽快发货，谢谢😊',
    '周末送货，工作日家里没人',
    '安装师傅上门前请提前 "一小时" 电话联系',
    '要开发票\n抬头：上海某某科技有限公司\n税号：91310115MA1K000000',
    '要白色的！别发错了🙏',
    '送人的，不要放价格单🎁',
    '地址写错了，应该是 “3号楼” 不是 ‘5号楼’',
    '放门卫室或者丰巢柜 C:\\快递柜\\3号 都可以',
    'Please call before delivery, thanks!',
    '老客户了，多送点滤芯呗～',
    '双11一起下单的，别拆开发',
    )
_SELLER_MEMOS = (
    '客户要求周六上门安装 🛠',
    '已联系顾客，改发顺丰，差价客服补',
    '赠品：花洒一个\n安装：需打孔',
    '客户说 "门口放着就行"',
    '【预约】11/15 上午 送货+安装',
    '已退差价 10 元',
    '地址: 旧地址作废 \\ 以新地址为准',
    '备注 ‘加急’ 😊 “优先”',
    )
_CARRIERS = (('顺丰速运', 'SF'), ('中通快递', '7'), ('圆通速递', 'YT'))
_STATUSES = {
    'WAIT_SELLER_SEND_GOODS': 85,
    'WAIT_BUYER_PAY': 5,
    'SELLER_CONSIGNED_PART': 3,
    'TRADE_CLOSED_BY_TAOBAO': 4,
    'TRADE_CLOSED': 3,
    }
_UNPAID = {'WAIT_BUYER_PAY', 'TRADE_CLOSED_BY_TAOBAO'}
_SHIPPED = {
    'SELLER_CONSIGNED_PART', 'WAIT_BUYER_CONFIRM_GOODS', 'TRADE_FINISHED'}
_SUPPORTED = _UNPAID | {
    'WAIT_SELLER_SEND_GOODS', 'SELLER_CONSIGNED_PART',
    'WAIT_BUYER_CONFIRM_GOODS', 'TRADE_FINISHED', 'TRADE_CLOSED'}
_ALPHABET = ('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
    '0123456789')


def _money(value):
    return '%.2f' % value


def _time(value):
    return value.strftime(TIME_FORMAT)


def _parse_time(value):
    return dt.datetime.strptime(value, TIME_FORMAT)


def _digits(rng, count):
    return ''.join(rng.choice('0123456789') for _ in range(count))


def _new_id(rng, used):
    while True:
        value = rng.randrange(*_ID_RANGE)
        if value not in used:
            used.add(value)
            return value


def _mobile(rng):
    return rng.choice(_MOBILE_PREFIXES) + _digits(rng, 8)


def _street_address(rng, place):
    road = rng.choice(place[6])
    number = rng.randint(1, 1999)
    room = '%d%02d' % (rng.randint(1, 28), rng.randint(1, 6))
    if place[0] == '上海':
        return '%s%d弄%d号%s室' % (road, number, rng.randint(1, 60), room)
    if rng.random() < 0.15:
        return '%s%d号%s大厦%s座%d楼 前台代收' % (
            road, number, rng.choice(['东方', '世纪', '国贸', '科技']),
            rng.choice('ABC'),
            rng.randint(2, 30))
    return '%s%d号%s%d栋%d单元%s' % (
        road, number, rng.choice(_COMMUNITIES), rng.randint(1, 30),
        rng.randint(1, 4), room)


def _mask(value, keep_start, keep_end, stars='****'):
    return value[:keep_start] + stars + value[len(value) - keep_end:]


def _receiver(rng):
    place = rng.choices(_PLACES, weights=[p[-1] for p in _PLACES])[0]
    state, city, district, town, zip_code, area_code, roads, _ = place
    receiver = {
        'receiver_name': rng.choice(_SURNAMES) + rng.choice(_GIVEN_NAMES),
        'receiver_state': state,
        'receiver_city': city,
        'receiver_district': district,
        'receiver_town': town,
        'receiver_address': _street_address(rng, place),
        'receiver_zip': zip_code if rng.random() > 0.05 else '000000',
        'receiver_mobile': _mobile(rng),
        }
    if area_code and rng.random() < 0.15:
        receiver['receiver_phone'] = '%s-%s%s' % (
            area_code, rng.randint(2, 8), _digits(rng, 7))
    if rng.random() < 0.2:
        receiver['receiver_name'] = receiver['receiver_name'][0] + '**'
        receiver['receiver_address'] = rng.choice(roads) + '**号****'
        receiver['receiver_mobile'] = _mask(receiver['receiver_mobile'], 3, 4)
        if 'receiver_phone' in receiver:
            area, number = receiver['receiver_phone'].split('-')
            receiver['receiver_phone'] = '%s-%s' % (area, _mask(number, 0, 4))
    return {k: v for k, v in receiver.items() if v is not None}


def _buyer(rng):
    nick = rng.choice(_NICKS)
    buyer = {
        'buyer_nick': nick[0] + '**' + nick[-1],
        'buyer_open_uid': 'AAH' + ''.join(
            rng.choice(_ALPHABET + '-_') for _ in range(21)),
        'oaid': '1' + ''.join(rng.choice(_ALPHABET) for _ in range(47)),
        }
    buyer.update(_receiver(rng))
    return buyer


def _choose_products(rng, minimum):
    count = max(minimum, rng.choices([1, 2, 3, 4], weights=[55, 28, 12, 5])[0])
    products = []
    while len(products) < count:
        product = rng.choices(_PRODUCTS, weights=_POPULARITY)[0]
        if product not in products:
            products.append(product)
    for product in list(products):
        gift = _GIFT_FOR.get(product['outer_iid'])
        if (gift and len(products) < 4 and rng.random() < 0.6
                and not any(p['code'] == gift for p in products)):
            products.append(next(p for p in CATALOGUE if p['code'] == gift))
    if 1 < len(products) < 4 and rng.random() < 0.03:
        products.append(CATALOGUE[-1])
    return products


def _quantity(rng, price):
    if price < 50 and rng.random() < 0.12:
        return rng.randint(6, 12)
    return rng.choices([1, 2, 3, 4, 5], weights=[70, 14, 8, 4, 4])[0]


def _order_discount(rng, base, quantity):
    "Return (discount, promotion name) of one line"
    draw = rng.random()
    if quantity > 1 and draw < 0.15:
        target = (base * Decimal('0.9') / 10).to_integral_value(
            ROUND_DOWN) * 10
        if ZERO < target < base:
            return base - target, '多件优惠'
    elif draw < 0.3:
        rate = rng.choice([Decimal('0.95'), Decimal('0.88'), Decimal('0.85')])
        return base - (base * rate).quantize(CENT), '限时打折'
    elif draw < 0.35:
        amount = Decimal(rng.choice([10, 20, 50]))
        if base > 3 * amount:
            return amount, '单品立减'
    return ZERO, None


def _order_adjust(rng, base, discount):
    if rng.random() < 0.06:
        adjust = Decimal(rng.choice(
                ['-5.00', '-10.00', '-0.50', '-20.00', '15.00', '30.00']))
        if base - discount + adjust > 0:
            return adjust
    return ZERO


def _line(rng, product, oid):
    price = Decimal(product['price'])
    if product['gift']:
        quantity, discount, promotion, adjust = 1, ZERO, None, ZERO
    else:
        quantity = _quantity(rng, price)
        discount, promotion = _order_discount(rng, price * quantity, quantity)
        adjust = _order_adjust(rng, price * quantity, discount)
    base = price * quantity
    order = {
        'oid': oid,
        'oid_str': str(oid),
        'num_iid': product['num_iid'],
        'sku_id': product['sku_id'] and str(product['sku_id']),
        'outer_iid': product['outer_iid'],
        'outer_sku_id': product['outer_sku_id'],
        'title': product['title'],
        'sku_properties_name': product['sku_properties_name'] or None,
        'num': quantity,
        'price': product['price'],
        'is_free_gift': product['gift'],
        'seller_type': 'B',
        'pic_path': 'https://img.alicdn.com/bao/uploaded/i1/2207000000000/'
        'O1CN01%s.jpg' % product['num_iid'],
        }
    fees = {
        'total_fee': base + adjust - discount,
        'discount_fee': discount,
        'adjust_fee': adjust,
        }
    return {k: v for k, v in order.items() if v is not None}, fees, promotion


def _trade_discounts(rng, amount):
    "Return [(promotion name, id, discount)] applied to the whole trade"
    discounts = []
    if amount >= 300 and rng.random() < 0.5:
        discounts.append(('跨店满减', 'crossShopMjs-1111_300_30',
                min((amount / 300).to_integral_value(ROUND_DOWN) * 30, 300)))
    for threshold, value in [(999, 100), (399, 40), (199, 20), (99, 10)]:
        if amount >= threshold:
            if rng.random() < 0.35:
                discounts.append(('店铺优惠券', 'shopbonus-%d_%d' % (
                            threshold, value), Decimal(value)))
            break
    return [(n, i, Decimal(d).quantize(CENT)) for n, i, d in discounts]


def _apportion(amount, totals):
    "Split amount in proportion to totals, to the fen"
    total = sum(totals)
    if not amount:
        return [ZERO] * len(totals)
    shares = [(amount * t / total).quantize(CENT, ROUND_DOWN) for t in totals]
    largest = totals.index(max(totals))
    shares[largest] += amount - sum(shares)
    return shares


def _post_fee(rng, amount):
    if amount < 99 and rng.random() < 0.6:
        return Decimal(rng.choice(['8.00', '12.00', '15.50']))
    if rng.random() < 0.03:
        return Decimal('15.50')
    return ZERO


def _promotion(id_, name, promotion_id, discount):
    return {
        'id': id_,
        'promotion_name': name,
        'promotion_id': promotion_id,
        'discount_fee': _money(discount),
        'promotion_desc': '%s:省%s元' % (name, _money(discount)),
        }


def _build_orders(rng, tid, products, used):
    "Return the orders, their promotion details and the trade's money"
    single = len(products) == 1
    orders, fees, promotions = [], [], []
    for product in products:
        oid = tid if single else _new_id(rng, used)
        order, fee, promotion = _line(rng, product, oid)
        orders.append(order)
        fees.append(fee)
        if promotion:
            promotions.append(_promotion(
                    oid, promotion, 'Tmall$itemPromotion-%s' % product['code'],
                    fee['discount_fee']))
    goods = sum(f['total_fee'] for f in fees)
    post_fee = _post_fee(rng, goods)
    # Trade-level discounts only where the platform's order payment is
    # unambiguous: on a single order it would also have to equal the trade's
    trade_discounts = [] if single else _trade_discounts(rng, goods)
    for name, promotion_id, discount in trade_discounts:
        promotions.append(_promotion(tid, name, promotion_id, discount))
    shares = _apportion(
        sum(d for _, _, d in trade_discounts), [f['total_fee'] for f in fees])
    for order, fee, share in zip(orders, fees, shares):
        _set_order_money(order, fee, share, post_fee if single else ZERO)
    return orders, promotions, _trade_money(orders, fees, shares, post_fee)


def _set_order_money(order, fee, share, post_fee):
    order.update({
            'total_fee': _money(fee['total_fee']),
            'payment': _money(fee['total_fee'] + post_fee),
            'discount_fee': _money(fee['discount_fee']),
            'adjust_fee': _money(fee['adjust_fee']),
            'part_mjz_discount': _money(share),
            'divide_order_fee': _money(fee['total_fee'] - share),
            })


def _trade_money(orders, fees, shares, post_fee):
    goods = sum(f['total_fee'] for f in fees)
    return {
        'payment': _money(goods - sum(shares) + post_fee),
        'total_fee': _money(sum(
                Decimal(o['price']) * o['num'] for o in orders)),
        'post_fee': _money(post_fee),
        'discount_fee': _money(
            sum(f['discount_fee'] for f in fees) + sum(shares)),
        'adjust_fee': _money(
            fees[0]['adjust_fee'] if len(fees) == 1 else ZERO),
        }


def _set_order_status(rng, orders, status, used, dates):
    for order in orders:
        order['status'] = status
        order['refund_status'] = 'NO_REFUND'
    if status == 'SELLER_CONSIGNED_PART':
        count = rng.randint(1, len(orders) - 1)
        for index, order in enumerate(orders):
            order['status'] = (
                'WAIT_BUYER_CONFIRM_GOODS' if index < count
                else 'WAIT_SELLER_SEND_GOODS')
        _consign(rng, orders[:count], dates['consign_time'])
    elif status in _SHIPPED:
        _consign(rng, orders, dates['consign_time'])
    if status == 'TRADE_CLOSED':
        for order in orders:
            order.update({
                    'refund_status': 'SUCCESS',
                    'refund_id': str(_new_id(rng, used)),
                    'end_time': _time(dates['end_time']),
                    })
    elif status == 'WAIT_SELLER_SEND_GOODS' and rng.random() < 0.05:
        order = rng.choice([o for o in orders if not o['is_free_gift']])
        order['refund_status'] = 'WAIT_SELLER_AGREE'
        order['refund_id'] = str(_new_id(rng, used))


def _consign(rng, orders, when):
    company, prefix = rng.choice(_CARRIERS)
    invoice_no = prefix + _digits(rng, 12)
    for order in orders:
        order.update({
                'consign_time': _time(when),
                'logistics_company': company,
                'invoice_no': invoice_no,
                })


def _dates(rng, status, created):
    "Return the trade's dates, modified being when it last changed"
    dates = {'created': created}
    if status in _UNPAID:
        modified = created + dt.timedelta(seconds=rng.randint(0, 600))
        if status == 'TRADE_CLOSED_BY_TAOBAO':
            modified = created + dt.timedelta(minutes=rng.randint(20, 1440))
            dates['end_time'] = modified
        else:
            dates['timeout_action_time'] = created + dt.timedelta(days=1)
        dates['est_con_time'] = created + dt.timedelta(days=3)
    else:
        pay_time = created + dt.timedelta(seconds=rng.randint(3, 900))
        dates['pay_time'] = pay_time
        dates['est_con_time'] = pay_time + dt.timedelta(days=2)
        modified = pay_time + dt.timedelta(seconds=rng.randint(0, 3600))
        if status in _SHIPPED:
            modified = pay_time + dt.timedelta(hours=rng.randint(2, 30))
            dates['consign_time'] = modified
            dates['timeout_action_time'] = modified + dt.timedelta(days=10)
        if status in {'TRADE_FINISHED', 'TRADE_CLOSED'}:
            modified += dt.timedelta(days=rng.randint(1, 5))
            dates['end_time'] = modified
    dates['est_con_time'] = dates['est_con_time'].replace(
        hour=23, minute=59, second=59)
    dates['modified'] = modified
    return dates


def _pick_buyer(rng, buyers):
    "Return a new buyer or, sometimes, one who already ordered"
    if buyers and rng.random() < 0.08:
        return rng.choice(buyers)
    buyer = _buyer(rng)
    buyers.append(buyer)
    return buyer


def _notes(rng):
    notes = {}
    if rng.random() < 0.25:
        notes['buyer_message'] = rng.choice(_BUYER_MESSAGES)
    notes['seller_flag'] = rng.choices(range(6), [80, 6, 5, 4, 3, 2])[0]
    if rng.random() < 0.2:
        notes['seller_memo'] = rng.choice(_SELLER_MEMOS)
        notes['seller_flag'] = rng.randint(1, 5)
    return notes


def _step(status, payment):
    "Return the fields of a presale trade paid in steps"
    if status in _UNPAID:
        return {
            'step_trade_status': 'FRONT_NOPAID_FINAL_NOPAID',
            'step_paid_fee': '0.00',
            }
    return {
        'step_trade_status': 'FRONT_PAID_FINAL_PAID',
        'step_paid_fee': payment,
        }


def _trade(rng, created, status, seller_nick, buyers, used):
    tid = _new_id(rng, used)
    buyer = _pick_buyer(rng, buyers)
    products = _choose_products(
        rng, 2 if status == 'SELLER_CONSIGNED_PART' else 1)
    orders, promotions, money = _build_orders(rng, tid, products, used)
    dates = _dates(rng, status, created)
    _set_order_status(rng, orders, status, used, dates)
    step = rng.random() < 0.04
    trade = {
        'tid': tid,
        'tid_str': str(tid),
        'status': status,
        'type': 'step' if step else 'fixed',
        'seller_nick': seller_nick,
        'buyer_nick': buyer['buyer_nick'],
        'buyer_open_uid': buyer['buyer_open_uid'],
        'title': seller_nick,
        }
    trade.update({k: _time(v) for k, v in dates.items()})
    trade.update(money)
    if len(orders) == 1:
        trade.update({k: orders[0][k] for k in ['num_iid', 'num', 'price']})
    trade.update({k: v for k, v in buyer.items()
            if k.startswith('receiver_') or k == 'oaid'})
    trade.update(_notes(rng))
    trade.update({
            'shipping_type': 'express',
            'alipay_no': created.strftime('%Y%m%d') + '22001'
            + _digits(rng, 15),
            'has_yfx': rng.random() < 0.25,
            'trade_from': rng.choice(['WAP,WAP', 'WAP,WAP', 'TAOBAO']),
            })
    if step:
        trade.update(_step(status, trade['payment']))
    if status == 'SELLER_CONSIGNED_PART':
        trade['is_part_consign'] = True
    if promotions:
        trade['promotion_details'] = {'promotion_detail': promotions}
    trade['orders'] = {'order': orders}
    return trade


def generate_trades(count, seed=0, seller_nick='沪上家电旗舰店',
        start=dt.datetime(2026, 11, 11, 0, 0), status_weights=None):
    "Return count trades as taobao.trade.fullinfo.get gives them"
    status_weights = status_weights or _STATUSES
    unsupported = set(status_weights) - _SUPPORTED
    if unsupported:
        raise ValueError('Unsupported status: %s' % ', '.join(unsupported))
    statuses, weights = zip(*sorted(status_weights.items()))
    rng = random.Random(seed)
    buyers, used = [], set()
    trades = []
    created = start
    for _ in range(count):
        created += dt.timedelta(seconds=rng.randint(1, 40))
        status = rng.choices(statuses, weights=weights)[0]
        trades.append(_trade(rng, created, status, seller_nick, buyers, used))
    return trades


def expected_total(trade):
    "Return what the buyer paid for the trade"
    return Decimal(trade['payment'])


def response_text(trade):
    "Return the trade as the platform sends it"
    return json.dumps(
        {'trade_fullinfo_get_response': {'trade': trade}},
        ensure_ascii=False)


def write_jsonl(path, trades):
    with open(path, 'w', encoding='utf-8') as file:
        for trade in trades:
            file.write(response_text(trade) + '\n')


def write_json(path, trade):
    with open(path, 'w', encoding='utf-8') as file:
        file.write(response_text(trade))


_RELAY_COLUMNS = (
    'tid', 'status', 'type', 'seller_nick', 'buyer_nick', 'created',
    'modified', 'jdp_hashcode', 'jdp_response', 'jdp_created',
    'jdp_modified')


def _relay_connect(uri_or_path):
    "Return the connection and whether it is PostgreSQL"
    uri_or_path = str(uri_or_path)
    if uri_or_path.startswith(('postgresql:', 'postgres:')):
        import psycopg2
        return psycopg2.connect(uri_or_path), True
    if uri_or_path.startswith('sqlite:///'):
        # as taobao.RelayReader: sqlite:////absolute/path or sqlite:///relative
        uri_or_path = uri_or_path[len('sqlite:///'):]
    return sqlite3.connect(uri_or_path), False


def _relay_schema(postgresql):
    timestamp = 'TIMESTAMP' if postgresql else 'DATETIME'
    return [
        'CREATE TABLE IF NOT EXISTS jdp_tb_trade ('
        'tid BIGINT NOT NULL PRIMARY KEY, '
        'status VARCHAR(64), type VARCHAR(64), '
        'seller_nick VARCHAR(256), buyer_nick VARCHAR(256), '
        'created {0}, modified {0}, jdp_hashcode VARCHAR(128), '
        'jdp_response TEXT, jdp_created {0}, jdp_modified {0})'.format(
            timestamp),
        'CREATE INDEX IF NOT EXISTS jdp_tb_trade_seller_modified '
        'ON jdp_tb_trade (seller_nick, jdp_modified)',
        ]


def _relay_upsert(postgresql):
    marker = '%s' if postgresql else '?'
    return (
        'INSERT INTO jdp_tb_trade (%s) VALUES (%s) '
        'ON CONFLICT (tid) DO UPDATE SET %s' % (
            ', '.join(_RELAY_COLUMNS),
            ', '.join([marker] * len(_RELAY_COLUMNS)),
            ', '.join('%s = excluded.%s' % (c, c)
                for c in _RELAY_COLUMNS if c not in {'tid', 'jdp_created'})))


def _relay_row(trade, seller_nick, jdp_modified, postgresql):
    response = response_text(trade)
    if jdp_modified is None:
        jdp_modified = _parse_time(trade['modified']) + dt.timedelta(
            seconds=1 + trade['tid'] % 5)
    times = [
        _parse_time(trade['created']), _parse_time(trade['modified']),
        jdp_modified]
    if not postgresql:
        times = [_time(t) for t in times]
    created, modified, jdp_modified = times
    return (
        trade['tid'], trade['status'], trade['type'],
        seller_nick or trade['seller_nick'], trade['buyer_nick'],
        created, modified,
        hashlib.md5(response.encode('utf-8')).hexdigest(), response,
        jdp_modified, jdp_modified)


def write_relay(uri_or_path, trades, seller_nick=None, jdp_modified=None):
    """Insert or update the trades in a Jushita jdp_tb_trade table

    uri_or_path is a SQLite file, a sqlite:/// or a postgresql:// URI."""
    connection, postgresql = _relay_connect(uri_or_path)
    try:
        cursor = connection.cursor()
        for query in _relay_schema(postgresql):
            cursor.execute(query)
        rows = [
            _relay_row(t, seller_nick, jdp_modified, postgresql)
            for t in trades]
        cursor.executemany(_relay_upsert(postgresql), rows)
        connection.commit()
    finally:
        connection.close()
    return len(rows)


def _retid(trade, tid):
    for order in trade['orders']['order']:
        if order['oid'] == trade['tid']:
            order['oid'], order['oid_str'] = tid, str(tid)
    for promotion in trade.get('promotion_details', {}).get(
            'promotion_detail', []):
        if promotion['id'] == trade['tid']:
            promotion['id'] = tid
    trade['tid'], trade['tid_str'] = tid, str(tid)
    return trade


def bad_payloads():
    "Return raw responses the importer must put in its exception list"
    names = [
        'malformed_json', 'missing_receiver', 'bad_money',
        'inconsistent_money', 'unknown_status']
    trades = generate_trades(
        len(names), seed=404, status_weights={'WAIT_SELLER_SEND_GOODS': 1})
    bad = dict(zip(names, (
                _retid(t, 3_999_999_999_000_000_001 + i)
                for i, t in enumerate(trades))))
    del bad['missing_receiver']['receiver_name']
    del bad['missing_receiver']['receiver_address']
    bad['bad_money']['payment'] = 'abc'
    bad['inconsistent_money']['payment'] = _money(
        Decimal(bad['inconsistent_money']['payment']) + CENT)
    bad['unknown_status']['status'] = 'WAIT_ALIENS'
    payloads = {name: response_text(trade) for name, trade in bad.items()}
    text = payloads['malformed_json']
    payloads['malformed_json'] = text[:len(text) // 2]
    return payloads
