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
"""The engine and the image locks: each image locked before the read its
DELETE rests on and unlocked once its outcome is known; kept when in
doubt; images locked by another run waited for, then refused."""

from keystoneauth1 import exceptions as ks_exc

from osc_image_store.engine import lock
from osc_image_store.engine import results
from osc_image_store.tests.unit import base

Removal = results.Removal


def locked_out(image_id, waited):
    """The reason of an image another run kept locked past the wait."""
    return (
        'Image %s is locked by another run of this command (tag %s of '
        'metadata definitions namespace osc-image-store-locks, since '
        '2026-12-06 17:58:03 UTC); waited %d s; nothing was removed. A lock '
        'also stays after a removal whose outcome was unknown or unverified, '
        'and after a run that was killed: check where the image\'s data is '
        'with "openstack image store list --image %s"; once no run works on '
        'it, clear the lock with "openstack image store lock delete %s".'
        % (image_id, image_id, waited, image_id, image_id))


class LockCase(base.EngineCase):

    def setUp(self):
        super().setUp()
        self.other = base.image_body('other')
        self.oid = self.other['id']
        self.waits = []

    def engine(self, **options):
        engine = self.remover(**options)
        engine.acquirer.on_wait = self.waits.append
        return engine

    def store_deletes(self):
        return [s for s in self.sent() if s.startswith('DELETE /v2/stores/')]

    def tries(self, image_id):
        """How often the run tried to lock the image on its own."""
        return self.sent().count(base.lock_one(image_id))


class TestLockedAroundTheRemoval(LockCase):

    def test_locked_before_the_read_unlocked_after_the_proof(self):
        during = {}

        def delete(request, context):
            during['delete'] = self.lock_tags.names()
            context.status_code = 204
            return ''

        def proof(request, context):
            during['proof'] = self.lock_tags.names()
            return b'x'

        self.mock_listing([self.body], [base.with_stores(self.body, 'fast')])
        self.http.delete(base.V2 + '/stores/cheap/' + self.iid, text=delete)
        self.http.get(base.V2 + '/images/%s/file' % self.iid, status_code=206,
                      content=proof)
        rows = self.run_engine([self.iid])
        self.assertEqual(['removed'], [r.result for r in rows])
        # The tag exists from before the read the DELETE rests on until
        # after the read-back and the proof.
        self.assertEqual({'delete': [self.iid], 'proof': [self.iid]},
                         during)
        sent = self.sent()
        self.assertLess(sent.index(base.lock_one(self.iid)),
                        sent.index(base.listing_of(self.iid)))
        self.assertLess(sent.index(base.read_byte(self.iid)),
                        sent.index(base.unlock(self.iid)))
        self.assertEqual([base.STORES] + base.removal(self.iid), sent)
        self.assertEqual([], self.lock_tags.names())

    def test_read_again_under_the_lock(self):
        # fresh_for 0: the image is read again right before its DELETE,
        # still under the lock taken before the first read.
        self.mock_listing([self.body], [self.body],
                          [base.with_stores(self.body, 'fast', 'archive')])
        self.mock_store_delete('cheap', self.iid)
        self.mock_file(self.iid)
        self.assertEqual('removed', self.run_engine([self.iid],
                                                    fresh_for=0)[0].result)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.listing_of(self.iid),
             base.store_delete(self.iid), base.listing_of(self.iid),
             base.LIST_LOCKS, base.read_byte(self.iid),
             base.unlock(self.iid)], self.sent())

    def test_namespace_made_on_first_use(self):
        self.lock_tags.exists = False
        self.mock_chunk(self.body)
        self.assertEqual('removed', self.run_engine([self.iid])[0].result)
        # Its read (404) makes it before the first lock request.
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.CREATE_NAMESPACE]
            + base.removal(self.iid, first=False), self.sent())
        self.assertEqual('private', self.lock_tags.namespace['visibility'])

    def test_dry_run_takes_no_lock(self):
        # Not even for an image another run has locked.
        self.lock_tags.add(self.iid)
        self.mock_listing([self.body, self.other])
        rows = self.run_engine([self.iid, self.oid], dry_run=True,
                               lock_wait=0)
        self.assertEqual(['would-remove'] * 2, [r.result for r in rows])
        self.assertEqual([base.STORES, base.listing_of(self.iid, self.oid)],
                         self.sent())
        self.assertEqual([self.iid], self.lock_tags.names())

    def test_one_kept_one_released_in_a_chunk(self):
        # The first image's DELETE times out and it is still listed
        # (unknown): its lock stays; the second one's goes.
        self.mock_listing([self.body, self.other],
                          [self.body, base.with_stores(self.other, 'fast')])
        self.mock_store_delete('cheap', self.iid, ks_exc.ConnectTimeout)
        self.mock_store_delete('cheap', self.oid)
        self.mock_file(self.oid)
        engine = self.engine(parallel=1)
        rows = list(engine.run([self.iid, self.oid]))
        self.assertEqual([(self.iid, 'unknown'), (self.oid, 'removed')],
                         [(r.image_id, r.result) for r in rows])
        self.assertIn('Its lock stays (tag %s' % self.iid, rows[0].reason)
        self.assertEqual([self.iid], self.lock_tags.names())
        self.assertEqual([self.iid], engine.kept_locks)
        self.assertEqual([], engine.locked_out)
        self.assertEqual(set(), engine.locks.held)
        self.assertEqual([base.READ_NAMESPACE,
                          base.lock_many(self.iid, self.oid),
                          base.LIST_LOCKS, base.unlock(self.oid)],
                         self.lock_requests())

    def test_kept_lock_keeps_the_next_run_out(self):
        self.mock_listing([self.body], [self.body])
        self.mock_store_delete('cheap', self.iid, base.glance_error(
            503, 'busy'))
        self.assertEqual('unknown', self.run_engine([self.iid])[0].result)
        # A later run (this store or another) must not touch the image
        # until an operator has cleared the lock.
        self._first = len(self.http.request_history)
        rows = self.run_engine([self.iid], store='fast', lock_wait=0)
        self.assertEqual(('failed', None), (rows[0].result,
                                            rows[0].remaining_stores))
        self.assertIn('is locked by another run of this command',
                      rows[0].reason)
        self.assertIn('"openstack image store lock delete %s"' % self.iid,
                      rows[0].reason)
        # A run of its own: it reads the lock namespace again.
        self.assertEqual([base.STORES, base.READ_NAMESPACE,
                          base.lock_one(self.iid), base.read_lock(self.iid)],
                         self.sent())
        # Cleared (openstack image store lock delete): the image is free.
        lock.clear(self.proxy, self.iid)
        self.assertEqual([], self.lock_tags.names())


