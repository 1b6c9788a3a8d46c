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

"""Starting and restarting the local cloud's servers; killing workers;
slow store deletes, stalled import tasks, held store writes; their pids.
Mixed into :class:`localcloud.LocalCloud`."""

from __future__ import annotations

import concurrent.futures
import os
import pathlib
import signal
import threading
import time
import typing

from localcloud import config
from localcloud import identity
from localcloud import servers
from localcloud.servers import CloudError
from localcloud.servers import say
from localcloud import slowimport
from localcloud import slowstore

if typing.TYPE_CHECKING:
    from localcloud.cloud import LocalCloud
    from localcloud.postgres import Postgres

#: Glance and Keystone servers (gunicorn): workers, threads, ready path.
_GUNICORN = {'keystone': (2, 4, '/v3'), 'glance': (2, 8, '/versions'),
             'nomulti': (1, 8, '/versions'), 'odd': (1, 8, '/versions')}


class Launcher:
    """Server control of :class:`localcloud.LocalCloud`."""

    run_dir: pathlib.Path
    db: str
    nomulti: bool
    odd: bool
    ports: dict[str, int]
    web_dir: pathlib.Path
    clouds_yaml: pathlib.Path
    postgres: Postgres
    _pids: dict[str, int]
    _lock: threading.Lock

    @property
    def venv(self) -> pathlib.Path:
        raise NotImplementedError  # LocalCloud's

    @property
    def _cloud(self) -> LocalCloud:
        """Self, typed as what this is mixed into."""
        return typing.cast('LocalCloud', self)

    def url(self, service: str) -> str:
        raise NotImplementedError  # LocalCloud's

    def access_log(self, service: str) -> pathlib.Path:
        raise NotImplementedError  # LocalCloud's

    def write_clouds_yaml(self, path: pathlib.Path) -> typing.Any:
        raise NotImplementedError  # LocalCloud's

    def _write_state(self) -> None:
        raise NotImplementedError  # LocalCloud's

    def _reload_pids(self) -> None:
        raise NotImplementedError  # LocalCloud's

    def _shutdown(self, remove_dir: bool) -> None:
        raise NotImplementedError  # LocalCloud's

    # -- start --------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> typing.Any:
        """Install if needed, start everything, bootstrap, write the state.

        On failure, what was started is stopped and the run directory is
        kept for its logs.

        :param timeout: seconds each server may take to answer HTTP.
        :returns: self (the :class:`~localcloud.LocalCloud`).
        :raises CloudError: the run directory is not empty, a port is busy,
            a step failed, or a server did not come up (with the tail of
            its log).
        """
        if self._pids or self.postgres.home:
            raise CloudError(f'cloud in {self.run_dir} is already started')
        if self.run_dir.exists() and any(self.run_dir.iterdir()):
            raise CloudError(f'run directory {self.run_dir} is not empty: '
                             'remove it or choose another')
        started = time.monotonic()
        say(f'server virtualenv: {self.venv}')
        for service in self._wanted():
            servers.check_port_free(self.ports[service], service)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        config.write_all(self._cloud)
        self.write_clouds_yaml(self.clouds_yaml)
        say(f'starting cloud in {self.run_dir} (db={self.db})')
        try:
            with concurrent.futures.ThreadPoolExecutor(3) as pool:
                jobs = [pool.submit(self._start_keystone, timeout),
                        pool.submit(self._start_glances, timeout)]
                if self.nomulti:
                    jobs.append(pool.submit(self._start_glance, 'nomulti',
                                            timeout))
                for job in jobs:
                    job.result()
            self._write_state()
        except BaseException:
            self._shutdown(remove_dir=False)
            raise
        say(f'cloud ready in {time.monotonic() - started:.1f}s: '
            f'OS_CLIENT_CONFIG_FILE={self.clouds_yaml}')
        return self

    def _wanted(self) -> list[str]:
        """Return the services this cloud runs (ports included)."""
        return (['keystone', 'glance'] + ['nomulti'] * self.nomulti
                + ['odd', 'web'] * self.odd
                + ['postgres'] * (self.db == 'postgresql'))

    def _server_env(self, service: str) -> dict:
        """Return a server's environment (no client ``OS_*``)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')
               and k not in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV')}
        env['PATH'] = f'{self.venv / "bin"}:{env.get("PATH", "/usr/bin:/bin")}'
        # The http store and Keystone clients must not go through a proxy.
        env['no_proxy'] = env['NO_PROXY'] = '127.0.0.1,localhost'
        if service == 'keystone':
            env['OS_KEYSTONE_CONFIG_FILES'] = str(
                self.run_dir / 'keystone' / 'keystone.conf')
        else:
            env['OS_GLANCE_CONFIG_DIR'] = str(
                config.glance_dir(self._cloud, service))
        return env

    def _start_keystone(self, timeout: float) -> None:
        """Set up Keystone, serve it, create the projects/users/endpoint."""
        identity.setup_keystone(self._cloud, self._server_env('keystone'))
        self._serve('keystone', timeout)
        identity.bootstrap(self._cloud)

    def _start_glances(self, timeout: float) -> None:
        """Start the web server, PostgreSQL, then ``glance`` and ``odd``."""
        if self.odd:
            self._start_web(timeout)
        if self.db == 'postgresql':
            self.postgres.start(['glance'] + ['odd'] * self.odd)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            jobs = [pool.submit(self._start_glance, s, timeout)
                    for s in ['glance'] + ['odd'] * self.odd]
            for job in jobs:
                job.result()

    def _start_web(self, timeout: float) -> None:
        """Serve :attr:`web_dir` on ``url('web')``."""
        say(f'web: serving {self.web_dir} on {self.url("web")}')
        proc = servers.serve_directory(self.web_dir, self.ports['web'],
                                       self.access_log('web'), timeout)
        self._pids['web'] = proc.pid

    def _start_glance(self, service: str, timeout: float) -> None:
        """``db_sync`` the database of a Glance and serve it."""
        say(f'{service}: db_sync')
        conf = config.glance_dir(self._cloud, service) / 'glance-api.conf'
        servers.run([self.venv / 'bin' / 'glance-manage', '--config-file',
                     conf, 'db_sync'],
                    self.run_dir / 'logs' / f'{service}-manage.log',
                    self._server_env(service))
        self._serve(service, timeout)

    def _serve(self, service: str, timeout: float) -> None:
        """Start a gunicorn in its own session; wait until it answers."""
        app = 'keystone' if service == 'keystone' else 'glance'
        workers, threads, ready = _GUNICORN[service]
        if self.db == 'sqlite' and service in ('keystone', 'glance'):
            workers = 1
        say(f'{service}: starting gunicorn on {self.url(service)} '
            f'({workers} worker(s) x {threads} threads)')
        cmd = [self.venv / 'bin' / 'gunicorn', '--name', f'cloud-{service}',
               '--bind', f'127.0.0.1:{self.ports[service]}',
               '--workers', workers, '--threads', threads, '--timeout', 300,
               '--graceful-timeout', 2, '--keep-alive', 30,
               '--no-control-socket',
               '--access-logfile', '-', '--chdir', self.run_dir,
               f'cloud_wsgi_{app}:application']
        log = self.access_log(service)
        proc = servers.spawn(cmd, log, self._server_env(service))
        with self._lock:
            self._pids[service] = proc.pid
        servers.wait_answering(service, self.url(service) + ready, log,
                               timeout, proc)
        say(f'{service}: ready')

    # -- faults and measurements --------------------------------------------

    def restart(self, service: str, timeout: float = 120.0) -> None:
        """Stop a server and start it again; wait until it answers.

        :param service: ``keystone``, ``glance``, ``nomulti``, ``odd`` or
            ``web``.
        :raises CloudError: it did not come back.
        """
        self._reload_pids()
        if service in self._pids:
            servers.stop_groups([self._pids[service]])
        if service == 'web':
            self._start_web(timeout)
        else:
            self._serve(service, timeout)
        self._write_state()

    def kill_workers(self, service: str, wait: bool = True,
                     timeout: float = 120.0) -> list[int]:
        """SIGKILL the gunicorn workers of a server ("Glance died").

        The gunicorn master stays and starts new workers.

        :param wait: wait until new workers answer HTTP.
        :returns: the pids killed.
        :raises CloudError: no worker found, or (``wait``) none came back.
        """
        self._reload_pids()
        master = self._pids[service]
        killed = [p for p in servers.group_members(master) if p != master]
        if not killed:
            raise CloudError(f'{service}: no gunicorn worker to kill')
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        say(f'{service}: killed workers {killed}')
        deadline = time.monotonic() + timeout
        while wait:
            new = set(servers.group_members(master)) - {master, *killed}
            if len(new) >= len(killed) and servers.answers(
                    self.url(service) + _GUNICORN[service][2]):
                break
            if time.monotonic() > deadline:
                raise CloudError(f'{service}: no new worker answers after '
                                 f'{timeout}s\n'
                                 + servers.tail(self.access_log(service)))
            time.sleep(0.2)
        return killed

    def set_store_delete_delay(self, seconds: float,
                               store: str | None = None) -> dict[str, float]:
        """Make Glance's store deletes slow, as RBD or Swift removals are.

        Each backend delete then sleeps ``seconds`` inside Glance, in the
        thread serving the request, before the data goes: the image Glance
        read for that request is held meanwhile; other requests go on
        (each Glance runs several threads per worker). Read at each
        delete: no restart. Applies to every Glance of this cloud (see
        :mod:`localcloud.slowstore`); every process attached to it sees
        the same delays.

        :param seconds: the delay (0: none).
        :param store: the store id; None: every store (other values are
            dropped; ``set_store_delete_delay(0)`` clears all); ``'*'``:
            the stores without a value of their own. A store's 0 is kept
            and overrides ``'*'``.
        :returns: the delays now in force, ``{store or '*': seconds}``.
        :raises ValueError: ``seconds`` is negative or not finite.
        :raises CloudError: the cloud was started without slow deletes
            (by an older localcloud).
        """
        if not (self.run_dir / f'{slowstore.MODULE}.py').exists():
            raise CloudError(f'cloud in {self.run_dir} has no slow store '
                             'deletes: start a new one')
        delays = slowstore.write(self.run_dir / slowstore.FILE_NAME,
                                 seconds, store)
        say(f'store delete delays: {delays or "none"}')
        return delays

    def store_delete_delays(self) -> dict[str, float]:
        """Return the store delete delays in force (``{}``: none)."""
        return slowstore.read(self.run_dir / slowstore.FILE_NAME)

    def _check_slowimport(self) -> None:
        if not (self.run_dir / f'{slowimport.MODULE}.py').exists():
            raise CloudError(f'cloud in {self.run_dir} cannot stall imports '
                             'or hold store writes: start a new one')

    def set_imports_stalled(self, stalled: bool) -> None:
        """Make the import tasks of the main Glance stay ``pending``.

        While stalled, every import task that Glance is about to start
        (an import API call answered 202) waits before it leaves
        ``pending``: its import lock stays on the image and nothing is
        copied, as when a task is lost before it starts. Unstalled, the
        waiting tasks run as usual. Read at each task: no restart; every
        Glance of this cloud (see :mod:`localcloud.slowimport`).

        :raises CloudError: the cloud was started by an older localcloud.
        """
        self._check_slowimport()
        path = self.run_dir / slowimport.STALL_FILE
        if stalled:
            path.touch()
        else:
            path.unlink(missing_ok=True)
        say(f'import tasks {"stalled" if stalled else "run"}')

    def imports_stalled(self) -> bool:
        """Tell if import tasks are stalled (:meth:`set_imports_stalled`)."""
        return (self.run_dir / slowimport.STALL_FILE).exists()

    def set_store_add_hold(self, seconds: float,
                           store: str | None = None) -> dict[str, float]:
        """Hold Glance's writes into a file store (uploads, imports).

        A write into ``store`` waits until ``seconds`` have passed since
        it began, or until the hold is lowered or cleared (read every
        0.1 s). With ``max_parallel_stores`` > 1 an import into several
        stores then finishes the others first (the image turns
        ``active``) and stays "importing" into this one.

        :param seconds: the hold (0: none).
        :param store: the store id; None: every store (other values are
            dropped; ``set_store_add_hold(0)`` clears all).
        :returns: the holds now in force, ``{store or '*': seconds}``.
        :raises ValueError: ``seconds`` is negative or not finite.
        :raises CloudError: the cloud was started by an older localcloud.
        """
        self._check_slowimport()
        holds = slowimport.write_hold(self.run_dir / slowimport.HOLD_FILE,
                                      seconds, store)
        say(f'store write holds: {holds or "none"}')
        return holds

    def server_pids(self) -> dict[str, list[int]]:
        """Return the live pids of each server (for CPU/RSS readings).

        Keys are the services that run, plus ``postgres`` (the
        postmaster and its backends) when it runs.
        """
        self._reload_pids()
        found = {s: servers.group_members(p) for s, p in self._pids.items()}
        if self.postgres.pids():
            found['postgres'] = self.postgres.pids()
        return found
