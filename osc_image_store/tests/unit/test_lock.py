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
from osc_image_store.sdk import resources
from osc_image_store.tests.unit import base


def ids(count):
    return ['00000000-0000-4000-8000-%012d' % i for i in range(count)]


A, B, C, D = ids(4)


class TestWords(testtools.TestCase):

    def test_clear_command(self):
        self.assertEqual('openstack image store lock delete %s' % A,
                         lock.clear_command([A]))
        self.assertEqual('openstack image store lock delete %s %s' % (A, B),
                         lock.clear_command(iter([A, B])))

    def test_since(self):
        def tag(created_at):
            return resources.MetadefTag(name=A, created_at=created_at)
        self.assertEqual('2026-12-06 17:58:03 UTC',
                         lock.since(tag('2026-12-06T17:58:03Z')))
        self.assertEqual('2026-12-06 17:58:03 UTC',
                         lock.since(tag('2026-12-06T17:58:03+00:00')))
        self.assertEqual('an unknown time', lock.since(None))
        self.assertEqual('an unknown time', lock.since(tag(None)))
        self.assertEqual('an unknown time',
                         lock.since(resources.MetadefTag(name=A)))
        self.assertEqual('yesterday', lock.since(tag('yesterday')))
        self.assertEqual('x' * 40, lock.since(tag('x' * 100)))

    def test_namespace(self):
        self.assertEqual('osc-image-store-locks', lock.NAMESPACE)


class LockCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.tags = self.mock_locks()
        self.locks = lock.ImageLocks(self.proxy)

    def take(self, *image_ids):
        locked, busy = self.locks.take(list(image_ids))
        return locked, {k: v and v.name for k, v in busy.items()}


