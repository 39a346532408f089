# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The demo's users: one per role, working in Chinese.

A user is created once with the demo password; later runs only make sure
of the groups, the company and the language, so that a password changed in
the client stays."""
import os
from collections import namedtuple

Role = namedtuple('Role', ['login', 'name', 'role', 'groups'])

# groups as (module, XML id): each role's own group, as a shop would set
# its users up (the warehouse is also Tryton's Stock group)
ROLES = [
    Role('service', "客服小王", "customer service", [
            ('shop_fulfilment', 'group_customer_service')]),
    Role('reviewer', "审单员小李", "order review", [
            ('shop_fulfilment', 'group_order_review')]),
    Role('finance', "财审员小张", "finance review", [
            ('shop_fulfilment', 'group_finance_review')]),
    Role('warehouse', "仓库发货员小赵", "warehouse", [
            ('shop_fulfilment', 'group_warehouse'), ('stock', 'group_stock')]),
    Role('aftersales', "售后专员小陈", "after-sales", [
            ('shop_returns', 'group_after_sales')]),
    Role('accountant', "会计小刘", "accounting", [
            ('account', 'group_account')]),
    Role('shopadmin', "店长老周", "shop administration", [
            ('shop_fulfilment', 'group_shop_admin')]),
    ]


def demo_password():
    return os.environ.get('SHOP_DEMO_PASSWORD', 'shop-demo-2026')


def setup_users(config, company, password=None, language='zh_CN'):
    """Create the users of the roles whose module is activated, or bring
    their groups, company and language up to date; return the roles set
    up as (role, True when the user was created)"""
    from proteus import Model
    User = Model.get('res.user', config=config)
    Group = Model.get('res.group', config=config)
    Lang = Model.get('ir.lang', config=config)
    ModelData = Model.get('ir.model.data', config=config)
    password = password or demo_password()
    lang, = Lang.find([('code', '=', language)])
    done = []
    for role in ROLES:
        groups = []
        for module, fs_id in role.groups:
            data = ModelData.find(
                [('module', '=', module), ('fs_id', '=', fs_id)], limit=1)
            if data:
                groups.append(Group(data[0].db_id))
        if len(groups) != len(role.groups):
            # A role of a module not activated
            continue
        users = User.find([('login', '=', role.login)])
        if users:
            user, = users
        else:
            user = User(login=role.login, name=role.name)
            user.password = password
        known = {g.id for g in user.groups}
        missing = [g for g in groups if g.id not in known]
        if missing:
            user.groups.extend(missing)
        if company not in user.companies:
            user.companies.append(company)
        if user.company != company:
            user.company = company
        if user.language != lang:
            user.language = lang
        created = user.id < 0
        if created or user._changed:
            user.save()
        done.append((role, created))
    return done


def print_users(done, password=None):
    "Print the users and their password"
    password = password or demo_password()
    print("    %-11s %-16s %-20s %s" % (
            "login", "password", "role", "name"), flush=True)
    for role, created in done:
        print("    %-11s %-16s %-20s %s%s" % (
                role.login, password, role.role, role.name,
                " (new)" if created else ""), flush=True)
