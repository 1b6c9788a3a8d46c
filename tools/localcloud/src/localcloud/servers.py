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

"""Processes of the local cloud.

The servers' virtualenv, ports, process groups, gunicorn and the HTTP
file server (PostgreSQL: :mod:`localcloud.postgres`).

Nothing here knows what Keystone or Glance are configured with; that is
:mod:`localcloud.config`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pathlib
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request

#: Environment variable: the servers' virtualenv (default
#: ``<repo>/.cloud/venv``).
VENV_ENV = 'OSC_IMAGE_STORE_SERVER_VENV'
#: Environment variable: the osc-image-store clone (default: found by
#: walking up from the current directory).
REPO_ENV = 'OSC_IMAGE_STORE_REPO'
#: The pinned server requirements, relative to the repository root.
REQUIREMENTS = pathlib.PurePath('tools', 'cloud-requirements.txt')

_T0 = time.monotonic()


class CloudError(RuntimeError):
    """The local cloud could not be installed, started or driven."""


def say(message: str) -> None:
    """Print one progress line (``str``) to stderr, flushed."""
    # One write: lines of parallel start-up threads do not interleave.
    sys.stderr.write(f'[cloud +{time.monotonic() - _T0:5.1f}s] {message}\n')
    sys.stderr.flush()


def tail(path: pathlib.Path, lines: int = 40) -> str:
    """Return the last ``lines`` lines of the log file ``path``."""
    try:
        text = path.read_text(errors='replace').splitlines()
    except OSError:
        return f'(no log at {path})'
    return f'--- last lines of {path} ---\n' + '\n'.join(text[-lines:])


def run(cmd: list, log: pathlib.Path, env: dict | None = None,
        cwd: pathlib.Path | None = None) -> None:
    """Run argv ``cmd``, its output appended to ``log``.

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
                         + tail(log))


def repo_root() -> pathlib.Path:
    """Return the osc-image-store clone.

    The directory holding ``tools/cloud-requirements.txt``: from
    ``$OSC_IMAGE_STORE_REPO``; else the first such directory walking up
    from the current directory, then from this file (an editable install).

    :raises CloudError: none found.
    """
    if os.environ.get(REPO_ENV):
        root = pathlib.Path(os.environ[REPO_ENV]).absolute()
        if not (root / REQUIREMENTS).is_file():
            raise CloudError(f'${REPO_ENV}={root} has no {REQUIREMENTS}')
        return root
    for start in (pathlib.Path.cwd(), pathlib.Path(__file__).parent):
        for path in (start.absolute(), *start.absolute().parents):
            if (path / REQUIREMENTS).is_file():
                return path
    raise CloudError(f'no {REQUIREMENTS} above {pathlib.Path.cwd()}: run '
                     f'from the osc-image-store clone or set ${REPO_ENV}')


def ensure_server_venv(
        venv: str | os.PathLike | None = None) -> pathlib.Path:
    """Create or reuse the servers' virtualenv and return its path.

    Reused when its marker file holds the sha256 of
    ``tools/cloud-requirements.txt``; otherwise ``pip install -r`` runs in
    it (under a lock, so parallel callers install once).

    :param venv: where (default ``$OSC_IMAGE_STORE_SERVER_VENV`` or
        ``<repo>/.cloud/venv``).
    :raises CloudError: the clone is not found, or creating the
        virtualenv or installing failed.
    """
    root = repo_root()
    requirements = root / REQUIREMENTS
    venv = pathlib.Path(venv or os.environ.get(VENV_ENV)
                        or root / '.cloud' / 'venv').absolute()
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    marker = venv / '.cloud-requirements.sha256'
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f'.{venv.name}.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text().strip() == digest:
            return venv
        started = time.monotonic()
        say(f'installing server virtualenv {venv} (about a minute)')
        if not (venv / 'bin' / 'python').exists():
            rc = subprocess.run([sys.executable, '-m', 'venv', str(venv)],
                                stdin=subprocess.DEVNULL).returncode
            if rc:
                raise CloudError(f'{sys.executable} -m venv {venv} failed '
                                 '(on Debian: apt-get install python3-venv)')
        run([venv / 'bin' / 'python', '-m', 'pip', 'install', '-r',
             requirements], venv / 'pip-install.log')
        marker.write_text(digest + '\n')
        say(f'server virtualenv installed in '
            f'{time.monotonic() - started:.0f}s')
    return venv


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports free on 127.0.0.1 right now."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(('127.0.0.1', 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def check_port_free(port: int, what: str) -> None:
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


