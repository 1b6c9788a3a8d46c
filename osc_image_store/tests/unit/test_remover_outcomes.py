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
never from the DELETE's answer alone; and when an image keeps its lock."""

from keystoneauth1 import exceptions as ks_exc

from osc_image_store.engine import results
from osc_image_store.tests.unit import base

Removal = results.Removal

#: The end of the reason of a row whose image keeps its lock (% image ID).
KEPT = (' Its lock stays (tag %s of metadata definitions namespace '
        'osc-image-store-locks), so that no run of this command removes '
        'another copy of it meanwhile: check where its data is with '
        '"openstack image store list --image %s", then clear the lock with '
        '"openstack image store lock delete %s".')


def kept(image_id):
    return KEPT % (image_id, image_id, image_id)


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
        self.engine = self.remover(store, **options)
        rows = list(self.engine.run([self.iid]))
        self.assertEqual(1, len(rows))
        return rows[0]

    def image_read_fails(self):
        self.http.get(base.V2 + '/images/' + self.iid,
                      **base.glance_error(500, 'db down'))

    def assert_unlocked(self):
        """The lock was taken before the read and released at the end.

        The lock namespace is read before the lock; the locks are listed
        once after the read-back (was the lock held throughout?).
        """
        sent = self.sent()
        self.assertEqual(base.READ_NAMESPACE, sent[1])
        self.assertEqual(base.lock_one(self.iid), sent[2])
        self.assertEqual(base.listing_of(self.iid), sent[3])
        self.assertEqual(base.unlock(self.iid), sent[-1])
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(self.iid),
                          base.LIST_LOCKS, base.unlock(self.iid)],
                         self.lock_requests())
        self.assertEqual([], self.lock_tags.names())
        self.assertEqual([], self.engine.kept_locks)

    def assert_kept(self, row):
        """The lock stays (never unlocked); the reason says how to clear.

        Glance may still carry the DELETE out, or the image may list a
        copy without data: no run may remove another copy meanwhile.
        """
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(self.iid),
                          base.LIST_LOCKS], self.lock_requests())
        self.assertEqual([self.iid], self.lock_tags.names())
        self.assertEqual([self.iid], self.engine.kept_locks)
        self.assertEqual(set(), self.engine.locks.held)
        self.assertTrue(row.reason.endswith(kept(self.iid)), row.reason)

    # -- success: unlocked ------------------------------------------------

    def test_removed(self):
        self.glance()
        self.assertEqual(Removal(self.iid, 'cirros', 'cheap', 'removed',
                                 ('archive', 'fast'), None), self.row())
        self.assertEqual([base.STORES] + base.removal(self.iid), self.sent())
        self.assert_unlocked()

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
        self.assert_unlocked()

    def test_removed_after_a_503_when_the_store_is_gone(self):
        self.glance(delete=base.glance_error(503, 'busy'))
        row = self.row()
        self.assertEqual(('removed', ('archive', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertEqual(
            'The Images API failed to remove image %s from store cheap (HTTP '
            '503: busy); the image no longer lists store cheap, so the '
            'removal happened.' % self.iid, row.reason)
        self.assertEqual(1, self.sent().count(base.store_delete(self.iid)))
        # The read-back shows what happened: the lock goes.
        self.assert_unlocked()

    def test_empty_image_proven_without_a_ranged_read(self):
        self.body['size'] = 0
        self.glance(proof=None)
        self.assertEqual('removed', self.row().result)
        self.assertNotIn(base.read_byte(self.iid), self.sent())
        self.assert_unlocked()

    def test_no_proof_asked(self):
        self.glance(proof=None)
        self.assertEqual('removed', self.row(verify_data=False).result)
        self.assertNotIn(base.read_byte(self.iid), self.sent())
        self.assert_unlocked()

    def test_read_back_by_image_when_the_listing_fails(self):
        self.glance(after=base.glance_error(500, 'db down'))
        self.mock_image(base.with_stores(self.body, 'fast'))
        row = self.row()
        self.assertEqual(('removed', ('fast',)),
                         (row.result, row.remaining_stores))
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.store_delete(self.iid),
             base.listing_of(self.iid), base.get_image(self.iid),
             base.LIST_LOCKS, base.read_byte(self.iid),
             base.unlock(self.iid)], self.sent())
        self.assert_unlocked()

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
        # One lock over both rounds; the locks listed once, after them.
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.store_delete(self.iid),
             base.listing_of(self.iid), base.store_delete(self.iid),
             base.listing_of(self.iid), base.LIST_LOCKS,
             base.read_byte(self.iid), base.unlock(self.iid)], self.sent())
        self.assert_unlocked()

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
        self.assertEqual(2, self.sent().count(base.store_delete(self.iid)))
        self.assert_unlocked()

    # -- failed: unlocked, unless the data may be lost ---------------------

    def test_refused_by_glance(self):
        self.glance(delete=base.glance_error(
            409, 'Image data could not be deleted because it is in use'),
            after=('fast', 'cheap', 'archive'), proof=None)
        row = self.row()
        self.assertEqual(('failed', ('archive', 'cheap', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertIn('because it is in use', row.reason)
        # A 4xx is a refusal: nothing may still happen, the lock goes.
        self.assert_unlocked()
        self.assertNotIn(base.read_byte(self.iid), self.sent())

    def test_proof_answers_no_data(self):
        self.glance(proof=204)
        row = self.row()
        self.assertEqual(('failed', ('archive', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertIn('The copy in store cheap was removed, but the image\'s '
                      'data cannot be read now (GET /v2/images/%s/file '
                      'answered 204 (no data)): it may have lost its data'
                      % self.iid, row.reason)
        # The data may be lost: no run may remove another copy.
        self.assert_kept(row)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.store_delete(self.iid),
             base.listing_of(self.iid), base.LIST_LOCKS,
             base.read_byte(self.iid)], self.sent())

    def test_no_store_left_after_the_removal(self):
        self.glance(after=(), proof=None)
        row = self.row()
        self.assertEqual(('failed', ()), (row.result, row.remaining_stores))
        self.assertIn('lists no store at all after the removal from cheap',
                      row.reason)
        self.assert_kept(row)

    # -- unverified: the lock stays ----------------------------------------

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
        self.assertEqual(4, self.sent().count(base.store_delete(self.iid)))
        # The pre-read, then one read-back per round.
        self.assertEqual(5, self.sent().count(base.listing_of(self.iid)))
        self.assert_kept(row)

    def test_204_and_the_read_back_fails(self):
        self.glance(after=base.glance_error(500, 'db down'), proof=None)
        self.image_read_fails()
        row = self.row()
        self.assertEqual(('unverified', None),
                         (row.result, row.remaining_stores))
        self.assertIn('(HTTP 204), but the image could not be read back',
                      row.reason)
        self.assertNotIn(base.read_byte(self.iid), self.sent())
        self.assert_kept(row)

    def test_204_and_the_store_still_listed(self):
        self.glance(after=('fast', 'cheap', 'archive'), proof=None)
        row = self.row()
        self.assertEqual(('unverified', ('archive', 'cheap', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertIn('but the image still lists that store', row.reason)
        self.assertIn('(a ghost)', row.reason)
        # A ghost listing may be all that keeps another run from removing
        # the last real copy: the lock stays.
        self.assert_kept(row)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.store_delete(self.iid),
             base.listing_of(self.iid), base.LIST_LOCKS], self.sent())

    def test_import_started_meanwhile(self):
        self.glance(after=('fast',), proof=None,
                    os_glance_import_task='t-9')
        row = self.row()
        self.assertEqual('unverified', row.result)
        self.assertIn('an import (task t-9) started meanwhile', row.reason)
        self.assert_kept(row)

    def test_proof_read_fails(self):
        self.glance(proof=None)
        self.http.get('%s/images/%s/file' % (base.V2, self.iid),
                      exc=ks_exc.ConnectFailure)
        row = self.row()
        self.assertEqual(('unverified', ('archive', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertIn('The copy in store cheap was removed, but the one-byte '
                      'read of its data failed', row.reason)
        self.assert_kept(row)

    # -- unknown: the lock stays -------------------------------------------

    def check_unknown(self, delete, after, remaining):
        self.glance(delete=delete, after=after, proof=None)
        row = self.row()
        self.assertEqual(('unknown', remaining),
                         (row.result, row.remaining_stores))
        self.assertEqual(1, self.sent().count(base.store_delete(self.iid)))
        self.assertNotIn(base.read_byte(self.iid), self.sent())
        self.assert_kept(row)
        return row

    def test_timeout_and_still_listed(self):
        row = self.check_unknown(ks_exc.ConnectTimeout,
                                 ('fast', 'cheap', 'archive'),
                                 ('archive', 'cheap', 'fast'))
        self.assertIn('No answer from the Images API', row.reason)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.store_delete(self.iid),
             base.listing_of(self.iid), base.LIST_LOCKS], self.sent())

    def test_dropped_connection_and_read_back_fails(self):
        self.image_read_fails()
        self.check_unknown(ks_exc.ConnectFailure,
                           base.glance_error(500, 'db down'), None)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.store_delete(self.iid),
             base.listing_of(self.iid), base.get_image(self.iid),
             base.LIST_LOCKS], self.sent())

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

    # -- the unlock itself fails -------------------------------------------

    def test_unlock_without_answer_lock_still_there_is_in_doubt(self):
        self.glance()
        self.lock_tags.fail('DELETE', self.iid,
                            base.glance_error(500, 'db down'))
        row = self.row()
        self.assertEqual(('removed', ('archive', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertEqual(
            'The release of its lock got no answer (HTTP 500: db down) and '
            'the lock is still there: that release may still reach Glance '
            'later. Until then runs of this command refuse the image; clear '
            'the lock with "openstack image store lock delete %s" only once '
            'no request of this run can still arrive.' % self.iid,
            row.reason)
        # Sent once, then the tag read: by a second DELETE the name may be
        # another run's lock.
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(self.iid),
                          base.LIST_LOCKS, base.unlock(self.iid),
                          base.read_lock(self.iid)], self.lock_requests())
        self.assertEqual([self.iid], self.lock_tags.names())
        self.assertEqual(set(), self.engine.locks.held)
        self.assertEqual([self.iid], self.engine.unreleased)
        self.assertEqual([], self.engine.kept_locks)

    def test_unlock_refused_is_definite(self):
        self.glance()
        self.lock_tags.fail('DELETE', self.iid, base.glance_error(
            403, 'You are not authorized to complete delete_metadef_tag '
            'action.'))
        row = self.row()
        self.assertEqual(('removed', ('archive', 'fast')),
                         (row.result, row.remaining_stores))
        self.assertEqual(
            'Its lock could not be removed (HTTP 403: You are not authorized '
            'to complete delete_metadef_tag action.): runs of this command '
            'refuse the image until "openstack image store lock delete %s" '
            'is run.' % self.iid, row.reason)
        # A refusal is an answer: no read of the tag.
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(self.iid),
                          base.LIST_LOCKS, base.unlock(self.iid)],
                         self.lock_requests())
        self.assertEqual([self.iid], self.lock_tags.names())
        self.assertEqual([self.iid], self.engine.unreleased)

    def test_unlock_without_answer_but_carried_out_is_released(self):
        # Glance deleted the tag, and its answer was lost: the tag read
        # (404) says the lock is gone; nothing to say in the row.
        self.glance()

        def carried_out(method, name):
            if method == 'DELETE':
                self.lock_tags.tags.pop(name, None)

        self.lock_tags.before = carried_out
        self.lock_tags.fail('DELETE', self.iid,
                            base.glance_error(502, 'Bad Gateway'))
        self.assertEqual(Removal(self.iid, 'cirros', 'cheap', 'removed',
                                 ('archive', 'fast'), None), self.row())
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(self.iid),
                          base.LIST_LOCKS, base.unlock(self.iid),
                          base.read_lock(self.iid)], self.lock_requests())
        self.assertEqual([], self.lock_tags.names())
        self.assertEqual([], self.engine.unreleased)

    def test_unlock_of_a_lock_cleared_meanwhile(self):
        # An operator cleared the lock during the run: 404 is fine.
        self.glance()
        self.lock_tags.before = lambda method, name: (
            method == 'DELETE' and self.lock_tags.tags.pop(name, None))
        self.assertEqual(Removal(self.iid, 'cirros', 'cheap', 'removed',
                                 ('archive', 'fast'), None), self.row())
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(self.iid),
                          base.LIST_LOCKS, base.unlock(self.iid)],
                         self.lock_requests())
        self.assertEqual([], self.engine.unreleased)


