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
cheap, archive), uploads an image into all three stores, runs
``openstack image store delete --store cheap <image>``, shows the result
and the store directories before and after, then stops the cloud (unless
``--keep``).  Run it with ``tox -e demo`` (or ``tox -e demo -- --keep``).
"""

import argparse
import os
import shutil
import subprocess
import sys

from osc_image_store.tests.functional import cloud as local_cloud

OPENSTACK = shutil.which('openstack', path=os.path.dirname(sys.executable)) \
    or 'openstack'


def show_store_dirs(cloud: local_cloud.LocalCloud, image_id: str) -> None:
    """Print, for each store directory, whether it holds the image's file."""
    for store, path in cloud.store_dirs.items():
        data = path / image_id
        state = ('%d bytes' % data.stat().st_size if data.exists()
                 else 'no file')
        print('  %-8s %s: %s' % (store, data, state))


def run(cloud: local_cloud.LocalCloud, *args: str) -> int:
    """Run the real ``openstack`` CLI against the local cloud."""
    print('\n$ openstack %s' % ' '.join(args), flush=True)
    env = dict(os.environ, **cloud.env())
    return subprocess.call([OPENSTACK, *args], env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--keep', action='store_true',
                        help='leave the cloud running and say how to use it')
    args = parser.parse_args()

    keep_dir = local_cloud.REPO_ROOT / '.cloud' / 'demo'
    bindir = os.path.dirname(sys.executable)
    stop_command = '%s -m %s stop --dir %s' % (
        sys.executable, local_cloud.__name__, keep_dir)
    if args.keep and keep_dir.exists():
        try:
            local_cloud.LocalCloud.attach(keep_dir / 'state.json')
        except local_cloud.CloudError:
            shutil.rmtree(keep_dir)  # what a stopped demo left behind
        else:
            print('A demo cloud is already running in %s; stop it first '
                  'with:\n  %s' % (keep_dir, stop_command), file=sys.stderr)
            return 1
    cloud = local_cloud.LocalCloud(base_dir=keep_dir if args.keep else None)
    try:
        cloud.start()
        image_id = cloud.create_image('demo-image', os.urandom(1024 * 1024))
        print('\nImage demo-image (%s) is in stores %s; on disk:'
              % (image_id, ', '.join(cloud.image_stores(image_id))))
        show_store_dirs(cloud, image_id)
        rc = run(cloud, 'image', 'store', 'delete', '--store', 'cheap',
                 'demo-image')
        print('\nExit code %d. On disk now:' % rc)
        show_store_dirs(cloud, image_id)
        if args.keep:
            print('\nThe cloud is still running. Use it (the openstack '
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
