# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Collect the modules' scenario_*.rst doctests the way Tryton runs them"
import contextlib
import doctest
import pathlib
import unittest

import pytest

OPTIONS = (doctest.REPORT_ONLY_FIRST_FAILURE | doctest.ELLIPSIS
    | doctest.NORMALIZE_WHITESPACE)


def pytest_collect_file(parent, file_path):
    if (file_path.suffix == '.rst'
            and file_path.name.startswith('scenario_')):
        return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):

    def collect(self):
        yield ScenarioItem.from_parent(self, name=self.path.stem)


class ScenarioItem(pytest.Item):

    def runtest(self):
        from trytond.tests.test_tryton import (
            doctest_checker, doctest_teardown, drop_db)
        # Only drop: activate_modules creates the database or restores it
        # from DB_CACHE, which an initialised pool would ignore
        suite = doctest.DocFileSuite(
            str(self.path), module_relative=False,
            setUp=lambda test: drop_db(), tearDown=doctest_teardown,
            encoding='utf-8', checker=doctest_checker, optionflags=OPTIONS)
        result = unittest.TestResult()
        with restored_config():
            suite.run(result)
        problems = result.failures + result.errors
        if problems:
            raise ScenarioFailure('\n'.join(text for _, text in problems))
        if not result.testsRun:
            raise ScenarioFailure("no scenario ran")

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ScenarioFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, "scenario: %s" % self.name


@contextlib.contextmanager
def restored_config():
    "Undo the configuration changes a scenario makes"
    from trytond.config import config
    saved = {s: dict(config.items(s)) for s in config.sections()}
    try:
        yield
    finally:
        for section in config.sections():
            if section not in saved:
                config.remove_section(section)
        for section, options in saved.items():
            for option in list(config.options(section)):
                if option not in options:
                    config.remove_option(section, option)
            for option, value in options.items():
                config.set(section, option, value)


class ScenarioFailure(Exception):
    pass

