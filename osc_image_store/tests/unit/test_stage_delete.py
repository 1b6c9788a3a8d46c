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
"""The remove stage alone (engine/delete.py): one store DELETE per image
on a fresh read, the read-back, and a DELETE again for another location.

The test clock (base.Clock) is the stage's: a read goes stale when the
test moves it past ``fresh_for`` (1 s by default).
"""

from concurrent import futures

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc

from osc_image_store.engine import chunk as chunk_mod
from osc_image_store.engine import delete
from osc_image_store.engine import options
from osc_image_store.engine import outcome
from osc_image_store.engine import results
from osc_image_store.tests.unit import base
from osc_image_store.tests.unit import test_checks


class DeleteCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.flags = chunk_mod.Run()
        # One worker: the DELETEs go out in input order.
        self.pool = futures.ThreadPoolExecutor(1)
        self.addCleanup(self.pool.shutdown)
        self.chunk = chunk_mod.Chunk()
        self.chunk.read_at = self.clock.monotonic()  # read just now
        self.a, self.b = base.image_body('a'), base.image_body('b')
        self.aid, self.bid = self.a['id'], self.b['id']

    def remove(self, *bodies, **opts):
        deleter = delete.Deleter(self.proxy, 'cheap', test_checks.stores(),
                                 options.Options(**opts), self.flags)
        return deleter.remove([base.image_resource(b) for b in bodies],
                              self.chunk, self.pool)

    def left(self, *bodies, stores=('fast', 'archive')):
        """The bodies as read back (the copy in cheap gone)."""
        return [base.with_stores(b, *stores) for b in bodies]


class TestRemove(DeleteCase):

    def test_one_delete_per_image_one_read_back(self):
        self.mock_store_delete('cheap', self.aid)
        self.mock_store_delete('cheap', self.bid)
        self.mock_listing(self.left(self.a, self.b))
        work = self.remove(self.a, self.b)
        self.assertEqual([self.aid, self.bid], list(work))
        for body in (self.a, self.b):
            item = work[body['id']]
            self.assertEqual(
                (True, None, None, ['fast', 'archive'],
                 ['fast', 'cheap', 'archive'], self.chunk.read_at),
                (item.sent, item.error, item.row, item.after.store_ids,
                 item.before.store_ids, item.read_at))
            self.assertEqual(outcome.Verdict(None, None, ('archive', 'fast')),
                             item.verdict)
        self.assertEqual({self.aid, self.bid}, self.chunk.sent)
        self.assertEqual([base.store_delete(self.aid),
                          base.store_delete(self.bid),
                          base.listing_of(self.aid, self.bid)], self.sent())

    def test_read_within_fresh_for_is_not_read_again(self):
        self.mock_store_delete('cheap', self.aid)
        self.mock_listing(self.left(self.a))
        self.clock.sleep(1.5)
        self.remove(self.a, fresh_for=2.0)
        self.assertEqual([base.store_delete(self.aid),
                          base.listing_of(self.aid)], self.sent())


