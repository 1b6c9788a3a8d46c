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
"""Image locks (engine/lock.py): one metadata definitions tag per image,
taken in one request, released one by one, listed and cleared."""

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc
import testtools

from osc_image_store.engine import lock
from osc_image_store.sdk import exceptions
from osc_image_store.sdk import metadef_tag
from osc_image_store.tests.unit import base
from osc_image_store.v2 import advice


def ids(count):
    return ['00000000-0000-4000-8000-%012d' % i for i in range(count)]


A, B, C, D = ids(4)


class TestWords(testtools.TestCase):

    def test_unanswered_in_the_engine_terms(self):
        self.assertEqual(
            'The request that locks image %s got no answer (timed out): '
            'Glance may still make that lock. If "GET /v2/metadefs/'
            'namespaces/osc-image-store-locks/tags" shows it, it is this '
            'run\'s; clear it with "DELETE /v2/metadefs/namespaces/'
            'osc-image-store-locks/tags/%s" once no request of this run can '
            'still reach Glance.' % (A, A), lock.unanswered(A, 'timed out'))

    def test_unanswered_in_the_command_words(self):
        self.assertIn(
            'If "openstack image store lock list" shows it, it is this '
            'run\'s; clear it with "openstack image store lock delete %s" '
            'once' % A, lock.unanswered(A, 'timed out', advice.ADVICE))

    def test_since(self):
        def tag(created_at):
            return metadef_tag.MetadefTag(name=A, created_at=created_at)
        self.assertEqual('2026-12-06 17:58:03 UTC',
                         lock.since(tag('2026-12-06T17:58:03Z')))
        self.assertEqual('2026-12-06 17:58:03 UTC',
                         lock.since(tag('2026-12-06T17:58:03+00:00')))
        self.assertEqual('an unknown time', lock.since(None))
        self.assertEqual('an unknown time', lock.since(tag(None)))
        self.assertEqual('an unknown time',
                         lock.since(metadef_tag.MetadefTag(name=A)))
        self.assertEqual('yesterday', lock.since(tag('yesterday')))
        self.assertEqual('x' * 40, lock.since(tag('x' * 100)))

    def test_namespace(self):
        self.assertEqual('osc-image-store-locks', lock.NAMESPACE)


class LockCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.tags = self.mock_locks()
        self.locks = lock.ImageLocks(self.proxy, advice.ADVICE)

    def take(self, *image_ids):
        """``(locked, {image_id: tag name or None}, unsure)`` of a take."""
        taken = self.locks.take(list(image_ids))
        self.assertIsInstance(taken, lock.Taken)
        return (taken.locked, {k: v and v.name for k, v in taken.busy.items()},
                taken.unsure)


