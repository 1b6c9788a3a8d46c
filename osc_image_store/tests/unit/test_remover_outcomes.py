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
never from the DELETE's answer alone; and when an image gets a hold."""

import os
import time

from keystoneauth1 import exceptions as ks_exc

from osc_image_store.engine import results
from osc_image_store.engine import runlock
from osc_image_store.tests.unit import base

Removal = results.Removal

#: The end of the reason of a row whose image got a hold (% image ID).
HOLD = (' A hold (property osc_image_store_lock) stays on it for 15 minutes '
        'so that no run of this command removes another copy meanwhile; '
        'once the image shows what happened, "openstack image unset '
        '--property osc_image_store_lock %s" removes it sooner.')


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
                base.with_stores(self.body, *after, **fields))}
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            [{'json': base.listing(self.body)}, back])
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

    def assert_no_hold(self):
        """No PATCH at all: no hold written, none removed."""
        self.assertEqual([], self.patches())

    def assert_held(self, written=True):
        """One PATCH: this run's hold, written after the read-back.

        When it could not be written, the run keeps the lock between runs
        (no release at the end).
        """
        patches = self.patches()
        self.assertEqual(1, len(patches), patches)
        [operation] = patches[0]
        self.assertEqual(('add', '/osc_image_store_lock'),
                         (operation['op'], operation['path']))
        token, _host, pid, since = operation['value'].split()
        self.assertEqual(base.TOKEN, token)
        self.assertEqual(os.getpid(), int(pid))
        self.assertLess(abs(time.time() - int(since)), 60)
        sent = self.sent()
        self.assertLess(sent.index(base.store_delete(self.iid)),
                        sent.index(base.add_lock(self.iid)))
        if written:
            self.assertEqual(base.UNLOCK, sent[-2:])
        else:
            self.assertEqual(base.add_lock(self.iid), sent[-1])
            self.assertEqual(base.RUN_TOKEN, list(runlock.State.parse(
                self.register).runs)[0])

    # -- success -----------------------------------------------------------

    def test_removed(self):
        self.glance()
        self.assertEqual(Removal(self.iid, 'cirros', 'cheap', 'removed',
                                 ('archive', 'fast'), None), self.row())
        self.assertEqual([base.STORES] + base.removal(self.iid), self.sent())
        self.assert_no_hold()

    def test_unlinked_from_a_read_only_store(self):
        self.mock_store_delete('archive', self.iid)
        self.glance(after=('fast', 'cheap'))
        self.assertEqual(
            Removal(self.iid, 'cirros', 'archive', 'unlinked',
                    ('cheap', 'fast'), 'Store archive is read-only: Glance '
                    'dropped the location, but the data there was not '
                    'deleted.'), self.row(store='archive'))
        self.assertEqual([base.STORES] + base.removal(self.iid, 'archive'),
                         self.sent())
        self.assert_no_hold()

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
        # The read-back shows what happened: no hold.
        self.assert_no_hold()

    def test_empty_image_proven_without_a_ranged_read(self):
        self.body['size'] = 0
        self.glance(proof=None)
        self.assertEqual('removed', self.row().result)
        self.assertNotIn(base.read_byte(self.iid), self.sent())

    def test_no_proof_asked(self):
        self.glance(proof=None)
        self.assertEqual('removed', self.row(verify_data=False).result)
        self.assertNotIn(base.read_byte(self.iid), self.sent())

    def test_read_back_by_image_when_the_listing_fails(self):
        self.glance(after=base.glance_error(500, 'db down'))
        self.mock_image(base.with_stores(self.body, 'fast'))
        row = self.row()
        self.assertEqual(('removed', ('fast',)),
                         (row.result, row.remaining_stores))
        self.assertEqual(
            [base.STORES] + base.LOCK
            + [base.listing_of(self.iid), base.store_delete(self.iid),
               base.listing_of(self.iid), base.get_image(self.iid),
               base.read_byte(self.iid)] + base.UNLOCK, self.sent())

    def test_two_locations_in_the_store(self):
        places = base.locations(('cheap', 'file:///c/1'),
                                ('cheap', 'file:///c/2'),
                                ('fast', 'file:///f/1'))
        self.body['locations'] = places
        one_left = base.with_stores(self.body, 'fast', 'cheap',
                                    locations=places[1:])
        none_left = base.with_stores(self.body, 'fast',
                                     locations=places[2:])
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            [{'json': base.listing(a)} for a in (
                self.body, one_left, none_left)])
        self.mock_store_delete('cheap', self.iid)
        self.mock_file(self.iid)
        self.assertEqual(Removal(self.iid, 'cirros', 'cheap', 'removed',
                                 ('fast',), None), self.row())
        self.assertEqual(
            [base.STORES] + base.LOCK
            + [base.listing_of(self.iid), base.store_delete(self.iid),
               base.listing_of(self.iid), base.store_delete(self.iid),
               base.listing_of(self.iid), base.read_byte(self.iid)]
            + base.UNLOCK, self.sent())

    def test_store_listed_twice(self):
        self.body['stores'] = 'fast,cheap,cheap'
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            [{'json': base.listing(a)} for a in (
                self.body, base.with_stores(self.body, 'fast', 'cheap'),
                base.with_stores(self.body, 'fast'))])
        self.mock_store_delete('cheap', self.iid)
        self.mock_file(self.iid)
        self.assertEqual(Removal(self.iid, 'cirros', 'cheap', 'removed',
                                 ('fast',), None), self.row())
        self.assertEqual(2, len(self.deletes()))
        self.assert_no_hold()

    def test_more_locations_than_rounds_is_unverified(self):
        # Five locations in the store, one removed per DELETE: after the
        # last round the store is still listed, so never "removed".
        def stores(count):
            return ','.join(['fast'] + ['cheap'] * count)
        self.body['stores'] = stores(5)
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            [{'json': base.listing(a)} for a in (
                self.body,
                *(dict(self.body, stores=stores(n)) for n in (4, 3, 2, 1)))])
        self.mock_store_delete('cheap', self.iid)
        row = self.row()
        self.assertEqual(('unverified', ('cheap', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertIn('still lists store cheap after 4 removals', row.reason)
        self.assertEqual(4, len(self.deletes()))
        # The pre-read, then one read-back per round.
        self.assertEqual(5, self.sent().count(base.listing_of(self.iid)))
        self.assert_no_hold()

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
        self.assert_no_hold()

    def test_refused_by_glance(self):
        self.glance(delete=base.glance_error(
            409, 'Image data could not be deleted because it is in use'),
            after=('fast', 'cheap', 'archive'), proof=None)
        row = self.row()
        self.assertEqual(('failed', ('archive', 'cheap', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertIn('because it is in use', row.reason)
        # A 4xx is a refusal: nothing may still happen, no hold.
        self.assert_no_hold()
        self.assertNotIn(base.read_byte(self.iid), self.sent())

    # -- unverified --------------------------------------------------------

    def test_204_and_the_read_back_fails(self):
        self.glance(after=base.glance_error(500, 'db down'), proof=None)
        self.image_read_fails()
        row = self.row()
        self.assertEqual(('unverified', None),
                         (row.result, row.remaining_stores))
        self.assertIn('(HTTP 204), but the image could not be read back',
                      row.reason)
        self.assert_no_hold()
        self.assertNotIn(base.read_byte(self.iid), self.sent())

    def test_204_and_the_store_still_listed(self):
        self.mock_patch(self.body, self.held)
        self.glance(after=('fast', 'cheap', 'archive'), proof=None)
        row = self.row()
        self.assertEqual(('unverified', ('archive', 'cheap', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertIn('but the image still lists that store', row.reason)
        self.assertIn('(a ghost)', row.reason)
        self.assertTrue(row.reason.endswith(HOLD % self.iid), row.reason)
        self.assertEqual(1, len(self.deletes()))
        # A ghost listing may be all that keeps another run from removing
        # the last real copy: the image gets a hold.
        self.assert_held()
        self.assertEqual(
            [base.STORES] + base.LOCK
            + [base.listing_of(self.iid), base.store_delete(self.iid),
               base.listing_of(self.iid), base.add_lock(self.iid)]
            + base.UNLOCK, self.sent())

    def test_import_started_meanwhile(self):
        self.glance(after=('fast',), proof=None,
                    os_glance_import_task='t-9')
        row = self.row()
        self.assertEqual('unverified', row.result)
        self.assertIn('an import (task t-9) started meanwhile', row.reason)
        self.assert_no_hold()

    def test_proof_read_fails(self):
        self.glance(proof=None)
        self.http.get('%s/images/%s/file' % (base.V2, self.iid),
                      exc=ks_exc.ConnectFailure)
        row = self.row()
        self.assertEqual(('unverified', ('archive', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertIn('The copy in store cheap was removed, but the one-byte '
                      'read of its data failed', row.reason)
        self.assert_no_hold()

    # -- unknown: the image gets a hold ------------------------------------

    def check_unknown(self, delete, after, remaining, hold=None):
        """An unknown outcome; ``hold``: the hold PATCH's answer."""
        self.mock_patch(self.body, self.held if hold is None else hold)
        self.glance(delete=delete, after=after, proof=None)
        row = self.row()
        self.assertEqual(('unknown', remaining),
                         (row.result, row.remaining_stores))
        self.assert_held(written=hold is None)
        self.assertEqual(1, len(self.deletes()))
        self.assertNotIn(base.read_byte(self.iid), self.sent())
        if hold is None:
            self.assertTrue(row.reason.endswith(HOLD % self.iid),
                            row.reason)
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
        self.assertEqual(
            [base.STORES] + base.LOCK
            + [base.listing_of(self.iid), base.store_delete(self.iid),
               base.listing_of(self.iid), base.get_image(self.iid),
               base.add_lock(self.iid)] + base.UNLOCK, self.sent())

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

    def test_hold_not_written(self):
        row = self.check_unknown(
            base.glance_error(503, 'busy'), ('fast', 'cheap', 'archive'),
            ('archive', 'cheap', 'fast'),
            hold=base.glance_error(403, 'You are not authorized to '
                                   'complete modify_image action.'))
        # The hint, then why the hold is not there after all.
        self.assertIn(HOLD % self.iid + ' The hold could not be written (',
                      row.reason)
        self.assertIn('modify_image', row.reason)
        self.assertTrue(row.reason.endswith(
            '): this run keeps the lock between runs (it lapses 5 minutes '
            'after its last beat) instead; check the image before any other '
            'removal.'), row.reason)

    def test_unknown_on_a_stale_hold_writes_a_new_one(self):
        # Another run's hold, 16 minutes old: it does not block, and after
        # an unknown outcome it is replaced by this run's (no PATCH remove).
        self.body = base.locked(self.body, token='a' * 32,
                                since=time.time() - 16 * 60)
        self.check_unknown(base.glance_error(503, 'busy'),
                           ('fast', 'cheap', 'archive'),
                           ('archive', 'cheap', 'fast'))
        self.assertNotIn(base.remove_lock(self.iid), self.sent())
