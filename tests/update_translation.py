#!/usr/bin/env python3
# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Update the modules' Chinese translation from their sources, as Tryton does.

    cd /work/main && .venv/bin/python tests/update_translation.py \
        [--lang LANG] [MODULE ...]

The modules are shop_fulfilment and shop_returns (default: both), the
language zh_CN.  Activates the modules in a throwaway SQLite database, runs
the "Set Translations" and "Update Translations" wizards for the language
and exports each module's translations ("Export Translations"): that is the
template.  It is merged into modules/MODULE/locale/LANG.po:

- an entry of the template that the .po has (same msgctxt and msgid) keeps
  its msgstr and flags;
- an entry whose msgctxt is known but whose msgid changed keeps the old
  msgstr, marked fuzzy with the previous msgid, to be reviewed;
- a new entry is added untranslated;
- an entry that the template no longer has is dropped.

The selection values a module appends to another module's field are
exported by Tryton with that module: they are added from the module's
sources (as the translation test collects them).

The entries are sorted as Tryton sorts them (msgctxt, msgid), so running it
again changes nothing.  It prints, per module, the number of entries still
to translate (untranslated or fuzzy)."""
import argparse
import logging
import os
import sys
import tempfile
import warnings
from collections import Counter

import polib

MODULES = ['shop_fulfilment', 'shop_returns']
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Tryton writes its .po files with this width and these metadata
WRAPWIDTH = 78
METADATA = {'Content-Type': 'text/plain; charset=utf-8'}


def export_templates(modules, lang, folder):
    """Return the translations of each module exported from a new database
    as {module: bytes}; folder is the database path, which stays empty"""
    # Before trytond reads its configuration: an in-memory SQLite database
    # that nothing else uses, and no cache of other runs
    os.environ['TRYTOND_DATABASE__URI'] = 'sqlite://'
    os.environ['TRYTOND_DATABASE__PATH'] = folder
    os.environ['DB_NAME'] = ':memory:'
    os.environ.pop('DB_CACHE', None)
    os.environ.pop('TRYTOND_CONFIG', None)

    # trytond.report resets the warning filters when imported; then the
    # SQLite backend warns about every constraint it cannot alter
    import trytond.report  # noqa: F401
    warnings.filterwarnings('ignore')
    logging.disable(logging.WARNING)

    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module
    from trytond.transaction import Transaction

    activate_module(modules)
    pool = Pool(DB_NAME)
    with Transaction().start(DB_NAME, 0, context={}) as transaction:
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        language, = Lang.search([('code', '=', lang)])
        if not language.translatable:
            language.translatable = True
            language.save()
        transaction.commit()

        # ir.translation.set: the strings of the views and reports
        TranslationSet = pool.get('ir.translation.set', type='wizard')
        session_id, _, _ = TranslationSet.create()
        TranslationSet(session_id).transition_set_()
        TranslationSet.delete(session_id)

        # ir.translation.update: the entries of the language
        TranslationUpdate = pool.get('ir.translation.update', type='wizard')
        session_id, _, _ = TranslationUpdate.create()
        update = TranslationUpdate(session_id)
        update.start.language = language
        update.do_update({})
        TranslationUpdate.delete(session_id)

        # ir.translation.export
        contents = {m: Translation.translation_export(lang, m) or b''
            for m in modules}
        transaction.rollback()
    return contents


def key(entry):
    return (entry.msgctxt or '', entry.msgid)


def merge(template, po):
    "Return the entries of the template with the translations of po"
    entries = [e for e in po if not e.obsolete]
    existing = {key(e): e for e in entries}
    template_keys = {key(e) for e in template}
    # When a context (a field, a message, a selection) lost exactly one
    # translated string and got exactly one new string, the source changed
    gone = [e for e in entries if e.msgstr and key(e) not in template_keys]
    added = [e for e in template if key(e) not in existing]
    gone_contexts = Counter(e.msgctxt or '' for e in gone)
    added_contexts = Counter(e.msgctxt or '' for e in added)
    by_context = {e.msgctxt or '': e for e in gone
        if gone_contexts[e.msgctxt or ''] == 1
        and added_contexts[e.msgctxt or ''] == 1}
    result = polib.POFile(wrapwidth=WRAPWIDTH)
    result.metadata = dict(METADATA)
    for new in template:
        entry = polib.POEntry(msgctxt=new.msgctxt, msgid=new.msgid)
        context = new.msgctxt or ''
        old = existing.get(key(new))
        if old is not None:
            entry.msgstr = old.msgstr
            entry.flags = list(old.flags)
            entry.previous_msgid = old.previous_msgid
        elif context in by_context:
            # The source text changed: keep the translation to review
            old = by_context[context]
            entry.msgstr = old.msgstr
            entry.flags = ['fuzzy']
            entry.previous_msgid = old.msgid
        if not entry.msgstr or 'fuzzy' not in entry.flags:
            entry.previous_msgid = None
        result.append(entry)
    result.sort(key=key)
    return result


def extend(module, template):
    """Add to the template the module's strings that Tryton exports with
    another module: the selection values the module appends to a field of
    another module's model are registered by the module of the model"""
    sys.path.insert(
        0, os.path.join(ROOT, 'modules', 'shop_fulfilment', 'tests'))
    from test_translation import module_strings
    known = {key(e) for e in template}
    for context, msgid in sorted(module_strings(module) - known):
        if context.startswith('selection:'):
            template.append(polib.POEntry(msgctxt=context, msgid=msgid))
    return template


def write_po(path, po):
    "Write po at path unless it holds that text already; return if written"
    text = str(po)
    if not text.endswith('\n'):
        text += '\n'
    previous = None
    if os.path.exists(path):
        with open(path, encoding='utf-8') as file:
            previous = file.read()
    if text == previous:
        return False
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as file:
        file.write(text)
    return True


def update(module, lang, content):
    "Merge the template content into the module's .po and return its todo"
    locale = os.path.join(ROOT, 'modules', module, 'locale')
    path = os.path.join(locale, '%s.po' % lang)
    if not content:
        sys.exit('No translation of %s exported for %s' % (module, lang))
    template = polib.pofile(content.decode('utf-8'))
    if os.path.exists(path):
        po = polib.pofile(path, wrapwidth=WRAPWIDTH)
    else:
        po = polib.POFile(wrapwidth=WRAPWIDTH)
    merged = merge(extend(module, template), po)
    old_keys = {key(e) for e in po if not e.obsolete}
    new_keys = {key(e) for e in merged}
    written = write_po(path, merged)
    todo = [e for e in merged if not e.msgstr or 'fuzzy' in e.flags]
    print('%s: %d entries, %d added, %d dropped, %s' % (
            os.path.relpath(path, ROOT), len(merged),
            len(new_keys - old_keys), len(old_keys - new_keys),
            'written' if written else 'unchanged'),
        file=sys.stderr)
    return todo


def main(args=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('modules', metavar='MODULE', nargs='*',
        help='among %s (default: all)' % ', '.join(MODULES))
    parser.add_argument('--lang', default='zh_CN', help='default: zh_CN')
    options = parser.parse_args(args)
    unknown = set(options.modules) - set(MODULES)
    if unknown:
        parser.error('unknown module: %s' % ', '.join(sorted(unknown)))
    modules = [m for m in MODULES
        if m in options.modules or not options.modules]
    with tempfile.TemporaryDirectory(prefix='shop-po-') as folder:
        contents = export_templates(modules, options.lang, folder)
    for module in modules:
        todo = update(module, options.lang, contents[module])
        print('%s %d' % (module, len(todo)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
