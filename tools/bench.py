#!/usr/bin/env python3
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
"""Benchmark ``openstack image store delete`` on the local cloud.

Not a test: it prints figures (and the targets next to them) and never
fails on a figure.  It exits non-zero only when it could not run (the
cloud did not start, seeding failed).  Run it with ``tox -e bench`` or::

    python tools/bench.py [--images 200] [--runs 3] [--memory-images 2000]
                          [--json results.json]

It starts one local cloud (Keystone + multi-store Glance on PostgreSQL,
2 gunicorn workers x 8 threads, 127.0.0.1 only; see
``tools/localcloud``), stops it at the end, and
measures, with the real ``openstack`` command in a subprocess each time:

1. *Batch wall time.*  ``--images`` N images hold data in stores ``fast``
   and ``cheap``.  Timed, from process start to exit, each ``--runs``
   times (median reported):

   (a) ``openstack image store delete --store cheap -f value --parallel 1
       <N ids>``;
   (b) the same with ``--parallel 4`` (the default);
   (c) the same with ``--parallel 8``;
   (d) ``openstack image delete --store cheap <N ids>``
       (python-openstackclient's own command, one image at a time).

   Before every timed run the ``cheap`` copy of every image is put back
   (``copy-image`` import, polled until every image lists ``cheap``), so
   each run starts from the same state; after it, every image must have
   left ``cheap`` and kept ``fast``, or a warning is printed.  The order
   of (a)-(d) rotates from run to run so that drift in the machine's load
   is spread over all four.  Ratios are to (d).

   Where the time goes: the CPU-seconds each party used during the run
   (medians): the ``openstack`` process (``cli``, from ``os.wait4``),
   Glance's and Keystone's gunicorn workers and PostgreSQL (from
   ``/proc/<pid>/stat``), and ``other``: the rest of the machine's busy
   time (``/proc/stat``), i.e. work that is not the benchmark's.  The
   machine can give at most wall time x CPUs.  From ours (cli + servers):
   an estimate for an otherwise idle machine, the sum for (a) and (d)
   (one request at a time: the parties wait for each other), and for (b)
   and (c) a best case, the sum divided by the CPUs but no less than the
   CLI's own CPU time.

2. *Requests per image* for (a) and (d): the lines the run added to
   Glance's access log (gunicorn's; the User-Agent is the last quoted
   field) whose User-Agent does not start with ``isd-fixture`` (the
   fixture's own requests), divided by N; with the split by method.
   Keystone's access log is counted the same way, separately for the
   CLI's requests (openstacksdk's User-Agent) and the others, Glance's
   token validations (keystonemiddleware).

3. *Start-up*: median wall time of 10 runs each (interleaved) of
   ``openstack image store delete --help`` and ``openstack image delete
   --help``, and their ratio.  *Import time* of the plugin from
   ``python -X importtime`` (cumulative microseconds of the module's
   line; median of 5 runs): ``import osc_image_store.plugin`` alone, the
   same after ``osc_lib.command.command`` and ``openstack.connection``
   (what OSC has loaded when it loads plugins), and
   ``import osc_image_store.v2.store`` the same two ways.  Subprocesses
   run with bytecode caching on (one warm-up run first), as an installed
   package would, even under tox (which sets PYTHONDONTWRITEBYTECODE).

4. *Peak memory* (max RSS of the ``openstack`` process, from
   ``os.wait4``) and wall time of ``openstack image store delete --store
   archive --all-images --dry-run -f value`` with 200 images in store
   ``archive`` only, then with ``--memory-images`` M; each image's only
   copy is in ``archive``, so every row is ``skipped`` and the requests
   are the paginated listing only.  Memory should be flat in the number
   of images.
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import typing as ty

import localcloud

OPENSTACK = (shutil.which('openstack', path=os.path.dirname(sys.executable))
             or shutil.which('openstack') or 'openstack')

#: Targets: figure key -> (limit, unit, text).  All are upper limits.
TARGETS = {
    'ratio_parallel_1': (1.3, 'x', '<= 1.3x (d)'),
    'ratio_parallel_4': (0.6, 'x', '<= 0.6x (d)'),
    'requests_per_image_a': (3.0, '', '<= 3'),
    'startup_ratio': (1.05, 'x', '<= 1.05x'),
    'import_plugin_ms': (30.0, 'ms', '<= 30 ms'),
    'peak_rss_mib_M': (150.0, 'MiB', '<= 150 MiB'),
}

#: gunicorn's default access-log format:
#: h l u [t] "request line" status bytes "referer" "user agent"
_ACCESS = re.compile(
    r'^\S+ \S+ \S+ \[[^\]]*\] "(?P<method>[A-Z]+) (?P<path>\S+)[^"]*" '
    r'(?P<status>\d{3}) \S+ "[^"]*" "(?P<agent>[^"]*)"\s*$')

_T0 = time.monotonic()


def say(message: str) -> None:
    """Print a progress line to stderr."""
    print(f'[bench +{time.monotonic() - _T0:6.1f}s] {message}',
          file=sys.stderr, flush=True)


# -- CPU accounting ----------------------------------------------------------

_TICK = os.sysconf('SC_CLK_TCK')


def machine_busy() -> float:
    """CPU-seconds the whole machine has spent not idle since boot."""
    with open('/proc/stat') as stat:
        fields = [int(x) for x in stat.readline().split()[1:9]]
    # user nice system idle iowait irq softirq steal
    return (sum(fields) - fields[3] - fields[4]) / _TICK


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
    """CPU time of the cloud's servers (and of the machine) over a run.

    Glance and Keystone: every process of their gunicorn's process group;
    PostgreSQL: the postmaster and its children.  A process that exits
    during the run (a PostgreSQL backend of a closed connection) is not
    counted: the figures are lower bounds.
    """

    def __init__(self, cloud: localcloud.LocalCloud):
        self.cloud = cloud
        self.before: dict[str, dict[int, float]] = {}
        self.busy = 0.0

    def _pids(self) -> dict[str, list[int]]:
        return self.cloud.server_pids()

    def mark(self) -> None:
        self.before = {name: process_cpu(pids)
                       for name, pids in self._pids().items()}
        self.busy = machine_busy()

    def read(self) -> dict[str, float]:
        """CPU-seconds by server since :meth:`mark`, and ``machine``."""
        used = {'machine': machine_busy() - self.busy}
        for name, pids in self._pids().items():
            now = process_cpu(pids)
            before = self.before.get(name, {})
            used[name] = sum(t - before.get(pid, 0.0)
                             for pid, t in now.items())
        return used


# -- the cloud ---------------------------------------------------------------

class Bench:
    """One local cloud and the images the measurements use."""

    def __init__(self, cloud: localcloud.LocalCloud, data: bytes):
        self.cloud = cloud
        self.data = data
        self.env = self._child_env()

    def _child_env(self) -> dict:
        """The environment of the ``openstack`` subprocesses.

        The cloud's ``OS_*`` variables; bytecode caching on (tox's
        PYTHONDONTWRITEBYTECODE would make every start compile sources).
        """
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')
               and k not in ('PYTHONDONTWRITEBYTECODE',)}
        env.update(self.cloud.env())
        return env

    def api(self, method: str, path: str, expect: tuple = (200,),
            **kwargs: ty.Any) -> ty.Any:
        """Call the Images API (below /v2) as admin (fixture User-Agent)."""
        return self.cloud.image_api(method, path, expect, **kwargs)

    def create_many(self, prefix: str, count: int, stores: tuple,
                    threads: int = 8) -> list[str]:
        """Create ``count`` images with data in ``stores``; their IDs."""
        ids: list[str] = []
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            jobs = [pool.submit(self.cloud.create_image, f'{prefix}-{i:05d}',
                                self.data, stores=stores, timeout=600)
                    for i in range(count)]
            for n, job in enumerate(jobs, 1):
                ids.append(job.result())
                if n % 100 == 0 or n == count:
                    say(f'  created {n}/{count} images in {",".join(stores)}'
                        f' ({time.monotonic() - started:.0f}s)')
        return ids

    def all_images(self) -> dict[str, dict]:
        """Every image (admin view, hidden ones too): ID -> image JSON."""
        images: dict[str, dict] = {}
        for hidden in ('false', 'true'):
            marker = None
            while True:
                query = f'/images?limit=1000&os_hidden={hidden}'
                if marker:
                    query += f'&marker={marker}'
                page = self.api('GET', query).json()['images']
                for image in page:
                    images[image['id']] = image
                if not page:    # Glance may cap the page below 1000
                    break
                marker = page[-1]['id']
        return images

    @staticmethod
    def stores_of(image: dict) -> set[str]:
        return set(filter(None, image.get('stores', '').split(',')))

    def restore_cheap(self, ids: list[str], timeout: float = 900,
                      stall: float = 90) -> float:
        """Copy every image back into ``cheap``; wait; seconds taken.

        ``copy-image`` imports from a pool of 8 threads, then polls the
        image list until every image lists ``cheap``.  When no image has
        arrived for ``stall`` seconds, or an import failed
        (``os_glance_failed_import``), the imports of the images still
        missing are sent again (a "400 already present" or "409" answer
        is fine then).
        """
        started = time.monotonic()
        images = self.all_images()
        pending = [i for i in ids
                   if 'cheap' not in self.stores_of(images[i])]

        def copy(image_id: str) -> None:
            self.api('POST', f'/images/{image_id}/import', (202, 400, 409),
                     json={'method': {'name': 'copy-image'},
                           'stores': ['cheap']})

        sends = 0
        while pending:
            if sends > 5 or time.monotonic() - started > timeout:
                raise localcloud.CloudError(
                    f'{len(pending)} images never came back to cheap')
            if sends:
                say(f'  sending the import of {len(pending)} image(s) '
                    'into cheap again')
            sends += 1
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(copy, pending))
            progress = sent = time.monotonic()
            while pending:
                time.sleep(1.0)
                images = self.all_images()
                still = [i for i in pending
                         if 'cheap' not in self.stores_of(images[i])]
                if len(still) < len(pending):
                    progress = time.monotonic()
                pending = still
                failed = [i for i in pending if 'cheap' in images[i].get(
                    'os_glance_failed_import', '')]
                since_send = time.monotonic() - sent
                if (failed and since_send > 15) or (
                        time.monotonic() - progress > stall):
                    break
        return time.monotonic() - started

    def check_left_cheap(self, ids: list[str]) -> str | None:
        """None when every image left cheap and kept fast; else a text."""
        images = self.all_images()
        still = [i for i in ids if 'cheap' in self.stores_of(images[i])]
        lost = [i for i in ids if 'fast' not in self.stores_of(images[i])]
        if still or lost:
            return (f'{len(still)} image(s) still in cheap, {len(lost)} '
                    'lost their fast copy')
        return None

    # -- the openstack command --------------------------------------------

    def run(self, args: list[str]) -> dict:
        """Run ``openstack ARGS``; wall time, max RSS, exit code, output."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            started = time.monotonic()
            proc = subprocess.Popen([OPENSTACK, *args], env=self.env,
                                    stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.monotonic() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            return {'wall': wall, 'maxrss_kib': usage.ru_maxrss,
                    'cpu': usage.ru_utime + usage.ru_stime,
                    'rc': proc.returncode,
                    'stdout': out.read().decode(errors='replace'),
                    'stderr': err.read().decode(errors='replace')}


class AccessLog:
    """Lines that an access log gains between :meth:`mark` and :meth:`read`."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size

    def read(self) -> list[dict]:
        """Access lines added since :meth:`mark` (after they settle)."""
        size = -1
        for _ in range(20):
            time.sleep(0.25)
            now = self.path.stat().st_size
            if now == size:
                break
            size = now
        with open(self.path, 'rb') as log:
            log.seek(self.offset)
            text = log.read().decode(errors='replace')
        return [m.groupdict() for m in map(_ACCESS.match, text.splitlines())
                if m]


def not_fixture(lines: list[dict]) -> list[dict]:
    return [x for x in lines
            if not x['agent'].startswith(localcloud.FIXTURE_AGENT)]


def count_methods(lines: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in lines:
        key = line['method'] + ' ' + _path_kind(line['path'])
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def _path_kind(path: str) -> str:
    path = path.split('?')[0]
    path = re.sub(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                  r'[0-9a-f]{12}', '{id}', path)
    path = re.sub(r'/stores/[^/]+/', '/stores/{store}/', path)
    return re.sub(r'/v3/auth/tokens.*', '/v3/auth/tokens', path)


# -- measurements ------------------------------------------------------------

#: The benchmark's own CPU consumers during a batch.
OURS = ('cli', 'glance', 'postgres', 'keystone')

VARIANTS = {
    'a': ('store delete --parallel 1',
          ['image', 'store', 'delete', '--store', 'cheap', '-f', 'value',
           '--parallel', '1']),
    'b': ('store delete --parallel 4',
          ['image', 'store', 'delete', '--store', 'cheap', '-f', 'value',
           '--parallel', '4']),
    'c': ('store delete --parallel 8',
          ['image', 'store', 'delete', '--store', 'cheap', '-f', 'value',
           '--parallel', '8']),
    'd': ('OSC image delete --store',
          ['image', 'delete', '--store', 'cheap']),
}


def measure_batches(bench: Bench, ids: list[str], runs: int,
                    results: dict) -> None:
    """Figures 1 and 2: wall time of (a)-(d), requests per image."""
    glance = AccessLog(bench.cloud.access_log('glance'))
    keystone = AccessLog(bench.cloud.access_log('keystone'))
    servers = ServerCPU(bench.cloud)
    walls: dict[str, list[float]] = {k: [] for k in VARIANTS}
    cpus: dict[str, list[dict]] = {k: [] for k in VARIANTS}
    requests: dict[str, list[dict]] = {k: [] for k in VARIANTS}
    warnings = results.setdefault('warnings', [])
    order = list(VARIANTS)
    for run in range(runs):
        for key in order[run % 4:] + order[:run % 4]:
            label, args = VARIANTS[key]
            took = bench.restore_cheap(ids)
            say(f'run {run + 1}/{runs} ({key}) {label}: cheap restored in '
                f'{took:.0f}s; running')
            glance.mark()
            keystone.mark()
            servers.mark()
            load = os.getloadavg()[0]
            done = bench.run(args + ids)
            cpu = servers.read()
            cpu['cli'] = done['cpu']
            cpu['other'] = cpu['machine'] - sum(
                v for k, v in cpu.items() if k != 'machine')
            cpus[key].append(cpu | {'loadavg_before': load})
            g_lines = not_fixture(glance.read())
            k_lines = not_fixture(keystone.read())
            # The CLI's own requests carry openstacksdk's User-Agent; the
            # rest are Glance's keystonemiddleware validating its token.
            k_cli = [x for x in k_lines
                     if x['agent'].startswith('openstacksdk')]
            problem = bench.check_left_cheap(ids)
            if done['rc'] != 0:
                problem = (f'exit code {done["rc"]}; '
                           + (problem or 'images did leave cheap'))
            if problem:
                text = f'run {run + 1} ({key}) {label}: {problem}'
                warnings.append(text)
                say('WARNING: ' + text + '\n' + done['stderr'][-2000:])
            walls[key].append(done['wall'])
            requests[key].append({
                'glance': len(g_lines), 'glance_by_method':
                    count_methods(g_lines),
                'keystone_cli': len(k_cli),
                'keystone_token_validation': len(k_lines) - len(k_cli),
                'agents': sorted({x['agent'] for x in g_lines + k_lines}),
                'status': sorted({x['status'] for x in g_lines})})
            say(f'  {done["wall"]:.2f}s, rc {done["rc"]}, glance requests '
                f'{len(g_lines)}, keystone {len(k_cli)}+'
                f'{len(k_lines) - len(k_cli)}; CPU-s: ' + ', '.join(
                    f'{k} {v:.1f}' for k, v in cpu.items()
                    if k != 'loadavg_before'))
    n = len(ids)
    base = statistics.median(walls['d'])
    for key, (label, _) in VARIANTS.items():
        median = statistics.median(walls[key])
        for cpu in cpus[key]:
            cpu['ours'] = sum(cpu.get(k, 0.0) for k in OURS)
        cpu_median = {name: statistics.median(c[name] for c in cpus[key])
                      for name in cpus[key][0]}
        # One request at a time: the parties wait for each other, so the
        # wall time on an otherwise idle machine is about the sum of their
        # CPU time.  In parallel: the CPU time spread over every CPU, but
        # never less than the CLI's own (one process, one GIL).
        ours = cpu_median['ours']
        estimate = ours if key in ('a', 'd') else max(
            ours / (os.cpu_count() or 1), cpu_median['cli'])
        results['batch'][key] = {
            'label': label, 'walls': walls[key], 'median': median,
            'cpu': cpus[key], 'cpu_median': cpu_median,
            'idle_estimate_s': estimate,
            'ratio_to_d': median / base, 'per_image_ms': median / n * 1000,
            'requests': requests[key]}
    for key in ('a', 'd'):
        glance_counts = [r['glance'] for r in requests[key]]
        results['batch'][key]['requests_per_image'] = (
            statistics.median(glance_counts) / n)
    results['figures'].update({
        'ratio_parallel_1': results['batch']['a']['ratio_to_d'],
        'ratio_parallel_4': results['batch']['b']['ratio_to_d'],
        'requests_per_image_a': results['batch']['a']['requests_per_image'],
        'idle_estimate_ratio_parallel_1':
            results['batch']['a']['idle_estimate_s']
            / results['batch']['d']['idle_estimate_s'],
        'idle_estimate_ratio_parallel_4':
            results['batch']['b']['idle_estimate_s']
            / results['batch']['d']['idle_estimate_s'],
    })


def _importtime(code: str, module: str, env: dict, repeat: int = 5) -> dict:
    """Median cumulative import time (us) of ``module`` when running code."""
    found: list[int] = []
    package: list[int] = []
    for _ in range(repeat + 1):     # the first one warms the bytecode cache
        done = subprocess.run([sys.executable, '-X', 'importtime', '-c',
                               code], env=env, capture_output=True,
                              text=True, check=True)
        cumulative = {}
        for line in done.stderr.splitlines():
            parts = line.split('|')
            if len(parts) == 3 and parts[1].strip().isdigit():
                cumulative[parts[2].strip()] = int(parts[1])
        found.append(cumulative.get(module, 0))
        package.append(cumulative.get('osc_image_store', 0))
    return {'cumulative_us': statistics.median(found[1:]),
            'package_us': statistics.median(package[1:]),
            'samples_us': found[1:]}


def measure_startup(bench: Bench, results: dict, repeat: int = 10) -> None:
    """Figure 3: --help start-up of both commands; the plugin's import."""
    plugin = ['image', 'store', 'delete', '--help']
    osc = ['image', 'delete', '--help']
    for args in (plugin, osc):      # warm the bytecode and page caches
        bench.run(args)
    walls: dict[str, list[float]] = {'plugin': [], 'osc': []}
    for _ in range(repeat):
        for key, args in (('plugin', plugin), ('osc', osc)):
            done = bench.run(args)
            if done['rc'] != 0:
                results['warnings'].append(
                    f'openstack {" ".join(args)} exited {done["rc"]}')
            walls[key].append(done['wall'])
    p, o = statistics.median(walls['plugin']), statistics.median(walls['osc'])
    results['startup'] = {'plugin_help_s': p, 'osc_help_s': o,
                          'ratio': p / o, 'samples': walls}
    say(f'start-up: store delete --help {p:.3f}s, image delete --help '
        f'{o:.3f}s')
    preload = 'import osc_lib.command.command, openstack.connection; '
    imports = {}
    for module in ('osc_image_store.plugin', 'osc_image_store.v2.store'):
        for name, code in (('alone', f'import {module}'),
                           ('after_osc', f'{preload}import {module}')):
            imports[f'{module} {name}'] = _importtime(code, module,
                                                      bench.env)
    results['imports'] = imports
    results['figures'].update({
        'startup_ratio': p / o,
        'import_plugin_ms':
            imports['osc_image_store.plugin alone']['cumulative_us'] / 1000,
        'import_plugin_after_osc_ms':
            imports['osc_image_store.plugin after_osc']['cumulative_us']
            / 1000,
    })


def measure_memory(bench: Bench, memory_images: int, results: dict) -> None:
    """Figure 4: max RSS and wall time of --all-images --dry-run."""
    args = ['image', 'store', 'delete', '--store', 'archive', '--all-images',
            '--dry-run', '-f', 'value']
    glance = AccessLog(bench.cloud.access_log('glance'))
    have = 0
    memory = {}
    for target in sorted({min(200, memory_images), memory_images}):
        say(f'memory: seeding {target - have} images into archive only')
        bench.create_many(f'bench-archive-{have}', target - have,
                          ('archive',))
        have = target
        samples = []
        for _ in range(2):
            glance.mark()
            done = bench.run(args)
            lines = not_fixture(glance.read())
            rows = done['stdout'].count('\n')
            skipped = done['stdout'].count(' skipped ')
            if done['rc'] != 0 or rows != target or skipped != target:
                text = (f'--all-images --dry-run over {target} images: rc '
                        f'{done["rc"]}, {rows} rows, {skipped} skipped')
                results['warnings'].append(text)
                say('WARNING: ' + text + '\n' + done['stderr'][-2000:])
            samples.append({'wall': done['wall'],
                            'maxrss_mib': done['maxrss_kib'] / 1024,
                            'glance_requests': len(lines),
                            'by_method': count_methods(lines)})
            say(f'  {target} images: {done["wall"]:.2f}s, max RSS '
                f'{done["maxrss_kib"] / 1024:.1f} MiB, {len(lines)} '
                'glance requests')
        memory[target] = {
            'wall': statistics.median(s['wall'] for s in samples),
            'maxrss_mib': max(s['maxrss_mib'] for s in samples),
            'samples': samples}
    results['memory'] = memory
    results['figures']['peak_rss_mib_M'] = memory[memory_images][
        'maxrss_mib']


# -- report ------------------------------------------------------------------

def verdict(key: str, value: float) -> str:
    limit, unit, _ = TARGETS[key]
    if value <= limit:
        return 'met'
    over = value - limit
    return f'missed by {over:.2f}{unit}' if unit != 'ms' else (
        f'missed by {over:.1f} ms')


def report(results: dict) -> str:
    """The plain-text table of the figures."""
    rows: list[tuple[str, str, str, str]] = []

    def add(name: str, value: str, key: str | None = None,
            number: float | None = None) -> None:
        if key is None:
            rows.append((name, value, '', ''))
        else:
            rows.append((name, value, TARGETS[key][2],
                         verdict(key, ty.cast(float, number))))

    batch = results.get('batch', {})
    if batch:
        cpus = results['machine']['cpus'] or 1
        for key, name in (('a', 'ratio_parallel_1'),
                          ('b', 'ratio_parallel_4'), ('c', None),
                          ('d', None)):
            b = batch[key]
            value = (f'{b["median"]:.2f} s = {b["ratio_to_d"]:.2f}x (d); '
                     f'{b["per_image_ms"]:.0f} ms/image; min '
                     f'{min(b["walls"]):.2f} s')
            add(f'({key}) {b["label"]}', value, name, b['ratio_to_d'])
            c = b['cpu_median']
            add('      CPU-s: ours; others\'', ', '.join(
                f'{k} {c[k]:.1f}' for k in OURS) + f' = {c["ours"]:.1f}; '
                f'{c["other"]:.1f} (of {b["median"] * cpus:.1f})')
        d = batch['d']['cpu_median']['ours']
        for key in ('a', 'b', 'c'):
            b = batch[key]
            add(f'({key}) {"estimate" if key == "a" else "best case"}, '
                'otherwise idle machine',
                f'{b["idle_estimate_s"]:.2f} s = '
                f'{b["idle_estimate_s"] / d:.2f}x (d) (d: {d:.2f} s)')
        for key in ('a', 'd'):
            b = batch[key]
            first = b['requests'][0]
            add(f'({key}) Glance requests per image',
                f'{b["requests_per_image"]:.3f}',
                'requests_per_image_a' if key == 'a' else None,
                b['requests_per_image'])
            for method, count in first['glance_by_method'].items():
                add(f'      {method}', str(count))
            add(f'({key}) Keystone requests, whole run',
                f'{first["keystone_cli"]} by the CLI, '
                f'{first["keystone_token_validation"]} by Glance')
    s = results.get('startup')
    if s:
        add('image store delete --help',
            f'{s["plugin_help_s"] * 1000:.0f} ms (median of 10)')
        add('image delete --help',
            f'{s["osc_help_s"] * 1000:.0f} ms (median of 10)')
        add('start-up ratio', f'{s["ratio"]:.3f}x', 'startup_ratio',
            s['ratio'])
        for label, imp in results['imports'].items():
            module, how = label.split()
            how = 'alone' if how == 'alone' else 'after OSC\'s imports'
            value = f'{imp["cumulative_us"] / 1000:.1f} ms'
            if how == 'alone':
                value += (f' (+ package __init__ '
                          f'{imp["package_us"] / 1000:.1f} ms)')
            is_target = module == 'osc_image_store.plugin'
            add(f'import {module}, {how}', value,
                'import_plugin_ms' if is_target else None,
                imp['cumulative_us'] / 1000)
    m = results.get('memory')
    if m:
        top = max(m)
        for count, figure in sorted(m.items()):
            add(f'--all-images --dry-run, {count} images',
                f'max RSS {figure["maxrss_mib"]:.1f} MiB, '
                f'{figure["wall"]:.2f} s',
                'peak_rss_mib_M' if count == top else None,
                figure['maxrss_mib'])
        low = min(m)
        if top > low:
            growth = ((m[top]['maxrss_mib'] - m[low]['maxrss_mib']) * 1024
                      / (top - low) * 1000)
            add(f'  RSS growth from {low} to {top} images',
                f'{growth:.0f} KiB per 1000 images')
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    head = ('figure', 'value', 'target', 'verdict')
    widths = [max(w, len(h)) for w, h in zip(widths, head)]
    line = '  '.join('-' * w for w in widths)
    out = [line,
           '  '.join(h.ljust(w) for h, w in zip(head, widths)).rstrip(),
           line]
    out += ['  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
            for r in rows]
    out.append(line)
    for warning in results.get('warnings', []):
        out.append('WARNING: ' + warning)
    return '\n'.join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description='Benchmark openstack image store delete on the local '
        'cloud (PostgreSQL). Prints figures; not a test.')
    parser.add_argument('--images', type=int, default=200,
                        help='images in the timed batches (default 200)')
    parser.add_argument('--runs', type=int, default=3,
                        help='timed runs of each batch command (default 3)')
    parser.add_argument('--memory-images', type=int, default=2000,
                        help='images in store archive for the memory figure '
                        '(default 2000)')
    parser.add_argument('--json', type=pathlib.Path,
                        help='also write every figure and sample here')
    args = parser.parse_args(argv)
    if args.images < 1 or args.runs < 1 or args.memory_images < 1:
        parser.error('--images, --runs and --memory-images must be >= 1')

    results: dict = {
        'params': vars(args) | {'json': str(args.json)},
        'machine': {'cpus': os.cpu_count(),
                    'python': platform.python_version(),
                    'platform': platform.platform(),
                    'loadavg_start': os.getloadavg()},
        'date': time.strftime('%Y-%m-%d %H:%M:%S %z'),
        'openstack': OPENSTACK, 'figures': {}, 'batch': {}, 'warnings': []}
    say(f'openstack command: {OPENSTACK}; load average '
        f'{os.getloadavg()[0]:.2f}')
    cloud = localcloud.LocalCloud(db='postgresql', nomulti=False, odd=False)
    try:
        cloud.start()
        bench = Bench(cloud, os.urandom(1024))
        cloud.admin_connection().authorize()
        say(f'seeding {args.images} images in fast and cheap')
        ids = bench.create_many('bench', args.images, ('fast', 'cheap'))
        measure_batches(bench, ids, args.runs, results)
        measure_startup(bench, results)
        measure_memory(bench, args.memory_images, results)
    finally:
        cloud.stop()
    results['machine']['loadavg_end'] = os.getloadavg()
    results['total_s'] = time.monotonic() - _T0
    loads = [c['loadavg_before'] for b in results['batch'].values()
             for c in b.get('cpu', [])]
    if loads:
        results['machine']['loadavg_timed_runs'] = [min(loads), max(loads)]
    text = report(results)
    machine = results['machine']
    load = (f'load average (1 min) at start {machine["loadavg_start"][0]:.2f}'
            f', at end {machine["loadavg_end"][0]:.2f}')
    if loads:
        load += ', before the timed runs %.2f to %.2f' % (
            min(loads), max(loads))
    print(f'osc-image-store benchmark, {results["date"]}, '
          f'{machine["cpus"]} CPUs, {load}; {args.images} images x '
          f'{args.runs} runs; total {results["total_s"]:.0f} s')
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
        say(f'wrote {args.json}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
