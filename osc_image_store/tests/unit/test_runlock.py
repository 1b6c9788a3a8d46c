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
"""The lock between runs: its register, Fischer's rounds, beats, release."""

import email.utils
import json
import os
import time

import fixtures
from keystoneauth1 import exceptions as ks_exc
import testtools

from osc_image_store.engine import runlock
from osc_image_store.tests.unit import base

State = runlock.State
NS = '/v2/metadefs/namespaces/' + runlock.NAMESPACE


def live(*tokens, store='fast', age=0.0):
    """A register state with runs seen ``age`` seconds ago."""
    return State(store, {t: ['h', 7, time.time() - age] for t in tokens})


class TestState(testtools.TestCase):

    def test_round_trip(self):
        state = State('cheap', {'t1': ['web1', 42, 1000]})
        self.assertEqual(state, State.parse(state.dump()))

    def test_empty_is_free(self):
        for text in (None, ''):
            self.assertEqual(State(), State.parse(text), text)

    def test_anything_else_is_not_read_as_free(self):
        for text in ('by hand', '[]', '{"runs": 3}',
                     '{"store": "x", "runs": {"t": ["h", 1]}}'):
            self.assertRaises(ValueError, State.parse, text)

    def test_no_runs_no_store(self):
        self.assertEqual(State(), State.parse('{"store":"x","runs":{}}'))

    def test_stale_runs_dropped(self):
        state = State('fast', {'old': ['h', 1, 1000], 'new': ['h', 2, 1300]})
        self.assertEqual(State('fast', {'new': ['h', 2, 1300]}),
                         state.live(1000 + runlock.STALE_AFTER + 1))
        self.assertEqual(state, state.live(1000 + runlock.STALE_AFTER))
        self.assertEqual(State(), state.live(1e12))

    def test_describe(self):
        self.assertEqual('web1:42 (last seen 1970-01-01 00:16:40 UTC)',
                         State('x', {'t': ['web1', 42, 1000]}).describe())


