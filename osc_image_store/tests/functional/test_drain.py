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
"""Draining a store with ``--copy-to``: sole copies are copied elsewhere,
waited for and proven, then removed; on the real local cloud."""

import collections
import json
import os
import re
import signal
import subprocess
import time

import localcloud

from osc_image_store.tests.functional import base

ODD = localcloud.ODD_CLOUD
_IMPORT = re.compile(r'/v2/images/(?P<id>[0-9a-f-]{36})/import$')


class DrainTestCase(base.TestCase):

    def drain(self, *args, fail_ok=False, cloud=base.ADMIN):
        return self.openstack('image', 'store', 'delete', '--store', 'cheap',
                              '--copy-to', 'archive', '-f', 'json', *args,
                              fail_ok=fail_ok, cloud=cloud)

    def imports(self):
        """Copy-image imports the CLI sent in this test, by image ID."""
        with open(self.glance_log, errors='replace') as log:
            log.seek(self.glance_log_start)
            lines = log.read().splitlines()
        found = collections.Counter()
        for match in map(base._ACCESS.search, lines):
            if (match and match['method'] == 'POST'
                    and not match['agent'].startswith(
                        localcloud.FIXTURE_AGENT)):
                path = _IMPORT.search(match['path'])
                if path:
                    found[path['id']] += 1
        return found


class TestDrain(DrainTestCase):

    def test_all_images_moves_sole_copies_and_removes_the_others(self):
        sole = [self.create_image(('cheap',)) for _ in range(2)]
        both = [self.create_image(('cheap', 'fast')) for _ in range(2)]
        elsewhere = self.create_image(('fast', 'archive'))
        result = self.drain('--all-images', fail_ok=True)
        rows = {r['ID']: r for r in result.json()}
        # Images other tests left behind (none on a fresh cloud) must not
        # hide a failure of ours.
        others = [r for i, r in rows.items() if i not in sole + both]
        failed = [r for r in others if r['Result'] == 'failed']
        self.assertEqual(int(bool(failed)), result.rc, result)
        self.assertNotIn(elsewhere, rows)
        for image_id in sole:
            self.expected[image_id] = (self.expected[image_id][0],
                                       {'archive'})
            self.assertEqual(('moved', ['archive'], 'archive', None),
                             (rows[image_id]['Result'],
                              rows[image_id]['Remaining Stores'],
                              rows[image_id]['Copied To'],
                              rows[image_id]['Reason']))
        for image_id in both:
            self.expect_removed(image_id, 'cheap')
            self.assertEqual(('removed', ['fast'], None),
                             (rows[image_id]['Result'],
                              rows[image_id]['Remaining Stores'],
                              rows[image_id]['Copied To']))
        # The check after the run: none of ours is left in the store.
        left = re.search(r'Store cheap still holds data of \d+ visible '
                         r'image\(s\) .*: (.*)', result.stderr)
        if left is None:
            self.assertIn('Store cheap: no visible image lists it any more',
                          result.stderr)
        else:
            self.assertEqual(set(), set(left[1].split(', ')) & set(
                sole + both))
        # Only the sole copies were copied, once each.
        self.assertEqual({i: 1 for i in sole},
                         {i: n for i, n in self.imports().items()
                          if i in sole + both})
        for image_id in sole + both:
            self.assertFalse(
                (self.cloud.store_dirs['cheap'] / image_id).exists())

    def test_dry_run_is_a_plan(self):
        sole = self.create_image(('cheap',), data=os.urandom(3000))
        both = self.create_image(('cheap', 'fast'), data=os.urandom(2000))
        deactivated = self.create_image(('cheap', 'fast'))
        self.cloud.admin_connection().image.deactivate_image(deactivated)
        self.addCleanup(self.cloud.admin_connection().image.reactivate_image,
                        deactivated)
        result = self.drain('--dry-run', sole, both, deactivated,
                            fail_ok=True)
        self.assertEqual(
            [('would-move', ['archive'], 'archive'),
             ('would-remove', ['fast'], None),
             ('failed', ['cheap', 'fast'], None)],
            [(r['Result'], r['Remaining Stores'], r['Copied To'])
             for r in result.json()])
        self.assertIn('Plan for store cheap: 1 image(s) to remove, 1 to copy '
                      'into archive first (3,000 bytes), 1 blocked; 5,000 '
                      'bytes to be freed from cheap (unless Glance keeps '
                      'deleted data: delayed_delete, RBD trash).',
                      result.stderr)
        self.assertEqual({}, dict(self.imports()))
        self.assertEqual([], self.cli_deletes())

    def test_blocked_images_keep_their_copy(self):
        # An import that stays "in progress": Glance died mid-copy.
        importing = self.create_image(('cheap',),
                                      data=os.urandom(24 * 1024 * 1024))
        plain = self.create_image(('cheap',))
        self.kill_glance_mid_copy(importing, ['fast'])
        result = self.drain(importing, plain, fail_ok=True)
        self.expected[plain] = (self.expected[plain][0], {'archive'})
        rows = result.json()
        self.assertEqual(['failed', 'moved'], [r['Result'] for r in rows])
        self.assertIn('is being imported', rows[0]['Reason'])
        self.assertEqual(1, result.rc)
        self.assertEqual(['cheap'], self.cloud.image_stores(importing))
        self.assertEqual({plain: 1}, dict(self.imports()))


