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
"""The engine's requests for a chunk, and the checks that stop a removal
before its DELETE (dry run, absent, skipped, every refusal)."""

import threading
import time

from osc_image_store.engine import lock
from osc_image_store.engine import results
from osc_image_store.engine import runlock
from osc_image_store.sdk import exceptions
from osc_image_store.tests.unit import base

Removal = results.Removal
TASK = '5c1a7d3e-0b8f-4e4a-9a57-6f0f5d2b8c11'
#: The token of another run's hold.
OTHER = 'b' * 32


def images(count, prefix='image'):
    """``count`` image bodies in the three stores, in a fixed order."""
    return [base.image_body('%s-%02d' % (prefix, n)) for n in range(count)]


def ids(bodies):
    return [b['id'] for b in bodies]


def chunk_of(*image_ids):
    """One chunk's requests, one request in flight at a time.

    With ``parallel=1``: the pre-read, the DELETEs in order, the
    read-back, the one-byte proofs in order.
    """
    return ([base.listing_of(*image_ids)]
            + [base.store_delete(i) for i in image_ids]
            + [base.listing_of(*image_ids)]
            + [base.read_byte(i) for i in image_ids])


def hold_reason(image_id, since):
    """The reason of a row refused for another run's live hold."""
    return (
        'Image %s carries a hold (property %s, host:42 since %s UTC): a '
        'removal of a copy of it by this command had an unknown or '
        'unverified outcome; nothing was removed. Check where it lives with '
        '"openstack image store list --image %s"; the hold lapses 15 '
        'minutes after it was written, or remove it with "openstack image '
        'unset --property %s %s".' % (
            image_id, lock.PROPERTY, time.strftime(
                '%Y-%m-%d %H:%M:%S', time.gmtime(since)), image_id,
            lock.PROPERTY, image_id))


class StepsMixin:

    def assertSteps(self, steps, sent):
        """``sent`` is ``steps`` in order; a set step is any order.

        :param steps: describe() strings, or sets of them (requests in
            flight at once: between the step before and the step after,
            in any order among themselves).
        """
        got, at = [], 0
        for step in steps:
            if isinstance(step, str):
                got.append(sent[at] if at < len(sent) else None)
                at += 1
            else:
                got.append(sorted(sent[at:at + len(step)]))
                at += len(step)
        self.assertEqual(
            [s if isinstance(s, str) else sorted(s) for s in steps], got)
        self.assertEqual(at, len(sent), 'more requests: %s' % sent[at:])

    def assertRegisterFree(self):
        """The run took itself out of the lock between runs."""
        self.assertEqual(runlock.State().dump(), self.register)


