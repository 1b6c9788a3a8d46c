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

"""A real Keystone + multi-store Glance on 127.0.0.1 for functional tests.

The servers (keystone, glance, gunicorn) run from their own virtualenv,
installed from ``tools/cloud-requirements.txt``; this module only drives
them and talks to them with openstacksdk/keystoneauth.

What :class:`LocalCloud` starts, all under one run directory:

* Keystone (sqlite, fernet), region ``RegionOne``;
* Glance with file stores ``fast`` (default), ``cheap`` and ``archive``,
  on sqlite or PostgreSQL (``db='postgresql'``);
* optionally a second Glance with multi-store OFF (``nomulti=True``);
* ``clouds.yaml`` with clouds ``isd-admin``, ``isd-member`` (a non-admin
  member of project ``demo``) and ``isd-nomulti`` (admin, image API of the
  second Glance).

Command line::

    python -m osc_image_store.tests.functional.cloud start \
        [--db postgresql] [--dir D] [--no-nomulti]
    python -m osc_image_store.tests.functional.cloud stop (--dir D|--state F)
    python -m osc_image_store.tests.functional.cloud run [...] -- CMD...
"""

from __future__ import annotations

import argparse
import atexit
import concurrent.futures
import fcntl
import grp
import hashlib
import json
import os
import pathlib
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import typing
import urllib.request

from openstack.config import loader as sdk_loader
from openstack import connection as sdk_connection
from openstack.identity.v3 import _proxy as identity_v3

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
REQUIREMENTS = REPO_ROOT / 'tools' / 'cloud-requirements.txt'
VENV_ENV = 'OSC_IMAGE_STORE_SERVER_VENV'
STATE_ENV = 'OSC_IMAGE_STORE_CLOUD_STATE'
STORES = ('fast', 'cheap', 'archive')
#: User-Agent prefix of the fixture's own requests (see access logs).
FIXTURE_AGENT = 'isd-fixture'
REGION = 'RegionOne'
ADMIN_CLOUD = 'isd-admin'
MEMBER_CLOUD = 'isd-member'
NOMULTI_CLOUD = 'isd-nomulti'
SERVICES = ('keystone', 'glance', 'nomulti')

_WSGI_MODULE = '''"""gunicorn entry for {app}, written by cloud.py."""
import sys

# {app} parses sys.argv with oslo.config at import: hide gunicorn's options.
sys.argv = sys.argv[:1]
from {app}.wsgi.api import application  # noqa: E402,F401
'''
_T0 = time.monotonic()


class CloudError(RuntimeError):
    """The local cloud could not be installed, started or driven."""


def _say(message: str) -> None:
    """Print one progress line (``str``) to stderr."""
    print(f'[cloud +{time.monotonic() - _T0:5.1f}s] {message}',
          file=sys.stderr, flush=True)


def _tail(path: pathlib.Path, lines: int = 40) -> str:
    """Return the last ``lines`` lines of the log file ``path``."""
    try:
        text = path.read_text(errors='replace').splitlines()
    except OSError:
        return f'(no log at {path})'
    return f'--- last lines of {path} ---\n' + '\n'.join(text[-lines:])


def _run(cmd: list, log: pathlib.Path, env: dict | None = None,
         cwd: pathlib.Path | None = None) -> None:
    """Run argv ``cmd``, output appended to ``log``.

    :raises CloudError: it failed (with the tail of ``log``).
    """
    with open(log, 'ab') as out:
        out.write(f'$ {shlex.join(map(str, cmd))}\n'.encode())
        out.flush()
        rc = subprocess.run(list(map(str, cmd)), stdin=subprocess.DEVNULL,
                            stdout=out, stderr=subprocess.STDOUT, env=env,
                            cwd=cwd).returncode
    if rc:
        raise CloudError(f'{shlex.join(map(str, cmd))} exited {rc}\n'
                         + _tail(log))


def ensure_server_venv(
        venv: str | os.PathLike | None = None) -> pathlib.Path:
    """Create or reuse the servers' virtualenv and return its path.

    Reused when its marker file holds the sha256 of the requirements file;
    otherwise ``pip install -r tools/cloud-requirements.txt`` runs in it
    (under a lock, so parallel callers install once).

    :param venv: where (default ``$OSC_IMAGE_STORE_SERVER_VENV`` or
        ``<repo>/.cloud/venv``).
    :raises CloudError: creating the virtualenv or installing failed.
    """
    venv = pathlib.Path(venv or os.environ.get(VENV_ENV)
                        or REPO_ROOT / '.cloud' / 'venv').absolute()
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    marker = venv / '.cloud-requirements.sha256'
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f'.{venv.name}.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text().strip() == digest:
            return venv
        started = time.monotonic()
        _say(f'installing server virtualenv {venv} (about a minute)')
        if not (venv / 'bin' / 'python').exists():
            rc = subprocess.run([sys.executable, '-m', 'venv', str(venv)],
                                stdin=subprocess.DEVNULL).returncode
            if rc:
                raise CloudError(f'{sys.executable} -m venv {venv} failed '
                                 '(on Debian: apt-get install python3-venv)')
        _run([venv / 'bin' / 'python', '-m', 'pip', 'install', '-r',
              REQUIREMENTS], venv / 'pip-install.log')
        marker.write_text(digest + '\n')
        _say(f'server virtualenv installed in '
             f'{time.monotonic() - started:.0f}s')
    return venv