class TestTake(LockCase):

    def test_one_image_one_tag(self):
        self.assertEqual(([A], {}, {}), self.take(A))
        # The namespace is read first (private, unprotected), then locked.
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(A)],
                         self.sent())
        self.assertEqual([A], self.tags.names())
        self.assertEqual({A}, self.locks.held)
        request = self.requests()[1]
        self.assertIsNone(request.body)
        self.assertEqual('application/json', request.headers['Accept'])

    def test_many_images_one_request(self):
        self.assertEqual(([A, B, C], {}, {}), self.take(A, B, C))
        self.assertEqual([base.READ_NAMESPACE, base.lock_many(A, B, C)],
                         self.sent())
        request = self.requests()[1]
        # Without that header Glance would replace every tag (every other
        # run's lock) of the namespace.
        self.assertEqual('True', request.headers['X-Openstack-Append'])
        self.assertEqual({'tags': [{'name': A}, {'name': B}, {'name': C}]},
                         request.json())
        self.assertEqual([A, B, C], self.tags.names())
        self.assertEqual({A, B, C}, self.locks.held)

    def test_repeats_and_held_images_left_out(self):
        self.assertEqual(([A], {}, {}), self.take(A, A))
        self.assertEqual(([B, C], {}, {}), self.take(A, B, A, C, B))
        self.assertEqual(([], {}, {}), self.take(C, A, B))
        self.assertEqual(([], {}, {}), self.take())
        # The namespace is read once per run (per ImageLocks).
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(A),
                          base.lock_many(B, C)], self.sent())

    def test_namespace_read_once_per_run(self):
        self.assertEqual(([A], {}, {}), self.take(A))
        other = lock.ImageLocks(self.proxy)  # another run
        self.assertEqual([B], other.take([B]).locked)
        self.assertEqual([C], other.take([C]).locked)
        self.assertEqual(
            [base.READ_NAMESPACE, base.lock_one(A), base.READ_NAMESPACE,
             base.lock_one(B), base.lock_one(C)], self.sent())

    def test_nothing_to_take_reads_nothing(self):
        self.assertEqual(([], {}, {}), self.take())
        self.assertEqual([], self.sent())

    def test_locked_by_another_run(self):
        self.tags.add(B)
        self.assertEqual(([A, C], {B: None}, {}), self.take(A, B, C))
        # The append is refused as a whole (409, nothing created); the
        # listing says which is taken; the others in one request again.
        self.assertEqual([base.READ_NAMESPACE, base.lock_many(A, B, C),
                          base.LIST_LOCKS, base.lock_many(A, C)],
                         self.sent())
        self.assertEqual([A, B, C], self.tags.names())
        self.assertEqual({A, C}, self.locks.held)

    def test_one_left_free_is_locked_alone(self):
        self.tags.add(A, C)
        self.assertEqual(([B], {A: None, C: None}, {}), self.take(A, B, C))
        self.assertEqual([base.READ_NAMESPACE, base.lock_many(A, B, C),
                          base.LIST_LOCKS, base.lock_one(B)], self.sent())
        self.assertEqual({B}, self.locks.held)

    def test_all_locked_by_others(self):
        self.tags.add(A, B)
        taken = self.locks.take([A, B])
        # The listing has names only: no tag is read for its time here.
        self.assertEqual(lock.Taken([], {A: None, B: None}, {}), taken)
        self.assertEqual([base.READ_NAMESPACE, base.lock_many(A, B),
                          base.LIST_LOCKS], self.sent())
        self.assertEqual(set(), self.locks.held)

    def test_single_image_locked_by_another_run(self):
        self.tags.add(A)
        self.assertEqual(([], {A: None}, {}), self.take(A))
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(A)],
                         self.sent())
        self.assertEqual(set(), self.locks.held)

    def test_race_after_the_listing_one_by_one(self):
        # B is locked; between the listing and the second append another
        # run locks C: the second append is refused too, so the free ones
        # are locked one by one (each answer is definite).
        self.tags.add(B)

        def other_run(method, name):
            if self.sent()[-1] == base.lock_many(A, C, D):
                self.tags.add(C)  # right after the listing

        self.tags.before = other_run
        self.assertEqual(([A, D], {B: None, C: None}, {}),
                         self.take(A, B, C, D))
        self.assertEqual(
            [base.READ_NAMESPACE, base.lock_many(A, B, C, D),
             base.LIST_LOCKS, base.lock_many(A, C, D), base.lock_one(A),
             base.lock_one(C), base.lock_one(D)], self.sent())
        self.assertEqual({A, D}, self.locks.held)
        self.assertEqual([A, B, C, D], self.tags.names())

    def test_one_by_one_without_answer_is_unsure(self):
        # After the second 409, one by one: A is made (201), C is another
        # run's (409), D's create gets no answer: D is neither counted as
        # locked nor as busy, and never sent again.
        self.tags.add(B)

        def other_run(method, name):
            if self.sent()[-1] == base.lock_many(A, C, D):
                self.tags.add(C)

        self.tags.before = other_run
        self.tags.fail('POST', D, base.glance_error(500, 'db down'))
        self.assertEqual(([A], {B: None, C: None}, {D: 'HTTP 500: db down'}),
                         self.take(A, B, C, D))
        self.assertEqual(
            [base.READ_NAMESPACE, base.lock_many(A, B, C, D),
             base.LIST_LOCKS, base.lock_many(A, C, D), base.lock_one(A),
             base.lock_one(C), base.lock_one(D)], self.sent())
        self.assertEqual({A}, self.locks.held)

    def test_namespace_made_on_first_use(self):
        self.tags.exists = False
        self.assertEqual(([A, B], {}, {}), self.take(A, B))
        # The read finds no namespace: it is made before the first lock.
        self.assertEqual([base.READ_NAMESPACE, base.CREATE_NAMESPACE,
                          base.lock_many(A, B)], self.sent())
        # Private (admin only), unprotected (its tags can be deleted).
        namespace = self.tags.namespace
        self.assertEqual(
            ('osc-image-store-locks', 'private', False),
            (namespace['namespace'], namespace['visibility'],
             namespace['protected']))
        self.assertIn('Delete a tag only once no run works on that image.',
                      namespace['description'])
        self.assertTrue(namespace['display_name'])
        self.assertEqual([A, B], self.tags.names())

    def test_namespace_made_for_one_image(self):
        self.tags.exists = False
        self.assertEqual(([A], {}, {}), self.take(A))
        self.assertEqual([base.READ_NAMESPACE, base.CREATE_NAMESPACE,
                          base.lock_one(A)], self.sent())

    def test_namespace_deleted_after_the_read(self):
        # The namespace is read once; deleted later (by hand), the next
        # lock request gets 404, and it is made again.
        self.assertEqual(([A], {}, {}), self.take(A))
        self.tags.exists, self.tags.tags = False, {}
        self.assertEqual(([B, C], {}, {}), self.take(B, C))
        self.assertEqual(
            [base.READ_NAMESPACE, base.lock_one(A), base.lock_many(B, C),
             base.CREATE_NAMESPACE, base.lock_many(B, C)], self.sent())
        self.assertEqual([B, C], self.tags.names())

    def test_namespace_made_by_another_run_meanwhile(self):
        self.tags.exists = False

        def other_run(method, name):
            if self.sent()[-1] == base.CREATE_NAMESPACE:
                self.tags.add(B)  # it made the namespace, and locked B

        self.tags.before = other_run
        self.assertEqual(([A], {B: None}, {}), self.take(A, B))
        self.assertEqual(
            [base.READ_NAMESPACE, base.CREATE_NAMESPACE,
             base.lock_many(A, B), base.LIST_LOCKS, base.lock_one(A)],
            self.sent())
        self.assertIsNone(self.tags.namespace)  # the other run's

    def test_namespace_cannot_be_made(self):
        self.tags.exists = False
        self.http.post(base.NAMESPACES, **base.glance_error(
            403, 'You are not authorized to complete add_metadef_namespace '
            'action.'))
        error = self.assertRaises(lock.LockError, self.locks.take, [A, B])
        self.assertTrue(str(error).startswith(
            'The image locks could not be taken (tags of the metadata '
            'definitions namespace osc-image-store-locks; creating it and '
            'its tags is admin only by default: '), str(error))
        self.assertIn('add_metadef_namespace', str(error))
        self.assertTrue(str(error).endswith(
            'HTTP 403: You are not authorized to complete '
            'add_metadef_namespace action.).'), str(error))
        self.assertEqual([base.READ_NAMESPACE, base.CREATE_NAMESPACE],
                         self.sent())
        self.assertEqual(set(), self.locks.held)

    def test_still_not_found_after_making_the_namespace(self):
        # E.g. a namespace made but not visible to this user.
        self.tags.exists = False
        self.tags.fail('POST', A, *[base.glance_error(404, 'Not found')] * 2)
        self.assertRaises(lock.LockError, self.locks.take, [A])
        self.assertEqual([base.READ_NAMESPACE, base.CREATE_NAMESPACE,
                          base.lock_one(A), base.CREATE_NAMESPACE,
                          base.lock_one(A)], self.sent())

    def test_forbidden_is_a_lock_error(self):
        for status in (400, 401, 403):
            self.http.post(base.TAGS, **base.glance_error(
                status, 'You are not authorized to complete add_metadef_tags '
                'action.'))
            error = self.assertRaises(lock.LockError, self.locks.take,
                                      [A, B])
            self.assertIn('add_metadef_tags', str(error))
            self.tags.fail('POST', A, base.glance_error(status, 'no'))
            self.assertRaises(lock.LockError, self.locks.take, [A])
        self.assertEqual(set(), self.locks.held)
        self.assertEqual([], self.tags.names())

    def test_append_without_answer_is_not_sent_again(self):
        # A 5xx says nothing of whether the tags were made: those images
        # are unsure, and neither sent again nor locked one by one.
        self.http.post(base.TAGS, **base.glance_error(500, 'db down'))
        self.assertEqual(
            ([], {}, {A: 'HTTP 500: db down', B: 'HTTP 500: db down'}),
            self.take(A, B))
        self.assertEqual([base.READ_NAMESPACE, base.lock_many(A, B)],
                         self.sent())
        self.assertEqual(set(), self.locks.held)

    def test_append_timeout_that_made_the_tags_is_not_sent_again(self):
        # The append timed out, yet Glance made the tags: no create
        # follows (one would get 409, another could be made later).
        def timeout(request, context):
            self.tags.add(A, B, since='2026-12-06T18:00:00Z')
            raise ks_exc.ConnectTimeout()

        self.http.post(base.TAGS, text=timeout)
        unsure = 'Timed out connecting to service.'
        self.assertEqual(([], {}, {A: unsure, B: unsure}), self.take(A, B))
        self.assertEqual([base.READ_NAMESPACE, base.lock_many(A, B)],
                         self.sent())
        self.assertEqual(set(), self.locks.held)
        self.assertEqual([A, B], self.tags.names())

    def test_single_create_without_answer_is_not_sent_again(self):
        self.tags.fail('POST', A, base.glance_error(500, 'db down'))
        self.tags.fail('POST', B, ks_exc.ConnectTimeout)
        self.assertEqual(([], {}, {A: 'HTTP 500: db down'}), self.take(A))
        self.assertEqual(([], {}, {B: 'Timed out connecting to service.'}),
                         self.take(B))
        # Each sent once: no retry of a tag write.
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(A),
                          base.lock_one(B)], self.sent())
        self.assertEqual(set(), self.locks.held)

    def test_503_on_a_create_not_sent_again(self):
        self.tags.fail('POST', A, base.glance_error(503, 'busy'))
        self.assertEqual(([], {}, {A: 'HTTP 503: busy'}), self.take(A))
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(A)],
                         self.sent())

    def test_listing_fails_everything_waits(self):
        # The append was refused (409: nothing made): the images wait.
        self.tags.add(B)
        self.http.get(base.TAGS, **base.glance_error(500, 'db down'))
        self.assertEqual(([], {A: None, B: None, C: None}, {}),
                         self.take(A, B, C))
        self.assertEqual([base.READ_NAMESPACE, base.lock_many(A, B, C),
                          base.LIST_LOCKS], self.sent())
        self.assertEqual(set(), self.locks.held)

    def test_listing_forbidden_is_a_lock_error(self):
        self.tags.add(B)
        self.http.get(base.TAGS, **base.glance_error(403, 'no'))
        self.assertRaises(lock.LockError, self.locks.take, [A, B])

    def test_second_append_without_answer_is_unsure(self):
        self.tags.add(B)
        self.http.post(base.TAGS, [
            base.glance_error(409, 'exists'), base.glance_error(500, 'x')])
        self.assertEqual(([], {B: None}, {A: 'HTTP 500: x', C: 'HTTP 500: x'}),
                         self.take(A, B, C))
        # No one-by-one create follows.
        self.assertEqual([base.READ_NAMESPACE, base.lock_many(A, B, C),
                          base.LIST_LOCKS, base.lock_many(A, C)], self.sent())
        self.assertEqual(set(), self.locks.held)


