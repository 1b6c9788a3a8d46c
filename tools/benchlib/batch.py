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
"""OSC's ``image delete --store`` against this tool, interleaved rounds.

Each round creates ``4 x N`` fresh, identical images (1 KiB, data in
``fast`` and ``cheap``), gives each variant N of them, and runs the
variants one after the other, in an order that rotates from round to
round (so that a drift in the machine's load hits every variant), each
removing ``cheap`` from its N images with one CLI process:

* ``osc``: ``openstack image delete --store cheap <N ids>``
  (python-openstackclient takes many images in one call and handles them
  one after the other: ``find_image``, then the store ``DELETE``);
* ``p1``, ``p4``, ``p8``: ``openstack image store delete --store cheap
  -f value --parallel 1|4|8 <N ids>``, default checks (lock, read-back,
  data proof).

Per run: wall time (process start to exit), the CLI's CPU time and peak
RSS (``os.wait4``), its Glance requests by kind and its Keystone
requests (access logs), the servers' CPU time and other jobs' (``/proc``).
After each run every image must have left ``cheap``, kept ``fast`` and
carry no hold property, else a warning is recorded.
"""

import math
import os
import statistics
import time
import typing as ty

import localcloud

from benchlib import accesslog
from benchlib import fixture
from benchlib import procs

STORE = 'cheap'
KEPT = 'fast'
#: key -> (label, --parallel or None for OSC), in the first round's order.
VARIANTS = {
    'osc': ('OSC image delete --store', None),
    'p1': ('store delete --parallel 1', 1),
    'p4': ('store delete --parallel 4', 4),
    'p8': ('store delete --parallel 8', 8),
}


def command(parallel: int | None, ids: list[str]) -> list[str]:
    """The CLI arguments of a variant."""
    if parallel is None:
        return ['image', 'delete', '--store', STORE, *ids]
    return ['image', 'store', 'delete', '--store', STORE, '-f', 'value',
            '--parallel', str(parallel), *ids]


def engine_chunk(parallel: int) -> tuple[int | None, float | None]:
    """Images per chunk at ``--parallel`` and the lock's settle wait (s).

    Read from the engine itself (None, None when it cannot tell).
    """
    try:
        from osc_image_store.engine import remover
        from osc_image_store.engine import runlock
        engine = remover.Remover(ty.cast(ty.Any, None), STORE,
                                 remover.Options(parallel=parallel))
        return engine.options.chunk_size, runlock.SETTLE
    except Exception:    # an engine that changed: no estimate
        return None, None


def lock_chunks(n: int, parallel: int) -> dict:
    """The chunks of a run, and the least time its lock waits.

    The lock between runs is taken once per run (one settle wait), and
    its beat written again once a minute (one more each).
    """
    size, settle = engine_chunk(parallel)
    if size is None or settle is None:
        return {}
    chunks = math.ceil(n / size)
    return {'chunk_size': size, 'chunks': chunks, 'settle_min_s': settle}


def noted_rows(stdout: str) -> list[str]:
    """Rows of ``-f value`` output that are not plain removals.

    A plain one is ``<id> <name> <store> removed <remaining>`` with an
    empty reason (the benchmark's names have no spaces).
    """
    return [line for line in stdout.splitlines()
            if line.split()[3:4] != ['removed'] or len(line.split()) > 5]


def removed_rows(stdout: str) -> int:
    """Rows of ``-f value`` output whose result is ``removed``."""
    return sum(1 for line in stdout.splitlines()
               if line.split()[3:4] == ['removed'])


