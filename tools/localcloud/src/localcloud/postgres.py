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

"""A private PostgreSQL server for the local cloud's Glances."""

from __future__ import annotations

import os
import pathlib
import shlex
import shutil
import signal
import subprocess
import tempfile

from localcloud.servers import children
from localcloud.servers import CloudError
from localcloud.servers import run
from localcloud.servers import say

#: Where PostgreSQL's data and socket directories go: a place the
#: ``postgres`` user can enter even when the clone is under a home
#: directory of mode 700.
PG_PARENT = pathlib.Path('/var/tmp')


def postgres_bindir(install: bool = False) -> pathlib.Path:
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
        say('postgresql: not installed; installing Debian\'s package')
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


def postgres_unavailable() -> str | None:
    """Why a PostgreSQL server cannot be had here, or None when it can.

    It can when Debian's server is installed, or when this runs as root
    where ``apt-get`` can install it (:func:`postgres_bindir` does).
    """
    if list(pathlib.Path('/usr/lib/postgresql').glob('*/bin/initdb')):
        return None
    if os.geteuid() != 0:
        return ('PostgreSQL\'s server is not installed (no /usr/lib/'
                'postgresql/<major>/bin/initdb) and this does not run as '
                'root, so it cannot install it (as root: apt-get install '
                'postgresql)')
    if not shutil.which('apt-get'):
        return ('PostgreSQL\'s server is not installed and there is no '
                'apt-get to install it (Debian\'s package postgresql)')
    return None


class Postgres:
    """A private PostgreSQL server on 127.0.0.1, trust authentication.

    Its data directory, socket and log live in a new directory under
    ``/var/tmp`` (:attr:`home`, owned by ``postgres`` when running as
    root), never in the run directory: the ``postgres`` user cannot enter
    a clone under a home directory of mode 700. :meth:`stop` copies the
    log to ``log_copy`` and removes :attr:`home`.
    """

    def __init__(self, port: int, log_copy: pathlib.Path,
                 home: str | os.PathLike | None = None) -> None:
        """:param home: an existing :attr:`home` (to attach to one)."""
        self.port, self.log_copy = port, log_copy
        self.home = pathlib.Path(home) if home else None

    @property
    def data(self) -> pathlib.Path | None:
        """``pathlib.Path`` of the data directory, or None (not started)."""
        return self.home / 'data' if self.home else None

    @property
    def _log(self) -> pathlib.Path:
        if self.home is None:
            raise CloudError('postgres is not started')
        return self.home / 'postgres.log'

    @staticmethod
    def _as_postgres() -> list:
        """Return the argv prefix that runs a command as user postgres."""
        return ['runuser', '-u', 'postgres', '--'] if os.geteuid() == 0 else []

    def start(self, databases: list[str]) -> None:
        """initdb, start, and create ``databases``.

        :raises CloudError: a step failed (the log is in :attr:`home`).
        """
        bindir = postgres_bindir(install=True)
        PG_PARENT.mkdir(parents=True, exist_ok=True)
        self.home = pathlib.Path(tempfile.mkdtemp(prefix='localcloud-pg-',
                                                  dir=PG_PARENT))
        self._log.touch()
        if os.geteuid() == 0:
            for path in (self.home, self._log):
                shutil.chown(path, 'postgres', 'postgres')
        say(f'postgres: initdb + start on 127.0.0.1:{self.port} in '
            f'{self.home} ({bindir})')
        as_pg = self._as_postgres()
        run(as_pg + [bindir / 'initdb', '-D', self.data, '-A', 'trust',
                     '-U', 'postgres', '-E', 'UTF8', '--locale=C',
                     '--no-sync'], self._log, cwd=self.home)
        options = (f'-c listen_addresses=127.0.0.1 -p {self.port}'
                   f' -k {shlex.quote(str(self.home))} -c fsync=off'
                   ' -c synchronous_commit=off -c full_page_writes=off')
        run(as_pg + [bindir / 'pg_ctl', '-D', self.data, '-l', self._log,
                     '-w', '-t', 60, '-o', options, 'start'], self._log,
            cwd=self.home)
        for name in databases:
            run([bindir / 'createdb', '-h', '127.0.0.1', '-p', self.port,
                 '-U', 'postgres', name], self._log)

    def url(self, database: str) -> str:
        """Return the SQLAlchemy URL of ``database``."""
        return (f'postgresql+psycopg2://postgres@127.0.0.1:{self.port}/'
                f'{database}')

    def pids(self) -> list[int]:
        """Return the postmaster's pid and its children's, or []."""
        if self.data is None:
            return []
        try:
            master = int((self.data / 'postmaster.pid').read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return [master, *children(master)]

    def stop(self) -> None:
        """``pg_ctl stop`` (else kill the postmaster); remove :attr:`home`.

        Idempotent.
        """
        if self.home is None or not self.home.exists():
            return
        if self.data and (self.data / 'postmaster.pid').exists():
            say('stopping postgres')
            try:
                run(self._as_postgres() + [
                    postgres_bindir() / 'pg_ctl', '-D', self.data, '-m',
                    'fast', '-w', '-t', 30, 'stop'], self._log)
            except CloudError as exc:
                pids = self.pids()
                say(f'{exc}\nkilling postmaster {pids[:1]}')
                # Its backends exit by themselves when the postmaster dies.
                for pid in pids[:1]:
                    os.kill(pid, signal.SIGKILL)
        try:
            self.log_copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self._log, self.log_copy)
        except OSError:
            pass
        shutil.rmtree(self.home, ignore_errors=True)
        self.home = None