class TestStaleRead(DeleteCase):

    def test_one_listing_before_the_deletes(self):
        self.mock_store_delete('cheap', self.aid)
        self.mock_store_delete('cheap', self.bid)
        renamed = base.with_stores(self.a, 'cheap', 'fast', name='a2')
        self.mock_listing([renamed, self.b], self.left(self.a, self.b))
        self.clock.sleep(1.5)
        work = self.remove(self.a, self.b)
        # Both read again in one listing; the DELETEs rest on that read.
        self.assertEqual([base.listing_of(self.aid, self.bid),
                          base.store_delete(self.aid),
                          base.store_delete(self.bid),
                          base.listing_of(self.aid, self.bid)], self.sent())
        self.assertEqual('a2', work[self.aid].before.name)
        self.assertGreater(work[self.aid].read_at, self.chunk.read_at)
        self.assertEqual([None, None],
                         [work[i].verdict.result for i in work])

    def test_refused_on_the_new_read_gets_a_row_and_no_delete(self):
        self.mock_store_delete('cheap', self.bid)
        self.mock_listing([base.with_stores(self.a, 'fast', 'archive'),
                           self.b], self.left(self.b))
        self.clock.sleep(1.5)
        work = self.remove(self.a, self.b)
        self.assertEqual(results.Removal(
            self.aid, 'a', 'cheap', 'failed', ('archive', 'fast'),
            'Image %s is not in store cheap; it is in: archive, fast.'
            % self.aid), work[self.aid].row)
        self.assertEqual((False, None),
                         (work[self.aid].sent, work[self.aid].verdict))
        self.assertEqual({self.bid}, self.chunk.sent)
        self.assertEqual([base.listing_of(self.aid, self.bid),
                          base.store_delete(self.bid),
                          base.listing_of(self.bid)], self.sent())

    def test_gone_on_the_new_read(self):
        self.mock_listing([])
        self.mock_listing([], hidden=True)
        self.clock.sleep(1.5)
        work = self.remove(self.a)
        self.assertEqual(results.Removal(
            self.aid, 'a', 'cheap', 'failed', None,
            'Image %s could not be read again before its removal (not found: '
            'deleted, or no longer visible to you); nothing was removed.'
            % self.aid), work[self.aid].row)
        self.assertEqual([base.listing_of(self.aid),
                          base.listing_of(self.aid, hidden=True)],
                         self.sent())

    def test_new_read_fails_nothing_removed(self):
        self.mock_listing(base.glance_error(500, 'db down'))
        self.clock.sleep(1.5)
        work = self.remove(self.a, self.b)
        for image_id in (self.aid, self.bid):
            row = work[image_id].row
            self.assertEqual(('failed', None), (row.result,
                                                row.remaining_stores))
            self.assertIn('could not be read again before its removal (',
                          row.reason)
            self.assertIn('db down', row.reason)
            self.assertFalse(work[image_id].sent)
        self.assertEqual([base.listing_of(self.aid, self.bid)], self.sent())

    def test_only_images_not_sent_are_read_again(self):
        # A's DELETE takes 2 s: B's read is stale by then, A's is not
        # read again (its DELETE is out).
        self.mock_slow_delete(self.aid, 2.0)
        self.mock_store_delete('cheap', self.bid)
        self.mock_listing([self.b], self.left(self.a, self.b))
        self.remove(self.a, self.b)
        self.assertEqual([base.store_delete(self.aid),
                          base.listing_of(self.bid),
                          base.store_delete(self.bid),
                          base.listing_of(self.aid, self.bid)], self.sent())


class TestEnding(DeleteCase):

    def assertNothingSent(self, work):
        self.assertEqual([], self.sent())
        self.assertEqual(set(), self.chunk.sent)
        self.assertEqual([(False, None, None)] * 2,
                         [(w.sent, w.row, w.verdict) for w in work.values()])

    def test_stop_set(self):
        self.flags.stop.set()
        self.assertNothingSent(self.remove(self.a, self.b))

    def test_halted(self):
        self.flags.halted = 'The image locks could not be taken.'
        self.assertNothingSent(self.remove(self.a, self.b))

    def test_stop_set_during_the_new_read(self):
        def reread(request, context):
            self.flags.stop.set()  # Ctrl-C while the listing is out
            return base.listing(self.a, self.b)

        self.http.get(base.V2 + '/images?os_hidden=false', json=reread)
        self.clock.sleep(1.5)
        work = self.remove(self.a, self.b)
        self.assertEqual([base.listing_of(self.aid, self.bid)], self.sent())
        self.assertEqual(set(), self.chunk.sent)
        self.assertEqual([False, False], [w.sent for w in work.values()])


