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

from osc_image_store.engine import lock
from osc_image_store.engine import results
from osc_image_store.sdk import exceptions
from osc_image_store.tests.unit import base

Removal = results.Removal
TASK = '5c1a7d3e-0b8f-4e4a-9a57-6f0f5d2b8c11'


class TestRequestPattern(base.EngineCase):

    def test_one_image(self):
        self.mock_chunk(self.body)
        rows = self.run_engine([self.iid])
        self.assertEqual([Removal(self.iid, 'cirros', 'cheap', 'removed',
                                  ('archive', 'fast'), None)], rows)
        self.assertEqual([base.STORES] + base.removal(self.iid), self.sent())
        value = self.patches()[0][0]['value']
        self.assertEqual(base.TOKEN, lock.Holder.parse(value).token)

    def test_one_chunk_of_two(self):
        other = base.image_body('other')
        both = (self.iid, other['id'])
        self.mock_chunk(self.body, other)
        rows = self.run_engine(list(both), parallel=2)
        self.assertEqual([(self.iid, 'removed'), (other['id'], 'removed')],
                         [(r.image_id, r.result) for r in rows])
        sent = self.sent()
        # Reads, locks, the confirming read, DELETEs and the read-back are
        # steps: no DELETE before every lock is confirmed.
        # Two requests in flight: within a step, either order.
        self.assertEqual(
            [base.STORES, base.listing_of(*both)], sent[:2])
        self.assertEqual(sorted([base.add_lock(both[0]),
                                 base.add_lock(both[1])]), sorted(sent[2:4]))
        self.assertEqual(base.listing_of(*both), sent[4])
        self.assertEqual(sorted([base.store_delete(both[0]),
                                 base.store_delete(both[1])]),
                         sorted(sent[5:7]))
        self.assertEqual(base.listing_of(*both), sent[7])
        self.assertEqual(
            sorted([base.read_byte(both[0]), base.read_byte(both[1]),
                    base.remove_lock(both[0]), base.remove_lock(both[1])]),
            sorted(sent[8:]))
        for image_id in both:
            self.assertLess(sent.index(base.read_byte(image_id)),
                            sent.index(base.remove_lock(image_id)))

    def test_locks_taken_parallel_at_a_time_each_group_read_first(self):
        # With one request in flight, the second image's lock write comes
        # after the first one's; once the chunk's read is half the settle
        # time old, the next group is read again just before its write, so
        # that each write is answered within the settle time of its read.
        other = base.image_body('other')
        both = (self.iid, other['id'])
        self.mock_chunk(self.body, other)

        def slow_lock(request, context):
            self.clock.sleep(0.6)
            return base.locked(self.body)
        self.http.patch(base.V2 + '/images/' + self.iid,
                        [{'json': slow_lock}, {'json': self.body}])
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:'
                      + other['id'], json=base.listing(other))
        rows = self.run_engine(list(both), parallel=1)
        self.assertEqual(['removed', 'removed'], [r.result for r in rows])
        self.assertEqual(
            [base.STORES, base.listing_of(*both), base.add_lock(both[0]),
             base.listing_of(both[1]), base.add_lock(both[1]),
             base.listing_of(*both)], self.sent()[:6])

    def test_fresh_read_serves_several_lock_groups(self):
        other = base.image_body('other')
        both = (self.iid, other['id'])
        self.mock_chunk(self.body, other)
        rows = self.run_engine(list(both), parallel=1)
        self.assertEqual(['removed', 'removed'], [r.result for r in rows])
        self.assertEqual(
            [base.STORES, base.listing_of(*both), base.add_lock(both[0]),
             base.add_lock(both[1]), base.listing_of(*both)],
            self.sent()[:5])

    def test_chunks_one_after_the_other(self):
        other = base.image_body('other')
        self.mock_chunk(self.body)
        self.mock_chunk(other, left=('fast',))
        rows = self.run_engine([self.iid, other['id']], chunk_size=1)
        self.assertEqual([('removed', ('archive', 'fast')),
                          ('removed', ('fast',))],
                         [(r.result, r.remaining_stores) for r in rows])
        self.assertEqual([base.STORES] + base.removal(self.iid)
                         + base.removal(other['id']), self.sent())

    def test_stale_read_is_read_again_before_the_delete(self):
        self.mock_chunk(self.body)
        self.mock_image(base.locked(self.body))
        rows = self.run_engine([self.iid], fresh_for=0)
        self.assertEqual('removed', rows[0].result)
        self.assertEqual(
            [base.get_image(self.iid), base.store_delete(self.iid)],
            self.sent()[4:6])

    def test_stale_read_shows_another_run_took_the_lock(self):
        self.mock_chunk(self.body)
        self.mock_image(base.locked(self.body, token='b' * 32))
        rows = self.run_engine([self.iid], fresh_for=0)
        self.assertEqual(Removal(
            self.iid, 'cirros', 'cheap', 'failed',
            ('archive', 'cheap', 'fast'), 'Another run took the lock of '
            'image %s; nothing was removed. Run this command again.'
            % self.iid), rows[0])
        self.assertEqual([], self.deletes())

    def test_stop_before_the_delete(self):
        stop = threading.Event()
        held = base.locked(self.body)

        def confirm(request, context):
            stop.set()  # a first Ctrl-C while the lock is confirmed
            return base.listing(held)

        self.mock_listing([self.body], {'json': confirm})
        self.mock_patch(self.body, held, self.body)
        engine = self.remover(stop=stop)
        self.assertEqual([], list(engine.run([self.iid])))
        self.assertTrue(engine.not_started)
        self.assertEqual(
            [base.STORES, base.listing_of(self.iid), base.add_lock(self.iid),
             base.listing_of(self.iid), base.remove_lock(self.iid)],
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
        self.assertNotIn(base.listing_of(other['id']), self.sent())


class TestSelection(base.EngineCase):

    def test_name_resolved_then_listed(self):
        self.mock_name('cirros', self.body)
        self.mock_chunk(self.body)
        rows = self.run_engine(['cirros'])
        self.assertEqual((self.iid, 'cirros', 'removed'),
                         (rows[0].image_id, rows[0].image_name,
                          rows[0].result))
        self.assertEqual([base.STORES,
                          'GET /v2/images?name=eq:cirros&os_hidden=False'],
                         self.sent()[:2])

    def test_same_image_by_id_and_name_once(self):
        self.mock_name('cirros', self.body)
        self.mock_chunk(self.body)
        rows = self.run_engine([self.iid, 'cirros', self.iid])
        self.assertEqual([self.iid], [r.image_id for r in rows])
        self.assertEqual([base.store_delete(self.iid)],
                         [s for s in self.sent() if s.startswith('DELETE')])
        self.assertEqual(3, self.sent().count(base.listing_of(self.iid)))

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
        self.assertEqual([base.STORES, base.listing_of(self.iid),
                          base.listing_of(self.iid, hidden=True)],
                         self.sent())

    def test_listing_fails(self):
        self.mock_listing(base.glance_error(500, 'db down'))
        row = self.run_engine([self.iid])[0]
        self.assertEqual(('failed', None), (row.result,
                                            row.remaining_stores))
        self.assertIn('could not be read', row.reason)
        self.assertIn('nothing was removed', row.reason)

    def test_unknown_store_before_any_image(self):
        self.assertRaises(exceptions.StoreNotFound, self.run_engine,
                          [self.iid], store='nope')
        self.assertEqual([base.STORES], self.sent())

    def test_parallel_and_chunk_size_at_least_one(self):
        self.assertRaises(ValueError, self.remover, parallel=0)
        self.assertRaises(ValueError, self.remover, chunk_size=0)
        self.remover(parallel=1, chunk_size=1)


class TestBeforeTheDelete(base.EngineCase):
    """Results decided on the fresh read: no lock, no DELETE."""

    def decide(self, body, store='cheap', **options):
        self.mock_listing([body])
        rows = self.run_engine([body['id']], store=store, **options)
        self.assertEqual([], [s for s in self.sent()
                              if not s.startswith('GET')])
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


class TestRefusedOnTheConfirmingRead(base.EngineCase):

    def test_only_copy_by_then(self):
        held = base.locked(self.body)
        self.mock_listing([self.body], [base.with_stores(held, 'cheap')])
        self.mock_patch(self.body, held, self.body)
        row = self.run_engine([self.iid])[0]
        self.assertEqual(('failed', ('cheap',)),
                         (row.result, row.remaining_stores))
        self.assertEqual(
            [base.STORES, base.listing_of(self.iid), base.add_lock(self.iid),
             base.listing_of(self.iid), base.remove_lock(self.iid)],
            self.sent())
