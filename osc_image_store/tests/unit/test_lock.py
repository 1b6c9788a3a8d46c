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
"""The lock between runs: its value, who blocks whom, and lock.take."""

from concurrent import futures
import os
import socket
import time

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc
import testtools

from osc_image_store.engine import lock
from osc_image_store.tests.unit import base

OTHER = 'a' * 32


class TestHolder(testtools.TestCase):

    def test_parse(self):
        self.assertEqual(lock.Holder('tok', 'web1:42', 1000.0),
                         lock.Holder.parse('tok web1 42 1000'))

    def test_unreadable_value(self):
        self.assertEqual(lock.Holder(None, 'set by hand', None),
                         lock.Holder.parse('set by hand'))
        self.assertFalse(lock.Holder.parse('x' * 100).is_stale(1e12))
        self.assertEqual('x' * 60, lock.Holder.parse('x' * 100).owner)

    def test_stale_after_exactly_15_minutes(self):
        holder = lock.Holder('tok', 'h:1', 1000.0)
        self.assertFalse(holder.is_stale(1000.0 + 900))
        self.assertTrue(holder.is_stale(1000.0 + 900.001))

    def test_describe(self):
        self.assertEqual('h:1 since 1970-01-01 00:16:40 UTC',
                         lock.Holder('t', 'h:1', 1000.0).describe())
        self.assertEqual('h:1', lock.Holder(None, 'h:1', None).describe())


class TestLock(testtools.TestCase):

    def image(self, value=None):
        fields = {} if value is None else {lock.PROPERTY: value}
        return base.image_resource(base.image_body(**fields))

    def test_value_names_this_run(self):
        now = time.time()
        holder = lock.Holder.parse(lock.Lock('tok').value(now))
        self.assertEqual(lock.Holder(
            'tok', '%s:%d' % (socket.gethostname().split()[0], os.getpid()),
            float(int(now))), holder)

    def test_tokens_differ_between_runs(self):
        self.assertNotEqual(lock.Lock().token, lock.Lock().token)

    def test_no_lock(self):
        mine = lock.Lock('tok')
        self.assertIsNone(mine.blocks(self.image()))
        self.assertFalse(mine.is_mine(self.image()))

    def test_own_lock(self):
        mine = lock.Lock('tok')
        image = self.image(mine.value())
        self.assertTrue(mine.is_mine(image))
        self.assertIsNone(mine.blocks(image))

    def test_live_lock_of_another_run_blocks(self):
        mine = lock.Lock('tok')
        image = self.image('other web1 7 %d' % (time.time() - 60))
        self.assertFalse(mine.is_mine(image))
        holder = mine.blocks(image)
        self.assertEqual(('other', 'web1:7'), (holder.token, holder.owner))

    def test_stale_lock_of_another_run_does_not_block(self):
        mine = lock.Lock('tok')
        image = self.image('other web1 7 1000')
        self.assertIsNone(mine.blocks(image, now=1000.0 + 901))
        self.assertIsNotNone(mine.blocks(image, now=1000.0 + 899))
        self.assertFalse(mine.is_mine(image))

    def test_unreadable_lock_blocks(self):
        self.assertEqual(lock.Holder(None, 'by hand', None),
                         lock.Lock('tok').blocks(self.image('by hand')))

    def test_unset_command(self):
        self.assertEqual(
            'openstack image unset --property osc_image_store_lock IMG',
            lock.Lock.unset_command('IMG'))


