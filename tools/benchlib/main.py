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
2. the one-image path, loopback (:mod:`benchlib.oneimage`);
3. OSC against this tool, interleaved rounds, in each profile
   (:mod:`benchlib.batch`, :mod:`benchlib.profiles`: ``loopback`` and
   ``cloud-like``);
4. the servers' CPU per request kind (:mod:`benchlib.servercost`);
5. profiles of the client: the one-image path of both tools (wall and
   CPU), a batch (CPU) and a cloud-like batch at ``--parallel 8`` (wall)
   (:mod:`benchlib.clientprofile`);
6. ``--all-images`` at 200 and 2000 images (:mod:`benchlib.scale`).

Not a test: it never fails on a figure; it exits 1 only when it could not
run (the cloud did not start, images could not be created).
``--from-json`` prints the report of an earlier run again (and writes
the performance page's figures with ``--rst``) without a cloud; its
requests are classified again by the current code (:func:`refresh`).
"""

import argparse
import json
import os
import pathlib
import shutil
import sys
import time

import localcloud

from benchlib import accesslog
from benchlib import batch
from benchlib import clientprofile
from benchlib import fixture
from benchlib import oneimage
from benchlib import procs
from benchlib import profiles
from benchlib import report
from benchlib import scale
from benchlib import servercost
from benchlib import startup

#: The performance page of this clone.
DEFAULT_RST = (pathlib.Path(__file__).resolve().parents[2] / 'doc'
               / 'source' / 'performance.rst')


def _counts(text: str, what: str, parser: argparse.ArgumentParser
            ) -> list[int]:
    try:
        return sorted({int(x) for x in text.split(',') if x.strip()})
    except ValueError:
        parser.error(f'{what} takes image counts such as 200,2000')
        raise


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='tools/bench.py',
        description='Benchmark openstack image store delete against '
        'python-openstackclient\'s openstack image delete --store on the '
        'local cloud. Prints figures; not a test. For a short run while '
        'developing: --images 10 --rounds 1 --scale "" --startup-runs 2 '
        '--one-image-runs 2 --server-cost 10 --profile-images 10.')
    parser.add_argument('--images', type=int, default=100, metavar='N',
                        help='images per variant and round (default 100)')
    parser.add_argument('--rounds', type=int, default=3, metavar='R',
                        help='interleaved rounds of the four variants in '
                        'each profile (default 3; 0 skips them)')
    parser.add_argument('--profiles', default=','.join(profiles.NAMES),
                        metavar='NAMES', help='profiles of the rounds, '
                        'comma separated (default loopback,cloud-like)')
    parser.add_argument('--one-way-ms', type=float,
                        default=profiles.ONE_WAY_MS, metavar='MS',
                        help='cloud-like: network latency each way, added '
                        'by the proxy to every image API request (default '
                        f'{profiles.ONE_WAY_MS:g}: a LAN round trip is '
                        'about 1-2 ms)')
    parser.add_argument('--store-delete-ms', type=float,
                        default=profiles.STORE_DELETE_MS, metavar='MS',
                        help='cloud-like: backend time of each store '
                        'delete, inside Glance (default '
                        f'{profiles.STORE_DELETE_MS:g}: an RBD or Swift '
                        'delete of a multi-GB image takes 100 ms to '
                        'seconds)')
    parser.add_argument('--one-image-runs', type=int, default=10,
                        metavar='K', help='one-image runs of each command, '
                        'interleaved (default 10; 0 skips them)')
    parser.add_argument('--server-cost', type=int, default=40,
                        metavar='C', help='requests of each kind to '
                        'measure the servers\' CPU per request (default '
                        '40; 0 skips it)')
    parser.add_argument('--scale', default='200,2000', metavar='SIZES',
                        help='image counts of the --all-images runs, comma '
                        'separated (default 200,2000; "" skips them)')
    parser.add_argument('--startup-runs', type=int, default=10,
                        metavar='K', help='--help runs of each command '
                        '(default 10; 0 skips start-up and import)')
    parser.add_argument('--no-profile', dest='profile', action='store_false',
                        help='skip the client profiles')
    parser.add_argument('--profile-dir', type=pathlib.Path, metavar='DIR',
                        help='where the pstats files go (default '
                        '.cloud/bench-profiles)')
    parser.add_argument('--profile-images', type=int, default=200,
                        metavar='P', help='images of the profiled batch '
                        '(default 200; 0: the one-image profiles only)')
    parser.add_argument('--threads', type=int, default=8,
                        help='fixture requests in flight while creating '
                        'images (default 8)')
    parser.add_argument('--json', type=pathlib.Path, metavar='PATH',
                        help='also write every figure and sample here')
    parser.add_argument('--rst', type=pathlib.Path, metavar='PATH',
                        nargs='?', const=DEFAULT_RST,
                        help='write the figures into the performance page '
                        '(default doc/source/performance.rst of this clone): '
                        'the text between its '
                        f'"{report.RST_BEGIN}" and "{report.RST_END}" lines')
    parser.add_argument('--rst-note', metavar='TEXT', default='',
                        help='a sentence the page prints above the figures '
                        '(e.g. "Measured on a busy machine.")')
    parser.add_argument('--from-json', type=pathlib.Path, metavar='PATH',
                        help='run nothing: print the report of an earlier '
                        'run\'s --json file (and write --rst from it)')
    args = parser.parse_args(argv)
    args.scale = _counts(args.scale, '--scale', parser)
    args.profiles = [p.strip() for p in args.profiles.split(',')
                     if p.strip()]
    unknown = set(args.profiles) - set(profiles.NAMES)
    if unknown:
        parser.error(f'unknown profile(s) {", ".join(sorted(unknown))}: '
                     f'choose from {", ".join(profiles.NAMES)}')
    if (args.images < 1 or args.rounds < 0 or args.startup_runs < 0
            or args.profile_images < 0 or args.threads < 1
            or args.one_image_runs < 0 or args.server_cost < 0
            or args.one_way_ms < 0 or args.store_delete_ms < 0
            or any(x < 1 for x in args.scale)):
        parser.error('counts and delays must be positive')
    return args


def _emit(results: dict, args: argparse.Namespace) -> None:
    """Print the report; write the page's figures (``--rst``)."""
    text = report.render(results)
    print(text, flush=True)
    if args.rst:
        report.write_rst(args.rst, results, text, args.rst_note)
        print(f'wrote the figures into {args.rst}', file=sys.stderr)


def refresh(results: dict) -> dict:
    """Classify a saved run's requests again; summaries from its samples.

    For ``--from-json``: each run's requests by kind and the lock's come
    from its requests by shape, as this benchmark's code classifies them
    now, and the medians are computed again.
    """
    def again(requests: dict) -> None:
        shapes = requests.get('shapes') or {}
        requests['kinds'] = accesslog.kinds_of_shapes(shapes)
        requests['lock'] = accesslog.lock_detail(shapes)

    one = results.get('one_image')
    if one:
        for runs in one['samples'].values():
            for sample in runs:
                again(sample['requests'])
        one['summary'] = oneimage.summarize(one['samples'])
    for b in (results.get('batch') or {}).values():
        for runs in b['samples'].values():
            for sample in runs:
                again(sample['requests'])
        b['summary'] = batch.summarize(b['samples'], b['n'])
    for size in ((results.get('scale') or {}).get('sizes') or {}).values():
        again(size['requests'])
    results['rerendered'] = True
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.from_json:
        _emit(refresh(json.loads(args.from_json.read_text())), args)
        return 0
    return run(args)


def run(args: argparse.Namespace) -> int:
    """Run the phases on a cloud of our own; print the report."""
    argv = sys.argv[1:]
    results: dict = {'params': {k: str(v) for k, v in vars(args).items()},
                     'command': 'tools/bench.py ' + ' '.join(argv),
                     'machine': procs.machine(), 'warnings': []}
    procs.say(f'openstack command: {procs.OPENSTACK}; commit '
              f'{results["machine"]["commit"]}; load average '
              f'{os.getloadavg()[0]:.1f}')
    # A run directory of our own: kept (with the servers' logs) when the
    # benchmark fails, removed when it ends well.
    run_dir = localcloud.repo_root() / '.cloud' / (
        f'bench-{time.strftime("%Y%m%d-%H%M%S")}-{os.getpid()}')
    profile_dir = args.profile_dir or (
        localcloud.repo_root() / '.cloud' / 'bench-profiles')
    cloud = localcloud.LocalCloud(run_dir, db='postgresql', nomulti=False,
                                  odd=False)
    ended_well = False

    def phase(name: str, value: dict) -> None:
        results[name] = value
        results['warnings'] += value.get('warnings', [])

    try:
        cloud.start()
        loopback = profiles.Profile(profiles.LOOPBACK, cloud)
        images = fixture.Images(cloud, os.urandom(1024), args.threads)
        if args.startup_runs:
            phase('startup', startup.measure(loopback.env,
                                             args.startup_runs))
        if args.one_image_runs:
            phase('one_image', oneimage.measure(
                cloud, images, loopback, args.one_image_runs))
            images.delete(results['one_image'].pop('created'))
        if args.rounds:
            results['batch'] = {}
            for name in args.profiles:
                with profiles.Profile(name, cloud, args.one_way_ms,
                                      args.store_delete_ms) as profile:
                    value = batch.measure(cloud, images, profile,
                                          args.images, args.rounds)
                value.pop('created')
                results['batch'][name] = value
                results['warnings'] += value['warnings']
        if args.server_cost:
            phase('server_cost', servercost.measure(cloud, images,
                                                    args.server_cost))
            images.delete(results['server_cost'].pop('created'))
        if args.profile:
            cloudy = (profiles.Profile(profiles.CLOUD_LIKE, cloud,
                                       args.one_way_ms, args.store_delete_ms)
                      if profiles.CLOUD_LIKE in args.profiles else None)
            try:
                if cloudy is not None:
                    cloudy.start()
                phase('profile', clientprofile.measure(
                    cloud, images, loopback.env, args.profile_images,
                    profile_dir, cloudy, args.images))
            finally:
                if cloudy is not None:
                    cloudy.stop()
            images.delete(results['profile'].pop('created'))
        if args.scale:
            phase('scale', scale.measure(cloud, images, loopback.env,
                                         args.scale))
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
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
        procs.say(f'wrote {args.json}')
    _emit(results, args)
    return 0