def _stat_fields(stat: pathlib.Path) -> list[str] | None:
    """Fields of a ``/proc/<pid>/stat`` after the command (state first)."""
    try:
        return stat.read_text().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None


def group_members(pgid: int) -> list[int]:
    """Return the live (non-zombie) pids of process group ``pgid``."""
    members = []
    for stat in pathlib.Path('/proc').glob('[0-9]*/stat'):
        fields = _stat_fields(stat)
        if fields and fields[0] != 'Z' and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def children(pid: int) -> list[int]:
    """Return the live pids whose parent is ``pid``."""
    found = []
    for stat in pathlib.Path('/proc').glob('[0-9]*/stat'):
        fields = _stat_fields(stat)
        if fields and fields[0] != 'Z' and int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def group_runs(pgid: int, marker: str) -> bool:
    """Tell if a member of group ``pgid`` has ``marker`` in its argv."""
    for pid in group_members(pgid):
        try:
            if marker.encode() in pathlib.Path(
                    f'/proc/{pid}/cmdline').read_bytes():
                return True
        except OSError:
            continue
    return False


def stop_groups(groups: list[int], wait: float = 10.0) -> None:
    """SIGINT the process groups, then SIGKILL what is left; wait."""
    for sig, seconds in ((signal.SIGINT, wait), (signal.SIGKILL, 5.0)):
        for pgid in groups:
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + seconds
        while groups and time.monotonic() < deadline:
            for pgid in groups:
                try:  # reap it if it is our child
                    os.waitpid(pgid, os.WNOHANG)
                except ChildProcessError:
                    pass
            groups = [g for g in groups if group_members(g)]
            time.sleep(0.1)
        if not groups:
            return


def spawn(cmd: list, log: pathlib.Path, env: dict,
          cwd: pathlib.Path | None = None) -> subprocess.Popen:
    """Start argv ``cmd`` in its own session, output appended to ``log``.

    Its pid is its process group's id.
    """
    with open(log, 'ab') as out:
        return subprocess.Popen(
            list(map(str, cmd)), stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, env=env, cwd=cwd,
            start_new_session=True)


def answers(url: str) -> bool:
    """Tell if ``url`` answers 200 right now."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def wait_answering(name: str, url: str, log: pathlib.Path, timeout: float,
                   proc: subprocess.Popen | None = None) -> None:
    """Wait until ``url`` answers 200.

    :raises CloudError: ``proc`` exited, or no answer within ``timeout``
        seconds (with the tail of ``log``).
    """
    deadline = time.monotonic() + timeout
    while not answers(url):
        if proc is not None and proc.poll() is not None:
            raise CloudError(f'{name} exited {proc.returncode}\n'
                             + tail(log))
        if time.monotonic() > deadline:
            raise CloudError(f'{name} did not answer on {url} within '
                             f'{timeout}s\n' + tail(log))
        time.sleep(0.2)


def write_ini(path: pathlib.Path, sections: dict) -> None:
    """Write oslo.config file ``path`` from ``{section: {opt: value}}``."""
    path.write_text(''.join(
        f'[{name}]\n' + ''.join(f'{k} = {v}\n' for k, v in opts.items())
        + '\n' for name, opts in sections.items()))


def serve_directory(directory: pathlib.Path, port: int,
                    log: pathlib.Path, timeout: float) -> subprocess.Popen:
    """Serve ``directory`` over HTTP on 127.0.0.1:``port`` (GET, HEAD).

    Python's threaded ``http.server`` in its own process group; waits
    until it answers.
    """
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'PYTHONHOME')}
    proc = spawn([sys.executable, '-u', '-m', 'http.server', '--bind',
                  '127.0.0.1', '--directory', directory, port], log, env)
    wait_answering('web', f'http://127.0.0.1:{port}/', log, timeout, proc)
    return proc