class TestLockedByAnotherRun(LockCase):

    def mock_other_removed(self, left=('archive', 'fast')):
        """The second image (free) is removed; answers for the first."""
        self.mock_chunk(self.other, left=left)

    def test_waits_while_the_others_go_on(self):
        # The first image is locked by another run, which unlocks it
        # after three more tries; the second one is removed meanwhile.
        self.lock_tags.add(self.iid)

        def other_run(method, name):
            if name == self.iid and method == 'POST' and self.tries(
                    self.iid) == 3:
                del self.lock_tags.tags[self.iid]  # the other run is done

        self.lock_tags.before = other_run
        self.mock_other_removed()
        self.mock_chunk(self.body)
        engine = self.engine()
        start = self.clock.now
        rows = list(engine.run([self.iid, self.oid]))
        # Rows in input order, both removed.
        self.assertEqual([(self.iid, 'removed'), (self.oid, 'removed')],
                         [(r.image_id, r.result) for r in rows])
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE,
             base.lock_many(self.iid, self.oid), base.LIST_LOCKS,
             base.lock_one(self.oid)]
            + base.removal(self.oid, first=False)[1:]
            # tried again at once, then about every second
            + [base.lock_one(self.iid)] * 2
            + base.removal(self.iid, first=False),
            self.sent())
        self.assertEqual([1.0, 1.0],
                         [round(w, 3) for w in engine.stop.waits])
        self.assertAlmostEqual(2.0, self.clock.now - start, places=2)
        self.assertEqual(['Waiting up to 30 s for image(s) locked by another '
                          'run of this command: %s.' % self.iid], self.waits)
        self.assertEqual([], self.lock_tags.names())
        self.assertEqual([], engine.locked_out)

    def test_gives_up_after_lock_wait(self):
        self.lock_tags.add(self.iid)
        self.mock_other_removed()
        engine = self.engine(lock_wait=5)
        start = self.clock.now
        rows = list(engine.run([self.iid, self.oid]))
        self.assertEqual(
            [Removal(self.iid, None, 'cheap', 'failed', None,
                     locked_out(self.iid, 5)),
             Removal(self.oid, 'other', 'cheap', 'removed',
                     ('archive', 'fast'), None)], rows)
        # Tried at once after the chunk, then every second for 5 s; then
        # its tag is read once, for the time it was made.
        self.assertEqual(1 + 1 + 5, self.tries(self.iid)
                         + self.sent().count(base.lock_many(self.iid,
                                                            self.oid)))
        self.assertEqual([1.0] * 5, [round(w, 3) for w in engine.stop.waits])
        self.assertAlmostEqual(5.0, self.clock.now - start, places=2)
        self.assertEqual(base.read_lock(self.iid), self.sent()[-1])
        self.assertEqual([base.store_delete(self.oid)], self.store_deletes())
        self.assertNotIn(base.listing_of(self.iid), self.sent())
        # The other run's lock is left alone.
        self.assertEqual([self.iid], self.lock_tags.names())
        self.assertEqual([self.iid], engine.locked_out)
        self.assertEqual([], engine.kept_locks)
        self.assertEqual(1, len(self.waits))

    def test_no_wait(self):
        self.lock_tags.add(self.iid)
        engine = self.engine(lock_wait=0)
        rows = list(engine.run([self.iid]))
        self.assertEqual([Removal(self.iid, None, 'cheap', 'failed', None,
                                  locked_out(self.iid, 0))], rows)
        self.assertEqual([base.STORES, base.READ_NAMESPACE,
                          base.lock_one(self.iid), base.read_lock(self.iid)],
                         self.sent())
        self.assertEqual([], self.waits)
        self.assertEqual([], engine.stop.waits)
        self.assertEqual([self.iid], engine.locked_out)

    def test_unknown_time_said_as_such(self):
        self.lock_tags.add(self.iid)
        self.lock_tags.fail('GET', self.iid, base.glance_error(500, 'x'))
        row = self.run_engine([self.iid], lock_wait=0)[0]
        self.assertIn('osc-image-store-locks, since an unknown time); waited '
                      '0 s', row.reason)

    def test_name_kept_in_the_row(self):
        self.lock_tags.add(self.iid)
        self.mock_name('cirros', self.body)
        row = self.run_engine(['cirros'], lock_wait=0)[0]
        self.assertEqual(('cirros', 'failed'), (row.image_name, row.result))

    def test_name_kept_in_the_row_after_a_wait(self):
        self.lock_tags.add(self.iid)
        self.mock_name('cirros', self.body)
        row = self.run_engine(['cirros'], lock_wait=3)[0]
        self.assertEqual('failed', row.result)
        self.assertEqual('cirros', row.image_name)

    def test_some_locked_in_a_bulk_request(self):
        # Of three, the middle one is locked: one append for the other
        # two after the listing; both removed at once.
        third = base.image_body('third')
        tid = third['id']
        self.lock_tags.add(self.oid)
        self.mock_chunk(self.body, third)
        rows = self.run_engine([self.iid, self.oid, tid], lock_wait=0,
                               parallel=1)
        self.assertEqual([(self.iid, 'removed'), (self.oid, 'failed'),
                          (tid, 'removed')],
                         [(r.image_id, r.result) for r in rows])
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE,
             base.lock_many(self.iid, self.oid, tid),
             base.LIST_LOCKS, base.lock_many(self.iid, tid),
             base.read_lock(self.oid), base.listing_of(self.iid, tid)],
            self.sent()[:7])
        self.assertEqual([self.oid], self.lock_tags.names())

    def test_ctrl_c_while_waiting_starts_nothing_more(self):
        self.lock_tags.add(self.iid)
        self.mock_listing([self.other], [base.with_stores(self.other,
                                                          'fast')])
        self.mock_file(self.oid)
        engine = self.engine()

        def delete(request, context):
            engine.stop.set()  # a first Ctrl-C while this DELETE is out
            context.status_code = 204
            return ''

        self.http.delete(base.V2 + '/stores/cheap/' + self.oid, text=delete)
        rows = list(engine.run([self.iid, self.oid]))
        # The image in hand is finished; the one waited for is dropped.
        self.assertEqual([(self.oid, 'removed')],
                         [(r.image_id, r.result) for r in rows])
        self.assertTrue(engine.not_started)
        self.assertEqual(1, self.sent().count(base.lock_many(self.iid,
                                                             self.oid)))
        self.assertEqual(0, self.tries(self.iid))
        self.assertEqual([], engine.stop.waits)
        self.assertEqual([self.iid], self.lock_tags.names())


