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
"""The engine and other runs: the lock between runs taken before any
change and kept, never a DELETE without it; holds on images."""

import time

from keystoneauth1 import exceptions as ks_exc

from osc_image_store.engine import runlock
from osc_image_store.tests.unit import base

OTHER = 'b' * 32
NS = '/v2/metadefs/namespaces/' + runlock.NAMESPACE


def other_run(store='fast', age=0.0):
    return runlock.State(store, {'other': ['web2', 9, time.time() - age]})


class EngineCase(base.EngineCase):

    def listings(self, *answers):
        """The listing of ``self.iid`` answers these bodies, in order."""
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            [a if 'status_code' in a else {'json': base.listing(a)}
             for a in answers])


class TestRunLockInTheEngine(EngineCase):

    def test_taken_before_the_first_read_and_released_at_the_end(self):
        self.mock_chunk(self.body)
        rows = self.run_engine([self.iid])
        self.assertEqual('removed', rows[0].result)
        self.assertEqual([base.STORES] + base.removal(self.iid), self.sent())
        self.assertEqual(runlock.State(), runlock.State.parse(self.register))

    def test_nothing_to_read_takes_no_lock(self):
        # E.g. --all-images over a store that holds nothing visible: no
        # wait for other runs, no write to the register.
        self.mock_register(other_run())
        self.assertEqual([], self.run_engine([], lock_wait=0))
        self.assertEqual([base.STORES], self.sent())

    def test_dry_run_takes_no_lock(self):
        self.mock_register(other_run())
        self.listings(self.body)
        rows = self.run_engine([self.iid], dry_run=True)
        self.assertEqual('would-remove', rows[0].result)
        self.assertEqual([base.STORES, base.listing_of(self.iid)],
                         self.sent())

    def test_run_of_another_store_keeps_it_out(self):
        self.mock_register(other_run())
        engine = self.remover(lock_wait=0)
        error = self.assertRaises(runlock.LockError, list,
                                  engine.run([self.iid]))
        self.assertIn('store fast: web2:9', str(error))
        self.assertEqual([base.STORES, 'GET ' + NS], self.sent())
        self.assertEqual({'other'},
                         set(runlock.State.parse(self.register).runs))

    def test_stopped_while_waiting_starts_nothing(self):
        self.mock_register(other_run())
        engine = self.remover()
        engine.on_wait = lambda text: engine.stop.set()  # Ctrl-C then
        self.assertEqual([], list(engine.run([self.iid])))
        self.assertTrue(engine.not_started)
        self.assertEqual([base.STORES, 'GET ' + NS], self.sent())

    def test_run_of_the_same_store_shares_it(self):
        self.mock_register(other_run('cheap'))
        self.mock_chunk(self.body)
        rows = self.run_engine([self.iid], lock_wait=0)
        self.assertEqual('removed', rows[0].result)
        # Only this run left the register.
        self.assertEqual({'other'},
                         set(runlock.State.parse(self.register).runs))

    def test_waits_then_runs(self):
        self.mock_register(other_run())
        reads = []

        def get(request, context):
            reads.append(request)
            if len(reads) == 3:  # the other run has ended
                self.register = runlock.State().dump()
            return {'description': self.register}

        self.http.get(base.REGISTER, json=get)
        self.mock_chunk(self.body)
        waits = []
        engine = self.remover()
        engine.on_wait = waits.append
        rows = list(engine.run([self.iid]))
        self.assertEqual('removed', rows[0].result)
        self.assertEqual(1, len(waits))
        self.assertEqual([base.STORES, 'GET ' + NS, 'GET ' + NS]
                         + base.removal(self.iid), self.sent())

    def test_lock_lost_before_a_chunk_removes_nothing_more(self):
        # Chunk 1 is removed; before chunk 2 the register names another
        # run: chunk 2 fails, and no DELETE is sent for it.
        second = base.image_body('second')
        self.mock_chunk(self.body)
        self.listings_of_second = self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + second['id'],
            json=base.listing(second))
        # Later reads go out again; meanwhile another run takes the lock.
        self.mock_slow_delete(self.iid, base.SETTLE + 0.5,
                              then=lambda: self.set_register(other_run()))
        rows = self.run_engine([self.iid, second['id']], chunk_size=1)
        self.assertEqual(['removed', 'failed'], [r.result for r in rows])
        self.assertIn('Another run took the lock between runs (web2:9',
                      rows[1].reason)
        self.assertIn('nothing more is removed', rows[1].reason)
        self.assertEqual([base.store_delete(self.iid)],
                         [s for s in self.sent() if s.startswith('DELETE')])
        # The other run's entry is left alone: no write after the loss.
        self.assertEqual({'other'},
                         set(runlock.State.parse(self.register).runs))

    def test_beat_written_during_a_long_chunk(self):
        bodies = [base.image_body('i%d' % n) for n in range(3)]
        self.mock_chunk(*bodies)
        for body in bodies:
            self.mock_slow_delete(body['id'], runlock.BEAT / 2)
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:' + ','.join(
            b['id'] for b in bodies[1:]), json=base.listing(*bodies[1:]))
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:'
                      + bodies[2]['id'], json=base.listing(bodies[2]))
        rows = self.run_engine([b['id'] for b in bodies], parallel=1)
        self.assertEqual(['removed'] * 3, [r.result for r in rows])
        # 3 DELETEs of 30 s: the beat is written once more (its own
        # Fischer round) before the third.
        puts = [i for i, s in enumerate(self.sent()) if s == 'PUT ' + NS]
        self.assertEqual(3, len(puts))
        third = self.sent().index(base.store_delete(bodies[2]['id']))
        self.assertLess(puts[1], third)
        self.assertGreater(puts[1], self.sent().index(
            base.store_delete(bodies[1]['id'])))
        # The renewal waited its settle time: the third image is read
        # again after it, right before its DELETE.
        self.assertEqual([base.listing_of(bodies[2]['id']),
                          base.store_delete(bodies[2]['id'])],
                         self.sent()[third - 1:third + 1])
        self.assertGreater(third - 1, puts[1])

    def test_lease_ran_out_no_more_deletes(self):
        bodies = [base.image_body('i%d' % n) for n in range(2)]
        self.mock_chunk(*bodies)
        self.mock_slow_delete(bodies[0]['id'], runlock.LEASE + 1, then=(
            lambda: self.http.get(base.REGISTER, exc=ks_exc.ConnectFailure)))
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:'
                      + bodies[0]['id'], json=base.listing(
                          base.with_stores(bodies[0], 'fast')))
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:'
                      + bodies[1]['id'], json=base.listing(bodies[1]))
        rows = self.run_engine([b['id'] for b in bodies], parallel=1)
        self.assertEqual(['removed', 'failed'], [r.result for r in rows])
        self.assertIn('could not be kept', rows[1].reason)
        self.assertEqual([base.store_delete(bodies[0]['id'])],
                         [s for s in self.sent() if s.startswith('DELETE')])


