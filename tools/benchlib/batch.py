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

Run once per profile (:mod:`benchlib.profiles`: ``loopback``, then
``cloud-like``).  Each round creates ``4 x N`` fresh, identical images
(1 KiB, data in ``fast`` and ``cheap``), gives each variant N of them,
and runs the variants one after the other, in an order that rotates from
round to round (so that a drift in the machine's load hits every
variant), each removing ``cheap`` from its N images with one CLI process:

* ``osc``: ``openstack image delete --store cheap <N ids>``
  (python-openstackclient takes many images in one call and handles them
  one after the other: ``find_image``, then the store ``DELETE``);
* ``p1``, ``p4``, ``p8``: ``openstack image store delete --store cheap
  -f value --parallel 1|4|8 <N ids>``, default checks (image locks,
  read-back, data proof); ``p4`` is the default ``--parallel``.

Per run: wall time (process start to exit), the CLI's CPU time and peak
RSS (``os.wait4``), its Glance requests by kind and its Keystone
requests (access logs), the servers' CPU time by server and other jobs'
(``/proc``); cloud-like, the requests the proxy handled (all of the
CLI's Glance requests must have gone through it).  After each run every
image must have left ``cheap`` and kept ``fast``, and no lock tag may be
left, else a warning is recorded.
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
from benchlib import profiles

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


def engine_chunk(parallel: int) -> int | None:
    """Images per chunk at ``--parallel``, read from the engine itself.

    None when it cannot tell (an engine that changed).
    """
    try:
        from osc_image_store.engine import remover
        engine = remover.Remover(ty.cast(ty.Any, None), STORE,
                                 remover.Options(parallel=parallel))
        return engine.options.chunk_size
    except Exception:
        return None


def lock_chunks(n: int, parallel: int) -> dict:
    """The chunks of a run, and the lock requests they need at least.

    Each chunk's images are locked with one bulk ``POST`` of tags, and
    each image unlocked with one tag ``DELETE``: ``chunks + n`` requests
    when no other run holds a lock and the namespace exists.
    """
    size = engine_chunk(parallel)
    if size is None:
        return {}
    chunks = math.ceil(n / size)
    return {'chunk_size': size, 'chunks': chunks,
            'lock_requests_min': chunks + n}


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

    :param profile: the started profile (its CLI environment and what
        surrounds a timed run).
    :param n: images per variant and round.
    """

    def __init__(self, cloud: localcloud.LocalCloud, images: fixture.Images,
                 profile: profiles.Profile, n: int):
        self.images = images
        self.profile = profile
        self.env = profile.env
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
        procs.say(f'batch {self.profile.name}, round {number + 1}: creating '
                  f'{len(keys) * self.n} images in {KEPT}+{STORE}')
        ids = self.images.create(f'bench-r{number}', len(keys) * self.n,
                                 (KEPT, STORE))
        self.created += ids
        time.sleep(2.0)     # Glance finishes its import tasks' cleanup
        for i, key in enumerate(order):
            self.samples[key].append(
                self._one(key, ids[i * self.n:(i + 1) * self.n], number))
        # A cloud of the same size for every round and profile.
        self.images.delete(ids)

    def _one(self, key: str, ids: list[str], number: int) -> dict:
        label, parallel = VARIANTS[key]
        load = os.getloadavg()[0]
        self.requests.mark()
        self.cpu.mark()
        with self.profile.timed():
            done = procs.openstack(command(parallel, ids), self.env)
        servers = self.cpu.read(done.cpu)
        requests = self.requests.read()
        proxied = self.profile.proxied()
        problems = []
        if proxied is not None and proxied != requests['total']:
            problems.append(f'the proxy handled {proxied} requests, Glance '
                            f'logged {requests["total"]} of the CLI')
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
                'proxied': proxied, 'problems': problems}

    def summary(self) -> dict:
        """Medians by variant; ratios to OSC (``osc``)."""
        return summarize(self.samples, self.n)


def summarize(samples: dict[str, list[dict]], n: int) -> dict:
    """Medians by variant of a profile's samples; ratios to OSC."""
    base = samples['osc']
    base_wall = statistics.median(s['wall'] for s in base)
    base_cpu = statistics.median(s['cpu'] for s in base)
    out: dict[str, dict] = {}

    def per_image_ms(runs: list[dict], server: str) -> float:
        return statistics.median(
            s['servers'].get(server, 0.0) for s in runs) / n * 1000

    for key, (label, parallel) in VARIANTS.items():
        runs = samples[key]
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
            'server_cpu_per_image_ms': per_image_ms(runs, 'servers'),
            'glance_cpu_per_image_ms': per_image_ms(runs, 'glance'),
            'keystone_cpu_per_image_ms': per_image_ms(runs, 'keystone'),
            'postgres_cpu_per_image_ms': per_image_ms(runs, 'postgres'),
            'proxy_cpu_per_image_ms': per_image_ms(runs, 'bench'),
            'others_cpu_s': statistics.median(
                s['servers']['others'] for s in runs),
            'lock_per_image': {
                k: statistics.median(s['requests']['lock'][k]
                                     for s in runs) / n
                for k in runs[0]['requests']['lock']},
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


def measure(cloud: localcloud.LocalCloud, images: fixture.Images,
            profile: profiles.Profile, n: int, rounds: int) -> dict:
    """Run the rounds of one profile; summary, samples and warnings."""
    batch = Batch(cloud, images, profile, n)
    for number in range(rounds):
        batch.run_round(number)
    return {'profile': profile.params(), 'describe': profile.describe(),
            'n': n, 'rounds': rounds, 'summary': batch.summary(),
            'samples': batch.samples,
            'warnings': [f'{profile.name}: {w}' for w in batch.warnings],
            'created': batch.created}