def _free_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports free on 127.0.0.1 right now."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(('127.0.0.1', 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _check_port_free(port: int, what: str) -> None:
    """Raise :class:`CloudError` unless ``port`` binds on 127.0.0.1.

    ``what`` names the server meant to use it, for the message.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(('127.0.0.1', port))
        except OSError as exc:
            raise CloudError(
                f'port {port} on 127.0.0.1, wanted for {what}, is busy '
                f'({exc}): choose another port') from None


def _group_members(pgid: int) -> list[int]:
    """Return the live (non-zombie) pids of process group ``pgid``."""
    members = []
    for stat in pathlib.Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != 'Z' and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def _is_gunicorn_group(pgid: int) -> bool:
    """Tell if group ``pgid`` (a gunicorn master's pid) still runs it."""
    for pid in _group_members(pgid):
        try:
            if b'gunicorn' in pathlib.Path(
                    f'/proc/{pid}/cmdline').read_bytes():
                return True
        except OSError:
            continue
    return False


def _postgres_bindir(install: bool = False) -> pathlib.Path:
    """Return the newest ``/usr/lib/postgresql/<major>/bin``.

    :param install: when it is missing and this runs as root on a Debian
        system, install Debian's ``postgresql`` package first (one
        ``apt-get update`` and ``apt-get install``, about a minute).
    :raises CloudError: PostgreSQL's server is not installed (and could
        not be).
    """
    def found() -> list[pathlib.Path]:
        return [p.parent for p in pathlib.Path('/usr/lib/postgresql').glob(
            '*/bin/initdb') if p.parent.parent.name.isdigit()]

    if not found() and install and os.geteuid() == 0 and shutil.which(
            'apt-get'):
        _say('postgresql: not installed; installing Debian\'s package')
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        for cmd in (['apt-get', 'update', '-qq'],
                    ['apt-get', 'install', '-y', '-qq', '--no-install-'
                     'recommends', 'postgresql']):
            done = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True)
            if done.returncode:
                raise CloudError(f'{" ".join(cmd)} failed:\n'
                                 f'{done.stdout[-2000:]}{done.stderr[-2000:]}')
    if not found():
        raise CloudError('PostgreSQL server not found under /usr/lib/'
                         'postgresql/<major>/bin: apt-get install postgresql')
    return max(found(), key=lambda p: int(p.parent.name))


def _write_ini(path: pathlib.Path, sections: dict) -> None:
    """Write oslo.config file ``path`` from ``{section: {opt: value}}``."""
    path.write_text(''.join(
        f'[{name}]\n' + ''.join(f'{k} = {v}\n' for k, v in opts.items())
        + '\n' for name, opts in sections.items()))


