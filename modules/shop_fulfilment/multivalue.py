# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The configuration values every order reads, kept as account keeps the
periods it finds (`account.period`'s `_find_cache`).

A multi-value of Tryton searches its value records at each reading: the
tax rounding for every tax computed (each sale, invoice and invoice line),
the journal's sequence for every account move, the parties' default
language and receivable account for every buyer, the numbering of sales
and shipments.  They change once in a shop's life; a finance
review of 200 orders read them thousands of times."""
from trytond.cache import Cache, freeze
from trytond.model import Model
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

# The names of the caches: from the module's, as the tests import this
# module twice (as a file and as trytond's module) and a cache name is
# unique
CACHE = __name__ + '.%s'


class CachedMultiValueMixin:
    "Keep the values of the multi-values named in `_multivalue_cached`"
    __slots__ = ()
    # The names of the multi-values to keep: their value models clear the
    # cache when they change (ValueClearCacheMixin)
    _multivalue_cached = frozenset()

    def get_multivalue(self, name, **pattern):
        if name not in self._multivalue_cached or self.id is None:
            return super().get_multivalue(name, **pattern)
        # The company of the context completes a company's pattern
        key = (self.id, name, freeze(pattern),
            Transaction().context.get('company'))
        cached = self._multivalue_cache.get(key, -1)
        if cached != -1:
            if isinstance(cached, tuple):
                model, id_ = cached
                return Pool().get(model)(id_)
            return cached
        value = super().get_multivalue(name, **pattern)
        if isinstance(value, Model):
            cached = (value.__name__, value.id)
        elif isinstance(value, (str, int, float, bool, type(None))):
            cached = value
        else:
            return value
        self._multivalue_cache.set(key, cached)
        return value


class ValueClearCacheMixin:
    "Clear the cache of the values of `_multivalue_owner` when they change"
    __slots__ = ()
    _multivalue_owner = None

    @classmethod
    def _clear_multivalue_cache(cls):
        Pool().get(cls._multivalue_owner)._multivalue_cache.clear()

    @classmethod
    def create(cls, vlist):
        records = super().create(vlist)
        cls._clear_multivalue_cache()
        return records

    @classmethod
    def write(cls, *args):
        super().write(*args)
        cls._clear_multivalue_cache()

    @classmethod
    def delete(cls, records):
        super().delete(records)
        cls._clear_multivalue_cache()


class AccountConfiguration(CachedMultiValueMixin, metaclass=PoolMeta):
    __name__ = 'account.configuration'
    _multivalue_cached = frozenset({
            'tax_rounding',
            'default_account_receivable', 'default_account_payable',
            })
    _multivalue_cache = Cache(CACHE % 'account_configuration', context=False)


class AccountConfigurationTaxRounding(
        ValueClearCacheMixin, metaclass=PoolMeta):
    __name__ = 'account.configuration.tax_rounding'
    _multivalue_owner = 'account.configuration'


class AccountConfigurationDefaultAccount(
        ValueClearCacheMixin, metaclass=PoolMeta):
    __name__ = 'account.configuration.default_account'
    _multivalue_owner = 'account.configuration'


class Journal(CachedMultiValueMixin, metaclass=PoolMeta):
    __name__ = 'account.journal'
    _multivalue_cached = frozenset({'sequence'})
    _multivalue_cache = Cache(CACHE % 'account_journal', context=False)


class JournalSequence(ValueClearCacheMixin, metaclass=PoolMeta):
    __name__ = 'account.journal.sequence'
    _multivalue_owner = 'account.journal'


class PartyConfiguration(CachedMultiValueMixin, metaclass=PoolMeta):
    __name__ = 'party.configuration'
    _multivalue_cached = frozenset({'party_lang'})
    _multivalue_cache = Cache(CACHE % 'party_configuration', context=False)


class PartyConfigurationLang(ValueClearCacheMixin, metaclass=PoolMeta):
    __name__ = 'party.configuration.party_lang'
    _multivalue_owner = 'party.configuration'


class SaleConfiguration(CachedMultiValueMixin, metaclass=PoolMeta):
    __name__ = 'sale.configuration'
    _multivalue_cached = frozenset({'sale_sequence'})
    _multivalue_cache = Cache(CACHE % 'sale_configuration', context=False)


class SaleConfigurationSequence(ValueClearCacheMixin, metaclass=PoolMeta):
    __name__ = 'sale.configuration.sequence'
    _multivalue_owner = 'sale.configuration'


class StockConfiguration(CachedMultiValueMixin, metaclass=PoolMeta):
    __name__ = 'stock.configuration'
    _multivalue_cached = frozenset({
            'shipment_out_sequence', 'shipment_out_return_sequence'})
    _multivalue_cache = Cache(CACHE % 'stock_configuration', context=False)


class StockConfigurationSequence(ValueClearCacheMixin, metaclass=PoolMeta):
    __name__ = 'stock.configuration.sequence'
    _multivalue_owner = 'stock.configuration'
