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
"""The lock stage alone (engine/acquire.py): one lock request per chunk,
waits for other runs' locks, and failures that are never retried.

The test clock (base.Clock) stands for the stage's time; tries are paced
at exactly one second (base.TestCase fixes ``random.uniform``).
"""

import types

import fixtures
from keystoneauth1 import exceptions as ks_exc

from osc_image_store.engine import acquire
from osc_image_store.engine import lock
from osc_image_store.engine import results
from osc_image_store.tests.unit import base
from osc_image_store.v2 import advice


def ids(count):
    return ['00000000-0000-4000-8000-%012d' % i for i in range(count)]


A, B, C = ids(3)
NAMES = {A: 'a', B: 'b', C: 'c'}


class AcquireCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.tags = self.mock_locks()
        self.locks = lock.ImageLocks(self.proxy)
        self.ledger = lock.Ledger()
        self.said = []
        self.acquirer = acquire.Acquirer(self.locks, self.ledger, 'cheap',
                                         30.0, self.said.append,
                                         advice.ADVICE)

    def acquire(self, *image_ids):
        return self.acquirer.acquire(list(image_ids), NAMES.get)


class TestAcquire(AcquireCase):

    def test_one_request_locks_the_chunk(self):
        got = self.acquire(A, B, C)
        self.assertEqual(acquire.Acquired([A, B, C], set(), {}), got)
        self.assertEqual([base.READ_NAMESPACE, base.lock_many(A, B, C)],
                         self.sent())
        self.assertEqual({}, self.acquirer.waiting)
        self.assertEqual(lock.Ledger(), self.ledger)
        self.assertEqual([], self.said)

    def test_held_images_are_not_locked_again(self):
        self.acquire(A)
        got = self.acquire(B, A)
        self.assertEqual(acquire.Acquired([B, A], set(), {}), got)
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(A),
                          base.lock_one(B)], self.sent())

    def test_busy_image_waits_others_go_on(self):
        self.tags.add(B)
        got = self.acquire(A, B)
        self.assertEqual(acquire.Acquired([A], {B}, {}), got)
        self.assertEqual([B], list(self.acquirer.waiting))
        self.assertEqual([base.READ_NAMESPACE, base.lock_many(A, B),
                          base.LIST_LOCKS, base.lock_one(A)], self.sent())
        self.assertEqual(lock.Ledger(), self.ledger)

    def test_deadline_kept_across_calls(self):
        self.tags.add(B)
        self.acquire(B)
        deadline = self.acquirer.waiting[B]
        self.assertAlmostEqual(self.clock.now + 30.0, deadline, places=3)
        self.clock.sleep(29.9)
        self.assertEqual(acquire.Acquired([], {B}, {}), self.acquire(B))
        self.assertEqual({B: deadline}, self.acquirer.waiting)
        self.assertEqual(lock.Ledger(), self.ledger)

    def test_wait_runs_out_after_lock_wait(self):
        self.tags.add(B)
        self.acquire(B)
        self.clock.sleep(30.0)
        got = self.acquire(B)
        reason = (
            'Image %s is locked by another run of this command (tag %s of '
            'metadata definitions namespace osc-image-store-locks, since '
            '2026-12-06 17:58:03 UTC); waited 30 s; nothing was removed. A '
            'lock also stays after a removal whose outcome was unknown or '
            'unverified, and after a run that was killed: check where the '
            'image\'s data is with "openstack image store list --image %s"; '
            'once no run works on it, clear the lock with "openstack image '
            'store lock delete %s".' % (B, B, B, B))
        self.assertEqual(acquire.Acquired([], set(), {B: results.Removal(
            B, 'b', 'cheap', 'failed', None, reason)}), got)
        self.assertEqual({}, self.acquirer.waiting)
        self.assertEqual([B], self.ledger.locked_out)
        # The lock is tried once more, then read for its time.
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(B),
                          base.lock_one(B), base.read_lock(B)], self.sent())

    def test_waiting_image_locked_later_stops_waiting(self):
        self.tags.add(B)
        self.acquire(B)
        del self.tags.tags[B]  # the other run is done
        self.clock.sleep(1.0)
        self.assertEqual(acquire.Acquired([B], set(), {}), self.acquire(B))
        self.assertEqual({}, self.acquirer.waiting)

    def test_on_wait_said_once(self):
        self.tags.add(B, C)
        self.acquire(A, B, C)
        self.acquire(B, C)
        self.assertEqual(['Waiting up to 30 s for image(s) locked by another '
                          'run of this command: %s, %s.' % (B, C)],
                         self.said)

    def test_on_wait_names_five_images(self):
        many = ids(7)
        self.tags.add(*many[1:])
        self.acquirer.acquire(many, NAMES.get)
        self.assertEqual(['Waiting up to 30 s for image(s) locked by another '
                          'run of this command: %s, ...'
                          % ', '.join(many[1:6])], self.said)

    def test_no_on_wait(self):
        self.acquirer.on_wait = None
        self.tags.add(B)
        self.assertEqual({B}, self.acquire(B).waiting)


