# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import os

import polib

from trytond.pool import Pool, PoolMeta

# The types whose entries Tryton tells apart by their source text
BY_SOURCE = {'report', 'view', 'wizard_button', 'selection'}


class Translation(metaclass=PoolMeta):
    __name__ = 'ir.translation'

    @classmethod
    def translation_import(cls, lang, module, po_path):
        super().translation_import(lang, module, po_path)
        paths = [po_path] if isinstance(po_path, str) else po_path
        overrides = [p for p in paths
            if '%soverride%s' % (os.sep, os.sep) in p]
        if overrides:
            cls.confirm_overrides(lang, module, overrides)

    @classmethod
    def confirm_overrides(cls, lang, module, paths):
        """Unmark fuzzy the entries that the override translates as they
        already were

        Tryton changes an overridden entry only when the value differs, so
        an entry that another module marks fuzzy with the right translation
        stays fuzzy, and fuzzy entries are not used: the label would show
        in English."""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        wanted = {}
        for path in paths:
            for entry in polib.pofile(path):
                if (entry.obsolete or not entry.msgstr
                        or 'fuzzy' in entry.flags):
                    continue
                ttype, name, res_id = entry.msgctxt.split(':')
                if '.' not in res_id:
                    continue
                res_module, fs_id = res_id.split('.', 1)
                src = entry.msgid if ttype in BY_SOURCE else None
                wanted[(res_module, ttype, name, fs_id, src)] = entry.msgstr
        fuzzy = cls.search([
                ('lang', '=', lang),
                ('fuzzy', '=', True),
                ('module', 'in', list({k[0] for k in wanted})),
                ])
        fs_ids = {}
        records = [t for t in fuzzy if t.res_id not in {-1, None, 0}]
        if records:
            for data in ModelData.search([
                        ('db_id', 'in', list({t.res_id for t in records})),
                        ('module', 'in', list({t.module for t in records})),
                        ]):
                # (actions are translated as ir.action)
                for model in [data.model, *cls.extra_model_data(data)]:
                    fs_ids[(data.module, model, data.db_id)] = data.fs_id
        to_save = []
        for translation in fuzzy:
            fs_id = ''
            if translation.res_id not in {-1, None, 0}:
                fs_id = fs_ids.get((translation.module,
                        translation.name.split(',')[0], translation.res_id))
            src = translation.src if translation.type in BY_SOURCE else None
            value = wanted.get((translation.module, translation.type,
                    translation.name, fs_id, src))
            if value is not None and value == translation.value:
                translation.fuzzy = False
                translation.overriding_module = module
                to_save.append(translation)
        cls.save(to_save)