class TestNamespaceCheck(LockCase):
    """Once per run, before the first lock: private and unprotected."""

    def refused(self, **namespace):
        self.tags.namespace = namespace
        error = self.assertRaises(lock.LockError, self.locks.take, [A, B])
        self.assertEqual([base.READ_NAMESPACE], self.sent())
        self.assertEqual(set(), self.locks.held)
        self.assertEqual([], self.tags.names())
        return str(error)

    def test_public_refused(self):
        self.assertEqual(
            'The image locks cannot be used: the metadata definitions '
            'namespace osc-image-store-locks is public (every project could '
            'read it, or its locks could not be removed). Make it private '
            'and unprotected with "openstack image metadef namespace set '
            '--private --unprotected osc-image-store-locks", then run this '
            'command again.', self.refused(visibility='public'))

    def test_protected_refused(self):
        self.assertIn(
            'namespace osc-image-store-locks is protected (every project',
            self.refused(protected=True))

    def test_public_and_protected_refused(self):
        error = self.refused(visibility='public', protected=True)
        self.assertIn('osc-image-store-locks is public and protected (',
                      error)
        self.assertIn('"openstack image metadef namespace set --private '
                      '--unprotected osc-image-store-locks"', error)

    def test_refused_again_on_the_next_take(self):
        self.tags.namespace = {'visibility': 'public'}
        self.assertRaises(lock.LockError, self.locks.take, [A])
        self.assertRaises(lock.LockError, self.locks.take, [B])
        self.assertEqual([base.READ_NAMESPACE] * 2, self.sent())
        self.assertEqual([], self.tags.names())

    def test_private_unprotected_is_used(self):
        self.tags.namespace = {'visibility': 'private', 'protected': False}
        self.assertEqual(([A], {}, {}), self.take(A))
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(A)],
                         self.sent())

    def test_read_fails_then_read_again_on_the_next_take(self):
        # The tag requests themselves tell whether the namespace can be
        # used; its check is done on the next take.
        self.tags.fail('GET', None, base.glance_error(500, 'db down'),
                       ks_exc.ConnectTimeout)
        self.assertEqual(([A], {}, {}), self.take(A))
        self.assertEqual(([B], {}, {}), self.take(B))
        self.assertEqual(([C], {}, {}), self.take(C))
        self.assertEqual(([D], {}, {}), self.take(D))
        self.assertEqual(
            [base.READ_NAMESPACE, base.lock_one(A), base.READ_NAMESPACE,
             base.lock_one(B), base.READ_NAMESPACE, base.lock_one(C),
             base.lock_one(D)], self.sent())

    def test_read_fails_then_public_refused(self):
        self.tags.fail('GET', None, base.glance_error(500, 'db down'))
        self.assertEqual(([A], {}, {}), self.take(A))
        self.tags.namespace = {'visibility': 'public'}
        self.assertRaises(lock.LockError, self.locks.take, [B])
        self.assertEqual([base.READ_NAMESPACE, base.lock_one(A),
                          base.READ_NAMESPACE], self.sent())
        self.assertEqual({A}, self.locks.held)

    def test_read_forbidden_is_a_lock_error(self):
        self.tags.fail('GET', None, base.glance_error(
            403, 'You are not authorized to complete get_metadef_namespace '
            'action.'))
        error = self.assertRaises(lock.LockError, self.locks.take, [A])
        self.assertTrue(str(error).startswith(
            'The image locks could not be taken'), str(error))
        self.assertIn('HTTP 403: You are not authorized to complete '
                      'get_metadef_namespace action.', str(error))
        self.assertEqual([base.READ_NAMESPACE], self.sent())