#: The note of a row whose lock vanished while the run held it (% ID).
LOST = ('Its lock (tag %s of metadata definitions namespace '
        'osc-image-store-locks) was removed while this run held it (cleared '
        'by hand, or the namespace was deleted): another run may have '
        'removed another copy at the same time; check where its data is '
        'with "openstack image store list --image %s".')


def lost(image_id):
    return LOST % (image_id, image_id)


class TestLockHeldThroughout(base.EngineCase):
    """Were the sent images locked throughout?

    After the read-back, one listing of the locks: a sent image whose lock
    is gone is unverified, and locked again.
    """

    def setUp(self):
        super().setUp()
        self.other = base.image_body('other')
        self.oid = self.other['id']

    def clear_during_delete(self, image_id, delete=204, exists=True):
        """The image's lock is cleared by hand while its DELETE is out.

        :param exists: False: the whole namespace is deleted instead.
        """
        def answer(request, context):
            self.lock_tags.tags.pop(image_id, None)
            if not exists:
                self.lock_tags.exists, self.lock_tags.tags = False, {}
            if isinstance(delete, type):
                raise delete()
            context.status_code = delete
            return ''

        self.http.delete('%s/stores/cheap/%s' % (base.V2, image_id),
                         text=answer)

    def test_cleared_while_held_is_unverified_and_locked_again(self):
        self.mock_chunk(self.body)
        self.clear_during_delete(self.iid)
        engine = self.remover()
        rows = list(engine.run([self.iid]))
        self.assertEqual(
            [Removal(self.iid, 'cirros', 'cheap', 'unverified',
                     ('archive', 'fast'), lost(self.iid) + kept(self.iid))],
            rows)
        # The listing shows the lock gone: no data proof, the image is
        # locked again (another run may be at it) and that lock stays.
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.store_delete(self.iid),
             base.listing_of(self.iid), base.LIST_LOCKS,
             base.lock_one(self.iid)], self.sent())
        self.assertEqual([self.iid], self.lock_tags.names())
        self.assertEqual([self.iid], engine.kept_locks)
        self.assertEqual(set(), engine.locks.held)
        self.assertEqual([], engine.unreleased)

    def test_cleared_and_taken_by_another_run(self):
        # Another run locks it before this one can again: the row says
        # what happened; that run's lock is left alone.
        self.mock_chunk(self.body)
        self.clear_during_delete(self.iid)

        def other_run(method, name):
            if method == 'POST' and self.sent().count(
                    base.lock_one(self.iid)) == 2:
                self.lock_tags.add(self.iid)

        self.lock_tags.before = other_run
        engine = self.remover()
        rows = list(engine.run([self.iid]))
        self.assertEqual(
            [Removal(self.iid, 'cirros', 'cheap', 'unverified',
                     ('archive', 'fast'), lost(self.iid))], rows)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.store_delete(self.iid),
             base.listing_of(self.iid), base.LIST_LOCKS,
             base.lock_one(self.iid)], self.sent())
        self.assertEqual([], engine.kept_locks)
        self.assertEqual({self.iid: base.OTHER_SINCE}, self.lock_tags.tags)

    def test_namespace_deleted_while_held(self):
        self.mock_chunk(self.body)
        self.clear_during_delete(self.iid, exists=False)
        engine = self.remover()
        row = list(engine.run([self.iid]))[0]
        self.assertEqual(('unverified', lost(self.iid) + kept(self.iid)),
                         (row.result, row.reason))
        # The listing answers 404 (no lock at all); the lock is taken
        # again in a namespace made again.
        self.assertEqual(
            [base.LIST_LOCKS, base.lock_one(self.iid),
             base.CREATE_NAMESPACE, base.lock_one(self.iid)],
            self.lock_requests()[2:])
        self.assertEqual([self.iid], self.lock_tags.names())
        self.assertEqual([self.iid], engine.kept_locks)

    def test_cleared_after_an_unknown_outcome_stays_unknown(self):
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            [{'json': base.listing(b)} for b in (self.body, self.body)])
        self.clear_during_delete(self.iid, ks_exc.ConnectTimeout)
        engine = self.remover()
        row = list(engine.run([self.iid]))[0]
        self.assertEqual('unknown', row.result)
        self.assertIn('No answer from the Images API', row.reason)
        self.assertTrue(row.reason.endswith(
            ' ' + lost(self.iid) + kept(self.iid)), row.reason)
        self.assertEqual([base.LIST_LOCKS, base.lock_one(self.iid)],
                         self.lock_requests()[2:])
        self.assertEqual([self.iid], self.lock_tags.names())

    def test_one_cleared_in_a_chunk_of_two(self):
        # One listing for the chunk; only the image whose lock is gone is
        # unverified; the other is proven and unlocked as before.
        self.mock_chunk(self.body, self.other)
        self.clear_during_delete(self.oid)
        engine = self.remover(parallel=1)
        rows = list(engine.run([self.iid, self.oid]))
        self.assertEqual(
            [Removal(self.iid, 'cirros', 'cheap', 'removed',
                     ('archive', 'fast'), None),
             Removal(self.oid, 'other', 'cheap', 'unverified',
                     ('archive', 'fast'), lost(self.oid) + kept(self.oid))],
            rows)
        both = (self.iid, self.oid)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_many(*both),
             base.listing_of(*both), base.store_delete(self.iid),
             base.store_delete(self.oid), base.listing_of(*both),
             base.LIST_LOCKS, base.lock_one(self.oid),
             base.read_byte(self.iid), base.unlock(self.iid)], self.sent())
        self.assertEqual([self.oid], self.lock_tags.names())
        self.assertEqual([self.oid], engine.kept_locks)

    def test_listing_fails_changes_nothing(self):
        self.mock_chunk(self.body)
        self.http.get(base.TAGS, **base.glance_error(500, 'db down'))
        engine = self.remover()
        rows = list(engine.run([self.iid]))
        self.assertEqual([Removal(self.iid, 'cirros', 'cheap', 'removed',
                                  ('archive', 'fast'), None)], rows)
        self.assertEqual([base.STORES] + base.removal(self.iid), self.sent())
        self.assertEqual([], self.lock_tags.names())
        self.assertEqual([], engine.kept_locks)

    def test_listing_fails_after_a_clear_changes_nothing(self):
        # Without a listing the run cannot tell: the row is as before.
        self.mock_chunk(self.body)
        self.clear_during_delete(self.iid)
        self.http.get(base.TAGS, exc=ks_exc.ConnectTimeout)
        rows = self.run_engine([self.iid])
        self.assertEqual([Removal(self.iid, 'cirros', 'cheap', 'removed',
                                  ('archive', 'fast'), None)], rows)
        self.assertEqual([base.STORES] + base.removal(self.iid), self.sent())

    def test_lock_present_removed_as_before(self):
        self.mock_chunk(self.body)
        self.lock_tags.add(self.oid)  # another run's lock, listed too
        rows = self.run_engine([self.iid])
        self.assertEqual([Removal(self.iid, 'cirros', 'cheap', 'removed',
                                  ('archive', 'fast'), None)], rows)
        self.assertEqual([base.STORES] + base.removal(self.iid), self.sent())
        self.assertEqual([self.oid], self.lock_tags.names())

    def test_no_listing_when_nothing_was_sent(self):
        self.mock_listing([base.with_stores(self.body, 'cheap')])
        row = self.run_engine([self.iid])[0]
        self.assertEqual('failed', row.result)
        self.assertNotIn(base.LIST_LOCKS, self.sent())
