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
"""The release stage alone (engine/release.py): unlock each settled image
or keep its lock, a note on its row; were the locks held throughout?"""

from keystoneauth1 import exceptions as ks_exc

from osc_image_store.engine import chunk as chunk_mod
from osc_image_store.engine import lock
from osc_image_store.engine import outcome
from osc_image_store.engine import release
from osc_image_store.engine import results
from osc_image_store.tests.unit import base
from osc_image_store.v2 import advice

A, B, C = ['00000000-0000-4000-8000-%012d' % i for i in range(3)]
LEFT = ('archive', 'fast')
CLEAR = 'openstack image store lock delete '


def kept(image_id):
    """The note of a lock kept for an operator."""
    return ('Its lock stays (tag %s of metadata definitions namespace '
            'osc-image-store-locks), so that no run of this command removes '
            'another copy of it meanwhile: check where its data is with '
            '"openstack image store list --image %s", then clear the lock '
            'with "%s%s".' % (image_id, image_id, CLEAR, image_id))


def row(image_id, result, reason=None):
    return results.Removal(image_id, 'cirros', 'cheap', result, LEFT, reason)


class ReleaseCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.tags = self.mock_locks()
        self.locks = lock.ImageLocks(self.proxy)
        self.assertEqual([A, B], self.locks.take([A, B]).locked)
        self.ledger = lock.Ledger()
        self.releaser = release.Releaser(self.locks, self.ledger,
                                         advice.ADVICE)
        self.taken = len(self.sent())

    def new(self):
        """The requests sent since the locks were taken."""
        return self.sent()[self.taken:]


class TestUnlock(ReleaseCase):

    def test_released_row_unchanged(self):
        given = row(A, 'removed')
        self.assertIs(given, self.releaser.unlock(given))
        self.assertEqual([base.unlock(A)], self.new())
        self.assertEqual([B], self.tags.names())
        self.assertEqual({B}, self.locks.held)
        self.assertEqual(lock.Ledger(), self.ledger)

    def test_failed_row_released(self):
        given = row(A, 'failed', 'Refused.')
        self.assertIs(given, self.releaser.unlock(given))
        self.assertEqual([base.unlock(A)], self.new())

    def test_keep_asked(self):
        got = self.releaser.unlock(row(A, 'removed', 'Proof failed.'),
                                   keep=True)
        self.assertEqual(row(A, 'removed', 'Proof failed. ' + kept(A)), got)
        self.assertEqual([A], self.ledger.kept)
        self.assertEqual([], self.new())
        self.assertEqual([A, B], self.tags.names())
        self.assertEqual({B}, self.locks.held)

    def test_unknown_and_unverified_keep_their_lock(self):
        self.assertEqual(row(A, 'unknown', kept(A)),
                         self.releaser.unlock(row(A, 'unknown')))
        self.assertEqual(row(B, 'unverified', 'Still listed. ' + kept(B)),
                         self.releaser.unlock(row(B, 'unverified',
                                                  'Still listed.')))
        self.assertEqual([A, B], self.ledger.kept)
        self.assertEqual([], self.new())
        self.assertEqual(set(), self.locks.held)

    def test_keep_false_releases_even_in_doubt(self):
        given = row(A, 'unknown')
        self.assertIs(given, self.releaser.unlock(given, keep=False))
        self.assertEqual([base.unlock(A)], self.new())
        self.assertEqual([], self.ledger.kept)

    def test_not_held_row_unchanged_nothing_sent(self):
        for given in (row(C, 'unknown'), row(C, 'removed'),
                      results.Removal(None, 'ghost', 'cheap', 'failed')):
            self.assertIs(given, self.releaser.unlock(given))
            self.assertIs(given, self.releaser.unlock(given, keep=True))
        self.assertEqual([], self.new())
        self.assertEqual(lock.Ledger(), self.ledger)

    def test_release_without_answer_tag_still_there(self):
        self.tags.fail('DELETE', A, base.glance_error(500, 'db down'))
        self.tags.fail('DELETE', B, ks_exc.ConnectTimeout)
        for image_id, error in ((A, 'HTTP 500: db down'),
                                (B, 'Timed out connecting to service.')):
            self.assertEqual(row(image_id, 'removed', (
                'Done. The release of its lock got no answer (%s) and the '
                'lock is still there: that release may still reach Glance '
                'later. Until then runs of this command refuse the image; '
                'clear the lock with "%s%s" only once no request of this run '
                'can still arrive.' % (error, CLEAR, image_id))),
                self.releaser.unlock(row(image_id, 'removed', 'Done.')))
        self.assertEqual([A, B], self.ledger.unreleased)
        self.assertEqual([base.unlock(A), base.read_lock(A), base.unlock(B),
                          base.read_lock(B)], self.new())

    def test_release_refused(self):
        self.tags.fail('DELETE', A, base.glance_error(403, 'Forbidden'))
        self.assertEqual(row(A, 'failed', (
            'Its lock could not be removed (HTTP 403: Forbidden): runs of '
            'this command refuse the image until "%s%s" is run.'
            % (CLEAR, A))), self.releaser.unlock(row(A, 'failed')))
        self.assertEqual([A], self.ledger.unreleased)
        self.assertEqual([base.unlock(A)], self.new())

    def test_release_without_answer_but_carried_out(self):
        def carried_out(method, name):
            if method == 'DELETE':
                self.tags.tags.pop(name, None)

        self.tags.before = carried_out
        self.tags.fail('DELETE', A, base.glance_error(500, 'db down'))
        given = row(A, 'removed')
        self.assertIs(given, self.releaser.unlock(given))
        self.assertEqual(lock.Ledger(), self.ledger)
        self.assertEqual([base.unlock(A), base.read_lock(A)], self.new())