class TestRequestPattern(StepsMixin, base.EngineCase):

    def test_one_image(self):
        self.mock_chunk(self.body)
        rows = self.run_engine([self.iid])
        self.assertEqual([Removal(self.iid, 'cirros', 'cheap', 'removed',
                                  ('archive', 'fast'), None)], rows)
        self.assertEqual([base.STORES] + base.removal(self.iid), self.sent())
        # The lock is the run's, in the register; the image gets none.
        self.assertEqual([], self.patches())
        puts = [runlock.State.parse(r.json()['description'])
                for r in self.requests() if r.method == 'PUT']
        self.assertEqual([('cheap', [base.RUN_TOKEN]), (None, [])],
                         [(s.store, list(s.runs)) for s in puts])
        self.assertRegisterFree()

    def test_one_chunk_of_two(self):
        other = base.image_body('other')
        both = (self.iid, other['id'])
        self.mock_chunk(self.body, other)
        rows = self.run_engine(list(both), parallel=2)
        self.assertEqual([(self.iid, 'removed'), (other['id'], 'removed')],
                         [(r.image_id, r.result) for r in rows])
        # The read, the DELETEs, the read-back and the proofs are steps:
        # no DELETE before the read, no read-back before every DELETE is
        # answered.  Two requests in flight: within a step, either order.
        self.assertSteps(
            [base.STORES] + base.LOCK + [
                base.listing_of(*both),
                {base.store_delete(i) for i in both},
                base.listing_of(*both),
                {base.read_byte(i) for i in both}] + base.UNLOCK,
            self.sent())
        self.assertEqual([], self.patches())

    def test_chunk_of_twenty_four_one_request_at_a_time(self):
        bodies = images(24)
        self.mock_chunk(*bodies)
        rows = self.run_engine(ids(bodies), parallel=1)
        self.assertEqual([(i, 'removed') for i in ids(bodies)],
                         [(r.image_id, r.result) for r in rows])
        # One listing reads all 24 (and one reads them back), the DELETEs
        # and proofs go in input order; no PATCH, no per-image read.
        self.assertEqual(
            [base.STORES] + base.LOCK + chunk_of(*ids(bodies)) + base.UNLOCK,
            self.sent())

    def test_chunk_of_twenty_four_in_parallel(self):
        bodies = images(24)
        self.mock_chunk(*bodies)
        rows = self.run_engine(ids(bodies))  # parallel=4
        self.assertEqual(ids(bodies), [r.image_id for r in rows])
        self.assertEqual({'removed'}, {r.result for r in rows})
        self.assertSteps(
            [base.STORES] + base.LOCK + [
                base.listing_of(*ids(bodies)),
                {base.store_delete(i) for i in ids(bodies)},
                base.listing_of(*ids(bodies)),
                {base.read_byte(i) for i in ids(bodies)}] + base.UNLOCK,
            self.sent())

    def test_chunks_of_fifty_by_default(self):
        bodies = images(51)
        first, last = ids(bodies[:50]), bodies[50]['id']
        self.mock_chunk(*bodies[:50])
        self.mock_chunk(bodies[50])
        engine = self.remover()
        self.assertEqual(50, engine.options.chunk_size)
        rows = list(engine.run(ids(bodies)))
        self.assertEqual(ids(bodies), [r.image_id for r in rows])
        self.assertEqual({'removed'}, {r.result for r in rows})
        # Two pre-read listings (50 + 1), each chunk done (read back and
        # proven) before the next is read; one lock for both.
        self.assertSteps(
            [base.STORES] + base.LOCK + [
                base.listing_of(*first),
                {base.store_delete(i) for i in first},
                base.listing_of(*first),
                {base.read_byte(i) for i in first},
                base.listing_of(last), base.store_delete(last),
                base.listing_of(last), base.read_byte(last)] + base.UNLOCK,
            self.sent())

    def test_chunks_one_after_the_other(self):
        other = base.image_body('other')
        self.mock_chunk(self.body)
        self.mock_chunk(other, left=('fast',))
        rows = self.run_engine([self.iid, other['id']], chunk_size=1)
        self.assertEqual([('removed', ('archive', 'fast')),
                          ('removed', ('fast',))],
                         [(r.result, r.remaining_stores) for r in rows])
        # One lock for the run, not one per chunk.
        self.assertEqual(
            [base.STORES] + base.LOCK + chunk_of(self.iid)
            + chunk_of(other['id']) + base.UNLOCK, self.sent())
        self.assertRegisterFree()

    def test_register_read_again_before_a_chunk_after_the_settle_time(self):
        # A chunk that took longer than the settle time: before the next
        # chunk's DELETEs the register is read once more (it must still
        # name this run).
        other = base.image_body('other')
        self.mock_chunk(self.body)
        self.mock_chunk(other)

        self.mock_slow_delete(self.iid, base.SETTLE + 0.5)
        rows = self.run_engine([self.iid, other['id']], chunk_size=1)
        self.assertEqual(['removed', 'removed'], [r.result for r in rows])
        # The register is read before the chunk's read, so that the
        # state the DELETEs rest on is read after the lock was seen.
        self.assertEqual(
            [base.STORES] + base.LOCK + chunk_of(self.iid) + [base.LOCK[0]]
            + chunk_of(other['id']) + base.UNLOCK, self.sent())

    def test_beat_renewed_before_a_later_chunk(self):
        # The first chunk took longer than the beat (60 s): before the
        # next chunk's read the run writes its beat again (read, write,
        # confirming read after the settle time), then reads the chunk:
        # no read goes stale during the renewal.
        other = base.image_body('other')
        b = other['id']
        self.mock_chunk(self.body)
        self.mock_chunk(other)

        self.mock_slow_delete(self.iid, runlock.BEAT + 1)
        rows = self.run_engine([self.iid, b], chunk_size=1)
        self.assertEqual(['removed', 'removed'], [r.result for r in rows])
        self.assertEqual(
            [base.STORES] + base.LOCK + chunk_of(self.iid) + base.LOCK
            + chunk_of(b) + base.UNLOCK, self.sent())

    def test_slow_delete_one_listing_reads_the_rest_again(self):
        # The first DELETE takes longer than fresh_for (1 s): the state
        # the next DELETE would rest on is too old, so the images not yet
        # sent are read again, with ONE listing, and no more after it.
        bodies = [self.body] + images(2, 'other')
        a, b, c = ids(bodies)
        self.mock_chunk(*bodies)
        again = self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:%s,%s' % (b, c),
            json=base.listing(*bodies[1:]))

        self.mock_slow_delete(a, 1.5)
        rows = self.run_engine([a, b, c], parallel=1)
        self.assertEqual(['removed'] * 3, [r.result for r in rows])
        self.assertEqual(1, again.call_count)
        self.assertEqual(
            [base.STORES] + base.LOCK + [
                base.listing_of(a, b, c), base.store_delete(a),
                base.listing_of(b, c), base.LOCK[0], base.store_delete(b),
                base.store_delete(c), base.listing_of(a, b, c),
                base.read_byte(a), base.read_byte(b), base.read_byte(c)]
            + base.UNLOCK, self.sent())
        self.assertEqual([], self.patches())

    def test_slow_deletes_in_a_chunk_of_twenty_four(self):
        # Each DELETE takes 0.07 s: the 16th would rest on a read 1.05 s
        # old, so images 16 to 24 are read again (one listing), then the
        # lock's register (one GET, right before that DELETE); the last
        # DELETE then rests on a read 0.56 s old: no second re-read.
        bodies = images(24)
        every = ids(bodies)
        self.mock_chunk(*bodies)
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:'
                      + ','.join(every[15:]), json=base.listing(*bodies[15:]))

        for image_id in every:
            self.mock_slow_delete(image_id, 0.07)
        rows = self.run_engine(every, parallel=1)
        self.assertEqual(['removed'] * 24, [r.result for r in rows])
        self.assertEqual(
            [base.STORES] + base.LOCK + [base.listing_of(*every)]
            + [base.store_delete(i) for i in every[:15]]
            + [base.listing_of(*every[15:]), base.LOCK[0]]
            + [base.store_delete(i) for i in every[15:]]
            + [base.listing_of(*every)]
            + [base.read_byte(i) for i in every] + base.UNLOCK, self.sent())

    def test_stale_read_is_read_again_before_the_delete(self):
        self.mock_listing([self.body], [self.body],
                          [base.with_stores(self.body, 'fast', 'archive')])
        self.mock_store_delete('cheap', self.iid)
        self.mock_file(self.iid)
        rows = self.run_engine([self.iid], fresh_for=0)
        self.assertEqual('removed', rows[0].result)
        self.assertEqual(
            [base.STORES] + base.LOCK + [
                base.listing_of(self.iid), base.listing_of(self.iid),
                base.store_delete(self.iid), base.listing_of(self.iid),
                base.read_byte(self.iid)] + base.UNLOCK, self.sent())

    def test_read_again_shows_another_runs_hold(self):
        # The re-read shows that another run's removal of the second image
        # had an unknown outcome meanwhile: it is refused at once (no
        # wait), the first one was removed; only it is read back.
        other = base.image_body('other')
        a, b = self.iid, other['id']
        since = int(time.time()) - 60
        self.mock_listing([self.body, other])
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:' + b,
                      json=base.listing(base.locked(other, OTHER, since)))
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:' + a,
                      json=base.listing(base.with_stores(
                          self.body, 'fast', 'archive')))

        self.mock_slow_delete(a, 1.5)
        self.mock_file(a)
        start = self.clock.now
        rows = self.run_engine([a, b], parallel=1)
        # The lock's settle time and the slow DELETE: no wait for the hold.
        self.assertLess(self.clock.now - start, base.SETTLE + 1.5 + 0.01)
        self.assertEqual(
            [Removal(a, 'cirros', 'cheap', 'removed', ('archive', 'fast'),
                     None),
             Removal(b, 'other', 'cheap', 'failed',
                     ('archive', 'cheap', 'fast'), hold_reason(b, since))],
            rows)
        self.assertEqual(
            [base.STORES] + base.LOCK + [
                base.listing_of(a, b), base.store_delete(a),
                base.listing_of(b), base.listing_of(a), base.read_byte(a)]
            + base.UNLOCK, self.sent())

    def test_stale_hold_is_removed_after_the_removal(self):
        # A hold older than 15 minutes does not stop the removal; it is
        # removed once the removal is proven: the only PATCH of the run.
        since = int(time.time()) - lock.STALE_AFTER - 60
        old = base.locked(self.body, OTHER, since)
        self.mock_listing([old], [base.with_stores(old, 'fast', 'archive')])
        self.mock_store_delete('cheap', self.iid)
        self.mock_file(self.iid)
        self.mock_patch(self.body)
        rows = self.run_engine([self.iid])
        self.assertEqual([Removal(self.iid, 'cirros', 'cheap', 'removed',
                                  ('archive', 'fast'), None)], rows)
        self.assertEqual(
            [base.STORES] + base.LOCK + [
                base.listing_of(self.iid), base.store_delete(self.iid),
                base.listing_of(self.iid), base.read_byte(self.iid),
                base.remove_lock(self.iid)] + base.UNLOCK, self.sent())

    def test_stop_before_the_delete(self):
        stop = threading.Event()

        def read(request, context):
            stop.set()  # a first Ctrl-C while the chunk is read
            return base.listing(self.body)

        self.mock_listing({'json': read})
        engine = self.remover(stop=stop)
        self.assertEqual([], list(engine.run([self.iid])))
        self.assertTrue(engine.not_started)
        self.assertEqual(
            [base.STORES] + base.LOCK + [base.listing_of(self.iid)]
            + base.UNLOCK, self.sent())
        self.assertRegisterFree()

    def test_stop_between_two_deletes_of_a_chunk(self):
        # What is in flight finishes and is reported; the chunk's next
        # DELETE is not sent, and only the image sent is read back.
        stop = threading.Event()
        other = base.image_body('other')
        a, b = self.iid, other['id']
        self.mock_listing([self.body, other])
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:' + a,
                      json=base.listing(base.with_stores(
                          self.body, 'fast', 'archive')))

        def interrupt(request, context):
            stop.set()  # a first Ctrl-C while the first DELETE is in flight
            return ''
        self.mock_store_delete('cheap', a, {'status_code': 204,
                                            'text': interrupt})
        self.mock_file(a)
        engine = self.remover(stop=stop, parallel=1)
        rows = list(engine.run([a, b]))
        self.assertEqual([(a, 'removed')],
                         [(r.image_id, r.result) for r in rows])
        self.assertTrue(engine.not_started)
        self.assertEqual(
            [base.STORES] + base.LOCK + [
                base.listing_of(a, b), base.store_delete(a),
                base.listing_of(a), base.read_byte(a)] + base.UNLOCK,
            self.sent())

    def test_stop_between_chunks(self):
        stop = threading.Event()
        other = base.image_body('other')
        self.mock_chunk(self.body)
        engine = self.remover(stop=stop, chunk_size=1)
        rows = engine.run([self.iid, other['id']])
        self.assertEqual('removed', next(rows).result)
        stop.set()
        self.assertEqual([], list(rows))
        self.assertTrue(engine.not_started)
        self.assertEqual(
            [base.STORES] + base.LOCK + chunk_of(self.iid) + base.UNLOCK,
            self.sent())
        self.assertRegisterFree()


