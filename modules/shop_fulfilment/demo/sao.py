# This file is part of shop_fulfilment.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Install Tryton's web client sao 7.0 from npm, outside the repository.

The npm package tryton-sao ships the built client (dist/) and index.html;
its postinstall step (`bower install`) fetches the libraries index.html
loads (jQuery, Bootstrap, moment, ...) from their git repositories. Here
the same libraries come from the npm registry, at the versions of sao's
bower.json, and are laid out as bower_components/ inside sao's folder, the
web root trytond serves (`[web] root`, TRYTOND_WEB__ROOT).

    python -m trytond.modules.shop_fulfilment.demo.sao [FOLDER]

installs into FOLDER (default: $SHOP_SAO, else $SHOP_DATA/sao, else
~/.local/share/shop_fulfilment/sao) unless it is already there, and prints
the folder."""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

SAO = 'tryton-sao@~7.0.0'
# sao's bower.json, as npm packages: bower name, npm spec, then what
# index.html loads under bower_components/NAME/ and where the npm package
# keeps it (None: the whole package as it is)
LIBRARIES = [
    ('jquery', 'jquery@^3', None),
    ('bootstrap', 'bootstrap@^3.3.7', None),
    ('moment', 'moment@^2.10', None),
    ('gettext.js', 'gettext.js@^0.7', None),
    # bower's d3 (d3-bower) keeps d3.min.js at its top, npm's in dist/
    ('d3', 'd3@^5.8', {'d3.min.js': 'dist/d3.min.js'}),
    ('c3', 'c3@^0.7', None),
    ('papaparse', 'papaparse@^5', None),
    ('fullcalendar', 'fullcalendar@^3.10.2', None),
    ('mousetrap', 'mousetrap@^1.6', None),
    ('Sortable', 'sortablejs@^1.8.4', None),
    ]
# What index.html loads: all must be there for the client to start
REQUIRED = [
    'index.html', 'dist/tryton-sao.min.js', 'dist/tryton-sao.min.css',
    'bower_components/jquery/dist/jquery.min.js',
    'bower_components/bootstrap/dist/js/bootstrap.min.js',
    'bower_components/moment/min/moment.min.js',
    'bower_components/moment/min/locales.min.js',
    'bower_components/gettext.js/dist/gettext.min.js',
    'bower_components/d3/d3.min.js',
    'bower_components/c3/c3.min.js',
    'bower_components/c3/c3.min.css',
    'bower_components/papaparse/papaparse.min.js',
    'bower_components/fullcalendar/dist/fullcalendar.min.js',
    'bower_components/fullcalendar/dist/locale-all.js',
    'bower_components/fullcalendar/dist/fullcalendar.min.css',
    'bower_components/mousetrap/mousetrap.min.js',
    'bower_components/Sortable/Sortable.min.js',
    ]
STAMP = '.shop-sao-installed'


def default_folder():
    if os.environ.get('SHOP_SAO'):
        return os.path.abspath(os.path.expanduser(os.environ['SHOP_SAO']))
    data = os.environ.get('SHOP_DATA') or os.path.join(
        '~', '.local', 'share', 'shop_fulfilment')
    return os.path.abspath(os.path.join(os.path.expanduser(data), 'sao'))


def installed(folder=None):
    "The installed version of sao in folder, or None"
    folder = folder or default_folder()
    stamp = os.path.join(folder, STAMP)
    if not os.path.exists(stamp):
        return None
    if not all(os.path.exists(os.path.join(folder, p)) for p in REQUIRED):
        return None
    with open(stamp) as file:
        return file.read().strip() or None


def _progress(message):
    print('    %s' % message, flush=True)


def _npm(*args, cwd):
    npm = shutil.which('npm')
    if not npm:
        raise RuntimeError(
            "npm is not installed (Debian: apt-get install -y npm)")
    command = [npm, '--no-audit', '--no-fund', '--loglevel=error', *args]
    result = subprocess.run(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    if result.returncode:
        raise RuntimeError("%s failed:\n%s" % (
                ' '.join(command), result.stdout))
    return result.stdout


def install(folder=None, force=False):
    """Install sao into folder unless it is there; return its version.

    The folder is built beside its final place and renamed at the end, so
    that an interrupted install leaves nothing half done."""
    folder = folder or default_folder()
    version = installed(folder)
    if version and not force:
        return version
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    with tempfile.TemporaryDirectory(
            prefix='.sao-', dir=parent) as work:
        _progress("downloading %s from npm" % SAO)
        tarball = _npm('pack', SAO, cwd=work).strip().splitlines()[-1]
        with tarfile.open(os.path.join(work, tarball)) as archive:
            if hasattr(tarfile, 'data_filter'):
                archive.extractall(work, filter='data')
            else:
                archive.extractall(work)
        root = os.path.join(work, 'package')
        with open(os.path.join(root, 'package.json')) as file:
            version = json.load(file)['version']
        _progress("sao %s; installing its libraries (%s)" % (
                version, ', '.join(n for n, _, _ in LIBRARIES)))
        deps = os.path.join(work, 'deps')
        os.mkdir(deps)
        with open(os.path.join(deps, 'package.json'), 'w') as file:
            json.dump({'name': 'sao-libraries', 'private': True}, file)
        _npm('install', '--omit=dev', '--ignore-scripts', '--no-package-lock',
            *(spec for _, spec, _ in LIBRARIES), cwd=deps)
        components = os.path.join(root, 'bower_components')
        os.makedirs(components, exist_ok=True)
        for name, spec, layout in LIBRARIES:
            package = spec.rsplit('@', 1)[0]
            source = os.path.join(deps, 'node_modules', package)
            target = os.path.join(components, name)
            shutil.copytree(source, target, symlinks=False)
            for path, origin in (layout or {}).items():
                shutil.copyfile(
                    os.path.join(source, origin), os.path.join(target, path))
        missing = [p for p in REQUIRED
            if not os.path.exists(os.path.join(root, p))]
        if missing:
            raise RuntimeError(
                "sao is incomplete, missing: %s" % ', '.join(missing))
        with open(os.path.join(root, STAMP), 'w') as file:
            file.write(version + '\n')
        if os.path.exists(folder):
            shutil.rmtree(folder)
        os.rename(root, folder)
    _progress("sao %s installed in %s" % (version, folder))
    return version


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('folder', nargs='?', default=default_folder())
    parser.add_argument('--force', action='store_true',
        help="install again even when present")
    options = parser.parse_args(argv)
    folder = os.path.abspath(options.folder)
    version = installed(folder)
    if version and not options.force:
        print("==> sao %s already in %s" % (version, folder), flush=True)
    else:
        print("==> Installing the web client sao into %s" % folder,
            flush=True)
        install(folder, force=options.force)
    return 0


if __name__ == '__main__':
    sys.exit(main())
