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
"""Profiles of the client (:mod:`benchlib.cliprofile`), on loopback.

* the one-image path: ``openstack image delete --store cheap <id>`` and
  ``openstack image store delete --store cheap <id>``, each once on wall
  time (main thread: where the run waits) and once on CPU time (every
  thread), each over a fresh image;
* a batch: ``openstack image store delete --store cheap -f value
  --parallel 4`` over ``count`` fresh images, on CPU time;
* with the cloud-like profile: ``--parallel 8`` over ``cloudy_count``
  fresh images through its proxy, store deletes slow, on wall time (main
  thread: which steps of the chunks it waits for).

The pstats files are written into a directory; the report prints their
summaries.
"""

import pathlib
import sys
import time

import localcloud

from benchlib import batch
from benchlib import cliprofile
from benchlib import fixture
from benchlib import oneimage
from benchlib import procs
from benchlib import profiles

STORE = 'cheap'
KEPT = 'fast'


def _profiled(out: pathlib.Path, args: list[str], env: dict,
              wall: bool) -> procs.Run:
    script = pathlib.Path(cliprofile.__file__)
    return procs.run([sys.executable, str(script),
                      *(['--wall'] if wall else []), str(out), *args], env)


def measure(cloud: localcloud.LocalCloud, images: fixture.Images,
            env: dict, count: int, directory: pathlib.Path,
            cloudy: profiles.Profile | None = None,
            cloudy_count: int = 100) -> dict:
    """Profile the one-image path of both tools, and batches."""
    directory.mkdir(parents=True, exist_ok=True)
    extra = cloudy_count if cloudy is not None else 0
    procs.say(f'profiles: creating {4 + count + extra} images in '
              f'{KEPT}+{STORE}')
    ids = images.create('bench-profile', 4 + count + extra, (KEPT, STORE))
    time.sleep(2.0)
    out: dict = {'one_image': {}, 'warnings': [], 'created': ids,
                 'directory': str(directory)}
    runs = [(key, wall) for wall in (True, False)
            for key in oneimage.VARIANTS]
    for (key, wall), image_id in zip(runs, ids):
        label, args = oneimage.VARIANTS[key]
        name = f'one-image-{key}-{"wall" if wall else "cpu"}'
        path = directory / f'{name}.prof'
        done = _profiled(path, [*args, image_id], env, wall)
        if done.rc != 0:
            out['warnings'].append(f'profile {name}: exit code {done.rc} '
                                   f'{done.stderr[-500:]}')
        state = images.check([image_id], STORE, KEPT)
        if state:
            out['warnings'].append(f'profile {name}: {state}')
        out['one_image'][name] = {
            'label': label, 'wall_mode': wall, 'path': str(path),
            'wall': done.wall, 'cpu': done.cpu,
            'hot_spots': cliprofile.hot_spots(str(path)),
            'summary': cliprofile.summary(str(path), done.cpu, wall=wall,
                                          process_wall=done.wall)}
        procs.say(f'profile {name}: {done.wall:.2f} s, CPU '
                  f'{done.cpu:.2f} s')
    if count:
        batch_ids = ids[4:4 + count]
        path = directory / 'batch-p4-cpu.prof'
        done = _profiled(path, ['image', 'store', 'delete', '--store',
                                STORE, '-f', 'value', *batch_ids], env,
                         False)
        if done.rc != 0 or batch.removed_rows(done.stdout) != count:
            out['warnings'].append(
                f'profiled batch: exit code {done.rc}, '
                f'{batch.removed_rows(done.stdout)} of {count} rows removed '
                f'{done.stderr[-500:]}')
        state = images.check(batch_ids, STORE, KEPT)
        if state:
            out['warnings'].append(f'profiled batch: {state}')
        out['batch'] = {
            'path': str(path), 'images': count, 'wall': done.wall,
            'cpu': done.cpu, 'summary': cliprofile.summary(str(path),
                                                           done.cpu)}
        procs.say(f'profile batch: {done.wall:.1f} s, CPU {done.cpu:.1f} s')
    if cloudy is not None and cloudy_count:
        batch_ids = ids[4 + count:]
        path = directory / 'batch-cloud-like-p8-wall.prof'
        with cloudy.timed():
            done = _profiled(path, ['image', 'store', 'delete', '--store',
                                    STORE, '-f', 'value', '--parallel', '8',
                                    *batch_ids], cloudy.env, True)
        if done.rc != 0 or batch.removed_rows(done.stdout) != cloudy_count:
            out['warnings'].append(
                f'profiled cloud-like batch: exit code {done.rc}, '
                f'{batch.removed_rows(done.stdout)} of {cloudy_count} rows '
                f'removed {done.stderr[-500:]}')
        state = images.check(batch_ids, STORE, KEPT)
        if state:
            out['warnings'].append(f'profiled cloud-like batch: {state}')
        out['cloudy_batch'] = {
            'path': str(path), 'images': cloudy_count, 'wall': done.wall,
            'cpu': done.cpu, 'describe': cloudy.describe(),
            'hot_spots': cliprofile.hot_spots(str(path)),
            'summary': cliprofile.summary(str(path), done.cpu, wall=True,
                                          process_wall=done.wall)}
        procs.say(f'profile cloud-like batch: {done.wall:.1f} s')
    return out
