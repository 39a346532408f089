# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The Chinese translation is complete, without a database.

The strings of the module are read from its sources as Tryton registers
them: the XML records (messages, menus, actions, groups, buttons, rule
groups), the views' string, confirm and help attributes, and from the
Python files by an ast walk, the model names (docstrings), the field
strings, help and selection labels of the classes registered as models and
the buttons of those registered as wizards.  Each must have a translated,
not fuzzy, entry in locale/zh_CN.po with the same placeholders.
tests/update_translation.py adds the missing entries.

Other modules test theirs with TranslationTest and their module's name."""
import ast
import collections
import importlib.util
import os
import re
import unittest
import xml.etree.ElementTree as ET

import polib

MODULES_DIR = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LANG = 'zh_CN'

PLACEHOLDER = re.compile(r'%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]')

# The translatable fields of the records that modules define in XML, and
# the model under which Tryton exports them
XML_TRANSLATED = {
    'ir.message': ('ir.message', ['text']),
    'ir.ui.menu': ('ir.ui.menu', ['name']),
    'ir.action.act_window': ('ir.action', ['name']),
    'ir.action.wizard': ('ir.action', ['name']),
    'ir.action.report': ('ir.action', ['name']),
    'ir.action.url': ('ir.action', ['name']),
    'ir.action.act_window.domain': ('ir.action.act_window.domain', ['name']),
    'ir.model.button': ('ir.model.button', ['string', 'help', 'confirm']),
    'ir.rule.group': ('ir.rule.group', ['name']),
    'res.group': ('res.group', ['name']),
    'ir.sequence.type': ('ir.sequence.type', ['name']),
    'ir.sequence': ('ir.sequence', ['name']),
    'ir.trigger': ('ir.trigger', ['name']),
    'ir.email.template': ('ir.email.template', ['name', 'subject', 'body']),
    }
ACTION_MODELS = {'ir.action.act_window', 'ir.action.wizard',
    'ir.action.report', 'ir.action.url'}
VIEW_ATTRIBUTES = ['string', 'confirm', 'help']

# The position of the string among the positional arguments of the fields
STRING_POSITION = {
    'Selection': 1, 'MultiSelection': 1, 'Many2One': 1, 'Dict': 1,
    'One2Many': 2, 'Many2Many': 3, 'One2One': 3,
    }
WRAPPERS = {'Function', 'MultiValue'}


def module_dir(name):
    "The folder of a module, without importing it"
    sibling = os.path.join(MODULES_DIR, name)
    if os.path.isdir(sibling):
        return sibling
    spec = importlib.util.find_spec('trytond')
    for location in spec.submodule_search_locations or []:
        path = os.path.join(location, 'modules', name)
        if os.path.isdir(path):
            return path
        if name in {'ir', 'res'}:
            return os.path.join(location, name)
    return None


def _xml_files(module_dir):
    "The XML files listed in tryton.cfg"
    import configparser
    config = configparser.ConfigParser()
    config.read(os.path.join(module_dir, 'tryton.cfg'))
    names = config.get('tryton', 'xml', fallback='').split()
    return [os.path.join(module_dir, n) for n in names]


def _records(module_dir):
    "Yield (tag, model, id, element) of the records and menuitems"
    for path in _xml_files(module_dir):
        root = ET.parse(path).getroot()
        for data in root.iter('data'):
            for element in data:
                if element.tag == 'record':
                    yield ('record', element.get('model'),
                        element.get('id'), element)
                elif element.tag == 'menuitem':
                    yield 'menuitem', 'ir.ui.menu', element.get('id'), element


def _field_text(record, name):
    for field in record.findall('field'):
        if field.get('name') == name and field.get('eval') is None \
                and field.get('ref') is None and field.get('search') is None:
            return field.text or ''
    return None


_action_names = {}


def _action_name(ref, module):
    "The name of the action ref ('id' of module or 'module.id')"
    prefix, _, fs_id = ref.rpartition('.')
    module = prefix or module
    if module not in _action_names:
        names = {}
        folder = module_dir(module)
        if folder:
            for tag, model, id_, element in _records(folder):
                if tag == 'record' and model in ACTION_MODELS:
                    names[id_] = _field_text(element, 'name')
        _action_names[module] = names
    return _action_names[module].get(fs_id)