class TestAnswers(DeleteCase):

    def test_503_recorded_and_the_read_back_decides(self):
        self.mock_store_delete('cheap', self.aid,
                               base.glance_error(503, 'busy'))
        self.mock_listing(self.left(self.a))
        item = self.remove(self.a)[self.aid]
        self.assertIsInstance(item.error, sdk_exc.HttpException)
        self.assertEqual(503, item.error.status_code)
        self.assertEqual(outcome.Verdict(None, (
            'The Images API failed to remove image %s from store cheap (HTTP '
            '503: busy); the image no longer lists store cheap, so the '
            'removal happened.' % self.aid), ('archive', 'fast')),
            item.verdict)
        # Sent once: no retry of a DELETE.
        self.assertEqual([base.store_delete(self.aid),
                          base.listing_of(self.aid)], self.sent())

    def test_timeout_with_the_store_still_listed_is_unknown(self):
        self.mock_store_delete('cheap', self.aid, ks_exc.ConnectTimeout)
        self.mock_listing([self.a])
        item = self.remove(self.a)[self.aid]
        self.assertIsInstance(item.error, ks_exc.ConnectTimeout)
        self.assertEqual((results.UNKNOWN, True, True),
                         (item.verdict.result, item.verdict.keep_lock,
                          item.sent))
        self.assertEqual({self.aid}, self.chunk.sent)
        self.assertEqual([base.store_delete(self.aid),
                          base.listing_of(self.aid)], self.sent())

    def test_404_gone_with_ignore_missing_is_absent(self):
        self.mock_store_delete('cheap', self.aid, base.glance_error(
            404, 'Image %s not found' % self.aid))
        self.mock_listing(self.left(self.a))
        item = self.remove(self.a, ignore_missing=True)[self.aid]
        self.assertEqual(outcome.Verdict(results.ABSENT, None,
                                         ('archive', 'fast')), item.verdict)

    def test_204_still_listed_is_unverified_once(self):
        self.mock_store_delete('cheap', self.aid)
        self.mock_listing([self.a])
        item = self.remove(self.a)[self.aid]
        self.assertEqual((results.UNVERIFIED, True, False),
                         (item.verdict.result, item.verdict.keep_lock,
                          item.verdict.again))
        self.assertEqual([base.store_delete(self.aid),
                          base.listing_of(self.aid)], self.sent())

    def test_read_back_fails_is_unverified(self):
        self.mock_store_delete('cheap', self.aid)
        self.mock_listing(base.glance_error(500, 'db down'))
        self.http.get(base.V2 + '/images/' + self.aid,
                      **base.glance_error(500, 'db down'))
        item = self.remove(self.a)[self.aid]
        self.assertIsNone(item.after)
        self.assertEqual((results.UNVERIFIED, None, True),
                         (item.verdict.result, item.verdict.remaining,
                          item.verdict.keep_lock))
        self.assertEqual([base.store_delete(self.aid),
                          base.listing_of(self.aid),
                          base.get_image(self.aid)], self.sent())