class TestNothingSentAfterTheLast(base.EngineCase):
    """What happens while a chunk is read again decides its next DELETE."""

    def setUp(self):
        super().setUp()
        self.bodies = [base.image_body('i%d' % n) for n in range(2)]
        self.mock_chunk(*self.bodies)
        first, second = (b['id'] for b in self.bodies)

        self.mock_slow_delete(first, 1.5)  # the chunk's read gets too old
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:' + first,
                      json=base.listing(base.with_stores(self.bodies[0],
                                                         'fast')))
        self.during = None

        def reread(request, context):
            self.during()
            return base.listing(self.bodies[1])

        self.http.get(base.V2 + '/images?os_hidden=false&id=in:' + second,
                      json=reread)
        self.engine = self.remover(parallel=1)

    def sent_deletes(self):
        return [s for s in self.sent() if s.startswith('DELETE')]

    def test_ctrl_c_during_the_read(self):
        self.during = self.engine.stop.set
        rows = list(self.engine.run([b['id'] for b in self.bodies]))
        self.assertEqual(['removed'], [r.result for r in rows])
        self.assertTrue(self.engine.not_started)
        self.assertEqual([base.store_delete(self.bodies[0]['id'])],
                         self.sent_deletes())

    def test_lock_taken_over_during_the_read(self):
        # E.g. the process was paused past its lease, and another store's
        # run took the lock meanwhile.
        def paused():
            self.clock.sleep(runlock.STALE_AFTER + 10)
            self.register = other_run().dump()

        self.during = paused
        rows = list(self.engine.run([b['id'] for b in self.bodies]))
        self.assertEqual(['removed', 'failed'], [r.result for r in rows])
        self.assertIn('Another run took the lock', rows[1].reason)
        self.assertEqual([base.store_delete(self.bodies[0]['id'])],
                         self.sent_deletes())