def xml_strings(module):
    "Return the (msgctxt, msgid) of the strings of the XML files"
    folder = module_dir(module)
    strings = set()
    views = []
    for tag, model, fs_id, element in _records(folder):
        if tag == 'menuitem':
            name = element.get('name')
            if name is None and element.get('action'):
                name = _action_name(element.get('action'), module)
            if name:
                strings.add(('model:ir.ui.menu,name:%s' % fs_id, name))
            continue
        if model == 'ir.ui.view':
            views.append(
                (_field_text(element, 'model'), _field_text(element, 'name')))
            continue
        if model not in XML_TRANSLATED:
            continue
        export_model, field_names = XML_TRANSLATED[model]
        for field_name in field_names:
            text = _field_text(element, field_name)
            if text:
                strings.add(('model:%s,%s:%s' % (
                            export_model, field_name, fs_id), text))
    for model, name in views:
        if not model or not name:
            continue
        path = os.path.join(folder, 'view', name + '.xml')
        for element in ET.parse(path).getroot().iter():
            for attribute in VIEW_ATTRIBUTES:
                if element.get(attribute):
                    strings.add(('view:%s:' % model, element.get(attribute)))
    return strings


def _const(node):
    "The str value of node or None"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _const(node.left), _const(node.right)
        if left is not None and right is not None:
            return left + right
    return None


def _attr_name(node):
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _is_field_call(node):
    return (isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == 'fields')


def _keyword(call, name):
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _selection_labels(node, constants):
    "The labels of a literal selection, resolving module-level names"
    if isinstance(node, ast.Name):
        node = constants.get(node.id)
    if not isinstance(node, (ast.List, ast.Tuple)):
        return []
    labels = []
    for item in node.elts:
        if isinstance(item, ast.Tuple) and len(item.elts) == 2:
            label = _const(item.elts[1])
            if label:
                labels.append(label)
    return labels


def _field_strings(model, name, call, constants):
    type_ = call.func.attr
    if type_ in WRAPPERS:
        if call.args and _is_field_call(call.args[0]):
            yield from _field_strings(model, name, call.args[0], constants)
        return
    key = '%s,%s:' % (model, name)
    string = _keyword(call, 'string')
    if string is None:
        position = STRING_POSITION.get(type_, 0)
        if len(call.args) > position:
            string = call.args[position]
    if string is not None and _const(string):
        yield 'field:' + key, _const(string)
    help_ = _keyword(call, 'help')
    if help_ is not None and _const(help_):
        yield 'help:' + key, _const(help_)
    if type_ in {'Selection', 'MultiSelection'}:
        translate = _keyword(call, 'translate_selection')
        if not (isinstance(translate, ast.Constant) and not translate.value):
            selection = _keyword(call, 'selection')
            if selection is None and call.args:
                selection = call.args[0]
            for label in _selection_labels(selection, constants):
                yield 'selection:' + key, label


def _setup_selections(model, cls_node, constants):
    "The labels added in __setup__ to the selection of existing fields"
    for node in ast.walk(cls_node):
        target = values = None
        if (isinstance(node, ast.AugAssign)
                and isinstance(node.target, ast.Attribute)
                and node.target.attr == 'selection'):
            target, values = node.target, node.value
        elif (isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {'append', 'extend', 'insert'}
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == 'selection' and node.args):
            target = node.func.value
            values = node.args[-1]
            if node.func.attr in {'append', 'insert'}:
                values = ast.List(elts=[values])
        if target is None:
            continue
        field_name = _attr_name(target.value)
        for label in _selection_labels(values, constants):
            yield 'selection:%s,%s:' % (model, field_name), label


def _wizard_buttons(wizard, cls_node):
    for node in cls_node.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Call)
                and _attr_name(node.value.func) == 'StateView'):
            continue
        state = node.targets[0].id
        buttons = node.value.args[2] if len(node.value.args) > 2 else (
            _keyword(node.value, 'buttons'))
        if not isinstance(buttons, (ast.List, ast.Tuple)):
            continue
        for button in buttons.elts:
            if (isinstance(button, ast.Call)
                    and _attr_name(button.func) == 'Button'
                    and len(button.args) >= 2):
                string, target = (_const(button.args[0]),
                    _const(button.args[1]))
                if string and target:
                    yield ('wizard_button:%s,%s,%s:' % (
                                wizard, state, target), string)