class TestSelection(base.EngineCase):

    def test_name_resolved_then_listed(self):
        self.mock_name('cirros', self.body)
        self.mock_chunk(self.body)
        rows = self.run_engine(['cirros'])
        self.assertEqual((self.iid, 'cirros', 'removed'),
                         (rows[0].image_id, rows[0].image_name,
                          rows[0].result))
        # The name is resolved to an ID first (no state is decided on
        # it), then the lock is taken and the image read.
        self.assertEqual(
            [base.STORES, 'GET /v2/images?name=eq:cirros&os_hidden=False']
            + base.LOCK + chunk_of(self.iid) + base.UNLOCK, self.sent())

    def test_same_image_by_id_and_name_once(self):
        self.mock_name('cirros', self.body)
        self.mock_chunk(self.body)
        rows = self.run_engine([self.iid, 'cirros', self.iid])
        self.assertEqual([self.iid], [r.image_id for r in rows])
        self.assertEqual([base.store_delete(self.iid)],
                         [s for s in self.sent() if s.startswith('DELETE')])
        # The pre-read and the read-back.
        self.assertEqual(2, self.sent().count(base.listing_of(self.iid)))

    def test_first_mention_keeps_its_place(self):
        # By name first, then another image, then the first one by ID: one
        # row each, in the order of their first mention.
        other = base.image_body('other')
        self.mock_name('cirros', self.body)
        self.mock_chunk(self.body, other)
        rows = self.run_engine(['cirros', other['id'], self.iid])
        self.assertEqual([self.iid, other['id']],
                         [r.image_id for r in rows])

    def test_same_image_in_two_chunks_once(self):
        self.mock_name('cirros', self.body)
        self.mock_chunk(self.body)
        rows = self.run_engine(['cirros', self.iid], chunk_size=1)
        self.assertEqual([self.iid], [r.image_id for r in rows])
        self.assertEqual(1, len(self.deletes()))

    def test_unresolved_names_are_rows(self):
        twin = base.image_body('twin', image_id=base.image_body('t2')['id'])
        self.mock_listing([])
        self.mock_listing([], hidden=True)
        self.mock_name('twin', twin, base.image_body('twin'))
        rows = self.run_engine(['ghost', 'twin'])
        self.assertEqual(
            [Removal(None, 'ghost', 'cheap', 'failed', None,
                     'No image with name or ID ghost.'),
             Removal(None, 'twin', 'cheap', 'failed', None,
                     'More than one image has the name twin; use an ID: '
                     '%s, %s.' % tuple(sorted(
                         (twin['id'], base.image_body('twin')['id']))))],
            rows)
        self.assertEqual([], self.deletes())

    def test_image_not_listed(self):
        self.mock_listing([])
        self.mock_listing([], hidden=True)
        self.assertEqual(
            [Removal(self.iid, None, 'cheap', 'failed', None,
                     'No image with name or ID %s (deleted, or not visible '
                     'to you).' % self.iid)], self.run_engine([self.iid]))
        self.assertEqual(
            [base.STORES] + base.LOCK + [
                base.listing_of(self.iid),
                base.listing_of(self.iid, hidden=True)] + base.UNLOCK,
            self.sent())

    def test_listing_fails(self):
        self.mock_listing(base.glance_error(500, 'db down'))
        row = self.run_engine([self.iid])[0]
        self.assertEqual(('failed', None), (row.result,
                                            row.remaining_stores))
        self.assertIn('could not be read', row.reason)
        self.assertIn('nothing was removed', row.reason)
        self.assertEqual([], self.deletes())

    def test_unknown_store_before_any_image(self):
        self.assertRaises(exceptions.StoreNotFound, self.run_engine,
                          [self.iid], store='nope')
        self.assertEqual([base.STORES], self.sent())

    def test_parallel_and_chunk_size_at_least_one(self):
        self.assertRaises(ValueError, self.remover, parallel=0)
        self.assertRaises(ValueError, self.remover, chunk_size=0)
        self.remover(parallel=1, chunk_size=1)