class TestRunLock(base.TestCase):

    def setUp(self):
        super().setUp()
        self.mock_register()
        self.waits = []
        self.lock = runlock.RunLock(self.proxy, 'cheap', wait=10,
                                    on_wait=self.waits.append)

    def state(self):
        return State.parse(self.register)

    def test_taken_with_one_write_and_a_read_after_the_settle(self):
        start = self.clock.monotonic()
        self.lock.acquire()
        self.assertTrue(self.lock.held)
        self.assertEqual(base.LOCK, self.sent())
        self.assertEqual('cheap', self.state().store)
        host, pid, beat = self.state().runs[base.RUN_TOKEN]
        self.assertEqual(os.getpid(), pid)
        self.assertAlmostEqual(time.time(), beat, delta=5)
        self.assertGreaterEqual(self.clock.monotonic() - start,
                                runlock.SETTLE)
        put = [r for r in self.requests() if r.method == 'PUT'][0].json()
        self.assertEqual(
            {'namespace': runlock.NAMESPACE, 'visibility': 'public',
             'protected': True}, {k: put[k] for k in (
                 'namespace', 'visibility', 'protected')})

    def test_shared_with_runs_of_the_same_store(self):
        self.mock_register(live('other', store='cheap'))
        self.lock.acquire()
        self.assertEqual({'other', base.RUN_TOKEN}, set(self.state().runs))
        self.assertEqual([], self.waits)

    def test_waits_for_runs_of_another_store(self):
        self.mock_register(live('other'))
        answers = iter([live('other'), live('other'), State()])

        def read(request, context):
            if request.method == 'PUT':
                self.register = request.json()['description']
                return {'description': self.register}
            state = next(answers, None)
            if state is not None:
                self.register = state.dump()
            return {'description': self.register}

        self.http.get(base.REGISTER, json=read)
        self.http.put(base.REGISTER, json=read)
        self.lock.acquire()
        self.assertEqual(1, len(self.waits))
        self.assertIn('Waiting up to 10 s', self.waits[0])
        self.assertIn('store fast: h:7', self.waits[0])
        self.assertEqual(['GET ' + NS] * 2 + base.LOCK, self.sent())
        self.assertEqual({base.RUN_TOKEN}, set(self.state().runs))

    def test_busy_when_the_wait_runs_out(self):
        self.mock_register(live('other'))
        self.lock.wait = 0
        error = self.assertRaises(runlock.LockError, self.lock.acquire)
        self.assertIn('removing image data from store fast: h:7', str(error))
        self.assertIn('nothing was removed', str(error))
        self.assertFalse(self.lock.held)
        self.assertEqual(['GET ' + NS], self.sent())

    def test_stale_run_of_another_store_dropped(self):
        self.mock_register(live('dead', age=runlock.STALE_AFTER + 5))
        self.lock.acquire()
        self.assertEqual(State('cheap', self.state().runs), self.state())
        self.assertEqual({base.RUN_TOKEN}, set(self.state().runs))

    def test_full_register_waits(self):
        full = State('cheap', {'r%011d' % n: ['h' * 30, 4194304, time.time()]
                               for n in range(6)})
        self.mock_register(full)
        self.lock.wait = 0
        self.assertRaises(runlock.LockError, self.lock.acquire)
        self.assertEqual(['GET ' + NS], self.sent())
        # With room for it, a same-store run joins.
        del full.runs['r%011d' % 5]
        self.mock_register(full)
        self.lock.acquire()
        self.assertLessEqual(len(self.register), runlock.MAX_LENGTH)

    def test_late_answer_not_trusted(self):
        def put(request, context):
            self.register = request.json()['description']
            if len([r for r in self.requests() if r.method == 'PUT']) == 1:
                self.clock.sleep(runlock.SETTLE + 0.1)
            return {'description': self.register}

        self.http.put(base.REGISTER, json=put)
        self.lock.acquire()
        # The first write answered late: written again, then confirmed.
        self.assertEqual(['GET ' + NS, 'PUT ' + NS] + base.LOCK,
                         self.sent())

    def test_overwritten_by_another_run(self):
        def get(request, context):
            if len([r for r in self.requests() if r.method == 'GET']) == 2:
                self.register = live('other').dump()  # the last writer
            return {'description': self.register}

        self.http.get(base.REGISTER, json=get)
        self.lock.wait = 0
        self.assertRaises(runlock.LockError, self.lock.acquire)
        self.assertFalse(self.lock.held)

    def read_fails(self, nth, status, message):
        """The ``nth`` read of the register answers ``status``."""
        reads = []

        def get(request, context):
            reads.append(request)
            if len(reads) == nth:
                context.status_code = status
                return {'message': message}
            return {'description': self.register}

        self.http.get(base.REGISTER, json=get)

    def first_read_not_found(self):
        self.read_fails(1, 404, 'Namespace not found')

    def test_namespace_made_on_first_use(self):
        self.first_read_not_found()
        self.http.post(base.V2 + '/metadefs/namespaces', status_code=201,
                       json={'namespace': runlock.NAMESPACE})
        self.lock.acquire()
        self.assertEqual(['GET ' + NS, 'POST /v2/metadefs/namespaces']
                         + base.LOCK, self.sent())
        post = [r for r in self.requests() if r.method == 'POST'][0].json()
        self.assertEqual((runlock.NAMESPACE, 'public', True, State().dump()),
                         (post['namespace'], post['visibility'],
                          post['protected'], post['description']))

    def test_made_by_another_run_first(self):
        self.first_read_not_found()
        self.http.post(base.V2 + '/metadefs/namespaces',
                       **base.glance_error(409, 'Duplicate'))
        self.lock.acquire()
        self.assertTrue(self.lock.held)

    def test_forbidden_says_what_and_where(self):
        self.http.put(base.REGISTER, **base.glance_error(403, 'no way'))
        error = self.assertRaises(runlock.LockError, self.lock.acquire)
        self.assertIn('could not be written', str(error))
        self.assertIn(runlock.NAMESPACE, str(error))
        self.assertIn('no way', str(error))

    def test_register_edited_by_hand_refuses(self):
        self.register = 'set by hand'
        error = self.assertRaises(runlock.LockLost, self.lock.acquire)
        self.assertIn("holds a value this command did not write", str(error))
        self.assertIn('openstack image metadef namespace set --public '
                      '--protected --description \'{"runs":{},"store":null}\''
                      ' osc-image-store-removals',
                      str(error))
        self.assertEqual(['GET ' + NS], self.sent())
        self.assertEqual('set by hand', self.register)

    def test_beats_on_the_servers_clock(self):
        # The Images API's Date header, not this host's clock: a host
        # whose clock is off neither hides a live run nor keeps a dead one.
        server = time.time() - 3600
        self.http.get(base.REGISTER, json=lambda r, c: {
            'description': self.register}, headers={
                'Date': email.utils.formatdate(server, usegmt=True)})
        self.lock.acquire()
        beat = self.state().runs[base.RUN_TOKEN][2]
        self.assertAlmostEqual(server, beat, delta=2)

    def test_stale_on_the_servers_clock(self):
        server = time.time()
        self.mock_register(State('fast', {'other': ['h', 7, server - 200]}))
        self.http.get(base.REGISTER, json=lambda r, c: {
            'description': self.register}, headers={
                'Date': email.utils.formatdate(server + 150, usegmt=True)})
        self.lock.acquire()  # 350 s old on the server's clock: dropped
        self.assertEqual({base.RUN_TOKEN}, set(self.state().runs))

    def test_failed_acquire_takes_its_write_out(self):
        # The confirming read fails after the write landed: the entry is
        # taken out again, so that it keeps no other run waiting.
        self.read_fails(2, 500, 'db down')
        self.assertRaises(runlock.LockError, self.lock.acquire)
        self.assertEqual(State(), self.state())
        self.assertFalse(self.lock.held)

    def test_release_of_a_stale_entry_still_takes_it_out(self):
        self.lock.acquire()
        runs = self.state().runs
        runs[base.RUN_TOKEN][2] -= runlock.STALE_AFTER + 60
        self.register = State('cheap', runs).dump()
        self.assertIsNone(self.lock.release())
        self.assertEqual(State(), self.state())

    def test_unreadable(self):
        self.http.get(base.REGISTER, exc=ks_exc.ConnectFailure)
        error = self.assertRaises(runlock.LockError, self.lock.acquire)
        self.assertIn('could not be read', str(error))

    def test_release_takes_this_run_out(self):
        self.mock_register(live('other', store='cheap'))
        self.lock.acquire()
        self._first = len(self.http.request_history)
        start = self.clock.monotonic()
        self.assertIsNone(self.lock.release())
        # Another run is in it: read again after the settle time.
        self.assertEqual(base.UNLOCK + ['GET ' + NS], self.sent())
        self.assertGreaterEqual(self.clock.monotonic() - start,
                                runlock.SETTLE)
        self.assertEqual({'other'}, set(self.state().runs))
        self.assertIsNone(self.lock.release())  # once only
        self.assertEqual(base.UNLOCK + ['GET ' + NS], self.sent())

    def test_release_again_when_another_write_brought_it_back(self):
        # Two runs of one store end at once: each read the other, each
        # wrote the register without itself, the last write brought this
        # run back.  It is taken out again.
        self.mock_register(live('other', store='cheap'))
        self.lock.acquire()
        mine = State.parse(self.register).runs[base.RUN_TOKEN]
        puts = []

        def put(request, context):
            puts.append(request)
            self.register = request.json()['description']
            if len(puts) == 1:  # the other run's write lands after ours
                self.register = State('cheap', {
                    base.RUN_TOKEN: mine}).dump()
            return {'description': self.register}

        self.http.put(base.REGISTER, json=put)
        self.assertIsNone(self.lock.release())
        self.assertEqual(2, len(puts))
        self.assertEqual(State(), self.state())

    def test_five_runs_with_odd_host_names_fit(self):
        self.useFixture(fixtures.MockPatch(
            'osc_image_store.engine.lock.socket.gethostname',
            return_value='h\u00f6st"name\\with stuff' * 4 + '.example'))
        lock = runlock.RunLock(self.proxy, 'cheap')
        self.assertEqual(30, len(lock.host))
        self.assertRegex(lock.host, r'^[A-Za-z0-9-]+$')
        runs = {'%012d' % n: [lock.host, 4194304, 1796127927]
                for n in range(5)}
        self.assertLessEqual(len(State('s' * 40, runs).dump()),
                             runlock.MAX_LENGTH)

    def test_full_register_says_so(self):
        full = State('cheap', {'r%011d' % n: ['h' * 30, 4194304, time.time()]
                               for n in range(6)})
        self.mock_register(full)
        self.lock.wait = 0
        error = self.assertRaises(runlock.LockError, self.lock.acquire)
        self.assertIn("store cheap (the lock's register has no room for one "
                      "more run): h", str(error))
        self.assertIn('. This run waits for them', str(error))

    def test_stop_while_waiting_returns_unheld(self):
        self.mock_register(live('other'))
        self.lock.stop.set()
        self.lock.acquire()
        self.assertFalse(self.lock.held)
        self.assertEqual(['GET ' + NS], self.sent())
        self.assertIsNone(self.lock.release())  # nothing written
        self.assertEqual(['GET ' + NS], self.sent())

    def test_release_after_an_unconfirmed_write(self):
        # Interrupted (or failed) after its write: the entry may be there.
        def put(request, context):
            self.register = request.json()['description']
            raise KeyboardInterrupt

        self.http.put(base.REGISTER, json=put)
        self.assertRaises(KeyboardInterrupt, self.lock.acquire)
        self.assertFalse(self.lock.held)
        self.http.put(base.REGISTER, json=lambda r, c: {
            'description': setattr(self, 'register', r.json()[
                'description']) or self.register})
        self.assertIsNone(self.lock.release())
        self.assertEqual(State(), self.state())

    def test_release_after_a_loss_writes_nothing(self):
        self.lock.acquire()
        self.register = live('other').dump()
        self._first = len(self.http.request_history)
        self.assertIsNone(self.lock.release())
        self.assertEqual(['GET ' + NS], self.sent())
        self.assertEqual({'other'}, set(self.state().runs))

    def test_last_run_out_frees_the_store(self):
        self.lock.acquire()
        self.lock.release()
        self.assertEqual(State(), self.state())

    def test_release_error_returned(self):
        self.lock.acquire()
        self.http.put(base.REGISTER, **base.glance_error(503, 'busy'))
        self.assertIn('busy', self.lock.release())
        self.assertFalse(self.lock.held)


