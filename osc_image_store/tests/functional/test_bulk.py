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
"""Runbook scale: --all-images, --parallel and Ctrl-C, on the real local
cloud (PostgreSQL-backed Glance)."""

import collections
import json
import os
import re
import signal
import subprocess
import time

from osc_image_store.tests.functional import base


class TestAllImages(base.TestCase):
    """--all-images sees every visible image.

    The rows of images other tests may have left are ignored; ours are
    checked exactly.
    """

    def all_images(self, *extra, cloud=base.ADMIN):
        result = self.store_delete('cheap', cloud=cloud, fail_ok=True,
                                   extra=['--all-images', *extra])
        self.assertIn(result.rc, (0, 1), result)
        return result, {r['ID']: r for r in result.json()}

    def test_selects_by_store_and_skips_sole_copies(self):
        both = self.create_image(('fast', 'cheap'))
        sole = self.create_image(('cheap',))
        elsewhere = self.create_image(('fast', 'archive'))
        hidden = self.create_image(('cheap', 'archive'))
        self.cloud.admin_connection().image.update_image(
            hidden, is_hidden=True)
        result, rows = self.all_images()
        self.expect_removed(both, 'cheap')
        self.expect_removed(hidden, 'cheap')
        self.assertEqual({both, sole, hidden},
                         set(rows) & {both, sole, hidden, elsewhere})
        self.assertEqual('removed', rows[both]['Result'])
        self.assertEqual('removed', rows[hidden]['Result'])
        self.assertEqual(('skipped', ['cheap']),
                         (rows[sole]['Result'],
                          rows[sole]['Remaining Stores']))
        self.assertIn('holds the only copy', rows[sole]['Reason'])
        # The check after the run names the sole copy left in the store.
        left = re.search(r'Store cheap still holds data of \d+ visible '
                         r'image\(s\) .*: (.*)', result.stderr)
        self.assertIsNotNone(left, result)
        self.assertIn(sole, left[1].split(', '))

    def test_dry_run_and_project_scope(self):
        image_id = self.create_image(('fast', 'cheap'), data=b'x' * 1000)
        result, rows = self.all_images('--dry-run', '--project', 'admin')
        self.assertEqual('would-remove', rows[image_id]['Result'])
        plan = re.search(r'Plan for store cheap: (\d+) image\(s\) to '
                         r'remove, \d+ blocked; ([\d,]+) bytes to be freed '
                         r'from cheap \(unless Glance keeps deleted data',
                         result.stderr)
        self.assertIsNotNone(plan, result)
        removable = [r for r in rows.values()
                     if r['Result'] == 'would-remove']
        self.assertEqual(len(removable), int(plan[1]))
        self.assertGreaterEqual(int(plan[2].replace(',', '')), 1000)
        self.assertEqual([], self.cli_deletes())
        _, demo = self.all_images('--dry-run', '--project', 'demo')
        self.assertNotIn(image_id, demo)

    def test_member_sees_no_images_to_remove(self):
        image_id = self.create_image(('fast', 'cheap'))
        result, rows = self.all_images(cloud=base.MEMBER)
        self.assertNotIn(image_id, rows)
        self.assertEqual([], self.cli_deletes())


class TestParallel(base.TestCase):

    def test_order_kept_and_each_image_removed_once(self):
        ids = self.create_images(10)
        name = self.cloud.admin_connection().image.get_image(ids[3]).name
        args = ids[:5] + [ids[0], name] + ids[5:]
        result = self.store_delete('cheap', *args,
                                   extra=['--parallel', '8'])
        for image_id in ids:
            self.expect_removed(image_id, 'cheap')
        self.assertEqual([(i, 'removed') for i in ids],
                         [(r['ID'], r['Result']) for r in result.json()])
        per_image = collections.Counter(
            path.rsplit('/', 1)[1] for path, agent in self.glance_deletes()
            if path.startswith('/v2/stores/'))
        self.assertEqual({i: 1 for i in ids}, dict(per_image))


class TestInterrupt(base.TestCase):

    def test_sigint_stops_new_removals_and_reports_true_state(self):
        ids = self.create_images(40)
        env = dict(self.cloud.env(base.ADMIN))
        process = subprocess.Popen(
            [base.OPENSTACK, 'image', 'store', 'delete', '--store', 'cheap',
             '--parallel', '2', '-f', 'json', *ids],
            env=dict(os.environ, **env),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while (len(self.cli_deletes()) < 4
               and time.monotonic() < deadline
               and process.poll() is None):
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
        self.assertEqual(130, process.returncode, stderr)
        self.assertIn('Interrupted:', stderr)
        rows = json.loads(stdout)
        reported = {r['ID']: r for r in rows}
        self.assertLess(len(rows), len(ids))
        self.assertGreaterEqual(len(rows), 4)
        # The report is the input order, from the start, with no gap.
        self.assertEqual(ids[:len(rows)], [r['ID'] for r in rows])
        for image_id in ids:
            if image_id in reported:
                self.assertEqual('removed', reported[image_id]['Result'])
                self.assertEqual(['fast'],
                                 reported[image_id]['Remaining Stores'])
                self.expect_removed(image_id, 'cheap')
        # check_images_intact (after the test) proves that every image not
        # reported still has both copies on disk, and every reported one
        # lost exactly its cheap copy.
