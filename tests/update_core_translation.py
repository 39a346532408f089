#!/usr/bin/env python3
# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Update the Chinese translation that shop_fulfilment gives Tryton's own
modules.

    cd /work/main && .venv/bin/python tests/update_core_translation.py \
        [--lang LANG]

Many of the Tryton 7.0 modules our users work in (sale, web_shop,
account_statement, account_payment, party, ...) ship a zh_CN.po that is
mostly untranslated, so their forms would show English.  Tryton lets a
module override the translations of the modules it depends on with
locale/override/LANG.po, whose contexts name the module of the string
(``field:sale.sale,party:sale.``, ``model:ir.ui.menu,name:sale.menu_sale``).

Tryton loads an override only onto an entry that the other module's .po
has (it searches that entry and fails when it is missing), so this script
reads the installed modules' .po files, no database:

- every entry that a module of shop_fulfilment's dependencies leaves
  untranslated or fuzzy is in the override;
- an entry of the override that the module's .po still leaves
  untranslated keeps its translation;
- a translation of the module's .po that would mislead our users
  (CORRECTIONS: 草案 for a draft, 原始凭证 for an invoice, 数量 for a
  shipment's number) is corrected;
- an entry that the module's .po no longer has is dropped.

It prints the number of entries still to translate."""
import argparse
import os
import re
import sys

import polib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE = 'shop_fulfilment'
WRAPWIDTH = 78
METADATA = {'Content-Type': 'text/plain; charset=utf-8'}

sys.path.insert(0, os.path.join(ROOT, 'modules', MODULE, 'tests'))
from test_translation import core_entries, untranslated  # noqa: E402
from update_translation import write_po  # noqa: E402


# Translations of Tryton's modules that would mislead our users, corrected
# by the override wherever the module's .po has them: (pattern of the
# context, pattern of the English, pattern of the wrong words, right words)
CORRECTIONS = [
    # 草案 is the draft of a bill; a document not yet confirmed is 草稿
    (r'', r'', '草案', '草稿'),
    # An invoice is a 发票 to our users; 原始凭证 is any source document
    (r'', r'(?i)invoice', '原始凭证', '发票'),
    (r'', r'(?i)invoice', '原始发票', '发票'),
    # A shipment's number is not a quantity
    (r'^field:stock\.shipment\.[\w.]+,number:', r'^Number$', '数量', '编号'),
    (r'^field:account\.invoice\.payment_term\.line,amount:', r'', '数量',
        '金额'),
    # Stock moves are not "changes"
    (r'', r'(?i)move', '(?:库存)?变动', '库存移动'),
    ]


def correct(msgctxt, msgid, msgstr):
    "The translation with the corrections that apply"
    for context, english, wrong, right in CORRECTIONS:
        if (re.search(context, msgctxt) and re.search(english, msgid)):
            msgstr = re.sub(wrong, right, msgstr)
    return msgstr


def key(entry):
    return (entry.msgctxt or '', entry.msgid)


def main(args=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--lang', default='zh_CN', help='default: zh_CN')
    options = parser.parse_args(args)
    path = os.path.join(
        ROOT, 'modules', MODULE, 'locale', 'override', '%s.po' % options.lang)
    old = {}
    if os.path.exists(path):
        old = {key(e): e for e in polib.pofile(path) if not e.obsolete}
    entries = core_entries(MODULE, options.lang)
    result = polib.POFile(wrapwidth=WRAPWIDTH)
    result.metadata = dict(METADATA)
    for (msgctxt, msgid), translation in sorted(entries.items()):
        entry = polib.POEntry(msgctxt=msgctxt, msgid=msgid)
        previous = old.get((msgctxt, msgid))
        if translation is not None:
            corrected = correct(msgctxt, msgid, translation)
            if corrected == translation:
                continue
            entry.msgstr = corrected
        elif previous is not None:
            entry.msgstr = previous.msgstr
            entry.flags = list(previous.flags)
        result.append(entry)
    written = write_po(path, result)
    dropped = set(old) - {key(e) for e in result}
    todo = [e for e in result if untranslated(e)]
    print('%s: %d entries, %d dropped, %s' % (
            os.path.relpath(path, ROOT), len(result), len(dropped),
            'written' if written else 'unchanged'),
        file=sys.stderr)
    print('%s override %d' % (MODULE, len(todo)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