class TestBeat(base.TestCase):

    def setUp(self):
        super().setUp()
        self.mock_register()
        self.lock = runlock.RunLock(self.proxy, 'cheap')
        self.lock.acquire()
        self._first = len(self.http.request_history)

    def test_nothing_sent_while_the_beat_is_fresh(self):
        self.clock.sleep(runlock.BEAT - 5)
        self.lock.ensure()
        self.assertEqual([], self.sent())

    def test_beat_written_again_when_due(self):
        old = State.parse(self.register).runs[base.RUN_TOKEN][2]
        self.clock.sleep(runlock.BEAT + 1)
        self.useFixture(__import__('fixtures').MockPatch(
            'osc_image_store.engine.runlock.time.time',
            return_value=old + 61))
        self.lock.ensure()
        self.assertEqual(base.LOCK, self.sent())
        self.assertEqual(old + 61,
                         State.parse(self.register).runs[base.RUN_TOKEN][2])

    def test_taken_by_another_run(self):
        self.register = live('other').dump()
        self.clock.sleep(runlock.BEAT + 1)
        error = self.assertRaises(runlock.LockError, self.lock.ensure)
        self.assertIn('Another run took the lock', str(error))
        self.assertFalse(self.lock.held)
        self.assertRaises(runlock.LockError, self.lock.ensure)

    def test_renewal_errors_tolerated_until_the_lease_ends(self):
        self.http.get(base.REGISTER, exc=ks_exc.ConnectFailure)
        self.clock.sleep(runlock.BEAT + 1)
        self.lock.ensure()  # tried, failed, still within the lease
        self.assertTrue(self.lock.held)
        self.clock.sleep(runlock.LEASE)
        error = self.assertRaises(runlock.LockError, self.lock.ensure)
        self.assertIn('could not be kept', str(error))
        self.assertFalse(self.lock.held)

    def test_check_reads_the_register(self):
        self.clock.sleep(runlock.SETTLE + 0.1)
        self.lock.check()
        self.assertEqual(['GET ' + NS], self.sent())
        self.register = live('other').dump()
        self.clock.sleep(runlock.SETTLE + 0.1)
        self.assertRaises(runlock.LockError, self.lock.check)
        self.assertFalse(self.lock.held)

    def test_check_lets_an_unreadable_register_pass(self):
        self.http.get(base.REGISTER, **base.glance_error(503, 'busy'))
        self.clock.sleep(runlock.SETTLE + 0.1)
        self.lock.check()
        self.assertTrue(self.lock.held)
        self.assertEqual(['GET ' + NS] * 2, self.sent())  # a 503: once more

    def test_check_right_after_a_confirmed_read_sends_nothing(self):
        self.lock.check()
        self.assertEqual([], self.sent())

    def test_register_json_is_compact(self):
        value = json.loads(self.register)
        self.assertEqual({'store', 'runs'}, set(value))
