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
"""The hold on an image: its value, who it blocks, mark and release."""

import os
import time

import fixtures
from keystoneauth1 import exceptions as ks_exc
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
            'tok', '%s:%d' % (lock.host_name(), os.getpid()),
            float(int(now))), holder)

    def test_tokens_differ_between_runs(self):
        self.assertNotEqual(lock.Lock().token, lock.Lock().token)

    def test_no_lock(self):
        mine = lock.Lock('tok')
        self.assertIsNone(mine.blocks(self.image()))

    def test_own_lock(self):
        mine = lock.Lock('tok')
        image = self.image(mine.value())
        self.assertEqual(mine.token, mine.holder(image).token)
        self.assertIsNone(mine.blocks(image))

    def test_live_lock_of_another_run_blocks(self):
        mine = lock.Lock('tok')
        image = self.image('other web1 7 %d' % (time.time() - 60))
        self.assertNotEqual(mine.token, mine.holder(image).token)
        holder = mine.blocks(image)
        self.assertEqual(('other', 'web1:7'), (holder.token, holder.owner))

    def test_stale_lock_of_another_run_does_not_block(self):
        mine = lock.Lock('tok')
        image = self.image('other web1 7 1000')
        self.assertIsNone(mine.blocks(image, now=1000.0 + 901))
        self.assertIsNotNone(mine.blocks(image, now=1000.0 + 899))
        self.assertNotEqual(mine.token, mine.holder(image).token)

    def test_unreadable_lock_blocks(self):
        self.assertEqual(lock.Holder(None, 'by hand', None),
                         lock.Lock('tok').blocks(self.image('by hand')))

    def test_unset_command(self):
        self.assertEqual(
            'openstack image unset --property osc_image_store_lock IMG',
            lock.Lock.unset_command('IMG'))


class TestHostName(testtools.TestCase):

    def test_plain_and_short(self):
        for name, want in (('web1.example.org', 'web1'), ('', 'host'),
                           ('h\u00f6st_1', 'h-st-1'), ('x' * 40, 'x' * 30)):
            with fixtures.MockPatch(
                    'osc_image_store.engine.lock.socket.gethostname',
                    return_value=name):
                self.assertEqual(want, lock.host_name(), name)


class TestMark(base.TestCase):

    def setUp(self):
        super().setUp()
        self.body = base.image_body()
        self.lock = lock.Lock(base.TOKEN)

    def test_adds_the_property(self):
        self.mock_patch(self.body)
        self.assertIsNone(lock.mark(self.proxy, self.lock, self.body['id']))
        self.assertEqual([base.add_lock(self.body['id'])], self.sent())
        [[op]] = self.patches()
        self.assertEqual(('add', '/' + lock.PROPERTY), (op['op'], op['path']))
        self.assertEqual(base.TOKEN, lock.Holder.parse(op['value']).token)

    def test_error_returned_not_raised(self):
        self.mock_patch(self.body, base.glance_error(403, 'not allowed'))
        self.assertIn('not allowed',
                      lock.mark(self.proxy, self.lock, self.body['id']))
        self.mock_patch(self.body, ks_exc.ConnectFailure)
        self.assertIsNotNone(lock.mark(self.proxy, self.lock,
                                       self.body['id']))


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
