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
"""A copy never hangs silently: its import task is followed, and a task
that does not start, or stops moving, is reported with its ID, its state
and since when, long before ``--copy-timeout``; what is said on Ctrl-C or
at the timeout is what was last read.

Glance's task is emulated as Glance 33 moves it: ``pending`` until its
executor picks it up, then ``processing`` with no update while it stages
the image, then an update (``message`` "Copied <n> MiB", a new
``updated_at``) at most every 60 s while it writes to the target store.
Time is the test clock: nothing waits for real.
"""

import datetime
import threading

import fixtures

from osc_image_store.engine import copy
from osc_image_store.tests.unit import base

TASK = '5c1a7d3e-0b8f-4e4a-9a57-6f0f5d2b8c11'
MIB = 1 << 20


def stamp(seconds=0.0):
    """Glance's ``updated_at`` ``seconds`` after the test's start.

    The start is the real time now: the engine also compares a task's
    ``updated_at`` with the real clock (Glance's lock expiry).
    """
    start = T0 + datetime.timedelta(seconds=seconds)
    return start.strftime('%Y-%m-%dT%H:%M:%SZ')


T0 = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


class GlanceTask:
    """A copy-image task whose state follows the test clock.

    :param phases: ``[(seconds, status, updates_every)]`` from the start:
        the task is in ``status`` for ``seconds``; ``updates_every``
        (seconds, or None) is how often Glance saves it meanwhile.
    """

    def __init__(self, clock, phases, target='fast'):
        self.clock, self.phases, self.target = clock, phases, target
        self.start = clock.now

    def state(self):
        """(status, updated_at, message) now.

        A change of status is a save (``updated_at`` moves); so is each
        update of a phase that has them (the message then says "Copied
        <n> MiB", n being the seconds since the start).
        """
        elapsed = self.clock.now - self.start
        status, updated, message, at = None, 0.0, '', 0.0
        for seconds, phase_status, every in self.phases:
            if elapsed < at:
                break
            if phase_status != status:
                status, updated = phase_status, at
            if every:
                count = int((min(elapsed, at + seconds) - at) // every)
                if count:
                    updated = at + count * every
                    message = 'Copied %d MiB' % updated
            at += seconds
        return status, stamp(updated), message

    def body(self):
        status, updated, message = self.state()
        return {'id': TASK, 'type': 'api_image_import', 'status': status,
                'created_at': stamp(),
                'updated_at': updated, 'message': message,
                'input': {'image_id': 'x', 'backend': [self.target],
                          'import_req': {'method': {'name': 'copy-image'},
                                         'stores': [self.target]}}}


class StallCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'osc_image_store.engine.copy.time', self.clock))
        self.body = base.image_body(stores=('cheap',), size=600 * MIB)
        self.iid = self.body['id']
        self.stop = threading.Event()
        self.http.post('%s/images/%s/import' % (base.V2, self.iid),
                       status_code=202, json={})
        self.mock_file(self.iid)

    def glance(self, phases, done_after=None):
        """The task and the image as Glance shows them on the test clock.

        :param done_after: seconds after which the copy is finished (the
            lock gone, the target listed); None: never.
        """
        task = GlanceTask(self.clock, phases)
        start = self.clock.now
        reads = []

        def image(request, context):
            reads.append(1)
            if len(reads) == 1:
                return self.body  # the read before the import
            if (done_after is not None
                    and self.clock.now - start >= done_after):
                return base.with_stores(self.body, 'cheap', 'fast')
            status = task.state()[0]
            return base.with_stores(
                self.body, 'cheap', os_glance_import_task=TASK,
                os_glance_importing_to_stores=(
                    'fast' if status == 'processing' else None))

        self.http.get(base.V2 + '/images/' + self.iid, json=image)
        self.http.get(base.V2 + '/tasks/' + TASK,
                      json=lambda request, context: task.body())
        return task

    def copy(self, timeout=3600.0, stall_after=None):
        """Copy and wait (``stall_after`` None: the default bound)."""
        start = self.clock.now
        more = {} if stall_after is None else {'stall_after': stall_after}
        copied = copy.copy_and_wait(self.proxy, self.iid, 'cheap', 'fast',
                                    timeout, self.stop, poll=1.0, **more)
        return copied, self.clock.now - start


