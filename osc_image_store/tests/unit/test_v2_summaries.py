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
"""The lines after the rows say what the rows say, and no more.

Each case is one the issue quotes: a last line that counted removals as
"not removed", a plan that promised to free the bytes of a read-only
store, and an ``--all-images`` end that called a store empty of data
where Glance may keep the bytes.
"""

import json

from osc_image_store.tests.unit import base
from osc_image_store.tests.unit import command


class TestLastLine(command.DeleteCase):

    def setUp(self):
        super().setUp()
        self.mock_locks()
        self.one = base.image_body('one')
        self.two = base.image_body('two')

    def chunk(self, *bodies):
        self.mock_chunk(*bodies)
        return [b['id'] for b in bodies]

    def test_unverified_removals_are_not_called_not_removed(self):
        # "6 of 6 images were not removed from store fast as asked" while
        # every row said "The copy in store fast was removed, but the
        # one-byte read of its data answered 5xx".
        ids = self.chunk(self.one, self.two)
        for image_id in ids:
            self.mock_file(image_id, 500, b'')
        self.assertEqual(1, self.run_cmd('--store', 'cheap', '-f', 'json',
                                         *ids))
        rows = json.loads(self.stdout.getvalue())
        self.assertEqual(['unverified', 'unverified'],
                         [r['Result'] for r in rows])
        for row in rows:
            self.assertIn('The copy in store cheap was removed, but the '
                          'one-byte read of its data answered 500',
                          row['Reason'])
        self.assertEqual('Store cheap, 2 image(s): 2 unverified (see Result '
                         'and Reason)', self.error)
        self.assertNotIn('not removed', self.error)

    def test_every_result_has_its_own_count(self):
        # "150 of 150 ... 40 unverified": the line counts each Result, so
        # removed rows are counted as removed.
        three = base.image_body('three')
        ids = self.chunk(self.one, self.two, three)
        self.mock_file(ids[1], 500, b'')    # unverified
        self.mock_file(ids[2], 204, b'')    # failed: no data left
        self.assertEqual(1, self.run_cmd('--store', 'cheap', '-f', 'json',
                                         *ids))
        self.assertEqual(['removed', 'unverified', 'failed'],
                         [r['Result'] for r in json.loads(
                             self.stdout.getvalue())])
        self.assertEqual('Store cheap, 3 image(s): 1 removed, 1 failed, 1 '
                         'unverified (see Result and Reason)', self.error)


class TestReadOnlyStore(command.DeleteCase):
    """``archive`` is read-only in the recorded store list."""

    def setUp(self):
        super().setUp()
        self.mock_locks()

    def test_dry_run_frees_nothing_from_a_read_only_store(self):
        # "65,536 bytes to be freed from web" while its row said the data
        # stays.
        self.mock_listing([self.body])
        self.assertEqual(0, self.run_cmd('--store', 'archive', '--dry-run',
                                         '-f', 'json', self.iid))
        row = json.loads(self.stdout.getvalue())[0]
        self.assertEqual('would-remove', row['Result'])
        self.assertIn('read-only', row['Reason'])
        self.assertIn('WARNING Plan for store archive: 1 image(s) to remove, '
                      '0 blocked; no space to be freed: store archive is '
                      'read-only (Glance drops the locations; the data stays '
                      'where it is).', self.logs.output)
        self.assertNotIn('bytes to be freed', self.logs.output)

    def listings(self, *before):
        """--all-images: the selection lists ``before``, then nothing."""
        for hidden, bodies in (('false', before), ('true', ())):
            # openstacksdk reads one more (empty) page after each.
            self.http.get(base.V2 + '/images?limit=200&os_hidden=' + hidden,
                          [{'json': base.listing(*bodies)},
                           {'json': base.listing()},
                           {'json': base.listing()},
                           {'json': base.listing()}])

    def test_all_images_end_of_a_read_only_store(self):
        self.listings(self.body)
        self.mock_chunk(self.body, left=('fast', 'cheap'), store='archive')
        self.assertEqual(0, self.run_cmd('--store', 'archive',
                                         '--all-images', '-f', 'value',
                                         '-c', 'Result'))
        self.assertEqual('unlinked\n', self.stdout.getvalue())
        self.assertIn('Store archive: no visible image lists it any more '
                      '(checked with the image listing; locations without a '
                      'store ID are only seen with --check-untagged). The '
                      'store is read-only: the data stays where it is '
                      '(Glance only dropped the locations).',
                      self.logs.output)
        self.assertNotIn('holds data there', self.logs.output)

    def test_all_images_end_says_glance_may_keep_the_bytes(self):
        # With delayed_delete the files stay until a scrubber runs; the
        # command cannot see that setting: the line says so.
        self.listings(self.body)
        self.mock_chunk(self.body)
        self.assertEqual(0, self.run_cmd('--store', 'cheap', '--all-images',
                                         '-f', 'value', '-c', 'Result'))
        self.assertIn('Store cheap: no visible image lists it any more '
                      '(checked with the image listing; locations without a '
                      'store ID are only seen with --check-untagged). Glance '
                      'frees the space unless it keeps deleted data: with '
                      'delayed_delete, until its scrubber runs; on RBD, '
                      'images with snapshots go to the trash.',
                      self.logs.output)
