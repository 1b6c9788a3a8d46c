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
"""A copy that never starts is named, with its task, within the stall
bound (``--copy-stall-timeout``), not at ``--copy-timeout``; what is said
on Ctrl-C is what was last read. On the real local cloud, whose Glance
keeps its import tasks ``pending`` while ``set_imports_stalled(True)``."""

import json
import os
import signal
import subprocess
import time

from osc_image_store.tests.functional import base
from osc_image_store.tests.functional import test_drain


class TestCopyNeverStarts(test_drain.DrainTestCase):

    def setUp(self):
        super().setUp()
        self.data = os.urandom(8192)
        self.image_id = self.create_image(('cheap',), data=self.data)
        self.cloud.set_imports_stalled(True)
        self.addCleanup(self.cloud.set_imports_stalled, False)

    def let_it_run(self):
        """Let Glance start the task: the copy arrives in archive."""
        self.cloud.set_imports_stalled(False)
        self.cloud.wait_for_stores(self.image_id, ['cheap', 'archive'])
        self.expected[self.image_id] = (self.data, {'cheap', 'archive'})

    def test_named_within_the_bound_then_a_rerun_finishes(self):
        start = time.monotonic()
        result = self.drain('--copy-stall-timeout', '5', self.image_id,
                            fail_ok=True)
        took = time.monotonic() - start
        self.assertEqual(1, result.rc, result)
        row = result.json()[0]
        task = self.cloud.image(self.image_id)['os_glance_import_task']
        self.assertTrue(task, 'the import lock of the copy')
        self.assertEqual(('failed', ['cheap'], None),
                         (row['Result'], row['Remaining Stores'],
                          row['Copied To']), result)
        self.assertIn('The copy of image %s into store archive has not '
                      'started: its import task %s was pending (not '
                      'started), last updated ' % (self.image_id, task),
                      row['Reason'])
        self.assertIn('openstack image task show %s' % task, row['Reason'])
        self.assertTrue(row['Reason'].endswith(
            'The copy in store cheap is kept.'), row['Reason'])
        self.assertIn('Store cheap, 1 image(s): 1 failed (see Result and '
                      'Reason)', result.stderr)
        # 5 s without change, a read a second, the CLI's start: not the
        # hour of --copy-timeout.
        self.assertLess(took, 60, result)
        self.assertEqual([], [p for p in self.cli_deletes()
                              if p.startswith('/v2/stores/')])
        # Run again while the task still waits: the copy in flight is
        # waited for (no second import), and named again.
        again = self.drain('--copy-stall-timeout', '3', self.image_id,
                           fail_ok=True)
        self.assertEqual('failed', again.json()[0]['Result'], again)
        self.assertIn('import task %s was pending' % task,
                      again.json()[0]['Reason'])
        self.assertEqual({self.image_id: 1}, dict(self.imports()))
        # Glance starts it at last: the next run removes the copy in cheap.
        self.let_it_run()
        done = self.drain(self.image_id)
        self.assertEqual(('removed', ['archive']),
                         (done.json()[0]['Result'],
                          done.json()[0]['Remaining Stores']))
        self.expect_removed(self.image_id, 'cheap')
        self.assertEqual({self.image_id: 1}, dict(self.imports()))

    def test_ctrl_c_says_pending_not_that_the_copy_goes_on(self):
        process = subprocess.Popen(
            [base.OPENSTACK, 'image', 'store', 'delete', '--store', 'cheap',
             '--copy-to', 'archive', '-f', 'json', self.image_id],
            env=dict(os.environ, **self.cloud.env(base.ADMIN)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not self.imports() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(2)  # a few reads of the pending task
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
        self.assertEqual(130, process.returncode, stderr)
        row = json.loads(stdout)[0]
        self.assertEqual(('copying', None), (row['Result'],
                                             row['Copied To']), row)
        self.assertIn('was pending (not started), last updated ',
                      row['Reason'])
        self.assertIn('Glance may still start it. Nothing was removed.',
                      row['Reason'])
        self.assertNotIn('goes on in Glance', row['Reason'])
        self.let_it_run()