class Batch:
    """The batch comparison on one cloud.

    :param n: images per variant and round.
    """

    def __init__(self, cloud: localcloud.LocalCloud, images: fixture.Images,
                 env: dict, n: int):
        self.images = images
        self.env = env
        self.n = n
        self.requests = accesslog.Requests(cloud)
        self.cpu = procs.ServerCPU(cloud)
        self.samples: dict[str, list[dict]] = {k: [] for k in VARIANTS}
        self.created: list[str] = []
        self.warnings: list[str] = []

    def run_round(self, number: int) -> None:
        """Create fresh images, then time each variant once."""
        keys = list(VARIANTS)
        shift = number % len(keys)
        order = keys[shift:] + keys[:shift]
        procs.say(f'batch round {number + 1}: creating '
                  f'{len(keys) * self.n} images in {KEPT}+{STORE}')
        ids = self.images.create(f'bench-r{number}', len(keys) * self.n,
                                 (KEPT, STORE))
        self.created += ids
        time.sleep(2.0)     # Glance finishes its import tasks' cleanup
        for i, key in enumerate(order):
            self.samples[key].append(
                self._one(key, ids[i * self.n:(i + 1) * self.n], number))

    def _one(self, key: str, ids: list[str], number: int) -> dict:
        label, parallel = VARIANTS[key]
        load = os.getloadavg()[0]
        self.requests.mark()
        self.cpu.mark()
        done = procs.openstack(command(parallel, ids), self.env)
        servers = self.cpu.read(done.cpu)
        requests = self.requests.read()
        problems = []
        if done.rc != 0:
            problems.append(f'exit code {done.rc}: {done.stderr[-500:]}')
        if parallel is not None and removed_rows(done.stdout) != len(ids):
            problems.append(f'{removed_rows(done.stdout)} of {len(ids)} '
                            'rows removed')
        state = self.images.check(ids, STORE, KEPT)
        if state:
            problems.append(state)
        if problems and parallel is not None:
            # The rows that say more than "removed" tell why.
            problems += [f'row: {line[:400]}' for line in noted_rows(
                done.stdout)][:3]
        for problem in problems:
            self.warnings.append(f'round {number + 1}, {label}: {problem}')
        procs.say(f'  {label}: {done.wall:.2f} s, CPU {done.cpu:.2f} s, '
                  f'{requests["total"]} Glance requests '
                  f'{requests["kinds"]}, servers {servers["servers"]:.1f} '
                  f'CPU-s, others {servers["others"]:.1f}, load {load:.1f}'
                  + ('; ' + '; '.join(problems) if problems else ''))
        return {'round': number + 1, 'wall': done.wall, 'cpu': done.cpu,
                'maxrss_kib': done.maxrss_kib, 'rc': done.rc,
                'requests': requests, 'servers': servers, 'load': load,
                'problems': problems}

    def summary(self) -> dict:
        """Medians by variant; ratios to OSC (``osc``)."""
        n = self.n
        base = self.samples['osc']
        base_wall = statistics.median(s['wall'] for s in base)
        base_cpu = statistics.median(s['cpu'] for s in base)
        out: dict[str, dict] = {}
        for key, (label, parallel) in VARIANTS.items():
            runs = self.samples[key]
            wall = statistics.median(s['wall'] for s in runs)
            cpu = statistics.median(s['cpu'] for s in runs)
            kinds = {k: statistics.median(s['requests']['kinds'][k]
                                          for s in runs) / n
                     for k in accesslog.KINDS}
            total = statistics.median(s['requests']['total']
                                      for s in runs) / n
            out[key] = {
                'label': label, 'parallel': parallel,
                'walls': [s['wall'] for s in runs], 'wall': wall,
                'wall_per_image_ms': wall / n * 1000,
                'ratio': wall / base_wall,
                'round_ratios': [s['wall'] / b['wall']
                                 for s, b in zip(runs, base)],
                'cpu_per_image_ms': cpu / n * 1000,
                'cpu_ratio': cpu / base_cpu,
                'maxrss_mib': max(s['maxrss_kib'] for s in runs) / 1024,
                'server_cpu_per_image_ms': statistics.median(
                    s['servers']['servers'] for s in runs) / n * 1000,
                'others_cpu_s': statistics.median(
                    s['servers']['others'] for s in runs),
                'kinds_per_image': kinds, 'requests_per_image': total,
                'requests_per_image_no_proof': total - kinds['GET file'],
                'keystone': statistics.median(s['requests']['keystone']
                                              for s in runs),
                'validations': statistics.median(
                    s['requests']['validations'] for s in runs),
                'lock': {} if parallel is None else lock_chunks(
                    n, parallel),
                'shapes': runs[0]['requests']['shapes'],
                'loads': [s['load'] for s in runs],
            }
        return out


def measure(cloud: localcloud.LocalCloud, images: fixture.Images, env: dict,
            n: int, rounds: int) -> dict:
    """Run the rounds; the summary, the samples and the warnings."""
    batch = Batch(cloud, images, env, n)
    for number in range(rounds):
        batch.run_round(number)
    return {'n': n, 'rounds': rounds, 'summary': batch.summary(),
            'samples': batch.samples, 'warnings': batch.warnings,
            'created': batch.created}