class TestRounds(DeleteCase):

    def test_another_location_deleted_again(self):
        two = base.with_stores(self.a, 'cheap', 'cheap', 'fast')
        self.mock_store_delete('cheap', self.aid, 204, 204)
        self.mock_store_delete('cheap', self.bid)
        self.mock_listing(
            [base.with_stores(self.a, 'cheap', 'fast')] + self.left(self.b),
            self.left(self.a, stores=('fast',)))
        work = self.remove(two, self.b)
        self.assertEqual([base.store_delete(self.aid),
                          base.store_delete(self.bid),
                          base.listing_of(self.aid, self.bid),
                          base.store_delete(self.aid),
                          base.listing_of(self.aid)], self.sent())
        item = work[self.aid]
        self.assertEqual(outcome.Verdict(None, None, ('fast',)), item.verdict)
        # The second DELETE rested on the first read-back.
        self.assertEqual(['cheap', 'fast'], item.before.store_ids)
        self.assertEqual((True, None), (item.sent, item.error))

    def test_still_listed_after_max_rounds_is_unverified(self):
        rounds = delete.MAX_ROUNDS
        self.mock_store_delete('cheap', self.aid, *[204] * rounds)
        self.mock_listing(*[
            [base.with_stores(self.a, *['cheap'] * n + ['fast'])]
            for n in range(rounds, 0, -1)])
        item = self.remove(base.with_stores(
            self.a, *['cheap'] * (rounds + 1) + ['fast']))[self.aid]
        self.assertEqual(outcome.Verdict(
            results.UNVERIFIED, 'Image %s still lists store cheap after 4 '
            'removals (one location each); run this command again.'
            % self.aid, ('cheap', 'fast')), item.verdict)
        self.assertTrue(item.sent)
        self.assertEqual([base.store_delete(self.aid),
                          base.listing_of(self.aid)] * rounds, self.sent())

    def test_refused_between_two_rounds_is_unverified(self):
        # a and b have two locations in cheap each: both are read back
        # with one left.  b's second DELETE is slow, so a's read is stale
        # before its second DELETE, and the new read refuses a (cheap now
        # holds its only copy): a is "unverified", not "nothing was
        # removed", and its lock is checked like any sent image's.
        a2, b2 = (base.with_stores(x, 'cheap', 'cheap', 'fast')
                  for x in (self.a, self.b))
        a1, b1 = (base.with_stores(x, 'cheap', 'fast')
                  for x in (self.a, self.b))
        self.mock_store_delete('cheap', self.aid)
        calls = []

        def b_delete(request, context):
            calls.append(1)
            if len(calls) == 2:
                self.clock.sleep(2.0)
            context.status_code = 204
            return ''

        self.http.delete('%s/stores/cheap/%s' % (base.V2, self.bid),
                         text=b_delete)
        listing = base.V2 + '/images?os_hidden=false&id=in:'
        self.http.get(listing + '%s,%s' % (self.bid, self.aid),
                      json=base.listing(b1, a1))
        self.http.get(listing + self.aid, json=base.listing(
            base.with_stores(self.a, 'cheap')))
        self.http.get(listing + self.bid, json=base.listing(
            base.with_stores(self.b, 'fast')))
        work = self.remove(b2, a2)
        row = work[self.aid].row
        self.assertEqual(
            (results.UNVERIFIED, ('cheap',), True),
            (row.result, row.remaining_stores, work[self.aid].sent))
        self.assertEqual(
            'Store cheap held more than one location of image %s; an '
            'earlier DELETE removed 1 of them. Before the next could be '
            'removed, a new read refused it: '
            'Store cheap holds the only copy of image %s; it is kept. To '
            'move it, run the command again with Options.copy_to; to delete '
            'the image itself, use "DELETE /v2/images/%s". Check where its '
            'data is with "GET /v2/images/%s (its "stores")", then run this '
            'command again.' % ((self.aid,) * 4), row.reason)
        self.assertEqual([base.store_delete(self.bid),
                          base.store_delete(self.aid),
                          base.listing_of(self.bid, self.aid),
                          base.store_delete(self.bid),
                          base.listing_of(self.aid),
                          base.listing_of(self.bid)], self.sent())

    def test_second_round_refused_by_glance_is_unverified(self):
        # The first DELETE removed one of a's two locations in cheap; then
        # another tool removed fast, and Glance refuses the second DELETE
        # (403: cheap now holds the only copy).  Not "nothing was removed".
        two = base.with_stores(self.a, 'cheap', 'cheap', 'fast')
        self.mock_store_delete('cheap', self.aid, 204, base.glance_error(
            403, 'Cannot delete image data from the only store containing '
            'it. Consider deleting the image instead.'))
        self.mock_listing([base.with_stores(self.a, 'cheap', 'fast')],
                          [base.with_stores(self.a, 'cheap')])
        item = self.remove(two)[self.aid]
        self.assertEqual((results.UNVERIFIED, True, ('cheap',), 1),
                         (item.verdict.result, item.verdict.keep_lock,
                          item.verdict.remaining, item.removed_before))
        self.assertTrue(item.verdict.reason.startswith(
            'Store cheap held more than one location of image %s; an '
            'earlier DELETE removed 1 of them. The next: ' % self.aid),
            item.verdict.reason)
        self.assertTrue(item.verdict.reason.endswith(
            'Check where its data is with "GET /v2/images/%s (its '
            '"stores")", then run this command again.' % self.aid),
            item.verdict.reason)
        self.assertIn('HTTP 403', item.verdict.reason)
        self.assertEqual([base.store_delete(self.aid),
                          base.listing_of(self.aid)] * 2, self.sent())
