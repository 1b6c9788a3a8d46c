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
"""Options and phases of the benchmark; the report on stdout.

Phases, on one local cloud (Keystone, and Glance 33 on PostgreSQL with
file stores ``fast``, ``cheap`` and ``archive``, all on 127.0.0.1):

1. start-up and import time (:mod:`benchlib.startup`);
2. OSC against this tool, interleaved rounds (:mod:`benchlib.batch`);
3. ``--all-images`` at 200 and 2000 images (:mod:`benchlib.scale`);
4. with ``--profile``: a CPU profile of one run over fresh images
   (:mod:`benchlib.cliprofile`), summarised in the report.

Not a test: it never fails on a figure; it exits 1 only when it could not
run (the cloud did not start, images could not be created).
"""

import argparse
import json
import os
import pathlib
import shutil
import sys
import time

import localcloud

from benchlib import batch
from benchlib import cliprofile
from benchlib import fixture
from benchlib import procs
from benchlib import report
from benchlib import scale
from benchlib import startup


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='tools/bench.py',
        description='Benchmark openstack image store delete against '
        'python-openstackclient\'s openstack image delete --store on the '
        'local cloud. Prints figures; not a test.')
    parser.add_argument('--images', type=int, default=100, metavar='N',
                        help='images per variant and round (default 100)')
    parser.add_argument('--rounds', type=int, default=3, metavar='R',
                        help='interleaved rounds of the four variants '
                        '(default 3; 0 skips them)')
    parser.add_argument('--scale', default='200,2000', metavar='SIZES',
                        help='image counts of the --all-images runs, comma '
                        'separated (default 200,2000; "" skips them)')
    parser.add_argument('--startup-runs', type=int, default=10,
                        metavar='K', help='--help runs of each command '
                        '(default 10; 0 skips start-up and import)')
    parser.add_argument('--profile', type=pathlib.Path, metavar='PATH',
                        help='also profile one run (--parallel 4, CPU time '
                        'of every thread) and write the pstats file here')
    parser.add_argument('--profile-images', type=int, default=200,
                        metavar='P', help='images of that run (default 200)')
    parser.add_argument('--threads', type=int, default=8,
                        help='fixture requests in flight while creating '
                        'images (default 8)')
    parser.add_argument('--json', type=pathlib.Path, metavar='PATH',
                        help='also write every figure and sample here')
    args = parser.parse_args(argv)
    try:
        args.scale = sorted({int(x) for x in args.scale.split(',')
                             if x.strip()})
    except ValueError:
        parser.error('--scale takes image counts such as 200,2000')
    if (args.images < 1 or args.rounds < 0 or args.startup_runs < 0
            or args.profile_images < 1 or args.threads < 1
            or any(x < 1 for x in args.scale)):
        parser.error('counts must be positive')
    return args


def profile(cloud: localcloud.LocalCloud, images: fixture.Images,
            env: dict, count: int, out: pathlib.Path) -> dict:
    """Profile ``store delete --store cheap`` over fresh images."""
    procs.say(f'profile: creating {count} images in fast+cheap')
    ids = images.create('bench-profile', count, ('fast', 'cheap'))
    script = pathlib.Path(cliprofile.__file__)
    done = procs.run([sys.executable, str(script), str(out), 'image',
                      'store', 'delete', '--store', 'cheap', '-f', 'value',
                      *ids], env)
    warnings = []
    if done.rc != 0 or batch.removed_rows(done.stdout) != count:
        warnings.append(f'profiled run: exit code {done.rc}, '
                        f'{batch.removed_rows(done.stdout)} of {count} rows '
                        f'removed {done.stderr[-500:]}')
    text = cliprofile.summary(str(out), done.cpu)
    procs.say(f'profile: {done.wall:.1f} s, CPU {done.cpu:.1f} s, wrote '
              f'{out}')
    return {'path': str(out), 'images': count, 'wall': done.wall,
            'cpu': done.cpu, 'summary': text, 'warnings': warnings}


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    results: dict = {'params': {k: str(v) for k, v in vars(args).items()},
                     'machine': procs.machine(), 'warnings': []}
    procs.say(f'openstack command: {procs.OPENSTACK}; commit '
              f'{results["machine"]["commit"]}; load average '
              f'{os.getloadavg()[0]:.1f}')
    # A run directory of our own: kept (with the servers' logs) when the
    # benchmark fails, removed when it ends well.
    run_dir = localcloud.repo_root() / '.cloud' / (
        f'bench-{time.strftime("%Y%m%d-%H%M%S")}-{os.getpid()}')
    cloud = localcloud.LocalCloud(run_dir, db='postgresql', nomulti=False,
                                  odd=False)
    ended_well = False
    try:
        cloud.start()
        env = procs.child_env(cloud)
        images = fixture.Images(cloud, os.urandom(1024), args.threads)
        if args.startup_runs:
            results['startup'] = startup.measure(env, args.startup_runs)
            results['warnings'] += results['startup']['warnings']
        if args.rounds:
            results['batch'] = batch.measure(cloud, images, env, args.images,
                                             args.rounds)
            results['warnings'] += results['batch']['warnings']
        if args.scale:
            results['scale'] = scale.measure(cloud, images, env, args.scale)
            results['warnings'] += results['scale']['warnings']
        if args.profile:
            results['profile'] = profile(cloud, images, env,
                                         args.profile_images, args.profile)
            results['warnings'] += results['profile']['warnings']
        ended_well = True
    except localcloud.CloudError as exc:
        procs.say(f'the benchmark could not run: {exc}')
        return 1
    finally:
        cloud.stop()
        if ended_well:
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            procs.say(f'the cloud\'s logs are kept in {run_dir}/logs')
    results['machine']['loadavg_end'] = os.getloadavg()[0]
    results['total_s'] = procs.elapsed()
    print(report.render(results), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
        procs.say(f'wrote {args.json}')
    return 0
