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
"""Demo: remove an image's data from one store on a real local cloud.

Starts the project's local Keystone + multi-store Glance (stores fast,
cheap, archive; ``tools/localcloud``), uploads an image into all three
stores, runs ``openstack image store delete --store cheap <image>``, shows
``openstack image store list --image demo-image`` and the store
directories before and after, then stops the cloud (unless ``--keep``).
Run it with ``tox -e demo`` (or ``tox -e demo -- --keep``).
"""

import argparse
import os
import shutil
import subprocess
import sys

import localcloud

OPENSTACK = shutil.which('openstack', path=os.path.dirname(sys.executable)) \
    or 'openstack'


def say(text: str = '') -> None:
    """Print to stdout at once (the CLI's output goes there too)."""
    print(text, flush=True)


def show_store_dirs(cloud: localcloud.LocalCloud, image_id: str) -> None:
    """Print, for each store directory, whether it holds the image's file."""
    for store, path in cloud.store_dirs.items():
        data = path / image_id
        state = ('%d bytes' % data.stat().st_size if data.exists()
                 else 'no file')
        say('  %-8s %s: %s' % (store, data, state))


def run(cloud: localcloud.LocalCloud, *args: str) -> int:
    """Run the real ``openstack`` CLI against the local cloud.

    Its stderr goes to stdout, so that everything comes out in order.
    """
    say('\n$ openstack %s' % ' '.join(args))
    env = dict(os.environ, **cloud.env())
    return subprocess.call([OPENSTACK, *args], env=env,
                           stderr=subprocess.STDOUT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--keep', action='store_true',
                        help='leave the cloud running and say how to use it')
    args = parser.parse_args()
    # One stream: tox reads stdout and stderr through separate pipes and
    # would interleave them out of order (the cloud reports progress on
    # stderr).
    sys.stdout.flush()
    os.dup2(sys.stdout.fileno(), sys.stderr.fileno())

    keep_dir = localcloud.repo_root() / '.cloud' / 'demo'
    bindir = os.path.dirname(sys.executable)
    stop_command = '%s -m localcloud stop --dir %s' % (sys.executable,
                                                       keep_dir)
    if args.keep and keep_dir.exists():
        try:
            localcloud.LocalCloud.attach(keep_dir / 'state.json')
        except localcloud.CloudError:
            shutil.rmtree(keep_dir)  # what a stopped demo left behind
        else:
            say('A demo cloud is already running in %s; stop it first '
                'with:\n  %s' % (keep_dir, stop_command))
            return 1
    # sqlite: the demo needs no PostgreSQL server.
    cloud = localcloud.LocalCloud(base_dir=keep_dir if args.keep else None,
                                  db='sqlite', nomulti=False, odd=False)
    try:
        cloud.start()
        image_id = cloud.create_image('demo-image', os.urandom(1024 * 1024))
        say('\nImage demo-image (%s) is in stores %s; on disk:'
            % (image_id, ', '.join(cloud.image_stores(image_id))))
        show_store_dirs(cloud, image_id)
        run(cloud, 'image', 'store', 'list', '--image', 'demo-image')
        rc = run(cloud, 'image', 'store', 'delete', '--store', 'cheap',
                 'demo-image')
        say('\nExit code %d.' % rc)
        run(cloud, 'image', 'store', 'list', '--image', 'demo-image')
        say('\nOn disk now:')
        show_store_dirs(cloud, image_id)
        if args.keep:
            say('\nThe cloud is still running. Use it (the openstack '
                'CLI with this plugin is in %s) with:\n'
                '  export PATH=%s:$PATH %s\n'
                '  openstack image store list --image demo-image\n'
                'Stop it with:\n  %s'
                % (bindir, bindir,
                   ' '.join('%s=%s' % kv for kv in cloud.env().items()),
                   stop_command))
        return rc
    finally:
        if not args.keep:
            cloud.stop()


if __name__ == '__main__':
    sys.exit(main())