def _class_model_name(cls_node):
    for node in cls_node.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == '__name__'):
            return _const(node.value)
    return None


def registered(folder):
    """Return {(file, class): type} of the classes that register() of the
    module's __init__.py gives to Pool.register: model, wizard or report"""
    with open(os.path.join(folder, '__init__.py'), encoding='utf-8') as file:
        tree = ast.parse(file.read())
    types = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == 'register'
                and _attr_name(node.func.value) == 'Pool'):
            continue
        type_ = _keyword(node, 'type_')
        type_ = _const(type_) if type_ is not None else 'model'
        for arg in node.args:
            if isinstance(arg, ast.Attribute):
                types[(_attr_name(arg.value), arg.attr)] = type_
            elif isinstance(arg, ast.Name):
                types[(None, arg.id)] = type_
    return types


def python_strings(module):
    "Return the (msgctxt, msgid) of the strings of the Python files"
    folder = module_dir(module)
    types = registered(folder)
    trees = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames
            if d not in {'tests', 'demo', 'locale', 'view', '__pycache__'}]
        for filename in filenames:
            if filename.endswith('.py'):
                path = os.path.join(dirpath, filename)
                with open(path, encoding='utf-8') as file:
                    trees[path] = ast.parse(file.read(), path)
    # Module-level constants, those of the file first
    shared = {}
    for tree in trees.values():
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)):
                shared.setdefault(node.targets[0].id, node.value)
    strings = set()
    for path, tree in trees.items():
        file_name = os.path.splitext(os.path.relpath(path, folder))[0]
        constants = dict(shared)
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)):
                constants[node.targets[0].id] = node.value
        for cls_node in ast.walk(tree):
            if not isinstance(cls_node, ast.ClassDef):
                continue
            model = _class_model_name(cls_node)
            if not model:
                continue
            type_ = types.get((file_name.replace(os.sep, '.'),
                    cls_node.name), types.get((None, cls_node.name)))
            extension = any(_attr_name(k.value) == 'PoolMeta'
                for k in cls_node.keywords if k.arg == 'metaclass')
            if type_ == 'wizard':
                strings.update(_wizard_buttons(model, cls_node))
            if type_ != 'model':
                # A report's name is its action's
                continue
            docstring = ast.get_docstring(cls_node)
            if docstring and not extension:
                first = next(
                    (l.strip() for l in docstring.splitlines() if l.strip()),
                    None)
                if first:
                    strings.add(('model:%s,name:' % model, first))
            for node in cls_node.body:
                if (isinstance(node, ast.Assign) and len(node.targets) == 1
                        and isinstance(node.targets[0], ast.Name)
                        and _is_field_call(node.value)):
                    strings.update(_field_strings(
                            model, node.targets[0].id, node.value, constants))
            strings.update(_setup_selections(model, cls_node, constants))
    return strings


def module_strings(module):
    return xml_strings(module) | python_strings(module)


def po_problems(po):
    "Return the problems of the entries of po"
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        where = '%s %r' % (entry.msgctxt, entry.msgid)
        if not entry.msgstr:
            problems.append('untranslated: %s' % where)
        if 'fuzzy' in entry.flags:
            problems.append('fuzzy: %s' % where)
        if entry.msgstr:
            expected = collections.Counter(PLACEHOLDER.findall(entry.msgid))
            found = collections.Counter(PLACEHOLDER.findall(entry.msgstr))
            if expected != found:
                problems.append('placeholders %s instead of %s: %s' % (
                        sorted(found.elements()), sorted(expected.elements()),
                        where))
    return problems


def missing_strings(po, strings):
    "Return the strings without a translated entry in po"
    translated = {(e.msgctxt or '', e.msgid) for e in po
        if e.msgstr and not e.obsolete and 'fuzzy' not in e.flags}
    return sorted(s for s in strings if s not in translated)


def dependencies(module):
    "The modules module depends on, directly or not, in no order"
    import configparser
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        config = configparser.ConfigParser()
        config.read(os.path.join(module_dir(name), 'tryton.cfg'))
        for depend in config.get('tryton', 'depends', fallback='').split():
            if depend not in seen:
                seen.add(depend)
                todo.append(depend)
    return seen


