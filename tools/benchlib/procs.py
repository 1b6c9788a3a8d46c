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
"""Running the ``openstack`` CLI; CPU counters; what the run was on."""

import dataclasses
import importlib.metadata
import importlib.util
import os
import pathlib
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import typing as ty

import localcloud

#: The ``openstack`` command of this Python's environment.
OPENSTACK = (shutil.which('openstack', path=os.path.dirname(sys.executable))
             or shutil.which('openstack') or 'openstack')

_T0 = time.monotonic()
_TICK = os.sysconf('SC_CLK_TCK')


def say(message: str) -> None:
    """Print a progress line to stderr."""
    print(f'[bench +{time.monotonic() - _T0:6.1f}s] {message}',
          file=sys.stderr, flush=True)


def elapsed() -> float:
    """Seconds since the benchmark started."""
    return time.monotonic() - _T0


def child_env(cloud: localcloud.LocalCloud,
              image_endpoint: str | None = None) -> dict:
    """The environment of the CLI subprocesses.

    The cloud's client variables (admin; with ``image_endpoint``, the
    image API is sent there, e.g. to a :class:`localcloud.FaultProxy`);
    bytecode caching on, as for an installed package (tox sets
    PYTHONDONTWRITEBYTECODE, and every start would then compile the
    sources).
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('OS_') and k != 'PYTHONDONTWRITEBYTECODE'}
    env.update(cloud.env(localcloud.ADMIN_CLOUD,
                         image_endpoint=image_endpoint))
    return env


@dataclasses.dataclass
class Run:
    """One finished CLI process."""

    wall: float          # seconds, start to exit
    cpu: float           # user + system seconds of the process tree
    maxrss_kib: int      # peak resident set size
    rc: int
    stdout: str
    stderr: str


def run(command: ty.Sequence[str], env: dict) -> Run:
    """Run a command; its wall time, CPU time (``os.wait4``), peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(list(command), env=env,
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
                   proc.returncode, out.read().decode(errors='replace'),
                   err.read().decode(errors='replace'))


def openstack(args: ty.Sequence[str], env: dict) -> Run:
    """Run ``openstack ARGS``."""
    return run([OPENSTACK, *args], env)


# -- CPU counters -------------------------------------------------------------

def machine_busy() -> float:
    """CPU-seconds the machine has spent not idle since boot."""
    with open('/proc/stat') as stat:
        fields = [int(x) for x in stat.readline().split()[1:9]]
    # user nice system idle iowait irq softirq steal
    return (sum(fields) - fields[3] - fields[4]) / _TICK


def own_cpu() -> float:
    """CPU-seconds of this process (every thread: the fault proxy's)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pids: ty.Iterable[int]) -> dict[int, float]:
    """CPU-seconds (user + system) of each live pid."""
    used = {}
    for pid in pids:
        try:
            with open(f'/proc/{pid}/stat') as stat:
                fields = stat.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    return used


class ServerCPU:
    """CPU-seconds of the cloud's servers, and of the machine, over a run.

    From :meth:`localcloud.LocalCloud.server_pids` (the gunicorn process
    groups of Keystone and Glance, master and workers: ``utime + stime``
    of ``/proc/<pid>/stat``; PostgreSQL's postmaster and backends).  A
    process that exits during the run is not counted: lower bounds.
    """

    def __init__(self, cloud: localcloud.LocalCloud):
        self.cloud = cloud
        self.before: dict[str, dict[int, float]] = {}
        self.busy = 0.0
        self.own = 0.0

    def mark(self) -> None:
        self.before = {name: process_cpu(pids) for name, pids
                       in self.cloud.server_pids().items()}
        self.busy = machine_busy()
        self.own = own_cpu()

    def read(self, cli_cpu: float) -> dict[str, float]:
        """CPU-seconds by server since :meth:`mark`.

        Keys: each server (``keystone``, ``glance``, ``postgres``...),
        ``servers`` (their sum), ``bench`` (this process: the fault
        proxy, when one runs) and ``others``: the rest of the machine's
        busy time once the servers, this process and ``cli_cpu`` are
        taken out (work that is not the benchmark's).
        """
        busy = machine_busy() - self.busy
        used: dict[str, float] = {}
        for name, pids in self.cloud.server_pids().items():
            before = self.before.get(name, {})
            used[name] = sum(t - before.get(pid, 0.0)
                             for pid, t in process_cpu(pids).items())
        used['servers'] = sum(used.values())
        used['bench'] = own_cpu() - self.own
        used['others'] = max(0.0, busy - used['servers'] - used['bench']
                             - cli_cpu)
        return used


# -- what was measured --------------------------------------------------------

_PACKAGES = ('python-openstackclient', 'osc-lib', 'openstacksdk',
             'keystoneauth1', 'cliff', 'osc-image-store')


def _cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as info:
            for line in info:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'


def _memory_gib() -> float:
    try:
        with open('/proc/meminfo') as info:
            for line in info:
                if line.startswith('MemTotal:'):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _git(*args: str) -> str:
    """Git's answer in the checkout whose osc_image_store the CLI runs."""
    spec = importlib.util.find_spec('osc_image_store')
    if spec is None or not spec.origin:
        return ''
    checkout = pathlib.Path(spec.origin).parent.parent
    try:
        return subprocess.run(['git', '-C', str(checkout), *args],
                              capture_output=True, text=True,
                              check=True).stdout.rstrip('\n')
    except (OSError, subprocess.CalledProcessError):
        return ''


def machine() -> dict:
    """The machine, the client's versions and the code measured."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = '?'
    dirty = [line[3:] for line in _git(
        'status', '--porcelain', '--', 'osc_image_store', 'setup.cfg',
        'requirements.txt', 'tools').splitlines()]
    return {
        'cpus': os.cpu_count() or 1, 'cpu_model': _cpu_model(),
        'memory_gib': round(_memory_gib(), 1),
        'kernel': platform.release(), 'python': platform.python_version(),
        'versions': versions, 'openstack': OPENSTACK,
        'commit': _git('rev-parse', '--short', 'HEAD') or 'unknown',
        'subject': _git('log', '-1', '--format=%s')[:100],
        'dirty': dirty, 'loadavg_start': os.getloadavg()[0],
        'date': time.strftime('%Y-%m-%d %H:%M %z'),
    }
