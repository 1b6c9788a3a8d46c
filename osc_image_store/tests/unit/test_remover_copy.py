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
"""The engine with ``copy_to``: sole copies are copied, then removed."""

import fixtures

from osc_image_store.engine import results
from osc_image_store.sdk import exceptions
from osc_image_store.tests.unit import base

Removal = results.Removal


class TestCopyTo(base.TestCase):

    def setUp(self):
        super().setUp()
        self.mock_stores()
        self.mock_locks()
        self.solo = base.image_body('solo', stores=('cheap',))
        self.iid = self.solo['id']

    def mock_move(self, *polls):
        """A copy into ``fast`` that Glance finishes.

        The image reads answer ``polls``, then the image copied.
        """
        copied = base.with_stores(self.solo, 'cheap', 'fast')
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            [{'json': base.listing(b)} for b in (
                self.solo, copied, base.with_stores(copied, 'fast'))])
        self.mock_image(self.solo, *polls + (copied,))
        self.http.post('%s/images/%s/import' % (base.V2, self.iid),
                       status_code=202, json={})
        self.mock_store_delete('cheap', self.iid)
        self.mock_file(self.iid)

    def copy_requests(self):
        """The copy's requests: read, import, read (copied), proof."""
        return [base.get_image(self.iid),
                'POST /v2/images/%s/import' % self.iid,
                base.get_image(self.iid), base.read_byte(self.iid)]

    def test_moved(self):
        self.mock_move()
        rows = self.run_engine([self.iid], copy_to='fast')
        self.assertEqual(
            [Removal(self.iid, 'solo', 'cheap', 'moved', ('fast',), None,
                     'fast')], rows)
        # One lock for the image, copy included (no second lock request
        # for the removal); the removal pass reads the image again
        # (pre-read) before its DELETE, and lists the locks after its
        # read-back.
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid)]
            + self.copy_requests() + [
                base.listing_of(self.iid), base.store_delete(self.iid),
                base.listing_of(self.iid), base.LIST_LOCKS,
                base.read_byte(self.iid), base.unlock(self.iid)],
            self.sent())
        self.assertEqual([], self.lock_tags.names())

    def test_long_copy_keeps_the_lock_without_renewal(self):
        # The copy takes an hour (two polls of 30 minutes on the test
        # clock): the tag is no lease, nothing renews it; the removal
        # after the copy needs no new lock.
        self.mock_move(base.with_stores(
            self.solo, 'cheap', os_glance_importing_to_stores='fast'))
        clock = self.clock

        class CopyTime:
            monotonic = staticmethod(clock.monotonic)

            @staticmethod
            def sleep(seconds):
                clock.sleep(1800)

        self.useFixture(fixtures.MonkeyPatch(
            'osc_image_store.engine.copy.time', CopyTime))
        start = self.clock.now
        rows = self.run_engine([self.iid], copy_to='fast',
                               copy_timeout=7200)
        self.assertEqual(['moved'], [r.result for r in rows])
        self.assertGreaterEqual(self.clock.now - start, 1800)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.get_image(self.iid),
             'POST /v2/images/%s/import' % self.iid,
             base.get_image(self.iid),  # still copying
             base.get_image(self.iid), base.read_byte(self.iid),
             base.listing_of(self.iid), base.store_delete(self.iid),
             base.listing_of(self.iid), base.LIST_LOCKS,
             base.read_byte(self.iid), base.unlock(self.iid)], self.sent())

    def test_dry_run_would_move(self):
        other = base.image_body('other')
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:%s,%s'
            % (self.iid, other['id']), json=base.listing(self.solo, other))
        rows = self.run_engine([self.iid, other['id']], copy_to='fast',
                               dry_run=True)
        self.assertEqual(
            [Removal(self.iid, 'solo', 'cheap', 'would-move', ('fast',),
                     'Would copy 300 bytes into store fast, then remove the '
                     'copy in cheap.', 'fast', 300),
             Removal(other['id'], 'other', 'cheap', 'would-remove',
                     ('archive', 'fast'), None, None, 300)], rows)
        # A dry run takes no lock.
        self.assertEqual(
            [base.STORES, base.listing_of(self.iid, other['id'])],
            self.sent())

    def test_copy_failed_nothing_removed(self):
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
                      json=base.listing(self.solo))
        self.mock_image(self.solo, base.with_stores(
            self.solo, 'cheap', os_glance_failed_import='fast'))
        self.http.post('%s/images/%s/import' % (base.V2, self.iid),
                       status_code=202, json={})
        row = self.run_engine([self.iid], copy_to='fast')[0]
        # Nothing reached fast: no Copied To.
        self.assertEqual(('failed', ('cheap',), None),
                         (row.result, row.remaining_stores, row.copied_to))
        self.assertIn('Glance failed to copy image %s into store fast'
                      % self.iid, row.reason)
        self.assertEqual([base.unlock(self.iid)],
                         [s for s in self.sent() if s.startswith('DELETE')])
        self.assertEqual(base.unlock(self.iid), self.sent()[-1])
        self.assertEqual([], self.lock_tags.names())

    def test_queued_copy_lock_without_answer(self):
        # max_copies 1: the second sole copy waits unlocked; its job's
        # lock request gets no answer: nothing is copied or removed, the
        # request is not sent again, and the run names the image.
        second = base.image_body('second', stores=('cheap',))
        sid = second['id']
        self.mock_move()
        copied = base.with_stores(self.solo, 'cheap', 'fast')
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            [{'json': base.listing(b)} for b in (
                copied, base.with_stores(copied, 'fast'))])
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:%s,%s'
            % (self.iid, sid), json=base.listing(self.solo, second))
        self.lock_tags.fail('POST', sid, base.glance_error(504, 'Gateway '
                                                           'Timeout'))
        engine = self.remover(copy_to='fast', max_copies=1)
        rows = list(engine.run([self.iid, sid]))
        self.assertEqual(
            [Removal(self.iid, 'solo', 'cheap', 'moved', ('fast',), None,
                     'fast'),
             Removal(sid, 'second', 'cheap', 'failed', None,
                     'Nothing was copied or removed. The request that locks '
                     'image %s got no answer (HTTP 504: Gateway Timeout): '
                     'Glance may still make that lock. If "openstack image '
                     'store lock list" shows it, it is this run\'s; clear it '
                     'with "openstack image store lock delete %s" once no '
                     'request of this run can still reach Glance.'
                     % (sid, sid))], rows)
        self.assertEqual([sid], engine.lock_unsure)
        self.assertEqual([], engine.unreleased)
        # The copy job's lock request runs on its own thread, alongside
        # the first image's removal (whose locks listing and unlock may
        # come first): sent once, and nothing released for it.
        locks = self.lock_requests()
        self.assertEqual([base.READ_NAMESPACE, base.lock_many(self.iid, sid),
                          base.unlock(sid)], locks[:3])
        self.assertEqual(
            sorted([base.LIST_LOCKS, base.lock_one(sid),
                    base.unlock(self.iid)]), sorted(locks[3:]))
        self.assertNotIn('POST /v2/images/%s/import' % sid, self.sent())
        self.assertNotIn(base.get_image(sid), self.sent())
        self.assertEqual([base.store_delete(self.iid)],
                         [s for s in self.sent()
                          if s.startswith('DELETE /v2/stores/')])
        self.assertEqual([], self.lock_tags.names())

    def test_copy_target_checked_before_any_image(self):
        for target in ('cheap', 'archive', 'nope'):
            self.assertRaises((exceptions.InvalidIdentifier,
                               exceptions.StoreNotFound), self.run_engine,
                              [self.iid], copy_to=target)
        self.assertEqual({base.STORES}, set(self.sent()))

    def test_max_copies_at_least_one(self):
        self.assertRaises(ValueError, self.remover, max_copies=0)
