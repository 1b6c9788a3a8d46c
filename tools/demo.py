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

Starts the project's local cloud (``tools/localcloud``): Keystone and
the multi-store Glance (stores fast, cheap, archive) on PostgreSQL, with
the same settings and the same other Glances as the cloud of the
functional tests; uploads ``demo-image`` into all three stores,
``demo-pair`` into cheap and fast and ``demo-sole`` into cheap only; runs
``openstack image store delete --store cheap demo-image``, shows
``openstack image store list --image demo-image`` and the store
directories before and after, shows that the only copy of ``demo-sole`` is
refused; then stops the cloud, unless ``--keep``: then it says how to use
the cloud (both logins, and the runbook's drain of store ``cheap``) and
how to stop it. Run it with ``tox -e demo`` (or ``tox -e demo -- --keep``).

Where PostgreSQL cannot be had (not installed, and not root on a Debian
system to install it), it says so before starting and runs Glance on
SQLite, which answers 500 "database is locked" to concurrent writes.
"""

import argparse
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import textwrap

import localcloud

OPENSTACK = shutil.which('openstack', path=os.path.dirname(sys.executable)) \
    or 'openstack'
#: The images of the demo and the stores they are put in.
IMAGES = (('demo-image', localcloud.STORES), ('demo-pair', ('cheap', 'fast')),
          ('demo-sole', ('cheap',)))
#: What to try on a cloud left running (the runbook's drain of cheap).
TRY = ('openstack image store list --image demo-sole',
       'openstack image store delete --store cheap --all-images '
       '--copy-to archive --dry-run',
       'openstack image store delete --store cheap --all-images '
       '--copy-to archive',
       'openstack image store list --image demo-sole')
SQLITE_LIMITS = (
    'The demo runs Glance on SQLite instead of PostgreSQL. What will not '
    'work as on the tests\' cloud: SQLite answers 500 "database is locked" '
    'to concurrent writes, so --parallel above 1, --copy-to (copy-image '
    'imports) and --all-images over more than a few images can fail, and '
    'a copy-image task can stay "pending"; the functional tests (tox -e '
    'functional) need PostgreSQL.')


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


def database() -> str:
    """``postgresql``, or ``sqlite`` (said, with what will not work)."""
    why = localcloud.postgres_unavailable()
    if why is None:
        return 'postgresql'
    say('%s\n' % textwrap.fill('WARNING: %s. %s' % (why, SQLITE_LIMITS), 78))
    return 'sqlite'


def keep_note(cloud: localcloud.LocalCloud, stop_command: str) -> str:
    """How to use the cloud left running, and how to stop it."""
    env = cloud.env()
    bindir = os.path.dirname(sys.executable)
    lines = [
        '',
        'The cloud is still running (Glance on %s). Point the openstack '
        'CLI of the tox virtualenv (it has this plugin) at it:' % (
            'PostgreSQL' if cloud.db == 'postgresql' else 'SQLite'),
        '',
        '  export PATH=%s:$PATH %s' % (shlex.quote(bindir), ' '.join(
            '%s=%s' % (k, shlex.quote(v)) for k, v in env.items())),
        '',
        'OS_CLIENT_CONFIG_FILE is this cloud\'s clouds.yaml. It has two '
        'logins: %s (user admin of project admin, with the admin role, '
        'which "openstack image store delete" needs by default) and %s '
        '(user member of project demo, no admin role: add --os-cloud %s '
        'to a command to see what a project member gets); the tests\' '
        'other Glances are there too (%s: multi-store off, %s: a '
        'read-only http store). OS_CLOUD picks the login used when no '
        '--os-cloud is given. OSC_IMAGE_STORE_CLOUD_STATE names the '
        'cloud\'s state file (state.json): the functional tests attach to '
        'that cloud instead of starting their own (python -m stestr '
        '--test-path=./osc_image_store/tests/functional run --serial), and '
        'python '
        '-m localcloud stop --state "$OSC_IMAGE_STORE_CLOUD_STATE" stops '
        'it.' % (localcloud.ADMIN_CLOUD, localcloud.MEMBER_CLOUD,
                 localcloud.MEMBER_CLOUD, localcloud.NOMULTI_CLOUD,
                 localcloud.ODD_CLOUD),
        '',
        'Then try the runbook\'s drain of store cheap (demo-sole\'s only '
        'copy is copied to archive first, demo-pair keeps its copy in '
        'fast):',
        '',
        *('  ' + command for command in TRY),
        '',
        'Stop it with:',
        '',
        '  ' + stop_command,
    ]
    return '\n'.join(line if line.startswith('  ') else textwrap.fill(
        line, 78, break_long_words=False, break_on_hyphens=False)
        for line in lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--keep', action='store_true',
                        help='leave the cloud running and say how to use it')
    parser.add_argument('--dir', type=pathlib.Path,
                        help='the run directory of a cloud left running '
                        '(default .cloud/demo in the clone)')
    args = parser.parse_args()
    # One stream: tox reads stdout and stderr through separate pipes and
    # would interleave them out of order (the cloud reports progress on
    # stderr).
    sys.stdout.flush()
    os.dup2(sys.stdout.fileno(), sys.stderr.fileno())

    keep_dir = (args.dir or localcloud.repo_root() / '.cloud' /
                'demo').absolute()
    stop_command = '%s -m localcloud stop --dir %s' % (
        shlex.quote(sys.executable), shlex.quote(str(keep_dir)))
    if args.keep and keep_dir.exists():
        try:
            localcloud.LocalCloud.attach(keep_dir / 'state.json')
        except localcloud.CloudError:
            shutil.rmtree(keep_dir)  # what a stopped demo left behind
        else:
            say('A demo cloud is already running in %s; stop it first '
                'with:\n  %s' % (keep_dir, stop_command))
            return 1
    # The functional tests' cloud: python -m localcloud run --db postgresql
    cloud = localcloud.LocalCloud(base_dir=keep_dir if args.keep else None,
                                  db=database())
    try:
        cloud.start()
        ids = {name: cloud.create_image(name, os.urandom(1024 * 1024),
                                        stores=stores)
               for name, stores in IMAGES}
        image_id = ids['demo-image']
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
        say('\nThe only copy of an image is refused (exit code 1):')
        run(cloud, 'image', 'store', 'delete', '--store', 'cheap',
            '-c', 'Name', '-c', 'Result', '-c', 'Reason', '-f', 'yaml',
            'demo-sole')
        if args.keep:
            say(keep_note(cloud, stop_command))
        return rc
    finally:
        if not args.keep:
            cloud.stop()


if __name__ == '__main__':
    sys.exit(main())
