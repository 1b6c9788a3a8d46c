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
"""The rows of ``--copy-to`` say what is true: ``Copied To`` names only a
store that the last read lists a copy in, ``copying`` only a copy that
was running when last read, and a copy that never starts is reported
with its task within ``stall_after``."""

import datetime

import fixtures

from osc_image_store.engine import results
from osc_image_store.tests.unit import base

TASK = '5c1a7d3e-0b8f-4e4a-9a57-6f0f5d2b8c11'
#: The task's last update: now (the engine compares it with the real
#: clock for Glance's lock expiry).
UPDATED = datetime.datetime.now(datetime.timezone.utc).strftime(
    '%Y-%m-%dT%H:%M:%SZ')


class RowsCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.mock_stores()
        self.mock_locks()
        self.useFixture(fixtures.MonkeyPatch(
            'osc_image_store.engine.copy.time', self.clock))
        self.solo = base.image_body('solo', stores=('cheap',))
        self.iid = self.solo['id']
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
                      json=base.listing(self.solo))
        self.http.post('%s/images/%s/import' % (base.V2, self.iid),
                       status_code=202, json={})

    def task(self, status):
        self.http.get(base.V2 + '/tasks/' + TASK, json={
            'id': TASK, 'type': 'api_image_import', 'status': status,
            'message': '', 'updated_at': UPDATED, 'created_at': UPDATED})

    def locked(self, **fields):
        return base.with_stores(self.solo, 'cheap',
                                os_glance_import_task=TASK, **fields)


class TestCopiedTo(RowsCase):

    def test_failed_copy_names_no_store(self):
        # A failed copy's row said "Copied To: fast" although nothing
        # was copied.
        self.mock_image(self.solo, base.with_stores(
            self.solo, 'cheap', os_glance_failed_import='fast'))
        row = self.run_engine([self.iid], copy_to='fast')[0]
        self.assertEqual(('failed', ('cheap',), None),
                         (row.result, row.remaining_stores, row.copied_to))

    def test_copy_that_never_starts_is_named_within_the_bound(self):
        self.task('pending')
        self.mock_image(self.solo, self.locked())
        start = self.clock.now
        row = self.run_engine([self.iid], copy_to='fast', stall_after=60)[0]
        self.assertLess(self.clock.now - start, 70)
        self.assertEqual((results.FAILED, ('cheap',), None),
                         (row.result, row.remaining_stores, row.copied_to))
        self.assertIn('The copy of image %s into store fast has not started: '
                      'its import task %s was pending (not started), last '
                      'updated %s; nothing of it changed for 60 s'
                      % (self.iid, TASK, UPDATED), row.reason)
        self.assertTrue(row.reason.endswith(
            'The copy in store cheap is kept.'))
        self.assertEqual([], [s for s in self.sent()
                              if s.startswith('DELETE /v2/stores')])
        self.assertEqual([], self.lock_tags.names())


class TestInterrupted(RowsCase):

    def stop_on(self, body):
        """The image read answers ``body`` and sets the stop event."""
        def answer(request, context):
            self.stop.set()
            return body
        return {'json': answer}

    def test_pending_copy_is_copying_and_says_pending(self):
        self.stop = base.ClockEvent(self.clock)
        self.task('pending')
        self.mock_image(self.solo, self.stop_on(self.locked()))
        row = list(self.remover(stop=self.stop, copy_to='fast').run(
            [self.iid]))[0]
        self.assertEqual((results.COPYING, None),
                         (row.result, row.copied_to))
        self.assertIn('its import task %s was pending (not started), last '
                      'updated %s; Glance may still start it. Nothing was '
                      'removed.' % (TASK, UPDATED), row.reason)
        self.assertNotIn('goes on in Glance', row.reason)

    def test_copy_done_then_interrupted_is_not_copying(self):
        # The copy is proven, Ctrl-C comes before its removal: the copy
        # is no longer running, and nothing was removed.
        self.stop = base.ClockEvent(self.clock)
        copied = base.with_stores(self.solo, 'cheap', 'fast')
        self.mock_image(self.solo, self.stop_on(copied))
        self.mock_file(self.iid)
        row = list(self.remover(stop=self.stop, copy_to='fast').run(
            [self.iid]))[0]
        self.assertEqual((results.FAILED, 'fast'),
                         (row.result, row.copied_to))
        self.assertIn('Copied into store fast (proven); interrupted before '
                      'its removal from cheap: nothing was removed.',
                      row.reason)
        self.assertEqual([], [s for s in self.sent()
                              if s.startswith('DELETE /v2/stores')])
