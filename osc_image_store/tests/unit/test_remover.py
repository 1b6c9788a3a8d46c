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

from osc_image_store.engine import remover
from osc_image_store.engine import results
from osc_image_store.sdk import exceptions
from osc_image_store.tests.unit import base

Removal = results.Removal
TASK = '5c1a7d3e-0b8f-4e4a-9a57-6f0f5d2b8c11'


def images(count, prefix='image'):
    """``count`` image bodies in the three stores, in a fixed order."""
    return [base.image_body('%s-%02d' % (prefix, n)) for n in range(count)]


def ids(bodies):
    return [b['id'] for b in bodies]


def lock(*image_ids):
    """Locking a chunk's images: one tag, or all in one POST."""
    if len(image_ids) == 1:
        return base.lock_one(image_ids[0])
    return base.lock_many(*image_ids)


def chunk_of(*image_ids):
    """One chunk's requests, one request in flight at a time.

    With ``parallel=1``: the images locked (one request), the pre-read,
    the DELETEs in order, the read-back, one listing of the locks (were
    they held throughout?), the one-byte proofs in order, and the images
    unlocked in order.  The run's first chunk has the read of the lock
    namespace before it.
    """
    return ([lock(*image_ids), base.listing_of(*image_ids)]
            + [base.store_delete(i) for i in image_ids]
            + [base.listing_of(*image_ids), base.LIST_LOCKS]
            + [base.read_byte(i) for i in image_ids]
            + [base.unlock(i) for i in image_ids])


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

    def store_deletes(self):
        """The store DELETEs sent (describe() strings)."""
        return [s for s in self.sent() if s.startswith('DELETE /v2/stores/')]

    def assertNoLocks(self):
        """Every image lock this run took is gone again."""
        self.assertEqual([], self.lock_tags.names())


