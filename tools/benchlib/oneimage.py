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
"""The one-image path on its own: one image per CLI process.

``2 x runs + 2`` fresh, identical images (1 KiB, data in ``fast`` and
``cheap``); one untimed run of each command (warm caches; the lock
namespace is made on the first lock of a cloud); then ``runs`` pairs,
interleaved (OSC first in even pairs, this tool first in odd ones), each
command removing ``cheap`` from an image of its own, as an operator
types it (default output):

* ``osc``: ``openstack image delete --store cheap <id>``;
* ``tool``: ``openstack image store delete --store cheap <id>`` (every
  check on: the image lock, the read-back, the data proof).

Per run: wall time, the CLI's CPU time and peak RSS, its Glance requests
by kind and shape and its Keystone requests (access logs), the servers'
CPU by server (``/proc``).  After each run the image must have left
``cheap``, kept ``fast`` and no lock tag may be left.
"""

import re
import statistics
import time

import localcloud

from benchlib import accesslog
from benchlib import fixture
from benchlib import procs
from benchlib import profiles

STORE = 'cheap'
KEPT = 'fast'
#: key -> (label, arguments before the image ID).
VARIANTS = {
    'osc': ('OSC image delete --store',
            ['image', 'delete', '--store', STORE]),
    'tool': ('image store delete',
             ['image', 'store', 'delete', '--store', STORE]),
}
_REMOVED = re.compile(r'^\|.*\|\s*removed\s*\|', re.MULTILINE)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def measure(cloud: localcloud.LocalCloud, images: fixture.Images,
            profile: profiles.Profile, runs: int) -> dict:
    """Time ``runs`` one-image runs of each command, interleaved."""
    procs.say(f'one image ({profile.name}): creating {2 * runs + 2} '
              f'images in {KEPT}+{STORE}')
    ids = images.create('bench-one', 2 * runs + 2, (KEPT, STORE))
    time.sleep(2.0)     # Glance finishes its import tasks' cleanup
    requests = accesslog.Requests(cloud)
    cpu = procs.ServerCPU(cloud)
    samples: dict[str, list[dict]] = {k: [] for k in VARIANTS}
    warnings: list[str] = []
    # One untimed run of each first: caches warm, the lock namespace made.
    for (label, args), image_id in zip(VARIANTS.values(), ids[-2:]):
        with profile.timed():
            done = procs.openstack([*args, image_id], profile.env)
        if done.rc != 0:
            warnings.append(f'one image, {label}, warm-up: exit code '
                            f'{done.rc}: {done.stderr[-500:]}')
    for number in range(runs):
        order = list(VARIANTS) if number % 2 == 0 else list(VARIANTS)[::-1]
        for i, key in enumerate(order):
            label, args = VARIANTS[key]
            image_id = ids[2 * number + i]
            requests.mark()
            cpu.mark()
            with profile.timed():
                done = procs.openstack([*args, image_id], profile.env)
            servers = cpu.read(done.cpu)
            counted = requests.read()
            problems = []
            if done.rc != 0:
                problems.append(f'exit code {done.rc}: '
                                f'{done.stderr[-500:]}')
            if key == 'tool' and len(_REMOVED.findall(done.stdout)) != 1:
                problems.append(f'no "removed" row: {done.stdout[-500:]}')
            state = images.check([image_id], STORE, KEPT)
            if state:
                problems.append(state)
            warnings += [f'one image, {label}, run {number + 1}: {p}'
                         for p in problems]
            samples[key].append({
                'wall': done.wall, 'cpu': done.cpu,
                'maxrss_kib': done.maxrss_kib, 'rc': done.rc,
                'requests': counted, 'servers': servers,
                'problems': problems})
    summary = summarize(samples)
    base, tool = summary['osc'], summary['tool']
    procs.say(f'one image: OSC {base["wall"]:.2f} s, store delete '
              f'{tool["wall"]:.2f} s ({tool["ratio"]:.2f}x); requests '
              f'{base["total"]:.0f} / {tool["total"]:.0f}')
    return {'profile': profile.params(), 'runs': runs, 'summary': summary,
            'samples': samples, 'warnings': warnings, 'created': ids}


def summarize(samples: dict[str, list[dict]]) -> dict[str, dict]:
    """Medians by command of the samples; ratios to OSC."""
    summary: dict[str, dict] = {}
    for key, (label, args) in VARIANTS.items():
        runs_ = samples[key]
        shapes = sorted({s for r in runs_ for s in r['requests']['shapes']})
        summary[key] = {
            'label': label,
            'command': 'openstack ' + ' '.join(args) + ' <id>',
            'walls': [r['wall'] for r in runs_],
            'wall': _median([r['wall'] for r in runs_]),
            'cpu': _median([r['cpu'] for r in runs_]),
            'maxrss_mib': max(r['maxrss_kib'] for r in runs_) / 1024,
            'kinds': {k: _median([r['requests']['kinds'][k] for r in runs_])
                      for k in accesslog.KINDS},
            'shapes': {s: _median([r['requests']['shapes'].get(s, 0)
                                   for r in runs_]) for s in shapes},
            'total': _median([r['requests']['total'] for r in runs_]),
            'keystone': _median([r['requests']['keystone'] for r in runs_]),
            'validations': _median([r['requests']['validations']
                                    for r in runs_]),
            'servers_ms': {
                name: _median([r['servers'].get(name, 0.0)
                               for r in runs_]) * 1000
                for name in ('glance', 'keystone', 'postgres', 'servers')},
        }
    base = summary['osc']
    for value in summary.values():
        value['ratio'] = value['wall'] / base['wall']
        value['cpu_ratio'] = value['cpu'] / base['cpu']
    return summary