class TestTake(base.TestCase):

    def setUp(self):
        super().setUp()
        self.body = base.image_body()
        self.iid = self.body['id']
        self.lock = lock.Lock(base.TOKEN)
        self.pool = futures.ThreadPoolExecutor(2)
        self.addCleanup(self.pool.shutdown)
        self.times = {}

    def take(self, *bodies):
        """lock.take on the images; also returns the written set."""
        images = [base.image_resource(b) for b in bodies or (self.body,)]
        written = set()
        held, contended, errors = lock.take(
            self.proxy, self.lock, images, self.clock.monotonic(),
            self.pool, written)
        return held, contended, errors, written

    def timed(self, name, answer, delay=0.0):
        def callback(request, context):
            self.clock.sleep(delay)
            self.times[name] = self.clock.monotonic()
            return answer
        return callback

    def test_taken(self):
        self.mock_patch(self.body, {'json': self.timed(
            'patch', base.locked(self.body))})
        self.mock_listing({'json': self.timed(
            'read', base.listing(base.locked(self.body)))})
        held, contended, errors, written = self.take()
        self.assertEqual(([self.iid], [], {}, {self.iid}),
                         (list(held), contended, errors, written))
        self.assertTrue(self.lock.is_mine(held[self.iid]))
        self.assertEqual([base.add_lock(self.iid), base.listing_of(self.iid)],
                         self.sent())
        value = self.patches()[0][0]['value']
        holder = lock.Holder.parse(value)
        self.assertEqual(base.TOKEN, holder.token)
        self.assertLess(abs(time.time() - holder.since), 5)
        # Fischer: the confirming read waits the settle time after the
        # last lock write was answered.
        self.assertGreaterEqual(self.times['read'] - self.times['patch'],
                                base.SETTLE)

    def test_late_answer_not_trusted(self):
        self.mock_patch(self.body, {'json': self.timed(
            'patch', base.locked(self.body), delay=2 * base.SETTLE)},
            self.body)
        self.mock_listing([base.locked(self.body)])
        held, contended, errors, written = self.take()
        self.assertEqual(({}, [self.iid], {}, set()),
                         (held, contended, errors, written))
        # The late value is this run's: it is removed again.
        self.assertEqual([base.add_lock(self.iid), base.listing_of(self.iid),
                          base.remove_lock(self.iid)], self.sent())

    def test_overwritten_by_another_run(self):
        self.mock_patch(self.body, base.locked(self.body))
        self.mock_listing([base.locked(self.body, token=OTHER)])
        held, contended, errors, written = self.take()
        self.assertEqual(({}, [self.iid], {}, set()),
                         (held, contended, errors, written))
        # Never remove another run's lock.
        self.assertEqual([base.add_lock(self.iid), base.listing_of(self.iid)],
                         self.sent())

    def test_failed_write(self):
        self.mock_patch(self.body, base.glance_error(403, 'Forbidden'))
        held, contended, errors, written = self.take()
        self.assertEqual(({}, [], set()), (held, contended, written))
        self.assertEqual([self.iid], list(errors))
        self.assertIsInstance(errors[self.iid], sdk_exc.ForbiddenException)
        self.assertEqual([base.add_lock(self.iid)], self.sent())

    def test_write_without_a_clear_answer_may_have_been_saved(self):
        # A 5xx or a dropped connection: the caller must release it later
        # (if the value is this run's).
        self.mock_patch(self.body, base.glance_error(503, 'busy'))
        held, contended, errors, written = self.take()
        self.assertEqual(({}, [self.iid], {}, {self.iid}),
                         (held, contended, errors, written))

    def test_failed_confirming_read(self):
        self.mock_patch(self.body, base.locked(self.body))
        self.mock_listing(base.glance_error(500, 'db down'))
        held, contended, errors, written = self.take()
        self.assertEqual(({}, [self.iid], {}, {self.iid}),
                         (held, contended, errors, written))

    def test_image_gone_before_the_confirming_read(self):
        self.mock_patch(self.body, base.locked(self.body))
        self.mock_listing([])
        self.mock_listing([], hidden=True)
        held, contended, errors, written = self.take()
        self.assertEqual(({}, [self.iid], {}, set()),
                         (held, contended, errors, written))

    def test_two_images_one_listing(self):
        other = base.image_body('other')
        self.mock_patch(self.body, base.locked(self.body))
        self.mock_patch(other, base.locked(other))
        self.mock_listing([base.locked(self.body),
                           base.locked(other, token=OTHER)])
        held, contended, errors, written = self.take(self.body, other)
        self.assertEqual(([self.iid], [other['id']], {}, {self.iid}),
                         (list(held), contended, errors, written))
        self.assertEqual([base.listing_of(self.iid, other['id'])],
                         [s for s in self.sent() if s.startswith('GET')])

    def test_nothing_to_take_sends_nothing(self):
        written = set()
        self.assertEqual(({}, [], {}), lock.take(
            self.proxy, self.lock, [], self.clock.monotonic(), self.pool,
            written))
        self.assertEqual(set(), written)
        self.assertEqual([], self.sent())


class TestRelease(base.TestCase):

    def setUp(self):
        super().setUp()
        self.body = base.image_body()

    def test_removes_the_property(self):
        self.mock_patch(self.body)
        self.assertIsNone(lock.release(self.proxy, self.body['id']))
        self.assertEqual([base.remove_lock(self.body['id'])], self.sent())

    def test_already_gone(self):
        self.mock_patch(self.body, base.glance_error(
            409, 'Property osc_image_store_lock does not exist.'))
        self.assertIsNone(lock.release(self.proxy, self.body['id']))

    def test_sent_again_once_after_a_dropped_connection(self):
        self.mock_patch(self.body, ks_exc.ConnectFailure, self.body)
        self.assertIsNone(lock.release(self.proxy, self.body['id']))
        self.assertEqual([base.remove_lock(self.body['id'])] * 2,
                         self.sent())

    def test_error_returned(self):
        self.mock_patch(self.body, ks_exc.ConnectFailure)
        self.assertIsNotNone(lock.release(self.proxy, self.body['id']))
        self.mock_patch(self.body, base.glance_error(500, 'db down'))
        self.assertIn('db down', lock.release(self.proxy, self.body['id']))