class TestRequestPattern(StepsMixin, base.EngineCase):
    """Every request of a run, in order, at the HTTP boundary."""

    def test_one_image(self):
        self.mock_chunk(self.body)
        rows = self.run_engine([self.iid])
        self.assertEqual([Removal(self.iid, 'cirros', 'cheap', 'removed',
                                  ('archive', 'fast'), None)], rows)
        # The lock namespace read (once per run), the lock (one tag)
        # before the read the DELETE rests on, the read-back, the locks
        # listed (still held?), the proof, the unlock: nothing else.
        self.assertEqual([base.STORES] + base.removal(self.iid), self.sent())
        self.assertEqual([
            base.STORES,
            'GET /v2/metadefs/namespaces/osc-image-store-locks',
            'POST /v2/metadefs/namespaces/osc-image-store-locks/tags/'
            + self.iid,
            'GET /v2/images?id=in:%s&limit=1&os_hidden=False' % self.iid,
            'DELETE /v2/stores/cheap/' + self.iid,
            'GET /v2/images?id=in:%s&limit=1&os_hidden=False' % self.iid,
            'GET /v2/metadefs/namespaces/osc-image-store-locks/tags',
            'GET /v2/images/%s/file' % self.iid,
            'DELETE /v2/metadefs/namespaces/osc-image-store-locks/tags/'
            + self.iid], self.sent())
        self.assertNoLocks()

    def test_one_chunk_of_two(self):
        other = base.image_body('other')
        both = (self.iid, other['id'])
        self.mock_chunk(self.body, other)
        rows = self.run_engine(list(both), parallel=2)
        self.assertEqual([(self.iid, 'removed'), (other['id'], 'removed')],
                         [(r.image_id, r.result) for r in rows])
        # The locks, the read, the DELETEs, the read-back, the proofs and
        # the unlocks are steps: no DELETE before the read, no read-back
        # before every DELETE is answered, no unlock before every proof.
        # Two requests in flight: within a step, either order.
        self.assertSteps(
            [base.STORES, base.READ_NAMESPACE, base.lock_many(*both),
             base.listing_of(*both),
             {base.store_delete(i) for i in both},
             base.listing_of(*both), base.LIST_LOCKS,
             {base.read_byte(i) for i in both},
             {base.unlock(i) for i in both}], self.sent())
        self.assertNoLocks()

    def test_chunk_of_twenty_four_one_request_at_a_time(self):
        bodies = images(24)
        every = ids(bodies)
        self.mock_chunk(*bodies[:20])
        self.mock_chunk(*bodies[20:])
        rows = self.run_engine(every, parallel=1)
        self.assertEqual([(i, 'removed') for i in every],
                         [(r.image_id, r.result) for r in rows])
        # Two chunks (20 by default, then 4), each: one request locks all
        # its images, one listing reads them (and one reads them back),
        # one lists the locks, the DELETEs and proofs go in input order,
        # then one unlock per image.  The lock namespace is read once.  No
        # per-image read, no PATCH, no PUT.
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE] + chunk_of(*every[:20])
            + chunk_of(*every[20:]), self.sent())
        self.assertEqual(2 + 2 * 4 + 24 * 3, len(self.sent()))
        self.assertNoLocks()

    def test_chunk_of_twenty_four_in_parallel(self):
        bodies = images(24)
        every = ids(bodies)
        self.mock_chunk(*bodies[:20])
        self.mock_chunk(*bodies[20:])
        rows = self.run_engine(every, parallel=4)
        self.assertEqual(every, [r.image_id for r in rows])
        self.assertEqual({'removed'}, {r.result for r in rows})
        steps = [base.STORES, base.READ_NAMESPACE]
        for part in (every[:20], every[20:]):
            steps += [base.lock_many(*part), base.listing_of(*part),
                      {base.store_delete(i) for i in part},
                      base.listing_of(*part), base.LIST_LOCKS,
                      {base.read_byte(i) for i in part},
                      {base.unlock(i) for i in part}]
        self.assertSteps(steps, self.sent())
        self.assertNoLocks()

    def test_chunks_of_twenty_by_default(self):
        bodies = images(21)
        first, last = ids(bodies[:20]), bodies[20]['id']
        self.mock_chunk(*bodies[:20])
        self.mock_chunk(bodies[20])
        engine = self.remover()
        self.assertEqual(20, engine.options.chunk_size)
        rows = list(engine.run(ids(bodies)))
        self.assertEqual(ids(bodies), [r.image_id for r in rows])
        self.assertEqual({'removed'}, {r.result for r in rows})
        # Each chunk locked, done (read back, proven) and unlocked before
        # the next is locked: at most 20 images are locked at once.
        self.assertSteps(
            [base.STORES, base.READ_NAMESPACE, base.lock_many(*first),
             base.listing_of(*first),
             {base.store_delete(i) for i in first},
             base.listing_of(*first), base.LIST_LOCKS,
             {base.read_byte(i) for i in first},
             {base.unlock(i) for i in first}] + chunk_of(last),
            self.sent())

    def test_chunk_is_parallel_when_larger(self):
        self.assertEqual(20, self.remover(parallel=20).options.chunk_size)
        self.assertEqual(25, self.remover(parallel=25).options.chunk_size)
        self.assertEqual(3, self.remover(chunk_size=3).options.chunk_size)
        self.assertEqual(20, remover.DEFAULT_CHUNK)

    def test_chunks_one_after_the_other(self):
        other = base.image_body('other')
        self.mock_chunk(self.body)
        self.mock_chunk(other, left=('fast',))
        rows = self.run_engine([self.iid, other['id']], chunk_size=1)
        self.assertEqual([('removed', ('archive', 'fast')),
                          ('removed', ('fast',))],
                         [(r.result, r.remaining_stores) for r in rows])
        # One lock per image, each released before the next chunk.
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE] + chunk_of(self.iid)
            + chunk_of(other['id']),
            self.sent())
        self.assertNoLocks()

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
            [base.STORES, base.READ_NAMESPACE, base.lock_many(a, b, c),
             base.listing_of(a, b, c), base.store_delete(a),
             base.listing_of(b, c), base.store_delete(b),
             base.store_delete(c), base.listing_of(a, b, c),
             base.LIST_LOCKS, base.read_byte(a), base.read_byte(b),
             base.read_byte(c),
             base.unlock(a), base.unlock(b), base.unlock(c)], self.sent())

    def test_slow_deletes_in_a_chunk_of_twenty_four(self):
        # Each DELETE takes 0.07 s: the 16th would rest on a read 1.05 s
        # old, so images 16 to 24 are read again (one listing); the last
        # DELETE then rests on a read 0.56 s old: no second re-read.
        bodies = images(24)
        every = ids(bodies)
        self.mock_chunk(*bodies)
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:'
                      + ','.join(every[15:]), json=base.listing(*bodies[15:]))

        for image_id in every:
            self.mock_slow_delete(image_id, 0.07)
        rows = self.run_engine(every, parallel=1, chunk_size=24)
        self.assertEqual(['removed'] * 24, [r.result for r in rows])
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_many(*every),
             base.listing_of(*every)]
            + [base.store_delete(i) for i in every[:15]]
            + [base.listing_of(*every[15:])]
            + [base.store_delete(i) for i in every[15:]]
            + [base.listing_of(*every), base.LIST_LOCKS]
            + [base.read_byte(i) for i in every]
            + [base.unlock(i) for i in every], self.sent())

    def test_stale_read_is_read_again_before_the_delete(self):
        self.mock_listing([self.body], [self.body],
                          [base.with_stores(self.body, 'fast', 'archive')])
        self.mock_store_delete('cheap', self.iid)
        self.mock_file(self.iid)
        rows = self.run_engine([self.iid], fresh_for=0)
        self.assertEqual('removed', rows[0].result)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.listing_of(self.iid),
             base.store_delete(self.iid), base.listing_of(self.iid),
             base.LIST_LOCKS, base.read_byte(self.iid),
             base.unlock(self.iid)], self.sent())

    def test_read_again_refuses_the_second_image(self):
        # The re-read shows that the second image's other copies are gone
        # meanwhile (another tool): it is refused, the first one was
        # removed; only it is read back; both are unlocked.
        other = base.image_body('other')
        a, b = self.iid, other['id']
        self.mock_listing([self.body, other])
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:' + b,
                      json=base.listing(base.with_stores(other, 'cheap')))
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:' + a,
                      json=base.listing(base.with_stores(
                          self.body, 'fast', 'archive')))

        self.mock_slow_delete(a, 1.5)
        self.mock_file(a)
        rows = self.run_engine([a, b], parallel=1)
        self.assertEqual([(a, 'removed'), (b, 'failed')],
                         [(r.image_id, r.result) for r in rows])
        self.assertIn('holds the only copy of image %s' % b, rows[1].reason)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_many(a, b),
             base.listing_of(a, b), base.store_delete(a), base.listing_of(b),
             base.listing_of(a), base.LIST_LOCKS, base.read_byte(a),
             base.unlock(a), base.unlock(b)],
            self.sent())
        self.assertNoLocks()

    def test_stop_before_the_delete(self):
        stop = base.ClockEvent(self.clock)

        def read(request, context):
            stop.set()  # a first Ctrl-C while the chunk is read
            return base.listing(self.body)

        self.mock_listing({'json': read})
        engine = self.remover(stop=stop)
        self.assertEqual([], list(engine.run([self.iid])))
        self.assertTrue(engine.not_started)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.unlock(self.iid)], self.sent())
        self.assertNoLocks()

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
            [base.STORES, base.READ_NAMESPACE, base.lock_many(a, b),
             base.listing_of(a, b), base.store_delete(a), base.listing_of(a),
             base.LIST_LOCKS, base.read_byte(a), base.unlock(a),
             base.unlock(b)], self.sent())
        self.assertNoLocks()

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
        self.assertEqual([base.STORES, base.READ_NAMESPACE]
                         + chunk_of(self.iid), self.sent())
        self.assertNoLocks()