class TestNeverStarts(StallCase):

    def test_pending_task_is_named_within_the_bound(self):
        # Glance's executor never picks the task up: it stays pending.
        self.glance([(10 ** 6, 'pending', None)])
        copied, took = self.copy()  # the default bound: 300 s
        self.assertIs(False, copied.ok)
        self.assertLess(took, 310)
        self.assertGreaterEqual(took, 300)
        self.assertIn(
            'The copy of image %s into store fast has not started: its '
            'import task %s was pending (not started), last updated %s; '
            'nothing of it changed for 300 s (this command waits at most 300 '
            's for a copy that does not move). Glance may still start it'
            % (self.iid, TASK, stamp()), copied.reason)
        self.assertIn('Nothing was removed. Its import lock '
                      '(os_glance_import_task %s) stays on the image until '
                      'the task ends or Glance treats it as expired (120 '
                      'minutes after the task\'s last update)' % TASK,
                      copied.reason)
        self.assertTrue(copied.reason.endswith(
            'The copy in store cheap is kept.'))
        self.assertEqual((('cheap',), None, 0),
                         (copied.stores, copied.reached, copied.size))

    def test_the_bound_is_an_option(self):
        self.glance([(10 ** 6, 'pending', None)])
        copied, took = self.copy(stall_after=5)
        self.assertIs(False, copied.ok)
        self.assertLess(took, 10)
        self.assertIn('has not started', copied.reason)

    def test_pending_then_started_is_not_reported(self):
        # Pending for 4 minutes (a busy task pool), then a normal copy.
        self.glance([(240, 'pending', None), (60, 'processing', None),
                     (10 ** 6, 'processing', 60)], done_after=900)
        copied, took = self.copy(stall_after=300)
        self.assertEqual((True, 'fast'), (copied.ok, copied.reached))
        self.assertGreaterEqual(took, 900)


class TestStopsMoving(StallCase):

    def test_updates_stop(self):
        # Staged, updated every minute for 5 minutes, then nothing: the
        # Images API that ran it died.
        self.glance([(120, 'processing', None), (290, 'processing', 60),
                     (10 ** 6, 'processing', None)])
        copied, took = self.copy(stall_after=300)
        self.assertIs(False, copied.ok)
        self.assertIn('The copy of image %s into store fast has made no '
                      'progress: its import task %s was processing, last '
                      'updated %s ("Copied 360 MiB"); nothing of it changed '
                      'for 300 s' % (self.iid, TASK, stamp(360)),
                      copied.reason)
        self.assertIn('(60 minutes after the task\'s last update)',
                      copied.reason)
        # Reported 300 s after the last update was seen, not at the
        # hour of --copy-timeout.
        self.assertLess(took, 360 + 300 + 5)

    def test_staging_without_updates_gets_time_for_the_size(self):
        # 600 MiB staged at 1.2 MiB/s (500 s with no update at all), then
        # written with an update a minute: slow but healthy.
        self.glance([(500, 'processing', None), (10 ** 6, 'processing', 60)],
                    done_after=1000)
        copied, took = self.copy(stall_after=300)
        self.assertIs(True, copied.ok, copied.reason)

    def test_staging_that_never_ends_is_reported_after_its_allowance(self):
        self.glance([(10 ** 6, 'processing', None)])
        copied, took = self.copy(stall_after=300)
        self.assertIs(False, copied.ok)
        # 300 s, plus 1 s per MiB of the image (600 MiB).
        self.assertGreaterEqual(took, 900)
        self.assertLess(took, 910)
        self.assertIn('has made no progress: its import task %s was '
                      'processing, last updated %s; nothing of it changed '
                      'for 900 s (this command waits at most 900 s'
                      % (TASK, stamp()), copied.reason)

    def test_slow_healthy_copy_is_never_reported(self):
        # 15 minutes of updates every 60 s: far longer than the bound.
        self.glance([(30, 'pending', None), (200, 'processing', None),
                     (10 ** 6, 'processing', 60)], done_after=900)
        copied, took = self.copy(timeout=7200, stall_after=120)
        self.assertIs(True, copied.ok, copied.reason)

    def test_quiet_allowed(self):
        class Task:
            status = 'processing'
        self.assertEqual(300 + 600, copy.quiet_allowed(Task, 300, 600 * MIB,
                                                       False))
        self.assertEqual(300, copy.quiet_allowed(Task, 300, 600 * MIB, True))
        Task.status = 'pending'
        self.assertEqual(300, copy.quiet_allowed(Task, 300, 600 * MIB,
                                                 False))
        self.assertEqual(300, copy.quiet_allowed(None, 300, None, False))


