# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Buyers of a shop as parties, receivers as their addresses"
from collections import defaultdict

from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from . import china
from .exceptions import TradeMappingError


class Buyer(ModelSQL, ModelView):
    "Platform Buyer"
    __name__ = 'web.shop.taobao.buyer'
    _rec_name = 'nick'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True, readonly=True,
        ondelete='CASCADE')
    key = fields.Char(
        "Key", required=True, readonly=True, strip=False,
        help="The buyer_open_uid, or the buyer nick when there is none.")
    nick = fields.Char("Nick", readonly=True)
    party = fields.Many2One(
        'party.party', "Party", readonly=True, ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('shop_key_unique', Unique(t, t.shop, t.key),
                'shop_fulfilment.msg_buyer_key_unique'),
            ]

    @classmethod
    def get_buyers(cls, shop, keys):
        "Return the buyers of the shop by key, creating the missing ones"
        buyers = {}
        for sub_keys in grouped_slice(list(keys)):
            for buyer in cls.search([
                        ('shop', '=', shop.id),
                        ('key', 'in', list(sub_keys)),
                        ]):
                buyers[buyer.key] = buyer
        missing = [cls(shop=shop, key=k) for k in sorted(keys - set(buyers))]
        cls.save(missing)
        buyers.update((b.key, b) for b in missing)
        return buyers

    @classmethod
    def get_parties(cls, shop, trades):
        "Return the party of each trade's buyer, creating the missing ones"
        pool = Pool()
        Party = pool.get('party.party')
        buyers = cls.get_buyers(shop, {buyer_key(t) for t in trades})
        names = {}
        for trade in trades:
            buyer = buyers[buyer_key(trade)]
            if not buyer.party:
                names.setdefault(buyer.key, trade.buyer_nick or buyer.key)
            buyer.nick = trade.buyer_nick or buyer.nick
        # The company defaults (locations, payment terms, ...) are read from
        # the configuration until someone sets them for the buyer
        with Transaction().set_context(_platform_buyer=True):
            parties = Party.create([{'name': n} for n in names.values()])
        for key, party in zip(names, parties):
            buyers[key].party = party
        cls.save(list(buyers.values()))
        return {t.tid: buyers[buyer_key(t)].party for t in trades}


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    @classmethod
    def default_get(cls, fields_names=None, with_rec_name=True):
        if Transaction().context.get('_platform_buyer'):
            fields_names = [n for n in (fields_names or cls._fields)
                if not isinstance(cls._fields[n], fields.MultiValue)]
        return super().default_get(fields_names, with_rec_name=with_rec_name)


def buyer_key(trade):
    return trade.buyer_open_uid or trade.buyer_nick


class Address(metaclass=PoolMeta):
    __name__ = 'party.address'

    platform_masked = fields.Boolean(
        "Masked", readonly=True,
        help="The platform masked the receiver (OAID privacy): "
        "the values are kept as given.")
    platform_oaid = fields.Char("OAID", readonly=True)

    @classmethod
    def china_provinces(cls):
        "Return China's provinces by ISO 3166-2 code"
        pool = Pool()
        Subdivision = pool.get('country.subdivision')
        return {s.code: s for s in Subdivision.search([
                    ('country.code', '=', 'CN'),
                    ('parent', '=', None),
                    ])}

    @classmethod
    def check_province(cls, trade, provinces):
        if china.province_code(trade.receiver.state) not in provinces:
            raise TradeMappingError(
                'shop_fulfilment.msg_trade_unknown_province',
                tid=trade.tid, province=trade.receiver.state)

    @classmethod
    def get_receiver_addresses(cls, parties, trades, provinces):
        """Return the address of each trade's receiver,
        reusing the party's address when it is the same"""
        existing = defaultdict(dict)
        party_ids = list({p.id for p in parties.values()})
        for sub_parties in grouped_slice(party_ids):
            for address in cls.search([('party', 'in', list(sub_parties))]):
                existing[address.party.id][address.receiver_key] = address
        addresses, new = {}, []
        for trade in trades:
            party = parties[trade.tid]
            address = cls.from_receiver(party, trade.receiver, provinces)
            known = existing[party.id].get(address.receiver_key)
            if not known:
                existing[party.id][address.receiver_key] = known = address
                new.append(address)
            addresses[trade.tid] = known
        cls.save(new)
        return addresses

    @classmethod
    def from_receiver(cls, party, receiver, provinces):
        province = provinces[china.province_code(receiver.state)]
        # County-level cities directly under a province come without city
        city = receiver.city or receiver.district
        street = ' '.join(v for v in [
                receiver.district if receiver.city else '',
                receiver.town, receiver.address] if v)
        return cls(
            party=party, party_name=receiver.name, street=street,
            city=city, postal_code=receiver.zip or None,
            country=province.country, subdivision=province,
            platform_masked=receiver.masked,
            platform_oaid=receiver.oaid or None)

    @property
    def receiver_key(self):
        return (self.party_name or '', self.street or '', self.city or '',
            self.subdivision.id if self.subdivision else None,
            self.postal_code or '')

    @classmethod
    def add_contact_mechanisms(cls, parties, trades):
        "Add the receivers' mobile and phone to their party when new"
        pool = Pool()
        ContactMechanism = pool.get('party.contact_mechanism')
        known = set()
        party_ids = list({p.id for p in parties.values()})
        for sub_parties in grouped_slice(party_ids):
            for mechanism in ContactMechanism.search([
                        ('party', 'in', list(sub_parties)),
                        ('type', 'in', ['mobile', 'phone']),
                        ]):
                known.add((mechanism.party.id, mechanism.type,
                        mechanism.value_compact or mechanism.value))
        new = []
        for trade in trades:
            party = parties[trade.tid]
            for type_, value in [
                    ('mobile', trade.receiver.mobile),
                    ('phone', trade.receiver.phone)]:
                # A masked number reaches nobody: it stays on the sale only
                if not value or '*' in value:
                    continue
                mechanism = ContactMechanism(party=party, type=type_)
                mechanism.value = mechanism.format_value(value, type_)
                mechanism.value_compact = mechanism.format_value_compact(
                    value, type_)
                key = (party.id, type_, mechanism.value_compact)
                if key not in known:
                    known.add(key)
                    new.append(mechanism)
        ContactMechanism.save(new)