class TestSelection(StepsMixin, base.EngineCase):

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
            [base.STORES, 'GET /v2/images?name=eq:cirros&os_hidden=False',
             base.READ_NAMESPACE] + chunk_of(self.iid), self.sent())

    def test_same_image_by_id_and_name_once(self):
        self.mock_name('cirros', self.body)
        self.mock_chunk(self.body)
        rows = self.run_engine([self.iid, 'cirros', self.iid])
        self.assertEqual([self.iid], [r.image_id for r in rows])
        self.assertEqual([base.store_delete(self.iid)],
                         [s for s in self.sent()
                          if s.startswith('DELETE /v2/stores/')])
        # One lock; the pre-read and the read-back.
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(self.iid),
                          base.LIST_LOCKS, base.unlock(self.iid)],
                         self.lock_requests())
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
        self.assertEqual(1, len(self.store_deletes()))
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(self.iid),
                          base.LIST_LOCKS, base.unlock(self.iid)],
                         self.lock_requests())

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
        # Nothing to lock: no image was found.
        self.assertSteps([base.STORES, {
            'GET /v2/images?name=eq:ghost&os_hidden=False',
            'GET /v2/images?name=eq:ghost&os_hidden=True',
            'GET /v2/images?name=eq:twin&os_hidden=False'}], self.sent())

    def test_image_not_listed(self):
        self.mock_listing([])
        self.mock_listing([], hidden=True)
        self.assertEqual(
            [Removal(self.iid, None, 'cheap', 'failed', None,
                     'No image with name or ID %s (deleted, or not visible '
                     'to you).' % self.iid)], self.run_engine([self.iid]))
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid),
             base.listing_of(self.iid, hidden=True), base.unlock(self.iid)],
            self.sent())
        self.assertNoLocks()

    def test_listing_fails(self):
        self.mock_listing(base.glance_error(500, 'db down'))
        row = self.run_engine([self.iid])[0]
        self.assertEqual(('failed', None), (row.result,
                                            row.remaining_stores))
        self.assertIn('could not be read', row.reason)
        self.assertIn('nothing was removed', row.reason)
        self.assertEqual([base.STORES, base.READ_NAMESPACE,
                          base.lock_one(self.iid), base.listing_of(self.iid),
                          base.unlock(self.iid)],
                         self.sent())

    def test_unknown_store_before_any_image(self):
        self.assertRaises(exceptions.StoreNotFound, self.run_engine,
                          [self.iid], store='nope')
        self.assertEqual([base.STORES], self.sent())

    def test_parallel_and_chunk_size_at_least_one(self):
        self.assertRaises(ValueError, self.remover, parallel=0)
        self.assertRaises(ValueError, self.remover, chunk_size=0)
        self.remover(parallel=1, chunk_size=1)


