#!/usr/bin/env python3
# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import configparser
import io
import os

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
MODULES = ['shop_fulfilment', 'shop_returns']


def read(*path):
    with io.open(os.path.join(HERE, *path), encoding='utf-8') as file:
        return file.read()


def module_depends(name):
    config = configparser.ConfigParser()
    config.read_string(read('modules', name, 'tryton.cfg'))
    info = dict(config.items('tryton'))
    depends = info.get('depends', '').strip().splitlines()
    depends += info.get('extras_depend', '').strip().splitlines()
    return [d for d in depends if d not in {'ir', 'res'} | set(MODULES)]


def requires():
    tryton = sorted({d for m in MODULES for d in module_depends(m)})
    return ['trytond >= 7.0, < 7.1'] + [
        'trytond_%s >= 7.0, < 7.1' % name for name in tryton]


packages, package_dir, package_data, entry_points = [], {}, {}, []
for module in MODULES:
    package = 'trytond.modules.%s' % module
    for sub in ['', '.tests', '.demo']:
        packages.append(package + sub)
        package_dir[package + sub] = os.path.join(
            'modules', module, *sub.split('.')[1:])
    package_data[package] = [
        'tryton.cfg', 'view/*.xml', 'locale/*.po', 'locale/override/*.po',
        '*.fodt', 'report/*.fodt', '*.xml', 'icons/*.svg']
    package_data[package + '.tests'] = ['*.rst', '*.json']
    package_data[package + '.demo'] = ['*.sqlite', '*.json']
    entry_points.append('%s = %s' % (module, package))

setup(
    name='shop_fulfilment',
    version='7.0.0',
    description="Taobao/Tmall order fulfilment and returns for Tryton",
    long_description=read('README.md'),
    long_description_content_type='text/markdown',
    license='GPL-3.0-or-later',
    python_requires='>=3.8',
    packages=packages,
    package_dir=package_dir,
    package_data=package_data,
    install_requires=requires() + ['proteus >= 7.0, < 7.1', 'relatorio',
        'python-barcode'],
    extras_require={
        'postgresql': ['psycopg2-binary >= 2.7'],
        # playwright drives the system's Chromium in tests/test_browser.py
        'test': ['pytest', 'psycopg2-binary >= 2.7', 'playwright'],
        },
    entry_points={
        'trytond.modules': entry_points,
        'console_scripts': [
            'shop-demo = trytond.modules.shop_fulfilment.demo.__main__:main',
            ],
        },
    zip_safe=False,
    )
