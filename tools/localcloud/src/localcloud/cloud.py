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

""":class:`LocalCloud`: start, stop, attach to and drive the local cloud.

Services (``LocalCloud.url(service)``): ``keystone``, ``glance`` (the
multi-store Glance), ``nomulti`` (multi-store off), ``odd`` (the "odd"
Glance: stores ``fast``, ``slow`` and the read-only http store ``web``,
``show_multiple_locations = True``), ``web`` (the HTTP server of
:attr:`LocalCloud.web_dir`) and, with ``db='postgresql'``, ``postgres``.
Image helpers are in :mod:`localcloud.images`.

Measured on 2 cores (Python 3.11): everything (PostgreSQL, four
gunicorns, the web server) is up in 12 to 19 s once the servers'
virtualenv exists (installing it took 27 s); ``restart('odd')`` about 2 s;
``kill_workers('glance')`` about 1 s until new workers answer. A clone
under ``/root`` (mode 700) starts, serves and stops the same way: only
PostgreSQL's directory (under ``/var/tmp``) must be reachable by the
``postgres`` user.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import pathlib
import secrets
import shutil
import subprocess
import threading

from openstack import connection as sdk_connection

from localcloud import config
from localcloud import identity
from localcloud import images
from localcloud import launch
from localcloud import postgres
from localcloud import servers
from localcloud.servers import CloudError
from localcloud.servers import say

#: Environment variable naming a running cloud's state file.
STATE_ENV = 'OSC_IMAGE_STORE_CLOUD_STATE'
SERVICES = ('keystone', 'glance', 'nomulti', 'odd', 'web')


class LocalCloud(launch.Launcher, images.ImageHelpers):
    """Keystone + Glances (multi-store, plain, odd) on 127.0.0.1.

    :ivar run_dir: ``pathlib.Path``, everything of this cloud (configs,
        sqlite databases, stores, ``logs/``, ``clouds.yaml``,
        ``state.json``).
    :ivar db: ``'sqlite'`` or ``'postgresql'`` (the ``glance`` and ``odd``
        Glances' databases).
    :ivar nomulti: ``bool``, whether the multi-store-off Glance runs.
    :ivar odd: ``bool``, whether the odd Glance and the web server run.
    :ivar ports: ``dict[str, int]``: ``keystone``, ``glance``, ``nomulti``,
        ``odd``, ``web``, ``postgres``.
    :ivar store_dirs: ``dict[str, pathlib.Path]``, datadir of each store
        of the multi-store Glance (``fast``, ``cheap``, ``archive``).
    :ivar odd_store_dirs: the same for the odd Glance (``fast``, ``slow``).
    :ivar web_dir: ``pathlib.Path`` served on ``url('web')`` (the odd
        Glance's ``web`` locations point there).
    :ivar nomulti_store_dir: ``pathlib.Path``, the plain Glance's datadir.
    :ivar clouds_yaml: ``pathlib.Path``; clouds ``isd-admin``,
        ``isd-member`` (non-admin member of project ``demo``),
        ``isd-nomulti`` and ``isd-odd`` (admin, image API of those
        Glances).
    :ivar state_file: ``pathlib.Path``, JSON for :meth:`attach`.
    :ivar passwords: ``dict[str, str]`` of users ``admin``, ``glance``,
        ``member``.
    """

    def __init__(self, base_dir: str | os.PathLike | None = None,
                 db: str = 'postgresql', nomulti: bool = True,
                 odd: bool = True, ports: dict | None = None,
                 venv: str | os.PathLike | None = None,
                 odd_settings: dict | None = None,
                 max_parallel_stores: int = config.MAX_PARALLEL_STORES
                 ) -> None:
        """Describe a cloud; nothing starts before :meth:`start`.

        :param base_dir: the run directory, new or empty (default a new
            ``<repo>/.cloud/run-<pid>-<random>``, removed by :meth:`stop`).
        :param db: ``'postgresql'`` or ``'sqlite'``. sqlite answers 500
            "database is locked" under concurrent writes.
        :param nomulti: also run a Glance with multi-store off.
        :param odd: also run the odd Glance and its web server.
        :param ports: explicit ports by service (keys as :attr:`ports`);
            the others are picked free.
        :param venv: the servers' virtualenv (see
            :func:`localcloud.servers.ensure_server_venv`).
        :param odd_settings: more ``glance-api.conf`` settings of the odd
            Glance, ``{section: {option: value}}``, e.g.
            ``{'DEFAULT': {'delayed_delete': True}}``.
        :param max_parallel_stores: ``[image_import_opts]
            max_parallel_stores`` of the multi-store Glance (default
            :data:`localcloud.config.MAX_PARALLEL_STORES`; 1 is Glance's
            own default: imports write one store after the other).
        """
        if db not in ('sqlite', 'postgresql'):
            raise ValueError(f"db must be 'sqlite' or 'postgresql': {db!r}")
        self._remove_dir = base_dir is None
        self.run_dir = pathlib.Path(
            base_dir or servers.repo_root() / '.cloud' / (
                f'run-{os.getpid()}-{secrets.token_hex(3)}')).absolute()
        self.db, self.nomulti, self.odd = db, nomulti, odd
        self.odd_settings = dict(odd_settings or {})
        if int(max_parallel_stores) < 1:
            raise ValueError('max_parallel_stores must be at least 1')
        self.max_parallel_stores = int(max_parallel_stores)
        self._venv_arg = venv
        self._venv: pathlib.Path | None = None
        wanted = dict(ports or {})
        names = [n for n in SERVICES + ('postgres',) if n not in wanted]
        free = [p for p in servers.free_ports(len(names) + len(wanted))
                if p not in wanted.values()]
        self.ports = {**dict(zip(names, free)), **wanted}
        self.passwords = {u: secrets.token_hex(12)
                          for u in ('admin', 'glance', 'member')}
        stores = self.run_dir / 'stores'
        self.store_dirs = {s: stores / s for s in config.STORES}
        self.odd_store_dirs = {s: stores / f'odd-{s}'
                               for s in config.ODD_FILE_STORES}
        self.web_dir = self.run_dir / 'web'
        self.nomulti_store_dir = stores / 'nomulti'
        self.clouds_yaml = self.run_dir / 'clouds.yaml'
        self.state_file = self.run_dir / 'state.json'
        self.postgres = postgres.Postgres(
            self.ports['postgres'], self.run_dir / 'logs' / 'postgres.log')
        self._pids: dict[str, int] = {}
        self._conns: dict[str, sdk_connection.Connection] = {}
        self._lock = threading.Lock()

    # -- addresses and client configuration --------------------------------

    def url(self, service: str) -> str:
        """Return ``http://127.0.0.1:<port>`` of a service.

        :param service: ``keystone``, ``glance``, ``nomulti``, ``odd`` or
            ``web``.
        """
        return f'http://127.0.0.1:{self.ports[service]}'

    def access_log(self, service: str) -> pathlib.Path:
        """Return the log file of a server.

        gunicorn's access lines (the User-Agent is the last quoted field)
        and the server's own messages.

        :param service: ``keystone``, ``glance``, ``nomulti``, ``odd`` or
            ``web``.
        """
        return self.run_dir / 'logs' / f'{service}.log'

    def env(self, cloud: str = config.ADMIN_CLOUD,
            image_endpoint: str | None = None,
            api_timeout: float | None = None) -> dict:
        """Return the environment variables that point a client here.

        :param cloud: the cloud for ``OS_CLOUD``.
        :param image_endpoint: send that cloud's image requests there
            (e.g. a :class:`localcloud.faults.FaultProxy` URL); written as
            ``image_endpoint_override`` into an extra clouds.yaml.
        :param api_timeout: the client's HTTP timeout in seconds for that
            cloud (``api_timeout`` in the extra clouds.yaml).
        :returns: ``OS_CLIENT_CONFIG_FILE``, ``OS_CLOUD`` and
            ``OSC_IMAGE_STORE_CLOUD_STATE``.
        """
        path = self.clouds_yaml
        if image_endpoint is not None or api_timeout is not None:
            key = hashlib.sha256(repr((cloud, image_endpoint, api_timeout))
                                 .encode()).hexdigest()[:12]
            path = self.run_dir / 'clouds-extra' / f'{cloud}-{key}.yaml'
            self.write_clouds_yaml(path, cloud, image_endpoint, api_timeout)
        return {'OS_CLIENT_CONFIG_FILE': str(path), 'OS_CLOUD': cloud,
                STATE_ENV: str(self.state_file)}

    def write_clouds_yaml(self, path: str | os.PathLike,
                          cloud: str | None = None,
                          image_endpoint_override: str | None = None,
                          api_timeout: float | None = None) -> pathlib.Path:
        """Write a clouds.yaml of this cloud, with overrides.

        :param path: where.
        :param cloud: the cloud the overrides apply to (default all).
        :param image_endpoint_override: the image endpoint to use.
        :param api_timeout: the HTTP timeout in seconds.
        :returns: ``path``.
        """
        clouds = config.clouds(self)
        for name, entry in clouds.items():
            if cloud in (None, name):
                if image_endpoint_override is not None:
                    entry['image_endpoint_override'] = image_endpoint_override
                if api_timeout is not None:
                    entry['api_timeout'] = api_timeout
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # JSON is YAML. Atomic: a client may be reading the same file.
        tmp = path.with_name(f'.{path.name}.{secrets.token_hex(4)}.tmp')
        tmp.write_text(json.dumps({'clouds': clouds}, indent=2))
        tmp.replace(path)
        return path

    @property
    def venv(self) -> pathlib.Path:
        """``pathlib.Path``: the servers' virtualenv (installed on demand)."""
        if self._venv is None:
            self._venv = servers.ensure_server_venv(self._venv_arg)
        return self._venv

    # -- state, attach, stop ------------------------------------------------

    def _write_state(self) -> None:
        """Write :attr:`state_file` for :meth:`attach` (atomically)."""
        state = {'run_dir': str(self.run_dir), 'db': self.db,
                 'nomulti': self.nomulti, 'odd': self.odd,
                 'odd_settings': self.odd_settings, 'ports': self.ports,
                 'max_parallel_stores': self.max_parallel_stores,
                 'venv': str(self.venv), 'passwords': self.passwords,
                 'pids': self._pids, 'remove_dir': self._remove_dir,
                 'pg_home': str(self.postgres.home or '') or None}
        tmp = self.state_file.with_name(
            f'.{self.state_file.name}.{os.getpid()}.tmp')
        tmp.write_text(json.dumps(state, indent=2, default=str))
        tmp.replace(self.state_file)

    @classmethod
    def attach(cls, state_file: str | os.PathLike,
               require_running: bool = True) -> LocalCloud:
        """Return a handle on a cloud another process started.

        :param state_file: its ``state.json``.
        :param require_running: raise if one of its servers is gone.
        :raises CloudError: the state file is missing, or (when
            ``require_running``) its servers are no longer running.
        """
        path = pathlib.Path(state_file)
        try:
            state = json.loads(path.read_text())
        except OSError as exc:
            raise CloudError(f'no cloud state at {path}: {exc}') from None
        cloud = cls(state['run_dir'], state['db'], state['nomulti'],
                    state.get('odd', False), state['ports'],
                    state['venv'], state.get('odd_settings'),
                    # a cloud started before the option: Glance's default
                    state.get('max_parallel_stores', 1))
        cloud._venv = pathlib.Path(state['venv'])
        cloud.passwords, cloud._pids = state['passwords'], state['pids']
        cloud._remove_dir = state['remove_dir']
        cloud.postgres.home = (pathlib.Path(state['pg_home'])
                               if state.get('pg_home') else None)
        dead = [s for s in cloud._pids if not cloud._runs(s)]
        if dead and require_running:
            raise CloudError(f'cloud of {path} is not running ('
                             f'{", ".join(dead)} gone): stop it, start anew')
        return cloud

    def _runs(self, service: str) -> bool:
        """Tell if the server of ``service`` runs."""
        return servers.group_runs(self._pids[service], 'http.server'
                                  if service == 'web' else 'gunicorn')

    def _reload_pids(self) -> None:
        """Take the pids of the state file.

        Another process attached to this cloud may have restarted a server.
        """
        try:
            pids = json.loads(self.state_file.read_text())['pids']
        except (OSError, ValueError, KeyError):
            return
        with self._lock:
            self._pids.update(pids)

    def stop(self) -> None:
        """Stop every server and PostgreSQL; remove a default run dir.

        Idempotent. Kills whole process groups, so no worker is left.
        """
        self._shutdown(remove_dir=self._remove_dir)

    def _shutdown(self, remove_dir: bool) -> None:
        """Stop every server; then maybe remove :attr:`run_dir`."""
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()
        self._reload_pids()
        groups = [p for p in self._pids.values() if servers.group_members(p)]
        if groups:
            say(f'stopping servers {groups}')
            servers.stop_groups(groups)
        self._pids.clear()
        self.postgres.stop()
        self.state_file.unlink(missing_ok=True)
        if remove_dir and self.run_dir.exists():
            shutil.rmtree(self.run_dir)

    def __enter__(self) -> LocalCloud:
        """Start the cloud (if not yet started) and return it."""
        return self if self._pids else self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop the cloud."""
        self.stop()

    # -- openstacksdk -------------------------------------------------------

    def connection(self, cloud: str = config.ADMIN_CLOUD
                   ) -> sdk_connection.Connection:
        """Return a cached openstacksdk connection from :attr:`clouds_yaml`.

        Its requests carry the User-Agent prefix ``isd-fixture``.

        :param cloud: ``isd-admin``, ``isd-member``, ``isd-nomulti`` or
            ``isd-odd``.
        """
        with self._lock:
            if cloud not in self._conns:
                self._conns[cloud] = identity.new_connection(
                    self.clouds_yaml, cloud)
            return self._conns[cloud]

    def admin_connection(self) -> sdk_connection.Connection:
        """Return the admin's openstacksdk connection (``isd-admin``)."""
        return self.connection(config.ADMIN_CLOUD)


_CLOUD: LocalCloud | CloudError | None = None
_CLOUD_LOCK = threading.Lock()


def get_cloud() -> LocalCloud:
    """Return this process's cloud, for test base classes.

    Attaches to ``$OSC_IMAGE_STORE_CLOUD_STATE`` when set; otherwise starts
    a cloud once (PostgreSQL) and stops it at exit. A failure is
    remembered and raised again, so a broken cloud is not retried by every
    test.

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
                    started = LocalCloud().start()
                    atexit.register(started.stop)
                    _CLOUD = started
            except CloudError as exc:
                _CLOUD = exc
        if isinstance(_CLOUD, CloudError):
            raise _CLOUD
        return _CLOUD


def run_command(cloud: LocalCloud, command: list[str]) -> int:
    """Run ``command`` with :meth:`LocalCloud.env` set; return its code."""
    try:
        return subprocess.run(
            command, env={**os.environ, **cloud.env()}).returncode
    except FileNotFoundError:
        say(f'command not found: {command[0]}')
        return 127