class TestBeforeTheDelete(StepsMixin, base.EngineCase):
    """Results decided on the chunk's read: no DELETE, no PATCH.

    A run takes the lock between runs before it reads any image, and
    releases it at the end; a dry run takes none.
    """

    def decide(self, body, store='cheap', **options):
        self.mock_listing([body])
        rows = self.run_engine([body['id']], store=store, **options)
        sent = self.sent()
        self.assertEqual([], [s for s in sent
                              if s.startswith(('DELETE', 'PATCH'))])
        self.assertIn(base.listing_of(body['id']), sent)
        if options.get('dry_run'):
            self.assertEqual([], [s for s in sent
                                  if runlock.NAMESPACE in s])
        else:
            self.assertEqual([base.STORES] + base.LOCK, sent[:4])
            self.assertEqual(base.UNLOCK, sent[-2:])
            self.assertRegisterFree()
        self.assertEqual(1, len(rows))
        return rows[0]

    def test_dry_run(self):
        self.assertEqual(
            Removal(self.iid, 'cirros', 'cheap', 'would-remove',
                    ('archive', 'fast'), None, size=300),
            self.decide(self.body, dry_run=True))
        self.assertEqual([base.STORES, base.listing_of(self.iid)],
                         self.sent())

    def test_dry_run_of_a_read_only_store(self):
        row = self.decide(self.body, store='archive', dry_run=True)
        self.assertEqual('would-remove', row.result)
        self.assertEqual('Store archive is read-only: Glance would drop the '
                         'location but leave the data.', row.reason)

    def test_dry_run_refusal_is_failed(self):
        body = base.with_stores(self.body, 'cheap')
        self.assertEqual('failed', self.decide(body, dry_run=True).result)

    def test_absent(self):
        body = base.with_stores(self.body, 'fast', 'archive')
        self.assertEqual(
            Removal(self.iid, 'cirros', 'cheap', 'absent',
                    ('archive', 'fast'), None),
            self.decide(body, ignore_missing=True))

    def test_skipped(self):
        body = base.with_stores(self.body, 'cheap')
        row = self.decide(body, skip_only_copy=True)
        self.assertEqual(('skipped', ('cheap',)),
                         (row.result, row.remaining_stores))

    def test_not_active(self):
        row = self.decide(base.image_body(status='deactivated'))
        self.assertEqual(('failed', 'Image %s is deactivated; only active '
                          'images can be removed from a store.' % self.iid),
                         (row.result, row.reason))

    def test_not_in_store(self):
        row = self.decide(base.with_stores(self.body, 'fast'))
        self.assertEqual(('failed', ('fast',), 'Image %s is not in store '
                          'cheap; it is in: fast.' % self.iid),
                         (row.result, row.remaining_stores, row.reason))
        self.assertEqual(
            [base.STORES] + base.LOCK + [base.listing_of(self.iid)]
            + base.UNLOCK, self.sent())

    def test_another_runs_live_hold_refused_at_once(self):
        since = int(time.time()) - 60
        start = self.clock.now
        row = self.decide(base.locked(self.body, OTHER, since))
        self.assertEqual(
            Removal(self.iid, 'cirros', 'cheap', 'failed',
                    ('archive', 'cheap', 'fast'),
                    hold_reason(self.iid, since)), row)
        # No wait for the hold: the only wait is the lock's settle time.
        self.assertLess(self.clock.now - start, base.SETTLE + 0.01)

    def test_only_copy(self):
        row = self.decide(base.with_stores(self.body, 'cheap'))
        self.assertEqual('failed', row.result)
        self.assertIn('holds the only copy of image %s' % self.iid,
                      row.reason)

    def test_other_copies_read_only(self):
        row = self.decide(base.with_stores(self.body, 'cheap', 'archive'))
        self.assertEqual('failed', row.result)
        self.assertIn('Every other copy of image %s is on a read-only store '
                      '(archive)' % self.iid, row.reason)

    def test_import_lock_running(self):
        self.http.get(base.V2 + '/tasks/' + TASK, json={
            'id': TASK, 'status': 'processing', 'type': 'api_image_import',
            'updated_at': '2999-01-01T00:00:00Z'})
        row = self.decide(base.image_body(os_glance_import_task=TASK))
        self.assertEqual('failed', row.result)
        self.assertIn('is being imported (task %s, processing)' % TASK,
                      row.reason)
        self.assertIn('GET /v2/tasks/' + TASK, self.sent())

    def test_stale_import_lock(self):
        self.http.get(base.V2 + '/tasks/' + TASK, json={
            'id': TASK, 'status': 'failure', 'type': 'api_image_import',
            'updated_at': '2026-12-01T10:00:00Z'})
        row = self.decide(base.image_body(os_glance_import_task=TASK))
        self.assertEqual('failed', row.result)
        self.assertIn('import lock os_glance_import_task of import task %s, '
                      'which ended in failure' % TASK, row.reason)

    def test_stale_importing_flag(self):
        self.http.get(base.V2 + '/', json=base.load('versions.json'))
        self.http.get('%s/images/%s/tasks' % (base.V2, self.iid), json={
            'tasks': [{'id': TASK, 'status': 'failure', 'image_id': self.iid,
                       'updated_at': '2026-12-01T10:00:00Z'}]})
        row = self.decide(base.image_body(
            os_glance_importing_to_stores='archive'))
        self.assertEqual('failed', row.result)
        self.assertIn('importing flag os_glance_importing_to_stores '
                      '(archive) of import task %s' % TASK, row.reason)


class TestRefusedOnTheReRead(base.EngineCase):
    """The checks run again on the re-read before a DELETE."""

    def test_only_copy_by_then(self):
        self.mock_listing([self.body], [base.with_stores(self.body, 'cheap')])
        row = self.run_engine([self.iid], fresh_for=0)[0]
        self.assertEqual(('failed', ('cheap',)),
                         (row.result, row.remaining_stores))
        self.assertIn('holds the only copy of image %s' % self.iid,
                      row.reason)
        self.assertEqual(
            [base.STORES] + base.LOCK + [
                base.listing_of(self.iid), base.listing_of(self.iid)]
            + base.UNLOCK, self.sent())

    def test_re_read_fails(self):
        self.mock_listing([self.body], base.glance_error(500, 'db down'))
        row = self.run_engine([self.iid], fresh_for=0)[0]
        self.assertEqual(('failed', None), (row.result,
                                            row.remaining_stores))
        self.assertIn('could not be read again before its removal',
                      row.reason)
        self.assertEqual([], self.deletes())
        self.assertEqual(base.UNLOCK, self.sent()[-2:])
