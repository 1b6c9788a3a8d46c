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
"""The read stages alone (engine/reads.py): the fresh read before the
removals and the read-back after them."""

from keystoneauth1 import exceptions as ks_exc

from osc_image_store.engine import reads
from osc_image_store.engine import results
from osc_image_store.tests.unit import base


class ReadCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.a = base.image_body('a')
        self.b = base.image_body('b', stores=('cheap', 'fast'))
        self.ids = [self.a['id'], self.b['id']]


class TestReadFresh(ReadCase):

    def read(self, names=None):
        return reads.read_fresh(self.proxy, 'cheap', self.ids, names or {})

    def test_found_in_one_listing(self):
        self.mock_listing([self.a, self.b])
        found, rows = self.read()
        self.assertEqual({}, rows)
        self.assertEqual(self.ids, list(found))
        self.assertEqual((['cheap', 'fast'], 'b'),
                         (found[self.b['id']].store_ids,
                          found[self.b['id']].name))
        self.assertEqual([base.listing_of(*self.ids)], self.sent())

    def test_image_not_returned_is_a_failed_row(self):
        self.mock_listing([self.a])
        self.mock_listing([], hidden=True)
        found, rows = self.read({self.b['id']: 'b'})
        self.assertEqual([self.a['id']], list(found))
        # The name known so far is not on this row (the argument was an ID,
        # or the image is gone).
        self.assertEqual({self.b['id']: results.Removal(
            self.b['id'], None, 'cheap', 'failed', None,
            'No image with name or ID %s (deleted, or not visible to you).'
            % self.b['id'])}, rows)
        self.assertEqual([base.listing_of(*self.ids),
                          base.listing_of(self.b['id'], hidden=True)],
                         self.sent())

    def test_hidden_image_is_found(self):
        self.mock_listing([self.a])
        self.mock_listing([self.b], hidden=True)
        found, rows = self.read()
        self.assertEqual((sorted(self.ids), {}), (sorted(found), rows))

    def test_listing_error_fails_every_image_with_its_name(self):
        self.mock_listing(base.glance_error(500, 'db down'))
        found, rows = self.read({self.a['id']: 'a'})
        self.assertEqual({}, found)
        self.assertEqual(self.ids, list(rows))
        for image_id, name in zip(self.ids, ('a', None)):
            row = rows[image_id]
            self.assertEqual((image_id, name, 'cheap', 'failed', None),
                             (row.image_id, row.image_name, row.store,
                              row.result, row.remaining_stores))
            self.assertTrue(row.reason.startswith(
                'Image %s could not be read (' % image_id), row.reason)
            self.assertIn('db down', row.reason)
            self.assertTrue(row.reason.endswith('); nothing was removed.'))
        self.assertEqual([base.listing_of(*self.ids)], self.sent())

    def test_listing_without_answer_fails_every_image(self):
        self.mock_listing({'exc': ks_exc.ConnectTimeout})
        found, rows = self.read()
        self.assertEqual({}, found)
        self.assertEqual(
            'Image %s could not be read (Timed out connecting to service.); '
            'nothing was removed.' % self.a['id'], rows[self.a['id']].reason)
        self.assertEqual(self.ids, list(rows))


class TestReadBack(ReadCase):

    def test_nothing_to_read(self):
        self.assertEqual({}, reads.read_back(self.proxy, []))
        self.assertEqual([], self.sent())

    def test_one_listing(self):
        self.mock_listing([base.with_stores(self.a, 'fast'), self.b])
        found = reads.read_back(self.proxy, self.ids)
        self.assertEqual(sorted(self.ids), sorted(found))
        self.assertEqual(['fast'], found[self.a['id']].store_ids)
        self.assertEqual([base.listing_of(*self.ids)], self.sent())

    def test_image_the_listing_misses_is_read_alone(self):
        self.mock_listing([self.a])
        self.mock_listing([], hidden=True)
        self.mock_image(base.with_stores(self.b, 'fast'))
        found = reads.read_back(self.proxy, self.ids)
        self.assertEqual(sorted(self.ids), sorted(found))
        self.assertEqual(['fast'], found[self.b['id']].store_ids)
        self.assertEqual([base.listing_of(*self.ids),
                          base.listing_of(self.b['id'], hidden=True),
                          base.get_image(self.b['id'])], self.sent())

    def test_listing_fails_one_by_one_unreadable_left_out(self):
        self.mock_listing(base.glance_error(500, 'db down'))
        self.mock_image(self.a)
        self.http.get(base.V2 + '/images/' + self.b['id'],
                      **base.glance_error(404, 'gone'))
        found = reads.read_back(self.proxy, self.ids)
        self.assertEqual([self.a['id']], list(found))
        self.assertEqual([base.listing_of(*self.ids),
                          base.get_image(self.a['id']),
                          base.get_image(self.b['id'])], self.sent())

    def test_no_answer_at_all_reads_nothing(self):
        self.mock_listing({'exc': ks_exc.ConnectFailure})
        for image_id in self.ids:
            self.http.get(base.V2 + '/images/' + image_id,
                          exc=ks_exc.ConnectFailure)
        self.assertEqual({}, reads.read_back(self.proxy, self.ids))
        self.assertEqual([base.listing_of(*self.ids)]
                         + [base.get_image(i) for i in self.ids],
                         self.sent())