class TestFailedCopy(DrainTestCase):

    def test_copy_that_fails_leaves_the_source_in_place(self):
        # The odd Glance's store "slow" cannot take data: its directory is
        # a file now. Glance accepts the import, then fails it.
        data = os.urandom(8192)
        image_id = self.cloud.create_image('isd-drain-fail', data,
                                           stores=('fast',), cloud=ODD)
        self.addCleanup(self.cloud.delete_image, image_id, ODD)
        slow = self.cloud.odd_store_dirs['slow']
        moved = slow.with_name('slow.moved')
        slow.rename(moved)
        slow.write_text('not a directory')
        self.addCleanup(moved.rename, slow)
        self.addCleanup(slow.unlink)
        result = self.openstack(
            'image', 'store', 'delete', '--store', 'fast', '--copy-to',
            'slow', '--copy-timeout', '60', '-f', 'json', image_id,
            cloud=ODD, fail_ok=True)
        row = result.json()[0]
        # Nothing reached slow: no Copied To.
        self.assertEqual(('failed', None),
                         (row['Result'], row['Copied To']), result)
        self.assertIn('The copy in store fast is kept.', row['Reason'])
        self.assertEqual(1, result.rc)
        self.assertEqual(['fast'], self.cloud.image_stores(image_id, ODD))
        self.assertEqual(data, self.cloud.store_bytes('fast', image_id, ODD))


class TestInterruptAndResume(DrainTestCase):

    def test_ctrl_c_during_copies_then_a_rerun_finishes(self):
        ids = [self.create_image(('cheap',), data=os.urandom(12 << 20))
               for _ in range(4)]
        process = subprocess.Popen(
            [base.OPENSTACK, 'image', 'store', 'delete', '--store', 'cheap',
             '--copy-to', 'archive', '--max-copies', '1', '-f', 'json',
             *ids], env=dict(os.environ, **self.cloud.env(base.ADMIN)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not self.imports() and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=300)
        self.assertEqual(130, process.returncode, stderr)
        first = {r['ID']: r for r in json.loads(stdout)}
        self.assertTrue(first, stderr)
        for row in first.values():
            # copying: interrupted while Glance copied it; failed: copied,
            # interrupted before its removal (nothing removed).
            self.assertIn(row['Result'], ('moved', 'copying', 'failed'), row)
            if row['Result'] == 'failed':
                self.assertIn('interrupted before its removal',
                              row['Reason'])
        self.assertIn('the others were not started', stderr)
        self.assertLess(len(first), len(ids))
        # Re-run: copies in flight are waited for, nothing twice.
        again = self.drain('--ignore-missing', *ids, fail_ok=True)
        self.assertEqual(0, again.rc, again)
        for row in again.json():
            before = first.get(row['ID'], {}).get('Result')
            expected = {'moved': ('absent',), 'copying': ('removed', 'moved'),
                        'failed': ('removed',), None: ('moved',)}[before]
            self.assertIn(row['Result'], expected, row)
            self.assertEqual(['archive'], row['Remaining Stores'])
        for image_id in ids:
            self.expected[image_id] = (self.expected[image_id][0],
                                       {'archive'})
        self.assertEqual({i: 1 for i in ids}, dict(self.imports()))