class TestNoAnswer(AcquireCase):

    def unsure_row(self, image_id, name, error):
        return results.Removal(
            image_id, name, 'cheap', 'failed', None,
            'Nothing was removed. %s Then run this command again.'
            % lock.unanswered(image_id, error, advice.ADVICE))

    def test_lock_request_without_answer_fails_at_once(self):
        self.tags.fail('POST', None, ks_exc.ConnectTimeout)
        got = self.acquire(A, B)
        error = 'Timed out connecting to service.'
        self.assertEqual(acquire.Acquired([], set(), {
            A: self.unsure_row(A, 'a', error),
            B: self.unsure_row(B, 'b', error)}), got)
        self.assertEqual([A, B], self.ledger.unsure)
        # Never to be tried again: not waited for.
        self.assertEqual({}, self.acquirer.waiting)
        self.assertFalse(self.acquirer.due())
        self.assertEqual([base.READ_NAMESPACE, base.lock_many(A, B)],
                         self.sent())
        self.assertEqual([], self.said)

    def test_waiting_image_without_answer_stops_waiting(self):
        self.tags.add(B)
        self.acquire(B)
        del self.tags.tags[B]
        self.tags.fail('POST', B, base.glance_error(500, 'db down'))
        self.clock.sleep(1.0)
        got = self.acquire(B)
        self.assertEqual({B: self.unsure_row(B, 'b', 'HTTP 500: db down')},
                         got.rows)
        self.assertEqual(set(), got.waiting)
        self.assertEqual({}, self.acquirer.waiting)
        self.assertEqual([B], self.ledger.unsure)
        self.assertEqual([], self.ledger.locked_out)

    def test_lock_error_propagates(self):
        self.tags.fail('POST', None, base.glance_error(403, 'Forbidden'))
        self.assertRaises(lock.LockError, self.acquire, A, B)
        self.assertEqual({}, self.acquirer.waiting)
        self.assertEqual(lock.Ledger(), self.ledger)
        self.assertEqual([base.READ_NAMESPACE, base.lock_many(A, B)],
                         self.sent())


class TestPacing(AcquireCase):

    def test_nothing_waiting_never_due(self):
        self.assertFalse(self.acquirer.due())
        self.assertEqual(0.0, self.acquirer.next_try())

    def test_due_about_once_a_second(self):
        asked = []

        def uniform(low, high):
            asked.append((low, high))
            return 1.25

        self.useFixture(fixtures.MonkeyPatch(
            'osc_image_store.engine.acquire.random',
            types.SimpleNamespace(uniform=uniform)))
        self.acquirer.wait_for(A)
        self.assertTrue(self.acquirer.due())
        next_try = self.acquirer.next_try()
        self.assertAlmostEqual(self.clock.now + 1.25, next_try, places=3)
        self.assertFalse(self.acquirer.due())
        self.clock.sleep(1.2)
        self.assertFalse(self.acquirer.due())
        self.clock.sleep(0.1)
        self.assertTrue(self.acquirer.due())
        self.assertEqual([(0.5, 1.5), (0.5, 1.5)], asked)
        self.assertEqual([], self.sent())

    def test_wait_for_keeps_the_first_deadline(self):
        self.acquirer.wait_for(A)
        deadline = self.acquirer.waiting[A]
        self.assertAlmostEqual(self.clock.now + 30.0, deadline, places=3)
        self.clock.sleep(5.0)
        self.acquirer.wait_for(A)
        self.assertEqual({A: deadline}, self.acquirer.waiting)
        self.assertEqual([], self.sent())