class TestLockError(LockCase):

    def test_before_anything_raised(self):
        self.lock_tags.fail('POST', self.iid, base.glance_error(
            403, 'You are not authorized to complete add_metadef_tag '
            'action.'))
        engine = self.engine()
        error = self.assertRaises(lock.LockError, list,
                                  engine.run([self.iid]))
        self.assertIn('add_metadef_tag', str(error))
        self.assertEqual([base.STORES, base.READ_NAMESPACE,
                          base.lock_one(self.iid)], self.sent())
        self.assertEqual([], self.lock_tags.names())

    def test_namespace_not_made_raised(self):
        self.lock_tags.exists = False
        self.http.post(base.NAMESPACES, **base.glance_error(403, 'no'))
        self.assertRaises(lock.LockError, self.run_engine,
                          [self.iid, self.oid])
        self.assertEqual([base.STORES, base.READ_NAMESPACE,
                          base.CREATE_NAMESPACE], self.sent())

    def test_public_namespace_raised(self):
        self.lock_tags.namespace = {'visibility': 'public'}
        error = self.assertRaises(lock.LockError, self.run_engine,
                                  [self.iid, self.oid])
        self.assertTrue(str(error).startswith(
            'The image locks cannot be used: the metadata definitions '
            'namespace osc-image-store-locks is public'), str(error))
        self.assertTrue(str(error).endswith(
            '"openstack image metadef namespace set --private --unprotected '
            'osc-image-store-locks", then run this command again. Nothing '
            'was removed.'), str(error))
        self.assertEqual([base.STORES, base.READ_NAMESPACE], self.sent())

    def test_namespace_read_fails_read_again_with_the_next_chunk(self):
        third = base.image_body('third')
        self.mock_chunk(self.body)
        self.mock_chunk(self.other)
        self.mock_chunk(third)
        self.lock_tags.fail('GET', None, base.glance_error(500, 'db down'))
        rows = self.run_engine([self.iid, self.oid, third['id']],
                               chunk_size=1)
        self.assertEqual(['removed'] * 3, [r.result for r in rows])
        # The failed read is no refusal: the first chunk goes on; the
        # second chunk's lock reads the namespace again, the third's not.
        self.assertEqual(
            [base.STORES] + base.removal(self.iid) + base.removal(self.oid)
            + base.removal(third['id'], first=False), self.sent())

    def test_later_chunk_halts_the_run(self):
        third = base.image_body('third')
        self.mock_chunk(self.body)
        self.lock_tags.fail('POST', self.oid, base.glance_error(403, 'no'))
        engine = self.engine(chunk_size=1)
        rows = list(engine.run([self.iid, self.oid, third['id']]))
        self.assertEqual([(self.iid, 'removed'), (self.oid, 'failed')],
                         [(r.image_id, r.result) for r in rows])
        self.assertIn('The image locks could not be taken', rows[1].reason)
        self.assertEqual(rows[1].reason, engine.halted)
        self.assertTrue(engine.not_started)
        self.assertEqual([base.store_delete(self.iid)], self.store_deletes())
        self.assertEqual([], self.lock_tags.names())


