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
"""The README's demo, kept running (``tox -e demo -- --keep``), and the
commands it prints: the runbook's drain of store ``cheap`` runs on the
demo's own cloud (PostgreSQL, like the tests'), then the printed command
stops it.

Not a :class:`base.TestCase`: this test starts and stops a cloud of its
own, in a directory of its own, and never touches the tests' cloud.
"""

import os
import pathlib
import re
import shlex
import subprocess
import sys

import fixtures
import localcloud
import testtools


def _shell(export, command):
    """Run ``command`` in bash after the demo's ``export`` line."""
    return subprocess.run(['bash', '-c', 'export %s; %s' % (export, command)],
                          capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)


class TestDemo(testtools.TestCase):

    def test_readme_drain_on_the_demo_cloud(self):
        run_dir = pathlib.Path(self.useFixture(fixtures.TempDir()).path,
                               'demo')
        env = {k: v for k, v in os.environ.items()
               if k not in ('OS_CLOUD', 'OS_CLIENT_CONFIG_FILE',
                            localcloud.STATE_ENV)}
        demo = subprocess.run(
            [sys.executable, '-u',
             str(localcloud.repo_root() / 'tools' / 'demo.py'), '--keep',
             '--dir', str(run_dir)],
            capture_output=True, text=True, timeout=900, env=env,
            stdin=subprocess.DEVNULL)
        out = demo.stdout
        stop = re.search(r'^Stop it with:\n\n  (.+)$', out, re.M)
        # Whatever happens below, this cloud (and only this one) stops.
        self.addCleanup(subprocess.run, shlex.split(stop[1]) if stop else [
            sys.executable, '-m', 'localcloud', 'stop', '--dir',
            str(run_dir)], capture_output=True, timeout=120)
        self.assertEqual(0, demo.returncode, out)
        self.assertIsNotNone(stop, out)
        self.assertIn('The cloud is still running (Glance on PostgreSQL)',
                      out)
        self.assertNotIn('WARNING', out)
        # The demo's own run: demo-image left cheap; the sole copy of
        # demo-sole is refused with both ways on.
        self.assertRegex(out, r'\| demo-image \| cheap \| removed \| '
                         r'archive, fast +\|')
        self.assertIn('To move it, run the command again with --copy-to '
                      '<another store>;', out)
        self.assertIn('to delete the image itself, use "openstack image '
                      'delete', out)
        # Both logins are named and what is exported is explained.
        flat = ' '.join(out.split())
        for text in ('isd-admin (user admin of project admin, with the '
                     'admin role', 'isd-member (user member of project '
                     'demo, no admin role', 'OS_CLIENT_CONFIG_FILE is this '
                     'cloud\'s clouds.yaml', 'OS_CLOUD picks the login',
                     'OSC_IMAGE_STORE_CLOUD_STATE names the cloud\'s state '
                     'file'):
            self.assertIn(text, flat)
        export = re.search(r'^  export (.+)$', out, re.M)[1]
        tries = re.search(r'^Then try .*?\n\n((?:  openstack [^\n]+\n)+)',
                          out, re.M | re.S)[1]
        commands = [line.strip() for line in tries.splitlines()]
        self.assertEqual(
            ['openstack image store list --image demo-sole',
             'openstack image store delete --store cheap --all-images '
             '--copy-to archive --dry-run',
             'openstack image store delete --store cheap --all-images '
             '--copy-to archive',
             'openstack image store list --image demo-sole'], commands)
        done = [_shell(export, command) for command in commands]
        for result in done:
            self.assertEqual(0, result.returncode, result)
        plan, drain = done[1], done[2]
        self.assertRegex(plan.stdout, r'\| demo-sole \| cheap \| would-move ')
        self.assertRegex(plan.stdout, r'\| demo-pair \| cheap \| '
                         r'would-remove ')
        self.assertIn('Plan for store cheap: 1 image(s) to remove, 1 to copy '
                      'into archive first (1,048,576 bytes), 0 blocked; '
                      '2,097,152 bytes to be freed from cheap', plan.stderr)
        self.assertRegex(drain.stdout, r'\| demo-sole \| cheap \| moved +\| '
                         r'archive +\| +\| archive +\|')
        self.assertRegex(drain.stdout, r'\| demo-pair \| cheap \| removed +\| '
                         r'fast +\|')
        self.assertIn('Store cheap: no visible image lists it any more',
                      drain.stderr)
        self.assertRegex(done[3].stdout, r'\| archive +\| archive file store '
                         r'\| False +\| False +\| True +\|')
        # On disk, in the demo's store directories.
        state = re.search(r'OSC_IMAGE_STORE_CLOUD_STATE=(\S+)', export)[1]
        cloud = localcloud.LocalCloud.attach(state)
        self.assertEqual('postgresql', cloud.db)
        found = {}
        for name in ('demo-image', 'demo-pair', 'demo-sole'):
            images = cloud.image_api(
                'GET', '/images?name=' + name).json()['images']
            found[name] = cloud.files_in_stores(images[0]['id'])
        self.assertEqual({'demo-image': {'fast', 'archive'},
                          'demo-pair': {'fast'}, 'demo-sole': {'archive'}},
                         found)
        self.assertEqual([], sorted(os.listdir(cloud.store_dirs['cheap'])))
        # The printed command stops it.
        stopped = subprocess.run(shlex.split(stop[1]), capture_output=True,
                                 text=True, timeout=120)
        self.assertEqual(0, stopped.returncode, stopped)
        self.assertRaises(localcloud.CloudError, localcloud.LocalCloud.attach,
                          state)