class TestRelease(LockCase):

    def setUp(self):
        super().setUp()
        self.locks.take([A, B])
        self._first = len(self.http.request_history)

    def test_deletes_the_tag(self):
        self.assertIsNone(self.locks.release(A))
        self.assertEqual([base.unlock(A)], self.sent())
        self.assertEqual([B], self.tags.names())
        self.assertEqual({B}, self.locks.held)
        # Released once: a second call sends nothing.
        self.assertIsNone(self.locks.release(A))
        self.assertEqual([base.unlock(A)], self.sent())

    def test_not_held_sends_nothing(self):
        self.tags.add(C)
        self.assertIsNone(self.locks.release(C))
        self.assertEqual([], self.sent())
        self.assertEqual([A, B, C], self.tags.names())

    def test_cleared_meanwhile_is_fine(self):
        del self.tags.tags[A]
        self.assertIsNone(self.locks.release(A))
        self.assertEqual([base.unlock(A)], self.sent())
        self.assertEqual({B}, self.locks.held)

    def test_no_answer_and_the_tag_still_there_is_in_doubt(self):
        # After a timeout or a 5xx the DELETE may or may not have
        # happened: the tag is read; still there, the DELETE may reach
        # Glance later.  Sent again, it could delete a lock another run
        # made in between: never.
        self.tags.fail('DELETE', A, ks_exc.ConnectTimeout)
        self.tags.fail('DELETE', B, base.glance_error(503, 'busy'))
        self.assertEqual(
            lock.Unreleased('Timed out connecting to service.', True),
            self.locks.release(A))
        self.assertEqual(lock.Unreleased('HTTP 503: busy', True),
                         self.locks.release(B))
        self.assertIsNone(self.locks.release(A))  # not held: nothing sent
        self.assertIsNone(self.locks.release(B))
        self.assertEqual([base.unlock(A), base.read_lock(A), base.unlock(B),
                          base.read_lock(B)], self.sent())
        self.assertEqual([A, B], self.tags.names())
        self.assertEqual(set(), self.locks.held)

    def test_no_answer_but_the_tag_is_gone_is_released(self):
        # The DELETE was carried out and its answer lost (500 or timeout).
        def carried_out(method, name):
            if method == 'DELETE':
                self.tags.tags.pop(name, None)

        self.tags.before = carried_out
        self.tags.fail('DELETE', A, base.glance_error(500, 'db down'))
        self.tags.fail('DELETE', B, ks_exc.ConnectTimeout)
        self.assertIsNone(self.locks.release(A))
        self.assertIsNone(self.locks.release(B))
        self.assertEqual([base.unlock(A), base.read_lock(A), base.unlock(B),
                          base.read_lock(B)], self.sent())
        self.assertEqual([], self.tags.names())
        self.assertEqual(set(), self.locks.held)

    def test_no_answer_and_the_read_fails_is_in_doubt(self):
        self.tags.fail('DELETE', A, base.glance_error(500, 'db down'))
        self.tags.fail('GET', A, ks_exc.ConnectFailure)
        self.assertEqual(lock.Unreleased('HTTP 500: db down', True),
                         self.locks.release(A))
        self.assertEqual([base.unlock(A), base.read_lock(A)], self.sent())

    def test_refused_is_definite(self):
        # A 4xx (not 404) is an answer: the tag was not deleted, and no
        # DELETE of this run can still arrive.  No read.
        self.tags.fail('DELETE', A, base.glance_error(
            403, 'Namespace osc-image-store-locks is protected.'))
        self.tags.fail('DELETE', B, base.glance_error(400, 'Bad request'))
        self.assertEqual(
            lock.Unreleased('HTTP 403: Namespace osc-image-store-locks is '
                            'protected.', False), self.locks.release(A))
        self.assertEqual(lock.Unreleased('HTTP 400: Bad request', False),
                         self.locks.release(B))
        self.assertEqual([base.unlock(A), base.unlock(B)], self.sent())
        self.assertEqual([A, B], self.tags.names())
        self.assertEqual(set(), self.locks.held)

    def test_keep_sends_nothing(self):
        self.locks.keep(A)
        self.assertEqual({B}, self.locks.held)
        self.assertIsNone(self.locks.release(A))
        self.assertEqual([], self.sent())
        self.assertEqual([A, B], self.tags.names())


