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
"""The engine's results after a DELETE: from the read-back and the proof,
never from the DELETE's answer alone; and when the lock stays."""

from keystoneauth1 import exceptions as ks_exc

from osc_image_store.engine import results
from osc_image_store.tests.unit import base

Removal = results.Removal


class TestAfterTheDelete(base.EngineCase):

    def glance(self, delete=204, after=('fast', 'archive'), proof=206,
               **fields):
        """Answers up to the DELETE, then ``delete`` and the read-back.

        :param after: stores listed by the read-back, or a response dict.
        """
        if isinstance(after, dict):
            back = after
        else:
            back = {'json': base.listing(
                base.with_stores(self.held, *after, **fields))}
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            [{'json': base.listing(self.body)},
             {'json': base.listing(self.held)}, back])
        self.mock_patch(self.body, self.held, self.body)
        self.mock_store_delete('cheap', self.iid, delete)
        if proof is not None:
            self.mock_file(self.iid, proof, b'x' if proof == 206 else b'')

    def row(self, store='cheap', **options):
        rows = self.run_engine([self.iid], store=store, **options)
        self.assertEqual(1, len(rows))
        return rows[0]

    def image_read_fails(self):
        self.http.get(base.V2 + '/images/' + self.iid,
                      **base.glance_error(500, 'db down'))

    def unlocked(self):
        return base.remove_lock(self.iid) in self.sent()

    # -- success -----------------------------------------------------------

    def test_removed(self):
        self.glance()
        self.assertEqual(Removal(self.iid, 'cirros', 'cheap', 'removed',
                                 ('archive', 'fast'), None), self.row())
        self.assertTrue(self.unlocked())

    def test_unlinked_from_a_read_only_store(self):
        self.mock_store_delete('archive', self.iid)
        self.glance(after=('fast', 'cheap'))
        self.assertEqual(
            Removal(self.iid, 'cirros', 'archive', 'unlinked',
                    ('cheap', 'fast'), 'Store archive is read-only: Glance '
                    'dropped the location, but the data there was not '
                    'deleted.'), self.row(store='archive'))
        self.assertEqual([base.store_delete(self.iid, 'archive')],
                         [s for s in self.sent() if s.startswith('DELETE')])

    def test_removed_after_a_503_when_the_store_is_gone(self):
        self.glance(delete=base.glance_error(503, 'busy'))
        row = self.row()
        self.assertEqual(('removed', ('archive', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertEqual(
            'The Images API failed to remove image %s from store cheap (HTTP '
            '503: busy); the image no longer lists store cheap, so the '
            'removal happened.' % self.iid, row.reason)
        self.assertEqual(1, len(self.deletes()))
        self.assertTrue(self.unlocked())

    def test_empty_image_proven_without_a_ranged_read(self):
        self.body['size'] = 0
        self.held['size'] = 0
        self.glance(proof=None)
        self.assertEqual('removed', self.row().result)
        self.assertNotIn(base.read_byte(self.iid), self.sent())

    def test_no_proof_asked(self):
        self.glance(proof=None)
        self.assertEqual('removed', self.row(verify_data=False).result)
        self.assertNotIn(base.read_byte(self.iid), self.sent())

    def test_read_back_by_image_when_the_listing_fails(self):
        self.glance(after=base.glance_error(500, 'db down'))
        self.mock_image(base.with_stores(self.held, 'fast'))
        row = self.row()
        self.assertEqual(('removed', ('fast',)),
                         (row.result, row.remaining_stores))
        self.assertEqual(
            [base.listing_of(self.iid), base.get_image(self.iid),
             base.read_byte(self.iid), base.remove_lock(self.iid)],
            self.sent()[5:])

    def test_two_locations_in_the_store(self):
        places = base.locations(('cheap', 'file:///c/1'),
                                ('cheap', 'file:///c/2'),
                                ('fast', 'file:///f/1'))
        self.body['locations'] = places
        self.held['locations'] = places
        one_left = base.with_stores(self.held, 'fast', 'cheap',
                                    locations=places[1:])
        none_left = base.with_stores(self.held, 'fast',
                                     locations=places[2:])
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            [{'json': base.listing(a)} for a in (
                self.body, self.held, one_left, none_left)])
        self.mock_patch(self.body, self.held, self.body)
        self.mock_store_delete('cheap', self.iid)
        self.mock_file(self.iid)
        self.assertEqual(Removal(self.iid, 'cirros', 'cheap', 'removed',
                                 ('fast',), None), self.row())
        self.assertEqual(
            [base.store_delete(self.iid), base.listing_of(self.iid),
             base.store_delete(self.iid), base.listing_of(self.iid),
             base.read_byte(self.iid), base.remove_lock(self.iid)],
            self.sent()[4:])

    def test_store_listed_twice(self):
        self.body['stores'] = self.held['stores'] = 'fast,cheap,cheap'
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            [{'json': base.listing(a)} for a in (
                self.body, self.held,
                base.with_stores(self.held, 'fast', 'cheap'),
                base.with_stores(self.held, 'fast'))])
        self.mock_patch(self.body, self.held, self.body)
        self.mock_store_delete('cheap', self.iid)
        self.mock_file(self.iid)
        self.assertEqual(Removal(self.iid, 'cirros', 'cheap', 'removed',
                                 ('fast',), None), self.row())
        self.assertEqual(2, len(self.deletes()))

    def test_more_locations_than_rounds_is_unverified(self):
        # Five locations in the store, one removed per DELETE: after the
        # last round the store is still listed, so never "removed".
        def stores(count):
            return ','.join(['fast'] + ['cheap'] * count)
        self.body['stores'] = self.held['stores'] = stores(5)
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            [{'json': base.listing(a)} for a in (
                self.body, self.held,
                *(dict(self.held, stores=stores(n)) for n in (4, 3, 2, 1)))])
        self.mock_patch(self.body, self.held, self.body)
        self.mock_store_delete('cheap', self.iid)
        row = self.row()
        self.assertEqual(('unverified', ('cheap', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertIn('still lists store cheap after 4 removals', row.reason)
        self.assertEqual(4, len(self.deletes()))

    # -- failed ------------------------------------------------------------

    def test_proof_answers_no_data(self):
        self.glance(proof=204)
        row = self.row()
        self.assertEqual(('failed', ('archive', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertIn('The copy in store cheap was removed, but the image\'s '
                      'data cannot be read now (GET /v2/images/%s/file '
                      'answered 204 (no data)): it may have lost its data'
                      % self.iid, row.reason)
        self.assertTrue(self.unlocked())

    def test_refused_by_glance(self):
        self.glance(delete=base.glance_error(
            409, 'Image data could not be deleted because it is in use'),
            after=('fast', 'cheap', 'archive'), proof=None)
        row = self.row()
        self.assertEqual(('failed', ('archive', 'cheap', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertIn('because it is in use', row.reason)
        self.assertTrue(self.unlocked())

    # -- unverified --------------------------------------------------------

    def test_204_and_the_read_back_fails(self):
        self.glance(after=base.glance_error(500, 'db down'), proof=None)
        self.image_read_fails()
        row = self.row()
        self.assertEqual(('unverified', None),
                         (row.result, row.remaining_stores))
        self.assertIn('(HTTP 204), but the image could not be read back',
                      row.reason)
        self.assertTrue(self.unlocked())
        self.assertNotIn(base.read_byte(self.iid), self.sent())

    def test_204_and_the_store_still_listed(self):
        self.glance(after=('fast', 'cheap', 'archive'), proof=None)
        row = self.row()
        self.assertEqual(('unverified', ('archive', 'cheap', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertIn('but the image still lists that store', row.reason)
        self.assertIn('(a ghost)', row.reason)
        self.assertEqual(1, len(self.deletes()))
        # A ghost listing may be all that keeps another run from removing
        # the last real copy: the lock stays.
        self.assertFalse(self.unlocked())

    def test_import_started_meanwhile(self):
        self.glance(after=('fast',), proof=None,
                    os_glance_import_task='t-9')
        row = self.row()
        self.assertEqual('unverified', row.result)
        self.assertIn('an import (task t-9) started meanwhile', row.reason)

    def test_proof_read_fails(self):
        self.glance(proof=None)
        self.http.get('%s/images/%s/file' % (base.V2, self.iid),
                      exc=ks_exc.ConnectFailure)
        row = self.row()
        self.assertEqual(('unverified', ('archive', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertIn('The copy in store cheap was removed, but the one-byte '
                      'read of its data failed', row.reason)
        self.assertTrue(self.unlocked())

    # -- unknown: the lock stays -------------------------------------------

    def check_unknown(self, delete, after, remaining):
        self.glance(delete=delete, after=after, proof=None)
        row = self.row()
        self.assertEqual(('unknown', remaining),
                         (row.result, row.remaining_stores))
        self.assertTrue(row.reason.endswith(
            'Its lock (property osc_image_store_lock) stays for 15 minutes '
            'so that no other run removes another copy meanwhile; once the '
            'image shows what happened, "openstack image unset --property '
            'osc_image_store_lock %s" removes it sooner.' % self.iid),
            row.reason)
        self.assertFalse(self.unlocked())
        self.assertEqual(1, len(self.deletes()))
        return row

    def test_timeout_and_still_listed(self):
        row = self.check_unknown(ks_exc.ConnectTimeout,
                                 ('fast', 'cheap', 'archive'),
                                 ('archive', 'cheap', 'fast'))
        self.assertIn('No answer from the Images API', row.reason)

    def test_dropped_connection_and_read_back_fails(self):
        self.image_read_fails()
        self.check_unknown(ks_exc.ConnectFailure,
                           base.glance_error(500, 'db down'), None)

    def test_503_and_still_listed(self):
        row = self.check_unknown(base.glance_error(503, 'busy'),
                                 ('fast', 'cheap', 'archive'),
                                 ('archive', 'cheap', 'fast'))
        self.assertIn('(HTTP 503: busy); the image still lists store cheap',
                      row.reason)

    def test_503_and_read_back_fails(self):
        self.image_read_fails()
        self.check_unknown(base.glance_error(503, 'busy'),
                           base.glance_error(500, 'db down'), None)