def unsure(image_id, error):
    """The reason of an image whose lock request got no answer."""
    return (
        'Nothing was removed. The request that locks image %s got no answer '
        '(%s): Glance may still make that lock. If "openstack image store '
        'lock list" shows it, it is this run\'s; clear it with "openstack '
        'image store lock delete %s" once no request of this run can still '
        'reach Glance. Then run this command again.'
        % (image_id, error, image_id))


class TestLockWithoutAnswer(LockCase):
    """A lock request without an answer: never sent again, never used."""

    def test_append_without_answer(self):
        # A second append (never sent) would be refused: a retry ends the
        # run instead of looping.
        self.http.post(base.TAGS, [base.glance_error(500, 'db down'),
                                   base.glance_error(403, 'sent again')])
        engine = self.engine()
        rows = list(engine.run([self.iid, self.oid]))
        self.assertEqual(
            [Removal(self.iid, None, 'cheap', 'failed', None,
                     unsure(self.iid, 'HTTP 500: db down')),
             Removal(self.oid, None, 'cheap', 'failed', None,
                     unsure(self.oid, 'HTTP 500: db down'))], rows)
        # Nothing read, removed, retried or waited for.
        self.assertEqual([base.STORES, base.READ_NAMESPACE,
                          base.lock_many(self.iid, self.oid)], self.sent())
        self.assertEqual([self.iid, self.oid], engine.lock_unsure)
        self.assertEqual([], engine.stop.waits)
        self.assertEqual([], self.waits)
        self.assertEqual([], engine.locked_out)
        self.assertEqual([], engine.kept_locks)
        self.assertEqual([], engine.unreleased)

    def test_single_lock_timeout_name_kept(self):
        self.mock_name('cirros', self.body)
        self.lock_tags.fail('POST', self.iid, ks_exc.ConnectTimeout,
                            base.glance_error(403, 'sent again'))
        engine = self.engine()
        rows = list(engine.run(['cirros']))
        self.assertEqual(
            [Removal(self.iid, 'cirros', 'cheap', 'failed', None,
                     unsure(self.iid, 'Timed out connecting to service.'))],
            rows)
        self.assertEqual(1, self.tries(self.iid))
        self.assertEqual([self.iid], engine.lock_unsure)
        self.assertNotIn(base.listing_of(self.iid), self.sent())

    def test_waited_image_whose_next_try_gets_no_answer(self):
        # Locked by another run; the other image is removed meanwhile;
        # the next try gets no answer: the image stops waiting at once.
        self.lock_tags.add(self.iid)
        self.mock_chunk(self.other)
        self.lock_tags.fail('POST', self.iid, base.glance_error(503, 'busy'),
                            base.glance_error(403, 'sent again'))
        engine = self.engine()
        rows = list(engine.run([self.iid, self.oid]))
        self.assertEqual(
            [Removal(self.iid, None, 'cheap', 'failed', None,
                     unsure(self.iid, 'HTTP 503: busy')),
             Removal(self.oid, 'other', 'cheap', 'removed',
                     ('archive', 'fast'), None)], rows)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE,
             base.lock_many(self.iid, self.oid), base.LIST_LOCKS,
             base.lock_one(self.oid)]
            + base.removal(self.oid, first=False)[1:]
            + [base.lock_one(self.iid)], self.sent())
        self.assertEqual([self.iid], engine.lock_unsure)
        self.assertEqual([], engine.locked_out)
        self.assertEqual([], engine.stop.waits)
        self.assertEqual([self.iid], self.lock_tags.names())  # the other's