class TestPresent(LockCase):

    def test_names_of_every_lock(self):
        self.tags.add(A, B)
        self.assertEqual({A, B}, self.locks.present())
        self.assertEqual([base.LIST_LOCKS], self.sent())

    def test_no_namespace_no_lock(self):
        self.tags.exists = False
        self.assertEqual(set(), self.locks.present())
        self.assertEqual([base.LIST_LOCKS], self.sent())

    def test_listing_fails_is_none(self):
        self.http.get(base.TAGS, [base.glance_error(500, 'db down'),
                                  base.glance_error(403, 'no'),
                                  {'exc': ks_exc.ConnectTimeout}])
        for _n in range(3):
            self.assertIsNone(self.locks.present())
        self.assertEqual([base.LIST_LOCKS] * 3, self.sent())


class TestBusyTags(LockCase):

    def test_each_tag_read_for_its_time(self):
        self.tags.add(A, since='2026-12-06T10:00:00Z')
        self.tags.add(B)
        self.tags.fail('GET', B, base.glance_error(500, 'db down'))
        tags = self.locks.busy_tags([A, B, C])
        self.assertEqual({A: '2026-12-06T10:00:00Z', B: None},
                         {k: t.created_at for k, t in tags.items()})
        self.assertEqual(B, tags[B].name)
        self.assertEqual([base.read_lock(A), base.read_lock(B),
                          base.read_lock(C)], self.sent())