class LocalCloud:
    """Keystone + a multi-store Glance (+ a plain Glance) on 127.0.0.1.

    :ivar run_dir: ``pathlib.Path``, everything of this cloud (configs,
        databases, stores, ``logs/``, ``clouds.yaml``, ``state.json``).
    :ivar db: ``str``, ``'sqlite'`` or ``'postgresql'`` (multi-store Glance).
    :ivar nomulti: ``bool``, whether the multi-store-off Glance runs.
    :ivar ports: ``dict[str, int]``, keys ``keystone``, ``glance``,
        ``nomulti``, ``postgres``.
    :ivar store_dirs: ``dict[str, pathlib.Path]``, datadir of each store.
    :ivar nomulti_store_dir: ``pathlib.Path``, the plain Glance's datadir.
    :ivar clouds_yaml: ``pathlib.Path``, clouds ``isd-admin``,
        ``isd-member``, ``isd-nomulti``.
    :ivar state_file: ``pathlib.Path``, JSON for :meth:`attach`.
    :ivar passwords: ``dict[str, str]``, of users ``admin``, ``glance``,
        ``member``.
    """

    def __init__(self, base_dir: str | os.PathLike | None = None,
                 db: str = 'sqlite', nomulti: bool = True,
                 ports: dict | None = None,
                 venv: str | os.PathLike | None = None) -> None:
        """Describe a cloud; nothing starts before :meth:`start`.

        :param base_dir: the run directory, new or empty (default a new
            ``<repo>/.cloud/run-<pid>-<random>``, removed by :meth:`stop`).
        :param db: ``'sqlite'`` or ``'postgresql'``.
        :param nomulti: also run a Glance with multi-store off.
        :param ports: explicit ports by service (keys as :attr:`ports`);
            the others are picked free.
        :param venv: the servers' virtualenv (see :func:`ensure_server_venv`).
        """
        if db not in ('sqlite', 'postgresql'):
            raise ValueError(f"db must be 'sqlite' or 'postgresql': {db!r}")
        self._remove_dir = base_dir is None
        self.run_dir = pathlib.Path(base_dir or REPO_ROOT / '.cloud' / (
            f'run-{os.getpid()}-{secrets.token_hex(3)}')).absolute()
        self.db, self.nomulti, self._venv_arg = db, nomulti, venv
        self._venv: pathlib.Path | None = None
        wanted = dict(ports or {})
        names = [n for n in SERVICES + ('postgres',) if n not in wanted]
        free = [p for p in _free_ports(len(names) + len(wanted) * bool(names))
                if p not in wanted.values()]
        self.ports = {**dict(zip(names, free)), **wanted}
        self.passwords = {u: secrets.token_hex(12)
                          for u in ('admin', 'glance', 'member')}
        self.store_dirs = {s: self.run_dir / 'stores' / s for s in STORES}
        self.nomulti_store_dir = self.run_dir / 'stores' / 'nomulti'
        self.clouds_yaml = self.run_dir / 'clouds.yaml'
        self.state_file = self.run_dir / 'state.json'
        self._pids: dict[str, int] = {}
        self._procs: dict[str, subprocess.Popen] = {}
        self._pg_data: pathlib.Path | None = None
        self._conns: dict[str, sdk_connection.Connection] = {}

    # -- URLs and configuration ------------------------------------------

    def url(self, service: str) -> str:
        """Return ``http://127.0.0.1:<port>`` of a service.

        :param service: ``keystone``, ``glance`` or ``nomulti``.
        """
        return f'http://127.0.0.1:{self.ports[service]}'

    def env(self, cloud: str = ADMIN_CLOUD) -> dict:
        """Return the environment variables that point a client here.

        :param cloud: the default cloud name for ``OS_CLOUD``.
        :returns: ``OS_CLIENT_CONFIG_FILE``, ``OS_CLOUD`` and
            ``OSC_IMAGE_STORE_CLOUD_STATE``.
        """
        return {'OS_CLIENT_CONFIG_FILE': str(self.clouds_yaml),
                'OS_CLOUD': cloud, STATE_ENV: str(self.state_file)}

    def _write_configs(self) -> None:
        """Write the run directory: WSGI modules, configs, clouds.yaml."""
        dirs = [*self.store_dirs.values(), self.run_dir / 'logs',
                self.run_dir / 'keystone', self._glance_dir('glance')]
        if self.nomulti:
            dirs += [self.nomulti_store_dir, self._glance_dir('nomulti')]
        for path in dirs:
            path.mkdir(parents=True, exist_ok=True)
        for app in ('keystone', 'glance'):
            (self.run_dir / f'cloud_wsgi_{app}.py').write_text(
                _WSGI_MODULE.format(app=app))
        ks = self.run_dir / 'keystone'
        _write_ini(ks / 'keystone.conf', {
            'database': {'connection': f'sqlite:///{ks}/keystone.sqlite'},
            'token': {'provider': 'fernet'},
            'fernet_tokens': {'key_repository': ks / 'fernet-keys'},
            'fernet_receipts': {'key_repository': ks / 'fernet-keys'},
            'credential': {'key_repository': ks / 'credential-keys'},
        })
        if self.db == 'postgresql':
            multi_db = (f'postgresql+psycopg2://postgres@127.0.0.1:'
                        f'{self.ports["postgres"]}/glance')
        else:
            multi_db = f'sqlite:///{self.run_dir}/glance/glance.sqlite'
        stores = {s: {'filesystem_store_datadir': d,
                      'store_description': f'{s} file store'}
                  for s, d in self.store_dirs.items()}
        self._write_glance('glance', multi_db, {
            'DEFAULT': {'enabled_backends': ', '.join(
                f'{s}:file' for s in STORES),
                'enabled_import_methods': '[glance-direct,copy-image]'},
            'glance_store': {'default_backend': STORES[0]},
            **stores,
            'os_glance_staging_store': {
                'filesystem_store_datadir': self.run_dir / 'glance/staging'},
            'os_glance_tasks_store': {
                'filesystem_store_datadir': self.run_dir / 'glance/tasks'},
        })
        nm = self.run_dir / 'glance-nomulti'
        if self.nomulti:
            self._write_glance('nomulti', f'sqlite:///{nm}/glance.sqlite', {
                'DEFAULT': {'enabled_import_methods': '[glance-direct]',
                            'node_staging_uri': f'file://{nm}/staging'},
                'glance_store': {'stores': 'file', 'default_store': 'file',
                                 'filesystem_store_datadir':
                                     self.nomulti_store_dir},
            })
        self._write_clouds_yaml()

    def _glance_dir(self, service: str) -> pathlib.Path:
        """Return the directory of Glance ``glance`` or ``nomulti``."""
        return self.run_dir / ('glance' if service == 'glance'
                               else 'glance-nomulti')

    def _write_glance(self, service: str, database: str,
                      sections: dict) -> None:
        """Write ``glance-api.conf`` of ``glance`` or ``nomulti``.

        ``database`` is the SQLAlchemy URL; ``sections`` the store
        settings (its ``DEFAULT`` is merged into the common one).
        """
        gdir = self._glance_dir(service)
        default = {'worker_self_reference_url': self.url(service),
                   'image_cache_dir': gdir / 'cache',
                   'lock_path': gdir / 'locks',
                   **sections.pop('DEFAULT')}
        _write_ini(gdir / 'glance-api.conf', {
            'DEFAULT': default, **sections,
            'database': {'connection': database},
            'keystone_authtoken': {
                'www_authenticate_uri': self.url('keystone') + '/v3',
                'auth_url': self.url('keystone') + '/v3',
                'auth_type': 'password', 'interface': 'public',
                'region_name': REGION, 'username': 'glance',
                'password': self.passwords['glance'],
                'project_name': 'service', 'user_domain_name': 'Default',
                'project_domain_name': 'Default'},
            'paste_deploy': {'flavor': 'keystone', 'config_file':
                             self.venv / 'etc/glance/glance-api-paste.ini'},
            'oslo_concurrency': {'lock_path': gdir / 'locks'},
        })

    def _write_clouds_yaml(self) -> None:
        """Write ``clouds.yaml`` (as JSON, which YAML parsers read)."""
        def cloud(user: str, project: str, **extra: str) -> dict:
            return {'auth': {'auth_url': self.url('keystone') + '/v3',
                             'username': user,
                             'password': self.passwords[user],
                             'project_name': project,
                             'user_domain_name': 'Default',
                             'project_domain_name': 'Default'},
                    'identity_api_version': 3, 'region_name': REGION,
                    'interface': 'public', **extra}
        clouds = {ADMIN_CLOUD: cloud('admin', 'admin'),
                  MEMBER_CLOUD: cloud('member', 'demo')}
        if self.nomulti:
            clouds[NOMULTI_CLOUD] = cloud(
                'admin', 'admin', image_endpoint_override=self.url('nomulti'))
        self.clouds_yaml.write_text(json.dumps({'clouds': clouds}, indent=2))

    # -- start and stop --------------------------------------------------

    @property
    def venv(self) -> pathlib.Path:
        """``pathlib.Path``: the servers' virtualenv (installed on demand)."""
        if self._venv is None:
            self._venv = ensure_server_venv(self._venv_arg)
        return self._venv

    def _server_env(self, **extra: str) -> dict:
        """Return the servers' environment (no client ``OS_*``) + extra."""
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')
               and k not in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV')}
        env['PATH'] = f'{self.venv / "bin"}:{env.get("PATH", "/usr/bin:/bin")}'
        return {**env, **extra}

    def start(self, timeout: float = 120.0) -> LocalCloud:
        """Install if needed, start everything, bootstrap, write the state.

        On failure, what was started is stopped and the run directory is
        kept for its logs.

        :param timeout: seconds each server may take to answer HTTP.
        :returns: self.
        :raises CloudError: the run directory is not empty, a port is busy,
            a step failed, or a server did not come up (with the tail of
            its log).
        """
        if self._pids or self._pg_data:
            raise CloudError(f'cloud in {self.run_dir} is already started')
        if self.run_dir.exists() and any(self.run_dir.iterdir()):
            raise CloudError(f'run directory {self.run_dir} is not empty: '
                             'remove it or choose another')
        started = time.monotonic()
        _say(f'server virtualenv: {self.venv}')
        wanted = [s for s in SERVICES if s != 'nomulti' or self.nomulti]
        if self.db == 'postgresql':
            wanted.append('postgres')
        for service in wanted:
            _check_port_free(self.ports[service], service)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._write_configs()
        _say(f'starting cloud in {self.run_dir} (db={self.db})')
        try:
            with concurrent.futures.ThreadPoolExecutor(3) as pool:
                jobs = [pool.submit(self._start_keystone, timeout),
                        pool.submit(self._start_glance, 'glance', timeout)]
                if self.nomulti:
                    jobs.append(pool.submit(self._start_glance, 'nomulti',
                                            timeout))
                for job in jobs:
                    job.result()
            self._write_state()
        except BaseException:
            self._shutdown(remove_dir=False)
            raise
        _say(f'cloud ready in {time.monotonic() - started:.1f}s: '
             f'OS_CLIENT_CONFIG_FILE={self.clouds_yaml}')
        return self

    def _start_keystone(self, timeout: float) -> None:
        """Set up Keystone, serve it, create the projects/users/endpoint."""
        ks = self.run_dir / 'keystone'
        log = self.run_dir / 'logs' / 'keystone-manage.log'
        env = self._server_env(
            OS_KEYSTONE_CONFIG_FILES=str(ks / 'keystone.conf'))
        manage = [self.venv / 'bin' / 'keystone-manage',
                  '--config-file', ks / 'keystone.conf']
        owner = ['--keystone-user', pwd.getpwuid(os.getuid()).pw_name,
                 '--keystone-group', grp.getgrgid(os.getgid()).gr_name]
        _say('keystone: db_sync, fernet/credential keys, bootstrap')
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            for job in [pool.submit(_run, manage + args, log, env) for args in
                        (['db_sync'], ['fernet_setup'] + owner,
                         ['credential_setup'] + owner)]:
                job.result()
        _run(manage + ['bootstrap', '--bootstrap-region-id', REGION,
                       '--bootstrap-admin-url', self.url('keystone'),
                       '--bootstrap-public-url', self.url('keystone')], log,
             {**env, 'OS_BOOTSTRAP_PASSWORD': self.passwords['admin']})
        self._serve('keystone', env, workers=2 if self.db == 'postgresql'
                    else 1, threads=4, ready_path='/v3', timeout=timeout)
        self._bootstrap_identity()

    def _bootstrap_identity(self) -> None:
        """Create service/glance, the image endpoint and demo/member."""
        # Not the cached connection: its token's catalog has no image yet.
        with self._new_connection(ADMIN_CLOUD) as conn:
            identity = typing.cast(identity_v3.Proxy, conn.identity)
            roles = {n: identity.find_role(n, ignore_missing=False)
                     for n in ('admin', 'member', 'reader')}
            service = identity.create_project(name='service',
                                              domain_id='default')
            glance = identity.create_user(
                name='glance', password=self.passwords['glance'],
                domain_id='default', default_project_id=service.id)
            identity.assign_project_role_to_user(service, glance,
                                                 roles['admin'])
            image = identity.create_service(type='image', name='glance')
            identity.create_endpoint(service_id=image.id, interface='public',
                                     region_id=REGION, url=self.url('glance'))
            demo = identity.create_project(name='demo', domain_id='default')
            member = identity.create_user(
                name='member', password=self.passwords['member'],
                domain_id='default', default_project_id=demo.id)
            for role in ('member', 'reader'):
                identity.assign_project_role_to_user(demo, member, roles[role])
        _say('keystone: created service/glance, image endpoint, demo/member')

    def _start_glance(self, service: str, timeout: float) -> None:
        """Set up the database of ``glance``/``nomulti`` and serve it."""
        postgres = service == 'glance' and self.db == 'postgresql'
        if postgres:
            self._start_postgres()
        gdir = self._glance_dir(service)
        env = self._server_env(OS_GLANCE_CONFIG_DIR=str(gdir))
        _say(f'{service}: db_sync')
        _run([self.venv / 'bin' / 'glance-manage', '--config-file',
              gdir / 'glance-api.conf', 'db_sync'],
             self.run_dir / 'logs' / f'{service}-manage.log', env)
        workers, threads = (2, 8) if postgres else (1, 8)
        self._serve(service, env, workers=workers, threads=threads,
                    ready_path='/versions', timeout=timeout)

    def _serve(self, service: str, env: dict, workers: int, threads: int,
               ready_path: str, timeout: float) -> None:
        """Start ``service``'s gunicorn in its own session; wait for it.

        It is up when ``ready_path`` answers 200.

        :raises CloudError: it died or did not answer within ``timeout``.
        """
        app = 'keystone' if service == 'keystone' else 'glance'
        log = self.run_dir / 'logs' / f'{service}.log'
        _say(f'{service}: starting gunicorn on {self.url(service)} '
             f'({workers} worker(s) x {threads} threads)')
        cmd = [self.venv / 'bin' / 'gunicorn', '--name', f'cloud-{service}',
               '--bind', f'127.0.0.1:{self.ports[service]}',
               '--workers', workers, '--threads', threads, '--timeout', 300,
               '--graceful-timeout', 2, '--no-control-socket',
               '--access-logfile', '-', '--chdir', self.run_dir,
               f'cloud_wsgi_{app}:application']
        with open(log, 'ab') as out:
            proc = subprocess.Popen(
                list(map(str, cmd)), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self._procs[service], self._pids[service] = proc, proc.pid
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise CloudError(f'{service} exited {proc.returncode}\n'
                                 + _tail(log))
            try:
                with urllib.request.urlopen(self.url(service) + ready_path,
                                            timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise CloudError(f'{service} did not answer on '
                                 f'{self.url(service)} within {timeout}s\n'
                                 + _tail(log))
            time.sleep(0.2)
        _say(f'{service}: ready')

    def _as_postgres(self) -> list:
        """Return the argv prefix that runs a command as user postgres."""
        return ['runuser', '-u', 'postgres', '--'] if os.geteuid() == 0 else []

    def _start_postgres(self) -> None:
        """Initialise and start a private PostgreSQL; create db ``glance``."""
        bindir = _postgres_bindir(install=True)
        pgdir = self.run_dir / 'postgres'
        data, log = pgdir / 'data', self.run_dir / 'logs' / 'postgres.log'
        pgdir.mkdir(exist_ok=True)
        log.touch()
        if os.geteuid() == 0:
            for path in (pgdir, log):
                shutil.chown(path, 'postgres', 'postgres')
        _say(f'postgres: initdb + start on 127.0.0.1:{self.ports["postgres"]}'
             f' ({bindir})')
        as_pg = self._as_postgres()
        _run(as_pg + [bindir / 'initdb', '-D', data, '-A', 'trust', '-U',
                      'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'],
             log, cwd=pgdir)
        self._pg_data = data
        options = (f'-c listen_addresses=127.0.0.1 -p {self.ports["postgres"]}'
                   f' -k {shlex.quote(str(pgdir))} -c fsync=off'
                   ' -c synchronous_commit=off -c full_page_writes=off')
        _run(as_pg + [bindir / 'pg_ctl', '-D', data, '-l', log, '-w', '-t',
                      60, '-o', options, 'start'], log, cwd=pgdir)
        _run([bindir / 'createdb', '-h', '127.0.0.1', '-p',
              self.ports['postgres'], '-U', 'postgres', 'glance'], log)

    def _stop_postgres(self, data: pathlib.Path) -> None:
        """Stop the PostgreSQL of ``data``: ``pg_ctl stop``, else kill."""
        _say('stopping postgres')
        try:
            _run(self._as_postgres() + [
                _postgres_bindir() / 'pg_ctl', '-D', data, '-m',
                'fast', '-w', '-t', 30, 'stop'],
                self.run_dir / 'logs' / 'postgres.log')
        except CloudError as exc:
            pid = int((data / 'postmaster.pid').read_text().split()[0])
            _say(f'{exc}\nkilling postmaster {pid}')
            # Its backends exit by themselves when the postmaster dies.
            os.kill(pid, signal.SIGKILL)

    def _write_state(self) -> None:
        """Write :attr:`state_file` for :meth:`attach`."""
        state = {'run_dir': str(self.run_dir), 'db': self.db,
                 'nomulti': self.nomulti, 'ports': self.ports,
                 'venv': str(self.venv), 'passwords': self.passwords,
                 'pids': self._pids, 'remove_dir': self._remove_dir,
                 'pg_data': str(self._pg_data) if self._pg_data else None}
        tmp = self.state_file.with_suffix('.tmp')
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_file)

    @classmethod
    def attach(cls, state_file: str | os.PathLike,
               require_running: bool = True) -> LocalCloud:
        """Return a handle on a cloud another process started.

        :param state_file: its ``state.json``.
        :param require_running: raise if one of its gunicorns is gone.
        :raises CloudError: the state file is missing, or (when
            ``require_running``) its servers are no longer running.
        """
        path = pathlib.Path(state_file)
        try:
            state = json.loads(path.read_text())
        except OSError as exc:
            raise CloudError(f'no cloud state at {path}: {exc}') from None
        cloud = cls(state['run_dir'], state['db'], state['nomulti'],
                    state['ports'])
        cloud._venv = pathlib.Path(state['venv'])
        cloud.passwords, cloud._pids = state['passwords'], state['pids']
        cloud._remove_dir = state['remove_dir']
        cloud._pg_data = state['pg_data'] and pathlib.Path(state['pg_data'])
        dead = [s for s, pid in cloud._pids.items()
                if not _is_gunicorn_group(pid)]
        if dead and require_running:
            raise CloudError(f'cloud of {path} is not running ('
                             f'{", ".join(dead)} gone): stop it, start anew')
        return cloud

    def stop(self) -> None:
        """Stop the gunicorns and PostgreSQL; remove a default run dir.

        Idempotent. Kills whole process groups, so no worker is left.
        """
        self._shutdown(remove_dir=self._remove_dir)

    def _shutdown(self, remove_dir: bool) -> None:
        """Stop every server; then maybe remove :attr:`run_dir`."""
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()
        groups = [p for p in self._pids.values() if _is_gunicorn_group(p)]
        if groups:
            _say(f'stopping gunicorns {groups}')
        for sig, wait in ((signal.SIGINT, 10.0), (signal.SIGKILL, 5.0)):
            for pgid in groups:
                try:
                    os.killpg(pgid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                for proc in self._procs.values():
                    proc.poll()
                groups = [g for g in groups if _group_members(g)]
                if not groups:
                    break
                time.sleep(0.1)
        self._pids.clear()
        self._procs.clear()
        if self._pg_data and (self._pg_data / 'postmaster.pid').exists():
            self._stop_postgres(self._pg_data)
        self._pg_data = None
        self.state_file.unlink(missing_ok=True)
        if remove_dir and self.run_dir.exists():
            shutil.rmtree(self.run_dir)

    def __enter__(self) -> LocalCloud:
        """Start the cloud (if not yet started) and return it."""
        return self if self._pids else self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop the cloud."""
        self.stop()

    # -- helpers for tests -----------------------------------------------

    def connection(self,
                   cloud: str = ADMIN_CLOUD) -> sdk_connection.Connection:
        """Return a cached openstacksdk connection from :attr:`clouds_yaml`.

        :param cloud: ``isd-admin``, ``isd-member`` or ``isd-nomulti``.
        """
        if cloud not in self._conns:
            self._conns[cloud] = self._new_connection(cloud)
        return self._conns[cloud]

    def _new_connection(self, cloud: str) -> sdk_connection.Connection:
        """Return a new connection to ``cloud`` of :attr:`clouds_yaml`."""
        # The app name marks the fixture's own requests in the servers'
        # access logs (FIXTURE_AGENT), apart from the CLI's under test.
        config = sdk_loader.OpenStackConfig(
            config_files=[str(self.clouds_yaml)], vendor_files=[],
            secure_files=[], load_envvars=False, app_name=FIXTURE_AGENT)
        return sdk_connection.Connection(config=config.get_one(cloud=cloud))

    def admin_connection(self) -> sdk_connection.Connection:
        """Return the admin's openstacksdk connection (``isd-admin``)."""
        return self.connection(ADMIN_CLOUD)

    def _image_api(self, method: str, path: str, expect: tuple,
                   **kwargs: typing.Any):
        """Call ``method path`` (below ``/v2``) of the multi-store Glance.

        As admin; ``kwargs`` go to keystoneauth.

        :returns: the ``requests.Response``.
        :raises CloudError: its status is not in ``expect``.
        """
        response = self.admin_connection().image.request(
            path, method, raise_exc=False, **kwargs)
        if response.status_code not in expect:
            raise CloudError(f'{method} {path}: {response.status_code} '
                             f'{response.text[:500]}')
        return response

    def create_image(self, name: str, data: bytes,
                     stores: tuple | list = STORES,
                     timeout: float = 60.0) -> str:
        """Create an image whose data is in each of ``stores``.

        Uploads into ``stores[0]`` (``X-Image-Meta-Store``), then copies
        into the others with a ``copy-image`` import and waits for them.

        :param name: image name.
        :param data: image bytes.
        :param stores: store ids; empty leaves the image queued, no data.
        :param timeout: seconds to wait for the copies.
        :returns: the image id.
        :raises CloudError: Glance refused or the copies did not arrive.
        """
        image_id = self._image_api('POST', '/images', (201,), json={
            'name': name, 'disk_format': 'raw',
            'container_format': 'bare'}).json()['id']
        if not stores:
            return image_id
        self._image_api('PUT', f'/images/{image_id}/file', (204,), data=data,
                        headers={'Content-Type': 'application/octet-stream',
                                 'X-Image-Meta-Store': stores[0]})
        if len(stores) > 1:
            self._image_api('POST', f'/images/{image_id}/import', (202,),
                            json={'method': {'name': 'copy-image'},
                                  'stores': list(stores[1:])})
        deadline = time.monotonic() + timeout
        while True:
            image = self._image_api('GET', f'/images/{image_id}',
                                    (200,)).json()
            have = set(filter(None, image.get('stores', '').split(',')))
            if image['status'] == 'active' and have >= set(stores):
                return image_id
            if image.get('os_glance_failed_import') or (
                    time.monotonic() > deadline):
                raise CloudError(f'image {image_id} never reached stores '
                                 f'{list(stores)}: {json.dumps(image)}')
            time.sleep(0.2)

    def image_stores(self, image_id: str) -> list[str]:
        """Return the ``stores`` Glance lists for an image (admin view).

        :param image_id: the image id.
        """
        image = self._image_api('GET', f'/images/{image_id}', (200,)).json()
        return [s for s in image.get('stores', '').split(',') if s]

    def store_bytes(self, store: str, image_id: str) -> bytes | None:
        """Return the image's bytes in a store's datadir, or None.

        :param store: ``fast``, ``cheap`` or ``archive``.
        :param image_id: the image id.
        """
        try:
            return (self.store_dirs[store] / image_id).read_bytes()
        except FileNotFoundError:
            return None

    def files_in_stores(self, image_id: str) -> set[str]:
        """Return the stores whose datadir holds a file named ``image_id``.

        :param image_id: the image id.
        """
        return {s for s, d in self.store_dirs.items()
                if (d / image_id).exists()}

    def delete_image(self, image_id: str) -> None:
        """Delete a whole image (test cleanup only); missing is fine.

        :param image_id: the image id.
        """
        self._image_api('DELETE', f'/images/{image_id}', (204, 404))


_CLOUD: LocalCloud | CloudError | None = None
_CLOUD_LOCK = threading.Lock()


def get_cloud() -> LocalCloud:
    """Return this process's cloud, for test base classes.

    Attaches to ``$OSC_IMAGE_STORE_CLOUD_STATE`` when set; otherwise starts
    a cloud once and stops it at exit. A failure is remembered and raised
    again, so a broken cloud is not retried by every test.

    :raises CloudError: the cloud could not be attached or started.
    """
    global _CLOUD
    with _CLOUD_LOCK:
        if _CLOUD is None:
            state = os.environ.get(STATE_ENV)
            try:
                if state:
                    _CLOUD = LocalCloud.attach(state)
                else:
                    _CLOUD = LocalCloud().start()
                    atexit.register(_CLOUD.stop)
            except CloudError as exc:
                _CLOUD = exc
        if isinstance(_CLOUD, CloudError):
            raise _CLOUD
        return _CLOUD


def _main(argv: list[str] | None = None) -> int:
    """Command line: ``start``, ``stop`` and ``run``.

    :param argv: the arguments (default ``sys.argv[1:]``).
    :returns: the exit code.
    """
    parser = argparse.ArgumentParser(
        prog='python -m osc_image_store.tests.functional.cloud',
        description='A local Keystone + multi-store Glance for tests.')
    sub = parser.add_subparsers(dest='action', required=True)
    for name, text in (('start', 'start and leave it running'),
                       ('run', 'start, run a command against it, stop')):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument('--db', choices=('sqlite', 'postgresql'),
                         default='sqlite', help='multi-store Glance database')
        cmd.add_argument('--dir', type=pathlib.Path,
                         help='new or empty run directory (default: '
                         'a new .cloud/run-*, removed by stop)')
        cmd.add_argument('--no-nomulti', dest='nomulti', action='store_false',
                         help='do not run the multi-store-off Glance')
    sub.choices['run'].add_argument('command', nargs=argparse.REMAINDER,
                                    help='-- COMMAND...')
    stop = sub.add_parser('stop', help='stop a cloud left running by start')
    where = stop.add_mutually_exclusive_group(required=True)
    where.add_argument('--dir', type=pathlib.Path, help='its run directory')
    where.add_argument('--state', type=pathlib.Path, help='its state.json')
    args = parser.parse_args(argv)

    if args.action == 'stop':
        state = args.state or args.dir / 'state.json'
        LocalCloud.attach(state, require_running=False).stop()
        return 0
    if args.action == 'run':
        command = args.command[args.command[:1] == ['--']:]
        if not command:
            parser.error('run needs a command after --')
    # SIGTERM unwinds like Ctrl-C, so the finally below stops the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cloud = LocalCloud(args.dir, db=args.db, nomulti=args.nomulti)
    cloud.start()
    if args.action == 'start':
        # stdout is eval-able; the how-to goes to stderr.
        print('export ' + ' '.join(f'{k}={shlex.quote(v)}'
                                   for k, v in cloud.env().items()))
        _say(f'clouds {ADMIN_CLOUD}, {MEMBER_CLOUD}'
             + (f', {NOMULTI_CLOUD}' if cloud.nomulti else '')
             + ' are left running; stop them with: python -m '
             'osc_image_store.tests.functional.cloud stop --dir '
             + shlex.quote(str(cloud.run_dir)))
        return 0
    try:
        return subprocess.run(
            command, env={**os.environ, **cloud.env()}).returncode
    except FileNotFoundError:
        _say(f'command not found: {command[0]}')
        return 127
    finally:
        cloud.stop()


if __name__ == '__main__':
    try:
        sys.exit(_main())
    except CloudError as error:
        _say(f'error: {error}')
        sys.exit(1)