class TestInterrupted(LockCase):
    """A second Ctrl-C: DELETEs in flight keep their locks, others go."""

    def interrupt_at(self, where, image_id, engine):
        """A second Ctrl-C while that request is in flight.

        The first Ctrl-C set the stop event; the second one raises
        KeyboardInterrupt where the run waits for that request.
        """
        def interrupt(request, context):
            engine.stop.set()
            raise KeyboardInterrupt

        if where == 'delete':
            self.http.delete(base.V2 + '/stores/cheap/' + image_id,
                             text=interrupt)
        elif where == 'proof':
            self.http.get('%s/images/%s/file' % (base.V2, image_id),
                          text=interrupt)
        else:
            self.mock_listing({'text': interrupt})

    def run_interrupted(self, engine, images):
        rows = []
        try:
            rows.extend(engine.run(images))
        except KeyboardInterrupt:
            rows.extend(engine.interrupted_rows())
        else:
            self.fail('not interrupted')
        return rows

    def test_in_flight_kept_others_released(self):
        self.mock_listing([self.body, self.other])

        engine = self.engine(parallel=1)
        self.interrupt_at('delete', self.iid, engine)
        rows = self.run_interrupted(engine, [self.iid, self.oid])
        self.assertEqual([(self.iid, 'unknown', None)],
                         [(r.image_id, r.result, r.remaining_stores)
                          for r in rows])
        self.assertIn('Interrupted while the removal of image %s from store '
                      'cheap was in flight' % self.iid, rows[0].reason)
        self.assertIn('Its lock stays (tag %s' % self.iid, rows[0].reason)
        # Its DELETE may still be carried out: its lock stays; the image
        # whose DELETE was never sent is unlocked.
        self.assertEqual([self.iid], self.lock_tags.names())
        self.assertEqual([self.iid], engine.kept_locks)
        self.assertEqual(set(), engine.locks.held)
        self.assertEqual([base.READ_NAMESPACE,
                          base.lock_many(self.iid, self.oid),
                          base.unlock(self.oid)], self.lock_requests())
        self.assertEqual([base.store_delete(self.iid)], self.store_deletes())

    def test_settled_rows_unlocked(self):
        # The second Ctrl-C comes during the second chunk: the first
        # chunk's row is given, its lock long gone; the second image's
        # DELETE was in flight.
        self.mock_chunk(self.body)
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:' + self.oid,
                      json=base.listing(self.other))
        engine = self.engine(chunk_size=1)
        self.interrupt_at('delete', self.oid, engine)
        rows = self.run_interrupted(engine, [self.iid, self.oid])
        self.assertEqual([(self.iid, 'removed'), (self.oid, 'unknown')],
                         [(r.image_id, r.result) for r in rows])
        self.assertEqual([self.oid], self.lock_tags.names())

    def test_during_the_read_nothing_kept(self):
        # The second Ctrl-C during the chunk's read: no DELETE went out,
        # every lock of the chunk is released, no row.
        engine = self.engine()
        self.interrupt_at('read', None, engine)
        rows = self.run_interrupted(engine, [self.iid, self.oid])
        self.assertEqual([], rows)
        self.assertEqual([], self.lock_tags.names())
        self.assertEqual([], engine.kept_locks)
        self.assertEqual([], self.store_deletes())

    def test_waiting_images_not_started(self):
        self.lock_tags.add(self.iid)
        self.mock_listing([self.other])
        engine = self.engine()
        self.interrupt_at('delete', self.oid, engine)
        rows = self.run_interrupted(engine, [self.iid, self.oid])
        self.assertEqual([(self.oid, 'unknown')],
                         [(r.image_id, r.result) for r in rows])
        # The other run's lock and this run's kept one.
        self.assertEqual(sorted([self.iid, self.oid]),
                         self.lock_tags.names())

    def test_unverified_row_in_hand_keeps_its_lock(self):
        # The first image's proof read fails (unverified: its lock must
        # stay); the second Ctrl-C comes while the second one's proof is
        # awaited.
        self.mock_chunk(self.body, self.other)
        self.http.get('%s/images/%s/file' % (base.V2, self.iid),
                      exc=ks_exc.ConnectFailure)
        engine = self.engine(parallel=1)
        self.interrupt_at('proof', self.oid, engine)
        rows = self.run_interrupted(engine, [self.iid, self.oid])
        self.assertEqual([(self.iid, 'unverified'), (self.oid, 'unknown')],
                         [(r.image_id, r.result) for r in rows])
        self.assertIn(self.oid, self.lock_tags.names())
        self.assertEqual(sorted([self.iid, self.oid]),
                         self.lock_tags.names())