class TestWhatIsSaid(StallCase):

    def stop_after(self, seconds):
        """Ctrl-C once ``seconds`` have passed on the test clock."""
        start = self.clock.now
        real_sleep = self.clock.sleep

        def sleep(delay):
            real_sleep(delay)
            if self.clock.now - start >= seconds:
                self.stop.set()

        self.clock.sleep = sleep
        self.addCleanup(setattr, self.clock, 'sleep', real_sleep)

    def test_ctrl_c_while_pending_says_so(self):
        self.glance([(10 ** 6, 'pending', None)])
        self.stop_after(120)
        copied, _took = self.copy()
        self.assertIsNone(copied.ok)
        self.assertIn('Interrupted while waiting for the copy of image %s '
                      'into store fast: its import task %s was pending (not '
                      'started), last updated %s; Glance may still start it.'
                      % (self.iid, TASK, stamp()), copied.reason)
        self.assertNotIn('goes on', copied.reason)
        self.assertIsNone(copied.reached)

    def test_ctrl_c_after_the_task_failed_to_be_read(self):
        self.http.get(base.V2 + '/images/' + self.iid, [
            {'json': self.body},
            {'json': base.with_stores(self.body, 'cheap',
                                      os_glance_import_task=TASK)}])
        self.http.get(base.V2 + '/tasks/' + TASK,
                      **base.glance_error(500, 'oops'))
        self.stop_after(3)
        copied, _took = self.copy()
        # Not "copying": nothing says a copy is running.
        self.assertIs(False, copied.ok)
        self.assertIn('its import task %s (the image\'s import lock) could '
                      'not be read' % TASK, copied.reason)
        self.assertNotIn('goes on', copied.reason)

    def test_timeout_says_what_was_last_read(self):
        self.glance([(10 ** 6, 'processing', 60)])
        copied, took = self.copy(timeout=600)
        self.assertIs(False, copied.ok)
        self.assertIn('has not finished after 600 s: its import task %s was '
                      'processing, last updated %s ("Copied 600 MiB")'
                      % (TASK, stamp(600)), copied.reason)


class TestCopyInFlight(StallCase):

    def test_pending_copy_into_the_target_is_waited_for(self):
        # An earlier run's copy was reported as not started; Glance has
        # started it since: this run waits for it, and posts nothing.
        body = base.with_stores(self.body, 'cheap',
                                os_glance_import_task=TASK)
        task = GlanceTask(self.clock, [(30, 'pending', None),
                                       (10 ** 6, 'processing', 60)])
        start = self.clock.now
        self.http.get(base.V2 + '/images/' + self.iid, json=lambda r, c: (
            base.with_stores(self.body, 'cheap', 'fast')
            if self.clock.now - start > 200 else body))
        self.http.get(base.V2 + '/tasks/' + TASK,
                      json=lambda request, context: task.body())
        copied, _took = self.copy()
        self.assertEqual((True, 'fast', 0),
                         (copied.ok, copied.reached, copied.size))
        self.assertNotIn('POST', ' '.join(self.sent()))

    def test_pending_import_into_another_store_blocks(self):
        body = base.with_stores(self.body, 'cheap',
                                os_glance_import_task=TASK)
        task = GlanceTask(self.clock, [(10 ** 6, 'pending', None)],
                          target='archive')
        self.http.get(base.V2 + '/images/' + self.iid, json=body)
        self.http.get(base.V2 + '/tasks/' + TASK,
                      json=lambda request, context: task.body())
        copied, _took = self.copy()
        self.assertIs(False, copied.ok)
        self.assertIn('is being imported', copied.reason)
        self.assertNotIn('POST', ' '.join(self.sent()))
