# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"China's provincial divisions and telephone numbers, as platforms write them"
import re

# ISO 3166-2:CN code, Chinese name (municipalities as Taobao writes them),
# English name
PROVINCES = (
    ('CN-BJ', '北京', 'Beijing'),
    ('CN-TJ', '天津', 'Tianjin'),
    ('CN-HE', '河北省', 'Hebei'),
    ('CN-SX', '山西省', 'Shanxi'),
    ('CN-NM', '内蒙古自治区', 'Inner Mongolia'),
    ('CN-LN', '辽宁省', 'Liaoning'),
    ('CN-JL', '吉林省', 'Jilin'),
    ('CN-HL', '黑龙江省', 'Heilongjiang'),
    ('CN-SH', '上海', 'Shanghai'),
    ('CN-JS', '江苏省', 'Jiangsu'),
    ('CN-ZJ', '浙江省', 'Zhejiang'),
    ('CN-AH', '安徽省', 'Anhui'),
    ('CN-FJ', '福建省', 'Fujian'),
    ('CN-JX', '江西省', 'Jiangxi'),
    ('CN-SD', '山东省', 'Shandong'),
    ('CN-HA', '河南省', 'Henan'),
    ('CN-HB', '湖北省', 'Hubei'),
    ('CN-HN', '湖南省', 'Hunan'),
    ('CN-GD', '广东省', 'Guangdong'),
    ('CN-GX', '广西壮族自治区', 'Guangxi'),
    ('CN-HI', '海南省', 'Hainan'),
    ('CN-CQ', '重庆', 'Chongqing'),
    ('CN-SC', '四川省', 'Sichuan'),
    ('CN-GZ', '贵州省', 'Guizhou'),
    ('CN-YN', '云南省', 'Yunnan'),
    ('CN-XZ', '西藏自治区', 'Tibet'),
    ('CN-SN', '陕西省', 'Shaanxi'),
    ('CN-GS', '甘肃省', 'Gansu'),
    ('CN-QH', '青海省', 'Qinghai'),
    ('CN-NX', '宁夏回族自治区', 'Ningxia'),
    ('CN-XJ', '新疆维吾尔自治区', 'Xinjiang'),
    ('CN-TW', '台湾省', 'Taiwan'),
    ('CN-HK', '香港特别行政区', 'Hong Kong'),
    ('CN-MO', '澳门特别行政区', 'Macao'),
    )

# The type of each division in the terms of country.subdivision
SUBDIVISION_TYPES = {code: 'province' for code, _, _ in PROVINCES}
SUBDIVISION_TYPES.update(dict.fromkeys(
        ['CN-BJ', 'CN-TJ', 'CN-SH', 'CN-CQ'], 'municipality'))
SUBDIVISION_TYPES.update(dict.fromkeys(
        ['CN-NM', 'CN-GX', 'CN-XZ', 'CN-NX', 'CN-XJ'], 'autonomous region'))
SUBDIVISION_TYPES.update(dict.fromkeys(
        ['CN-HK', 'CN-MO'], 'special administrative region'))

_SUFFIXES = (
    '特别行政区', '维吾尔自治区', '壮族自治区', '回族自治区', '自治区', '省', '市')


def _short_name(name):
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def _province_aliases():
    aliases = {}
    for code, chinese, english in PROVINCES:
        short = _short_name(chinese)
        for alias in [chinese, short, english.lower()]:
            aliases[alias] = code
        if SUBDIVISION_TYPES[code] == 'municipality':
            aliases[short + '市'] = code
    aliases['macau'] = 'CN-MO'
    aliases['xizang'] = 'CN-XZ'
    return aliases


_PROVINCE_ALIASES = _province_aliases()


def province_code(name):
    "Return the ISO 3166-2 code of the province named as platforms do"
    if not name:
        return None
    return _PROVINCE_ALIASES.get(name.strip().lower())


_MOBILE = re.compile(r'^(?:(?:\+|00)?86)?1[3-9][\d*]{9}$')
_LANDLINE = re.compile(
    r'^(?:0\d{2,3}|(?:\+|00)?86-?[1-9]\d{1,2})-?[2-9*][\d*]{6,7}'
    r'(?:(?:-|转|分机|ext\.?|x|#)\d{1,6})?$', re.IGNORECASE)


def phone_kind(value):
    "Return 'mobile', 'phone' (landline) or None for a Chinese number"
    if not isinstance(value, str):
        return None
    value = re.sub(r'[\s()（）]', '', value)
    if _MOBILE.match(value.replace('-', '')):
        return 'mobile'
    if _LANDLINE.match(value):
        return 'phone'
    return None