class TestCopyLocked(LockCase):
    """--copy-to: an image copied first stays locked until removed."""

    def test_locked_through_the_copy(self):
        solo = base.image_body('solo', stores=('cheap',))
        sid = solo['id']
        copied = base.with_stores(solo, 'cheap', 'fast')
        self.mock_listing([solo, self.body],
                          [base.with_stores(self.body, 'fast', 'archive')])
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + sid,
            [{'json': base.listing(b)} for b in (
                copied, base.with_stores(copied, 'fast'))])
        during = []

        def started(request, context):
            during.append(self.lock_tags.names())
            context.status_code = 202
            return '{}'

        self.mock_image(solo, copied)
        self.http.post('%s/images/%s/import' % (base.V2, sid), text=started)
        for image_id in (sid, self.iid):
            self.mock_store_delete('cheap', image_id)
            self.mock_file(image_id)
        engine = self.engine(copy_to='fast')
        rows = list(engine.run([sid, self.iid]))
        self.assertEqual([(sid, 'moved'), (self.iid, 'removed')],
                         [(r.image_id, r.result) for r in rows])
        # While the copy was started, the solo image was locked (and the
        # other one too: the chunk was in hand).
        self.assertEqual([sid], [n for n in during[0] if n == sid])
        sent = self.sent()
        # One lock request for both; none for the removal after the copy;
        # the solo image unlocked only after its removal was proven.
        self.assertEqual([base.lock_many(sid, self.iid)],
                         [s for s in sent if s.startswith('POST /v2/meta')])
        unlock = sent.index(base.unlock(sid))
        self.assertLess(sent.index(base.store_delete(sid)), unlock)
        self.assertLess(sent.index(base.listing_of(sid)),
                        sent.index(base.store_delete(sid)))
        self.assertEqual(base.read_byte(sid), sent[unlock - 1])
        self.assertEqual([], self.lock_tags.names())

    def test_queued_copy_holds_no_lock_until_it_starts(self):
        # max_copies 1: the second sole copy waits for a copy slot
        # unlocked, and is locked again (one tag POST) before its copy's
        # first read.
        first = base.image_body('first', stores=('cheap',))
        second = base.image_body('second', stores=('cheap',))
        fid, sid = first['id'], second['id']
        self.mock_listing([first, second])
        during = {}
        for body in (first, second):
            image_id = body['id']
            copied = base.with_stores(body, 'cheap', 'fast')
            self.http.get(
                base.V2 + '/images?os_hidden=false&id=in:' + image_id,
                [{'json': base.listing(b)} for b in (
                    copied, base.with_stores(copied, 'fast'))])
            self.mock_image(body, copied)

            def started(request, context, image_id=image_id):
                during[image_id] = self.lock_tags.names()
                context.status_code = 202
                return '{}'

            self.http.post('%s/images/%s/import' % (base.V2, image_id),
                           text=started)
            self.mock_store_delete('cheap', image_id)
            self.mock_file(image_id)
        # The chunk's read; both copies may end before the next look (one
        # removal pass, reading both).
        both = [base.with_stores(b, 'cheap', 'fast') for b in (first, second)]
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:%s,%s' % (fid, sid),
            [{'json': base.listing(*b)} for b in (
                [first, second], both,
                [base.with_stores(b, 'fast') for b in both])])
        rows = self.run_engine([fid, sid], copy_to='fast', max_copies=1)
        self.assertEqual([(fid, 'moved'), (sid, 'moved')],
                         [(r.image_id, r.result) for r in rows])
        # Each was locked while its own copy started; the queued second
        # was unlocked while it waited, and locked again before its
        # copy's first read.
        self.assertIn(fid, during[fid])
        self.assertIn(sid, during[sid])
        locks = self.lock_requests()
        self.assertEqual([base.READ_NAMESPACE, base.lock_many(fid, sid),
                          base.unlock(sid)], locks[:3])
        # The second copy's lock runs on its own thread, alongside the
        # first image's removal (whose locks listing and unlock may come
        # first).
        self.assertEqual(1, locks.count(base.lock_one(sid)))
        sent = self.sent()
        self.assertLess(sent.index(base.lock_one(sid)),
                        sent.index('GET /v2/images/%s' % sid))
        self.assertEqual([], self.lock_tags.names())

    def test_failed_copy_unlocked(self):
        solo = base.image_body('solo', stores=('cheap',))
        sid = solo['id']
        self.mock_listing([solo])
        self.mock_image(solo, base.with_stores(
            solo, 'cheap', os_glance_failed_import='fast'))
        self.http.post('%s/images/%s/import' % (base.V2, sid),
                       status_code=202, json={})
        rows = self.run_engine([sid], copy_to='fast')
        self.assertEqual(['failed'], [r.result for r in rows])
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(sid),
                          base.unlock(sid)], self.lock_requests())
        self.assertEqual(base.unlock(sid), self.sent()[-1])
