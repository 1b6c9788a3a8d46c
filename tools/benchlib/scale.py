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
"""``--all-images`` with real removals, at 200 and at 2000 images.

The cloud is emptied first (the batch's images), then for each size: that
many fresh images (1 KiB, data in ``fast`` and ``archive``) are the only
images of the cloud, and one run of ``openstack image store delete
--store archive --all-images`` (default options and table output, as an
operator runs it) removes their ``archive`` copies.  Measured: wall time
per image, peak RSS and CPU time of the CLI, its requests by kind.  The
images of a size are deleted before the next size is created.
"""

import re
import time

import localcloud

from benchlib import accesslog
from benchlib import fixture
from benchlib import procs

STORE = 'archive'
KEPT = 'fast'
COMMAND = ['image', 'store', 'delete', '--store', STORE, '--all-images']
_REMOVED = re.compile(r'^\|.*\|\s*removed\s*\|', re.MULTILINE)


def measure(cloud: localcloud.LocalCloud, images: fixture.Images, env: dict,
            sizes: list[int]) -> dict:
    """One ``--all-images`` run at each size; figures by size."""
    requests = accesslog.Requests(cloud)
    cpu = procs.ServerCPU(cloud)
    procs.say('scale: deleting every image of the cloud')
    images.delete(images.all_ids())
    out: dict = {'sizes': {}, 'warnings': []}
    previous: list[str] = []
    for size in sizes:
        images.delete(previous)
        procs.say(f'scale: creating {size} images in {KEPT}+{STORE}')
        started = time.monotonic()
        ids = images.create(f'bench-all-{size}', size, (KEPT, STORE))
        created = time.monotonic() - started
        time.sleep(2.0)
        requests.mark()
        cpu.mark()
        done = procs.openstack(COMMAND, env)
        servers = cpu.read(done.cpu)
        counted = requests.read()
        removed = len(_REMOVED.findall(done.stdout))
        problems = []
        if done.rc != 0:
            problems.append(f'exit code {done.rc}: {done.stderr[-500:]}')
        if removed != size:
            problems.append(f'{removed} of {size} rows removed')
        state = images.check(ids, STORE, KEPT)
        if state:
            problems.append(state)
        out['warnings'] += [f'--all-images, {size} images: {p}'
                            for p in problems]
        out['sizes'][size] = {
            'wall': done.wall, 'wall_per_image_ms': done.wall / size * 1000,
            'cpu_per_image_ms': done.cpu / size * 1000,
            'maxrss_mib': done.maxrss_kib / 1024, 'rc': done.rc,
            'requests': counted, 'servers': servers, 'created_s': created,
            'problems': problems}
        procs.say(f'  {size} images: {done.wall:.1f} s, '
                  f'{done.wall / size * 1000:.1f} ms/image, max RSS '
                  f'{done.maxrss_kib / 1024:.1f} MiB, CPU {done.cpu:.1f} s, '
                  f'{counted["total"]} Glance requests {counted["kinds"]}'
                  + ('; ' + '; '.join(problems) if problems else ''))
        previous = ids
    return out