class TestBeforeTheDelete(StepsMixin, base.EngineCase):
    """Results decided on the chunk's read: no store DELETE.

    A run locks the image before it reads it, and unlocks it after; a
    dry run takes no lock.
    """

    def decide(self, body, store='cheap', **options):
        self.mock_listing([body])
        rows = self.run_engine([body['id']], store=store, **options)
        sent = self.sent()
        self.assertEqual([], self.store_deletes())
        self.assertIn(base.listing_of(body['id']), sent)
        if options.get('dry_run'):
            self.assertEqual([], self.lock_requests())
        else:
            self.assertEqual([base.STORES, base.READ_NAMESPACE,
                              base.lock_one(body['id']),
                              base.listing_of(body['id'])], sent[:4])
            # No DELETE sent: no listing of the locks either.
            self.assertEqual([base.READ_NAMESPACE, base.lock_one(body['id']),
                              base.unlock(body['id'])], self.lock_requests())
            self.assertEqual(base.unlock(body['id']), sent[-1])
            self.assertNoLocks()
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
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.unlock(self.iid)], self.sent())

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


class TestRefusedOnTheReRead(StepsMixin, base.EngineCase):
    """The checks run again on the re-read before a DELETE."""

    def test_only_copy_by_then(self):
        self.mock_listing([self.body], [base.with_stores(self.body, 'cheap')])
        row = self.run_engine([self.iid], fresh_for=0)[0]
        self.assertEqual(('failed', ('cheap',)),
                         (row.result, row.remaining_stores))
        self.assertIn('holds the only copy of image %s' % self.iid,
                      row.reason)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.listing_of(self.iid),
             base.unlock(self.iid)], self.sent())
        self.assertNoLocks()

    def test_re_read_fails(self):
        self.mock_listing([self.body], base.glance_error(500, 'db down'))
        row = self.run_engine([self.iid], fresh_for=0)[0]
        self.assertEqual(('failed', None), (row.result,
                                            row.remaining_stores))
        self.assertIn('could not be read again before its removal',
                      row.reason)
        self.assertEqual([], self.store_deletes())
        self.assertEqual(base.unlock(self.iid), self.sent()[-1])
        self.assertNoLocks()