class TestHolds(EngineCase):

    def test_live_hold_of_another_run_refused_at_once(self):
        since = time.time() - 60
        self.listings(base.locked(self.body, OTHER, since))
        rows = self.run_engine([self.iid])
        self.assertEqual(('failed', ('archive', 'cheap', 'fast')),
                         (rows[0].result, rows[0].remaining_stores))
        self.assertEqual(
            'Image %s carries a hold (property osc_image_store_lock, host:42 '
            'since %s UTC): a removal of a copy of it by this command had an '
            'unknown or unverified outcome; nothing was removed. Check where '
            'it lives with "openstack image store list --image %s"; the hold '
            'lapses 15 minutes after it was written, or remove it with '
            '"openstack image unset --property osc_image_store_lock %s".'
            % (self.iid, time.strftime('%Y-%m-%d %H:%M:%S',
                                       time.gmtime(int(since))),
               self.iid, self.iid), rows[0].reason)
        self.assertEqual([], self.deletes())
        self.assertEqual([], self.patches())
        self.assertEqual(
            [base.STORES] + base.LOCK + [base.listing_of(self.iid)]
            + base.UNLOCK, self.sent())

    def test_stale_hold_removed_after_the_removal(self):
        stale = base.locked(self.body, OTHER, time.time() - 3600)
        self.listings(stale, base.with_stores(stale, 'fast'))
        self.mock_store_delete('cheap', self.iid)
        self.mock_file(self.iid)
        self.mock_patch(self.body)
        rows = self.run_engine([self.iid])
        self.assertEqual('removed', rows[0].result)
        self.assertEqual(
            [base.STORES] + base.LOCK + [
                base.listing_of(self.iid), base.store_delete(self.iid),
                base.listing_of(self.iid), base.read_byte(self.iid),
                base.remove_lock(self.iid)] + base.UNLOCK, self.sent())

    def test_unknown_outcome_gets_a_hold(self):
        self.listings(self.body, self.body)
        self.mock_store_delete('cheap', self.iid, ks_exc.ConnectTimeout)
        self.mock_patch(self.body)
        rows = self.run_engine([self.iid])
        self.assertEqual('unknown', rows[0].result)
        self.assertIn('A hold (property osc_image_store_lock) stays on it '
                      'for 15 minutes', rows[0].reason)
        self.assertEqual([base.add_lock(self.iid)],
                         [s for s in self.sent() if s.startswith('PATCH')])
        [[op]] = self.patches()
        self.assertTrue(op['value'].startswith(base.TOKEN + ' '))

    def test_hold_that_cannot_be_written_is_said(self):
        self.listings(self.body, self.body)
        self.mock_store_delete('cheap', self.iid, ks_exc.ConnectTimeout)
        self.mock_patch(self.body, base.glance_error(403, 'no'))
        waits = []
        engine = self.remover()
        engine.on_wait = waits.append
        row = list(engine.run([self.iid]))[0]
        self.assertEqual('unknown', row.result)
        self.assertIn('The hold could not be written', row.reason)
        self.assertIn('this run keeps the lock between runs', row.reason)
        # The DELETE may still happen: the run stays in the register, so
        # no run of another store starts until it lapses.
        self.assertEqual({base.RUN_TOKEN},
                         set(runlock.State.parse(self.register).runs))
        self.assertNotIn('PUT ' + NS, self.sent()[-1:])
        self.assertEqual(['This run keeps the lock between runs: 1 image(s) '
                          'whose removal may still happen got no hold (%s). '
                          'Runs of other stores wait until it lapses, 5 '
                          'minutes after this run\'s last beat.' % self.iid],
                         waits)

    def test_second_ctrl_c_without_holds_keeps_the_lock(self):
        # DELETEs in flight at a second Ctrl-C whose holds fail: the run
        # keeps its entry in the register (found by an adversarial test:
        # released, another store's run lost 4 of 4 images).
        self.listings(self.body)
        self.mock_patch(self.body, base.glance_error(500, 'db down'))
        engine = self.remover()

        def delete(request, context):
            raise KeyboardInterrupt  # the second Ctrl-C, mid-flight

        self.http.delete(base.V2 + '/stores/cheap/' + self.iid, text=delete)
        rows = []
        try:
            rows.extend(engine.run([self.iid]))
        except KeyboardInterrupt:
            rows.extend(engine.interrupted_rows())
        self.assertEqual(['unknown'], [r.result for r in rows])
        self.assertEqual({base.RUN_TOKEN},
                         set(runlock.State.parse(self.register).runs))
