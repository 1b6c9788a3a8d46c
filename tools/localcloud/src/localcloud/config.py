# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The run directory's files: WSGI modules (Glance's with slow store
deletes, :mod:`localcloud.slowstore`, and import tasks stalled or store
writes held, :mod:`localcloud.slowimport`), ``keystone.conf``, one
``glance-api.conf`` per Glance, and the clouds of ``clouds.yaml``."""

from __future__ import annotations

import pathlib
import typing

from localcloud.servers import write_ini
from localcloud import slowimport
from localcloud import slowstore

if typing.TYPE_CHECKING:
    from localcloud.cloud import LocalCloud

REGION = 'RegionOne'
#: File stores of the main Glance (``fast`` is the default).
STORES = ('fast', 'cheap', 'archive')
#: File stores of the odd Glance; it also has the read-only http store
#: :data:`WEB_STORE`.
ODD_FILE_STORES = ('fast', 'slow')
WEB_STORE = 'web'
ADMIN_CLOUD = 'isd-admin'
MEMBER_CLOUD = 'isd-member'
NOMULTI_CLOUD = 'isd-nomulti'
ODD_CLOUD = 'isd-odd'
#: Glance service of each cloud of clouds.yaml.
CLOUD_SERVICE = {ADMIN_CLOUD: 'glance', MEMBER_CLOUD: 'glance',
                 NOMULTI_CLOUD: 'nomulti', ODD_CLOUD: 'odd'}

_WSGI_MODULE = '''"""gunicorn entry for {app}, written by localcloud."""
import sys

# {app} parses sys.argv with oslo.config at import: hide gunicorn's options.
sys.argv = sys.argv[:1]
from {app}.wsgi.api import application  # noqa: E402,F401
{extra}'''
#: Glance's addition to its WSGI module: slow store deletes, stalled
#: import tasks and held store writes (see :mod:`localcloud.slowstore`
#: and :mod:`localcloud.slowimport`, copied beside it).
_GLANCE_EXTRA = f'''
import pathlib  # noqa: E402

import {slowimport.MODULE}  # noqa: E402
import {slowstore.MODULE}  # noqa: E402

{slowstore.MODULE}.install(
    pathlib.Path(__file__).absolute().parent / {slowstore.FILE_NAME!r})
{slowimport.MODULE}.install(pathlib.Path(__file__).absolute().parent)
'''
#: Stores an import of the main Glance writes at once (``[image_import_opts]
#: max_parallel_stores``; Glance's default is 1). More than one: a
#: glance-direct, web-download or glance-download import into several
#: stores writes them in parallel, and with ``all_stores_must_succeed:
#: false`` the image turns ``active`` after the first one; ``copy-image``
#: imports are never parallel.
MAX_PARALLEL_STORES = 2


def glance_dir(cloud: LocalCloud, service: str) -> pathlib.Path:
    """Return the directory of Glance ``glance``, ``nomulti`` or ``odd``."""
    return cloud.run_dir / ('glance' if service == 'glance'
                            else f'glance-{service}')


def database_url(cloud: LocalCloud, service: str) -> str:
    """Return the SQLAlchemy URL of a Glance's database.

    ``glance`` and ``odd`` use PostgreSQL databases of those names when
    the cloud's ``db`` is ``postgresql``; ``nomulti`` is always sqlite.
    """
    if service != 'nomulti' and cloud.db == 'postgresql':
        return cloud.postgres.url(service)
    return f'sqlite:///{glance_dir(cloud, service)}/glance.sqlite'


def write_all(cloud: LocalCloud) -> None:
    """Write the run directory of ``cloud`` (directories included)."""
    services = ['glance'] + ['nomulti'] * cloud.nomulti + ['odd'] * cloud.odd
    dirs = [*cloud.store_dirs.values(), cloud.run_dir / 'logs',
            cloud.run_dir / 'keystone',
            *(glance_dir(cloud, s) for s in services)]
    if cloud.nomulti:
        dirs.append(cloud.nomulti_store_dir)
    if cloud.odd:
        dirs += [*cloud.odd_store_dirs.values(), cloud.web_dir]
    for path in dirs:
        path.mkdir(parents=True, exist_ok=True)
    for module, source in ((slowstore.MODULE, slowstore.__file__),
                           (slowimport.MODULE, slowimport.__file__)):
        (cloud.run_dir / f'{module}.py').write_text(
            pathlib.Path(str(source)).read_text())
    for app, extra in (('keystone', ''), ('glance', _GLANCE_EXTRA)):
        (cloud.run_dir / f'cloud_wsgi_{app}.py').write_text(
            _WSGI_MODULE.format(app=app, extra=extra))
    ks = cloud.run_dir / 'keystone'
    write_ini(ks / 'keystone.conf', {
        'database': {'connection': f'sqlite:///{ks}/keystone.sqlite'},
        'token': {'provider': 'fernet'},
        'fernet_tokens': {'key_repository': ks / 'fernet-keys'},
        'fernet_receipts': {'key_repository': ks / 'fernet-keys'},
        'credential': {'key_repository': ks / 'credential-keys'},
    })
    main = _multi_store(cloud, 'glance', {s: 'file' for s in STORES},
                        cloud.store_dirs)
    main['image_import_opts'] = {
        'max_parallel_stores': cloud.max_parallel_stores}
    _write_glance(cloud, 'glance', main)
    if cloud.nomulti:
        nm = glance_dir(cloud, 'nomulti')
        _write_glance(cloud, 'nomulti', {
            'DEFAULT': {'enabled_import_methods': '[glance-direct]',
                        'node_staging_uri': f'file://{nm}/staging'},
            'glance_store': {'stores': 'file', 'default_store': 'file',
                             'filesystem_store_datadir':
                                 cloud.nomulti_store_dir},
        })
    if cloud.odd:
        sections = _multi_store(
            cloud, 'odd', {**{s: 'file' for s in ODD_FILE_STORES},
                           WEB_STORE: 'http'}, cloud.odd_store_dirs)
        sections['DEFAULT']['show_multiple_locations'] = True
        sections[WEB_STORE] = {
            'store_description': 'read-only http store (web dir)'}
        # http locations on 127.0.0.1 pass Glance's URL filter (loopback
        # and ports other than 80/443 are refused by default). These lists
        # must be written in brackets.
        sections['import_filtering_opts'] = {
            'allowed_hosts': '[127.0.0.1]',
            'allowed_ports': f'[{cloud.ports["web"]}]'}
        for name, options in cloud.odd_settings.items():
            sections.setdefault(name, {}).update(options)
        _write_glance(cloud, 'odd', sections)


def _multi_store(cloud: LocalCloud, service: str, backends: dict,
                 datadirs: dict) -> dict:
    """Return the store sections of a multi-store Glance.

    :param backends: ``{store id: driver}``, the first is the default.
    :param datadirs: ``{store id: datadir}`` of the file stores.
    """
    gdir = glance_dir(cloud, service)
    return {
        'DEFAULT': {'enabled_backends': ', '.join(
            f'{s}:{driver}' for s, driver in backends.items()),
            'enabled_import_methods': '[glance-direct,copy-image]'},
        'glance_store': {'default_backend': next(iter(backends))},
        **{s: {'filesystem_store_datadir': d,
               'store_description': f'{s} file store'}
           for s, d in datadirs.items()},
        'os_glance_staging_store': {
            'filesystem_store_datadir': gdir / 'staging'},
        'os_glance_tasks_store': {
            'filesystem_store_datadir': gdir / 'tasks'},
    }


def _write_glance(cloud: LocalCloud, service: str, sections: dict) -> None:
    """Write ``glance-api.conf`` of a Glance.

    ``sections`` are the store settings (its ``DEFAULT`` is merged into
    the common one).
    """
    gdir = glance_dir(cloud, service)
    default = {'worker_self_reference_url': cloud.url(service),
               'image_cache_dir': gdir / 'cache',
               'lock_path': gdir / 'locks',
               **sections.pop('DEFAULT')}
    write_ini(gdir / 'glance-api.conf', {
        'DEFAULT': default, **sections,
        'database': {'connection': database_url(cloud, service)},
        'keystone_authtoken': {
            'www_authenticate_uri': cloud.url('keystone') + '/v3',
            'auth_url': cloud.url('keystone') + '/v3',
            'auth_type': 'password', 'interface': 'public',
            'region_name': REGION, 'username': 'glance',
            'password': cloud.passwords['glance'],
            'project_name': 'service', 'user_domain_name': 'Default',
            'project_domain_name': 'Default'},
        'paste_deploy': {'flavor': 'keystone', 'config_file':
                         cloud.venv / 'etc/glance/glance-api-paste.ini'},
        'oslo_concurrency': {'lock_path': gdir / 'locks'},
    })


def clouds(cloud: LocalCloud) -> dict:
    """Return the ``clouds`` mapping of ``clouds.yaml``."""
    def entry(user: str, project: str, **extra: str) -> dict:
        return {'auth': {'auth_url': cloud.url('keystone') + '/v3',
                         'username': user,
                         'password': cloud.passwords[user],
                         'project_name': project,
                         'user_domain_name': 'Default',
                         'project_domain_name': 'Default'},
                'identity_api_version': 3, 'region_name': REGION,
                'interface': 'public', **extra}
    found = {ADMIN_CLOUD: entry('admin', 'admin'),
             MEMBER_CLOUD: entry('member', 'demo')}
    for name, wanted in ((NOMULTI_CLOUD, cloud.nomulti),
                         (ODD_CLOUD, cloud.odd)):
        if wanted:
            found[name] = entry('admin', 'admin', image_endpoint_override=(
                cloud.url(CLOUD_SERVICE[name])))
    return found