class TestTake(LockCase):

    def test_one_image_one_tag(self):
        self.assertEqual(([A], {}), self.take(A))
        self.assertEqual([base.lock_one(A)], self.sent())
        self.assertEqual([A], self.tags.names())
        self.assertEqual({A}, self.locks.held)
        request = self.requests()[0]
        self.assertIsNone(request.body)
        self.assertEqual('application/json', request.headers['Accept'])

    def test_many_images_one_request(self):
        self.assertEqual(([A, B, C], {}), self.take(A, B, C))
        self.assertEqual([base.lock_many(A, B, C)], self.sent())
        request = self.requests()[0]
        # Without that header Glance would replace every tag (every other
        # run's lock) of the namespace.
        self.assertEqual('True', request.headers['X-Openstack-Append'])
        self.assertEqual({'tags': [{'name': A}, {'name': B}, {'name': C}]},
                         request.json())
        self.assertEqual([A, B, C], self.tags.names())
        self.assertEqual({A, B, C}, self.locks.held)

    def test_repeats_and_held_images_left_out(self):
        self.assertEqual(([A], {}), self.take(A, A))
        self.assertEqual(([B, C], {}), self.take(A, B, A, C, B))
        self.assertEqual(([], {}), self.take(C, A, B))
        self.assertEqual(([], {}), self.take())
        self.assertEqual([base.lock_one(A), base.lock_many(B, C)],
                         self.sent())

    def test_locked_by_another_run(self):
        self.tags.add(B)
        self.assertEqual(([A, C], {B: B}), self.take(A, B, C))
        # The append is refused as a whole (409, nothing created); the
        # listing says which is taken; the others in one request again.
        self.assertEqual([base.lock_many(A, B, C), base.LIST_LOCKS,
                          base.lock_many(A, C)], self.sent())
        self.assertEqual([A, B, C], self.tags.names())
        self.assertEqual({A, C}, self.locks.held)

    def test_one_left_free_is_locked_alone(self):
        self.tags.add(A, C)
        self.assertEqual(([B], {A: A, C: C}), self.take(A, B, C))
        self.assertEqual([base.lock_many(A, B, C), base.LIST_LOCKS,
                          base.lock_one(B)], self.sent())
        self.assertEqual({B}, self.locks.held)

    def test_all_locked_by_others(self):
        self.tags.add(A, B)
        locked, busy = self.locks.take([A, B])
        self.assertEqual(([], [A, B]), (locked, sorted(busy)))
        # The listing has names only: a busy tag carries no time.
        self.assertEqual([A, B], sorted(t.name for t in busy.values()))
        self.assertEqual([base.lock_many(A, B), base.LIST_LOCKS],
                         self.sent())
        self.assertEqual(set(), self.locks.held)

    def test_single_image_locked_by_another_run(self):
        self.tags.add(A)
        self.assertEqual(([], {A: None}), self.take(A))
        self.assertEqual([base.lock_one(A)], self.sent())
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
        self.assertEqual(([A, D], {B: B, C: None}), self.take(A, B, C, D))
        self.assertEqual(
            [base.lock_many(A, B, C, D), base.LIST_LOCKS,
             base.lock_many(A, C, D), base.lock_one(A), base.lock_one(C),
             base.lock_one(D)], self.sent())
        self.assertEqual({A, D}, self.locks.held)
        self.assertEqual([A, B, C, D], self.tags.names())

    def test_namespace_made_on_first_use(self):
        self.tags.exists = False
        self.assertEqual(([A, B], {}), self.take(A, B))
        self.assertEqual([base.lock_many(A, B), base.CREATE_NAMESPACE,
                          base.lock_many(A, B)], self.sent())
        # Private (admin only), unprotected (its tags can be deleted).
        namespace = self.tags.namespace
        self.assertEqual(
            ('osc-image-store-locks', 'private', False),
            (namespace['namespace'], namespace['visibility'],
             namespace['protected']))
        self.assertIn('openstack image store lock delete',
                      namespace['description'])
        self.assertTrue(namespace['display_name'])
        self.assertEqual([A, B], self.tags.names())

    def test_namespace_made_for_one_image(self):
        self.tags.exists = False
        self.assertEqual(([A], {}), self.take(A))
        self.assertEqual([base.lock_one(A), base.CREATE_NAMESPACE,
                          base.lock_one(A)], self.sent())

    def test_namespace_made_by_another_run_meanwhile(self):
        self.tags.exists = False

        def other_run(method, name):
            if self.sent()[-1] == base.CREATE_NAMESPACE:
                self.tags.add(B)  # it made the namespace, and locked B

        self.tags.before = other_run
        self.assertEqual(([A], {B: B}), self.take(A, B))
        self.assertEqual(
            [base.lock_many(A, B), base.CREATE_NAMESPACE,
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
        self.assertEqual([base.lock_many(A, B), base.CREATE_NAMESPACE],
                         self.sent())
        self.assertEqual(set(), self.locks.held)

    def test_still_not_found_after_making_the_namespace(self):
        # E.g. a namespace made but not visible to this user.
        self.tags.exists = False
        self.tags.fail('POST', A, *[base.glance_error(404, 'Not found')] * 2)
        self.assertRaises(lock.LockError, self.locks.take, [A])
        self.assertEqual([base.lock_one(A), base.CREATE_NAMESPACE,
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

    def test_append_fails_then_one_by_one(self):
        self.http.post(base.TAGS, **base.glance_error(500, 'db down'))
        self.assertEqual(([A, B], {}), self.take(A, B))
        self.assertEqual([base.lock_many(A, B), base.lock_one(A),
                          base.lock_one(B)], self.sent())

    def test_append_without_answer_then_one_by_one(self):
        # The append timed out, yet Glance made the tags: the creates get
        # 409, so this run does not count them as its own.
        def timeout(request, context):
            self.tags.add(A, B, since='2026-12-06T18:00:00Z')
            raise ks_exc.ConnectTimeout()

        self.http.post(base.TAGS, text=timeout)
        self.assertEqual(([], {A: None, B: None}), self.take(A, B))
        self.assertEqual([base.lock_many(A, B), base.lock_one(A),
                          base.lock_one(B)], self.sent())
        self.assertEqual(set(), self.locks.held)

    def test_single_create_fails_not_counted_as_ours(self):
        self.tags.fail('POST', A, base.glance_error(500, 'db down'))
        self.tags.fail('POST', B, ks_exc.ConnectTimeout)
        self.assertEqual(([], {A: None}), self.take(A))
        self.assertEqual(([], {B: None}), self.take(B))
        # Each sent once: no retry of a tag write.
        self.assertEqual([base.lock_one(A), base.lock_one(B)], self.sent())
        self.assertEqual(set(), self.locks.held)

    def test_503_on_a_create_not_sent_again(self):
        self.tags.fail('POST', A, base.glance_error(503, 'busy'))
        self.assertEqual(([], {A: None}), self.take(A))
        self.assertEqual([base.lock_one(A)], self.sent())

    def test_listing_fails_everything_waits(self):
        self.tags.add(B)
        self.http.get(base.TAGS, **base.glance_error(500, 'db down'))
        self.assertEqual(([], {A: None, B: None, C: None}),
                         self.take(A, B, C))
        self.assertEqual([base.lock_many(A, B, C), base.LIST_LOCKS],
                         self.sent())
        self.assertEqual(set(), self.locks.held)

    def test_listing_forbidden_is_a_lock_error(self):
        self.tags.add(B)
        self.http.get(base.TAGS, **base.glance_error(403, 'no'))
        self.assertRaises(lock.LockError, self.locks.take, [A, B])

    def test_second_append_fails(self):
        self.tags.add(B)
        self.http.post(base.TAGS, [
            base.glance_error(409, 'exists'), base.glance_error(500, 'x')])
        self.assertEqual(([], {A: None, B: B, C: None}),
                         self.take(A, B, C))
        self.assertEqual([base.lock_many(A, B, C), base.LIST_LOCKS,
                          base.lock_many(A, C)], self.sent())


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

    def test_error_returned_and_never_sent_again(self):
        # After a timeout or a 5xx the DELETE may or may not have
        # happened; sent again, it could delete a lock another run made
        # in between.
        errors = []
        for image_id, answer in ((A, ks_exc.ConnectTimeout),
                                 (B, base.glance_error(503, 'busy'))):
            self.tags.fail('DELETE', image_id, answer)
            errors.append(self.locks.release(image_id))
            self.assertIsNone(self.locks.release(image_id))  # not held
        self.assertIsNotNone(errors[0])
        self.assertIn('busy', errors[1])
        self.assertEqual([base.unlock(A), base.unlock(B)], self.sent())
        self.assertEqual([A, B], self.tags.names())
        self.assertEqual(set(), self.locks.held)

    def test_error_text(self):
        self.tags.fail('DELETE', A, base.glance_error(500, 'db down'))
        self.assertIn('db down', self.locks.release(A))

    def test_keep_sends_nothing(self):
        self.locks.keep(A)
        self.assertEqual({B}, self.locks.held)
        self.assertIsNone(self.locks.release(A))
        self.assertEqual([], self.sent())
        self.assertEqual([A, B], self.tags.names())


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
        self.assertEqual([], lock.current_locks(self.proxy))
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