class TestCurrentLocks(LockCase):

    def test_oldest_first(self):
        self.tags.add(A, since='2026-12-06T12:00:00Z')
        self.tags.add(B, since='2026-12-06T10:00:00Z')
        self.tags.add(C, since='2026-12-06T11:00:00Z')
        self.assertEqual(
            [(B, '2026-12-06T10:00:00Z'), (C, '2026-12-06T11:00:00Z'),
             (A, '2026-12-06T12:00:00Z')],
            [(t.name, t.created_at) for t in lock.current_locks(self.proxy)])
        self.assertEqual([base.LIST_LOCKS, base.read_lock(A),
                          base.read_lock(B), base.read_lock(C)], self.sent())

    def test_gone_between_the_listing_and_its_read(self):
        self.tags.add(A, B)
        self.tags.before = lambda method, name: (
            name == A and self.tags.tags.pop(A))
        self.assertEqual([B], [t.name for t in
                               lock.current_locks(self.proxy)])

    def test_unreadable_tag_listed_without_time(self):
        self.tags.add(A, since='2026-12-06T12:00:00Z')
        self.tags.add(B)
        self.tags.fail('GET', A, ks_exc.ConnectFailure)
        self.assertEqual([(A, None), (B, base.OTHER_SINCE)],
                         [(t.name, t.created_at)
                          for t in lock.current_locks(self.proxy)])

    def test_no_namespace_no_lock(self):
        self.tags.exists = False
        self.assertIsNone(lock.current_locks(self.proxy))
        self.assertEqual([base.LIST_LOCKS], self.sent())

    def test_forbidden_raises(self):
        self.http.get(base.TAGS, **base.glance_error(403, 'no'))
        self.assertRaises(sdk_exc.ForbiddenException, lock.current_locks,
                          self.proxy)


class TestClear(LockCase):

    def test_deletes_one_tag(self):
        self.tags.add(A, B)
        self.assertIsNone(lock.clear(self.proxy, A))
        self.assertEqual([base.unlock(A)], self.sent())
        self.assertEqual([B], self.tags.names())

    def test_no_lock_raises_not_found(self):
        self.assertRaises(sdk_exc.NotFoundException, lock.clear, self.proxy,
                          A)
        self.assertEqual([base.unlock(A)], self.sent())

    def test_not_an_image_id_sends_nothing(self):
        for value in ('', '..', '.', 'x', A + '/..', '../' + A, '%2e%2e',
                      A[:-1], A + 'a', A + '?'):
            self.assertRaises(exceptions.InvalidIdentifier, lock.clear,
                              self.proxy, value)
        self.assertEqual([], self.sent())