class TestReleaseAndKeep(ReleaseCase):

    def test_release(self):
        self.assertIsNone(self.releaser.release(A))
        self.assertIsNone(self.releaser.release(A))  # not held any more
        self.assertEqual([base.unlock(A)], self.new())
        self.assertEqual(lock.Ledger(), self.ledger)

    def test_release_unreleased(self):
        self.tags.fail('DELETE', A, base.glance_error(403, 'Forbidden'))
        self.assertEqual(lock.Unreleased('HTTP 403: Forbidden', False),
                         self.releaser.release(A))
        self.assertEqual([A], self.ledger.unreleased)

    def test_keep(self):
        self.releaser.keep(A)
        self.assertEqual(([A], {B}, []),
                         (self.ledger.kept, self.locks.held, self.new()))


class TestCheckHeld(ReleaseCase):

    def work(self, *verdicts, sent=True):
        return {image_id: chunk_mod.Work(
            base.image_resource(base.image_body(image_id=image_id)),
            sent=sent, verdict=verdict)
            for image_id, verdict in zip((A, B), verdicts)}

    def lost(self, image_id):
        return ('Its lock (tag %s of metadata definitions namespace '
                'osc-image-store-locks) was removed while this run held it '
                '(cleared by hand, or the namespace was deleted): another '
                'run may have removed another copy at the same time; check '
                'where its data is with "openstack image store list --image '
                '%s".' % (image_id, image_id))

    def test_locks_still_there_nothing_changes(self):
        verdict = outcome.Verdict(None, None, LEFT)
        work = self.work(verdict, verdict)
        self.releaser.check_held(work)
        self.assertEqual([verdict, verdict],
                         [w.verdict for w in work.values()])
        self.assertEqual([base.LIST_LOCKS], self.new())
        self.assertEqual({A, B}, self.locks.held)

    def test_lock_gone_unverified_kept_and_locked_again(self):
        del self.tags.tags[A]
        verdict = outcome.Verdict(None, None, LEFT)
        work = self.work(verdict, verdict)
        self.releaser.check_held(work)
        self.assertEqual(outcome.Verdict(results.UNVERIFIED, self.lost(A),
                                         LEFT, keep_lock=True),
                         work[A].verdict)
        self.assertIs(verdict, work[B].verdict)
        self.assertEqual([base.LIST_LOCKS, base.lock_one(A)], self.new())
        self.assertEqual([A, B], self.tags.names())
        self.assertEqual({A, B}, self.locks.held)  # this run's lock again
        self.assertEqual(lock.Ledger(), self.ledger)

    def test_lock_gone_reasons_joined_result_kept(self):
        self.tags.tags.clear()
        work = self.work(
            outcome.Verdict(results.UNKNOWN, 'No answer.', None),
            outcome.Verdict(results.FAILED, 'Refused (HTTP 403).', LEFT))
        self.releaser.check_held(work)
        self.assertEqual(outcome.Verdict(
            results.UNKNOWN, 'No answer. ' + self.lost(A), None,
            keep_lock=True), work[A].verdict)
        # A refusal changed nothing: its verdict stands.
        self.assertEqual(outcome.Verdict(results.FAILED, 'Refused (HTTP '
                                         '403).', LEFT), work[B].verdict)
        self.assertEqual([base.LIST_LOCKS, base.lock_one(A),
                          base.lock_one(B)], self.new())

    def test_lock_again_without_answer(self):
        del self.tags.tags[A]
        self.tags.fail('POST', A, ks_exc.ConnectTimeout)
        work = self.work(outcome.Verdict(None, None, LEFT))
        self.releaser.check_held(work)
        self.assertEqual(
            self.lost(A) + ' ' + lock.unanswered(
                A, 'Timed out connecting to service.', advice.ADVICE),
            work[A].verdict.reason)
        self.assertEqual([A], self.ledger.unsure)
        self.assertNotIn(A, self.locks.held)

    def test_lock_again_refused(self):
        del self.tags.tags[A]
        self.tags.fail('POST', A, base.glance_error(403, 'Forbidden'))
        work = self.work(outcome.Verdict(None, None, LEFT))
        self.releaser.check_held(work)
        self.assertEqual(outcome.Verdict(results.UNVERIFIED, self.lost(A),
                                         LEFT, keep_lock=True),
                         work[A].verdict)
        self.assertEqual(lock.Ledger(), self.ledger)

    def test_namespace_deleted(self):
        self.tags.tags.clear()
        self.tags.exists = False
        work = self.work(outcome.Verdict(None, None, LEFT))
        self.releaser.check_held(work)
        self.assertEqual(results.UNVERIFIED, work[A].verdict.result)
        self.assertEqual([base.LIST_LOCKS, base.lock_one(A),
                          base.CREATE_NAMESPACE, base.lock_one(A)],
                         self.new())

    def test_listing_fails_nothing_changes(self):
        self.tags.tags.clear()
        self.tags.fail('GET', None, base.glance_error(500, 'db down'))
        verdict = outcome.Verdict(None, None, LEFT)
        work = self.work(verdict, verdict)
        self.releaser.check_held(work)
        self.assertEqual([verdict, verdict],
                         [w.verdict for w in work.values()])
        self.assertEqual([base.LIST_LOCKS], self.new())
        self.assertEqual({A, B}, self.locks.held)

    def test_nothing_sent_nothing_read(self):
        verdict = outcome.Verdict(None, None, LEFT)
        self.releaser.check_held(self.work(verdict, sent=False))
        self.releaser.check_held(self.work(None))
        self.locks.keep(A)  # not held: not checked
        self.releaser.check_held(self.work(verdict))
        self.assertEqual([], self.new())
