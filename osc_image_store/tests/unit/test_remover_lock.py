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
"""The engine and other runs' locks: wait, take over, never trust a late
or overwritten lock, never DELETE without a confirmed one."""

import time

from osc_image_store.engine import results
from osc_image_store.tests.unit import base

Removal = results.Removal
OTHER = 'b' * 32


class TestOtherRuns(base.EngineCase):

    def listings(self, *answers):
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            [a if 'status_code' in a else {'json': base.listing(a)}
             for a in answers])

    def glance_after_the_lock(self):
        self.mock_store_delete('cheap', self.iid)
        self.mock_file(self.iid)

    def others(self, since=None):
        return base.locked(self.body, token=OTHER, since=since)

    def test_waits_for_a_live_lock(self):
        self.listings(self.others(), self.body, self.held,
                      base.with_stores(self.held, 'fast'))
        self.mock_patch(self.body, self.held, self.body)
        self.glance_after_the_lock()
        rows = self.run_engine([self.iid])
        self.assertEqual([Removal(self.iid, 'cirros', 'cheap', 'removed',
                                  ('fast',), None)], rows)
        self.assertEqual(
            [base.STORES, base.listing_of(self.iid)]
            + base.removal(self.iid), self.sent())

    def test_busy_until_lock_wait_runs_out(self):
        since = time.time() - 60
        self.listings(self.others(since=since))
        rows = self.run_engine([self.iid], lock_wait=0)
        self.assertEqual(
            [Removal(self.iid, 'cirros', 'cheap', 'failed',
                     ('archive', 'cheap', 'fast'),
                     'Image %s is locked by another run of this tool '
                     '(host:42 since %s UTC); nothing was removed. Run this '
                     'command again later: a lock is taken over 15 minutes '
                     'after it was taken. If no run is active and the lock '
                     'was kept after an unknown or unverified outcome that '
                     'you have checked, remove it with "openstack image '
                     'unset --property osc_image_store_lock %s".'
                     % (self.iid, time.strftime('%Y-%m-%d %H:%M:%S',
                                                time.gmtime(int(since))),
                        self.iid))],
            rows)
        self.assertEqual([base.STORES, base.listing_of(self.iid)],
                         self.sent())

    def test_busy_image_does_not_hold_up_the_others(self):
        free = base.image_body('free')
        both = self.iid + ',' + free['id']
        free_held = base.locked(free)
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + both,
            json=base.listing(self.others(), free))
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + free['id'],
            [{'json': base.listing(b)} for b in (
                free_held, base.with_stores(free_held, 'fast'))])
        self.mock_patch(free, free_held, free)
        self.mock_store_delete('cheap', free['id'])
        self.mock_file(free['id'])
        rows = self.run_engine([self.iid, free['id']], lock_wait=0)
        self.assertEqual([(self.iid, 'failed'), (free['id'], 'removed')],
                         [(r.image_id, r.result) for r in rows])
        self.assertEqual([base.store_delete(free['id'])],
                         [s for s in self.sent() if s.startswith('DELETE')])
        self.assertNotIn(base.add_lock(self.iid), self.sent())

    def test_stale_lock_taken_over(self):
        self.listings(self.others(since=time.time() - 3600), self.held,
                      base.with_stores(self.held, 'fast'))
        self.mock_patch(self.body, self.held, self.body)
        self.glance_after_the_lock()
        rows = self.run_engine([self.iid], lock_wait=0)
        self.assertEqual('removed', rows[0].result)
        self.assertEqual([base.STORES] + base.removal(self.iid), self.sent())

    def test_late_lock_answer_not_trusted(self):
        def slow(request, context):
            self.clock.sleep(2 * base.SETTLE)
            return self.held

        self.listings(self.body, self.held)
        self.mock_patch(self.body, {'json': slow}, self.body)
        rows = self.run_engine([self.iid], lock_wait=0)
        self.assertEqual(
            [Removal(self.iid, 'cirros', 'cheap', 'failed', None,
                     'Image %s could not be locked against other runs in '
                     'time; nothing was removed.' % self.iid)], rows)
        # The late value was this run's: removed again; no DELETE.
        self.assertEqual(
            [base.STORES, base.listing_of(self.iid), base.add_lock(self.iid),
             base.listing_of(self.iid), base.remove_lock(self.iid)],
            self.sent())

    def test_lock_overwritten_by_another_run(self):
        self.listings(self.body, self.others())
        self.mock_patch(self.body, self.held)
        rows = self.run_engine([self.iid], lock_wait=0)
        self.assertEqual('failed', rows[0].result)
        self.assertEqual('Image %s could not be locked against other runs '
                         'in time; nothing was removed.' % self.iid,
                         rows[0].reason)
        # No DELETE, and the other run's lock is left alone.
        self.assertEqual(
            [base.STORES, base.listing_of(self.iid), base.add_lock(self.iid),
             base.listing_of(self.iid)], self.sent())

    def test_overwritten_then_free_again(self):
        self.listings(self.body, self.others(), self.body, self.held,
                      base.with_stores(self.held, 'fast'))
        self.mock_patch(self.body, self.held, self.held, self.body)
        self.glance_after_the_lock()
        rows = self.run_engine([self.iid])
        self.assertEqual('removed', rows[0].result)
        self.assertEqual(
            [base.STORES, base.listing_of(self.iid), base.add_lock(self.iid),
             base.listing_of(self.iid)] + base.removal(self.iid),
            self.sent())

    def test_lock_write_refused(self):
        self.listings(self.body)
        self.mock_patch(self.body, base.glance_error(403, 'Forbidden'))
        row = self.run_engine([self.iid])[0]
        self.assertEqual(('failed', None), (row.result,
                                            row.remaining_stores))
        self.assertTrue(row.reason.startswith(
            'Image %s could not be locked against other runs (PATCH '
            '/v2/images/%s: HTTP 403: Forbidden); nothing was removed.'
            % (self.iid, self.iid)), row.reason)
        self.assertEqual([], self.deletes())

    def test_confirming_read_fails(self):
        # The lock written stays unconfirmed: at the end of the chunk it is
        # read once more and, being this run's, removed.
        self.listings(self.body, base.glance_error(500, 'db down'),
                      self.held)
        self.mock_patch(self.body, self.held, self.body)
        row = self.run_engine([self.iid], lock_wait=0)[0]
        self.assertEqual('failed', row.result)
        self.assertEqual([], self.deletes())
        self.assertEqual(
            [base.STORES, base.listing_of(self.iid), base.add_lock(self.iid),
             base.listing_of(self.iid), base.listing_of(self.iid),
             base.remove_lock(self.iid)], self.sent())

    def test_lock_lost_before_the_delete_is_not_removed(self):
        # The confirming read is more than fresh_for old: the image is read
        # again, now with another run's lock. No DELETE, and that run's
        # lock stays.
        self.listings(self.body, self.held)
        self.mock_patch(self.body, self.held, self.body)
        self.mock_image(self.others())
        row = self.run_engine([self.iid], fresh_for=-1)[0]
        self.assertEqual('failed', row.result)
        self.assertIn('Another run took the lock', row.reason)
        self.assertEqual([], self.deletes())
        self.assertEqual([base.add_lock(self.iid)],
                         [s for s in self.sent() if s.startswith('PATCH')])