def override_context(module, msgctxt):
    """The context of an entry of locale/override/*.po for an entry of the
    module's .po: the module before the fs_id"""
    ttype, name, fs_id = msgctxt.split(':')
    return '%s:%s:%s.%s' % (ttype, name, module, fs_id)


def untranslated(entry):
    return not entry.msgstr or 'fuzzy' in entry.flags


# English that Chinese users read as it is
KEPT_ENGLISH = {'Skype', 'Jabber', 'Cookie'}


def english(msgctxt, msgid, msgstr):
    "Whether a module's translation is its English source left as it is"
    return (msgstr == msgid
        # (words, not acronyms such as URL or ID)
        and re.search('[a-z]{2}', PLACEHOLDER.sub('', msgid))
        # The units' symbols
        and not msgctxt.startswith('model:product.uom,symbol:')
        and msgid not in KEPT_ENGLISH)


def core_entries(module, lang=LANG):
    """Return {(override context, msgid): translation or None when
    untranslated or left in English} of the .po of every module that module
    depends on"""
    entries = {}
    for name in sorted(dependencies(module)):
        path = os.path.join(module_dir(name), 'locale', '%s.po' % lang)
        if not os.path.exists(path):
            continue
        for entry in polib.pofile(path):
            if entry.obsolete or not entry.msgctxt:
                continue
            key = (override_context(name, entry.msgctxt), entry.msgid)
            entries[key] = (None if untranslated(entry)
                or english(entry.msgctxt, entry.msgid, entry.msgstr)
                else entry.msgstr)
    return entries


class TranslationTest:
    "Test the Chinese translation of the module, mixed into a TestCase"
    module = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.po_path = os.path.join(
            module_dir(cls.module), 'locale', '%s.po' % LANG)
        cls.po = polib.pofile(cls.po_path)

    def test_entries(self):
        "Every entry is translated, not fuzzy, with the same placeholders"
        problems = po_problems(self.po)
        if problems:
            self.fail('\n'.join(['%s:' % self.po_path] + problems))

    def test_strings_translated(self):
        "Every string of the module has a translation"
        strings = module_strings(self.module)
        # The collection itself works
        self.assertTrue(any(c.startswith('field:') for c, _ in strings))
        self.assertTrue(any(
                c.startswith('model:ir.message,') for c, _ in strings))
        missing = missing_strings(self.po, strings)
        if missing:
            self.fail('\n'.join(
                ['missing from %s (run tests/update_translation.py %s, '
                    'then translate):' % (self.po_path, self.module)]
                + ['%s %r' % m for m in missing]))


class TranslationTestCase(TranslationTest, unittest.TestCase):
    "Test the Chinese translation of shop_fulfilment"
    module = 'shop_fulfilment'


class OverrideTestCase(unittest.TestCase):
    """The Chinese that shop_fulfilment gives the Tryton modules it depends
    on (locale/override/zh_CN.po), as tests/update_core_translation.py
    writes it"""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.po_path = os.path.join(module_dir('shop_fulfilment'), 'locale',
            'override', '%s.po' % LANG)
        cls.po = polib.pofile(cls.po_path)
        cls.core = core_entries('shop_fulfilment')

    def test_entries(self):
        "Every entry is translated, not fuzzy, with the same placeholders"
        problems = po_problems(self.po)
        if problems:
            self.fail('\n'.join(['%s:' % self.po_path] + problems))

    def test_entries_known(self):
        "Every entry overrides an entry of its module's .po"
        # (Tryton fails to load an override of an entry it does not have)
        unknown = [(e.msgctxt, e.msgid) for e in self.po
            if (e.msgctxt, e.msgid) not in self.core]
        self.assertFalse(unknown, unknown)

    def test_core_translated(self):
        "Every string the modules leave untranslated is translated here"
        self.assertGreater(len(self.core), 5000)
        translated = {(e.msgctxt, e.msgid) for e in self.po
            if e.msgstr and 'fuzzy' not in e.flags}
        missing = sorted(k for k, v in self.core.items()
            if v is None and k not in translated)
        if missing:
            self.fail('\n'.join(
                    ['missing from %s (run tests/update_core_translation.py, '
                        'then translate):' % self.po_path]
                    + ['%s %r' % m for m in missing]))
