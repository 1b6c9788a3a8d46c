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
"""Safety and truthful errors of ``openstack image store delete``, on the
real local cloud: every case says what happened, with the right exit code,
and no image or stored byte is lost (checked after each test, and after
each hostile attempt)."""

import json
import socket
import uuid

import localcloud

from osc_image_store.engine import lock
from osc_image_store.tests.functional import base
from osc_image_store.tests import hostile


class TestHostileIdentifiers(base.TestCase):

    def setUp(self):
        super().setUp()
        self.image_id = self.create_image()

    def test_hostile_stores_rejected_before_any_request(self):
        # The whole corpus is covered by the unit tests; here, through the
        # real CLI, the ones that delete a whole image with other tools.
        for store in ('', '..', '../images', '%2e%2e', 'cheap/..'):
            result = self.store_delete(store, self.image_id, fail_ok=True)
            self.assertCommandFailed(result, 2, 'argument --store:')
            self.check_images_intact()

    def test_hostile_images_never_reach_a_path(self):
        for image in hostile.IMAGES_REJECTED:
            result = self.store_delete('cheap', image, fail_ok=True)
            self.assertCommandFailed(result, 2, 'argument <image>:')
        # One run for every name: each is looked up, none is found.
        result = self.store_delete('cheap', *hostile.IMAGES_NOT_FOUND,
                                   fail_ok=True)
        self.assertCommandFailed(
            result, 1, *['No image with name or ID %s.' % image
                         for image in hostile.IMAGES_NOT_FOUND])
        self.assertIn('Store cheap, %d image(s): %d failed (see Result and '
                      'Reason)' % ((len(hostile.IMAGES_NOT_FOUND),) * 2),
                      result.stderr)
        self.assertEqual([], self.cli_deletes())
        self.check_images_intact()


class TestRefusals(base.TestCase):
    """Cases the read before the delete catches: no DELETE is sent."""

    def test_unknown_store_lists_stores(self):
        image_id = self.create_image()
        result = self.store_delete('nope', image_id, fail_ok=True)
        self.assertCommandFailed(
            result, 1, 'Store nope does not exist on this cloud; its stores '
            'are: archive, cheap, fast.')
        self.assertEqual('', result.stdout)

    def test_not_in_store_says_where_it_is(self):
        image_id = self.create_image(('fast', 'archive'))
        result = self.store_delete('cheap', image_id, fail_ok=True)
        self.assertCommandFailed(
            result, 1, 'Image %s is not in store cheap; it is in: archive, '
            'fast.' % image_id)

    def test_only_store_refused(self):
        image_id = self.create_image(('cheap',))
        result = self.store_delete('cheap', image_id, fail_ok=True)
        self.assertCommandFailed(
            result, 1, 'Store cheap holds the only copy of image %s; it is '
            'kept.' % image_id)
        self.assertEqual('failed', result.json()[0]['Result'])

    def test_deactivated_image(self):
        image_id = self.create_image()
        image_api = self.cloud.admin_connection().image
        image_api.deactivate_image(image_id)
        self.addCleanup(image_api.reactivate_image, image_id)
        result = self.store_delete('cheap', image_id, fail_ok=True)
        self.assertCommandFailed(
            result, 1, 'Image %s is deactivated; only active images can be '
            'removed from a store.' % image_id)

    def test_queued_image(self):
        image_id = self.create_image(())
        result = self.store_delete('cheap', image_id, fail_ok=True)
        self.assertCommandFailed(
            result, 1, 'Image %s is queued; only active images' % image_id)

    def test_shared_name_lists_ids(self):
        ids = sorted([self.create_image(name='isd-twin'),
                      self.create_image(name='isd-twin')])
        result = self.store_delete('cheap', 'isd-twin', fail_ok=True)
        self.assertCommandFailed(
            result, 1, 'More than one image has the name isd-twin; use an '
            'ID: %s, %s.' % tuple(ids))

    def test_operator_like_name_means_that_name_only(self):
        # Glance reads name=in:a,b as "a or b"; the tool must not.
        plain = self.create_image(name='isd-alpha')
        result = self.store_delete('cheap', 'in:isd-alpha', fail_ok=True)
        self.assertCommandFailed(
            result, 1, 'No image with name or ID in:isd-alpha.')
        odd = self.create_image(name='in:isd-alpha')
        result = self.store_delete('cheap', 'in:isd-alpha')
        self.expect_removed(odd, 'cheap')
        self.assertEqual([(odd, 'removed')],
                         [(r['ID'], r['Result']) for r in result.json()])
        self.assertIn('cheap', self.cloud.files_in_stores(plain))

    def test_names_with_other_operators_and_quotes(self):
        # Glance reads name=neq:... as an (unknown) operator: 400.
        ids = {name: self.create_image(name=name)
               for name in ('neq:"x"', 'gt:1,2', 'in:"a","b"')}
        result = self.store_delete('cheap', *ids)
        for image_id in ids.values():
            self.expect_removed(image_id, 'cheap')
        self.assertEqual([(i, n, 'removed') for n, i in ids.items()],
                         [(r['ID'], r['Name'], r['Result'])
                          for r in result.json()])

    def test_missing_image(self):
        result = self.store_delete('cheap', 'isd-no-such-image',
                                   fail_ok=True)
        self.assertCommandFailed(
            result, 1, 'No image with name or ID isd-no-such-image.')
        self.assertNotIn('Multi', result.stderr)

    def test_multistore_off(self):
        result = self.store_delete('cheap', 'anything', 'other',
                                   cloud=base.NOMULTI, fail_ok=True)
        self.assertCommandFailed(
            result, 1, 'Multi-store is not enabled on this cloud')
        self.assertEqual(1, result.stderr.count('Multi-store'))


class TestNonAdmin(base.TestCase):

    def test_image_not_visible_to_member(self):
        image_id = self.create_image()
        # A dry run: a real one ends sooner, on the image locks (admin
        # only by default; see test_policy_refuses_member).
        result = self.store_delete('cheap', image_id, cloud=base.MEMBER,
                                   fail_ok=True, extra=['--dry-run'])
        self.assertCommandFailed(
            result, 1, 'No image with name or ID %s (deleted, or not '
            'visible to you).' % image_id)

    def test_policy_refuses_member(self):
        image_id = self.create_image()
        self.cloud.admin_connection().image.update_image(
            image_id, visibility='public')
        result = self.store_delete('cheap', image_id, cloud=base.MEMBER,
                                   fail_ok=True)
        # Image locks are admin only by default: the member's run ends
        # before any change, saying so.
        self.assertCommandFailed(
            result, 1, 'The image locks could not be taken (tags of the '
            'metadata definitions namespace osc-image-store-locks; ',
            'admin only by default: ', 'Nothing was removed.')
        self.assertEqual([], self.cli_deletes())

    def test_locks_are_invisible_and_untouchable_for_members(self):
        """Nothing of the locks reaches a tenant (private namespace).

        An outcome in doubt (the DELETE answered 503 by a proxy) keeps
        the image's lock: a member of another project then reads nothing
        of it, cannot make or delete such a tag, and sees no property
        written by the tool on the image.
        """
        image_id = self.create_image()
        self.cloud.admin_connection().image.update_image(
            image_id, visibility='public')
        proxy = self.useFixture(localcloud.FaultProxy(
            self.cloud.url('glance')))
        proxy.status(503, 'backend timeout', 'DELETE', r'^/v2/stores/')
        result = self.store_delete('cheap', image_id, fail_ok=True,
                                   image_endpoint=proxy.url)
        self.assertEqual('unknown', result.json()[0]['Result'], result)
        self.assertIn(image_id, self.locks())
        member = self.cloud.connection(base.MEMBER).image
        namespace = '/metadefs/namespaces/' + lock.NAMESPACE
        for method, path in (('GET', namespace), ('GET', namespace + '/tags'),
                             ('GET', '%s/tags/%s' % (namespace, image_id)),
                             ('DELETE', '%s/tags/%s' % (namespace, image_id)),
                             ('POST', '%s/tags/%s' % (namespace,
                                                      uuid.uuid4())),
                             ('GET', '/metadefs/namespaces')):
            response = member.request(path, method, raise_exc=False)
            if path == '/metadefs/namespaces':
                self.assertNotIn(lock.NAMESPACE, response.text)
                continue
            self.assertIn(response.status_code, (403, 404),
                          '%s %s: %s' % (method, path, response.text))
        self.assertIn(image_id, self.locks())
        shown = member.get('/images/' + image_id).json()
        self.assertEqual([], [k for k in shown if 'osc_image_store' in k],
                         shown)
        self.assertNotIn(socket.gethostname(), json.dumps(shown))
        # The member's commands say the locks are not visible to them,
        # never that the image is not locked.
        listed = self.openstack('image', 'store', 'lock', 'list',
                                cloud=base.MEMBER, fail_ok=True)
        self.assertEqual(0, listed.rc, listed)
        self.assertIn('No image lock is visible to you', listed.stderr)
        self.assertNotIn('No image is locked', listed.stderr)
        self.assertNotIn(image_id, listed.stdout)
        cleared = self.openstack('image', 'store', 'lock', 'delete',
                                 image_id, cloud=base.MEMBER, fail_ok=True)
        self.assertEqual(1, cleared.rc, cleared)
        self.assertIn('has no lock visible to you', cleared.stderr)
        self.assertIn(image_id, self.locks())
        # The documented way out.
        self.openstack('image', 'store', 'lock', 'delete', image_id)
        self.assertNotIn(image_id, self.locks())


class TestModes(base.TestCase):

    def test_dry_run_sends_no_delete(self):
        image_id = self.create_image()
        result = self.store_delete('cheap', image_id, extra=['--dry-run'],
                                   fail_ok=True)
        self.assertEqual([('would-remove', ['archive', 'fast'])],
                         [(r['Result'], r['Remaining Stores'])
                          for r in result.json()])
        self.assertEqual((0, 'Plan for store cheap: 1 image(s) to remove, '
                          '0 blocked; 4,096 bytes to be freed from cheap '
                          '(unless Glance keeps deleted data: delayed_delete, '
                          'RBD trash).\n'), (result.rc, result.stderr))
        self.assertEqual([], self.cli_deletes())

    def test_ignore_missing_makes_rerun_safe(self):
        image_id = self.create_image()
        self.store_delete('cheap', image_id)
        self.expect_removed(image_id, 'cheap')
        again = self.store_delete('cheap', image_id,
                                  extra=['--ignore-missing'])
        self.assertEqual('absent', again.json()[0]['Result'])
        self.assertEqual(['archive', 'fast'],
                         again.json()[0]['Remaining Stores'])

    def test_same_image_twice_removed_once(self):
        image_id = self.create_image(name='isd-twice')
        result = self.store_delete('cheap', image_id, 'isd-twice', image_id)
        self.expect_removed(image_id, 'cheap')
        self.assertEqual([(image_id, 'removed')],
                         [(r['ID'], r['Result']) for r in result.json()])

    def test_verify_data(self):
        image_id = self.create_image()
        result = self.store_delete('cheap', image_id,
                                   extra=['--verify-data'])
        self.expect_removed(image_id, 'cheap')
        self.assertEqual('removed', result.json()[0]['Result'])

    def test_verify_data_reports_damage(self):
        image_id = self.create_image()
        # Damage the image on purpose: its data in fast and archive is gone
        # from disk (as after Glance's concurrent-delete race).  It leaves
        # the tracked set: Glance will go on listing stores without data.
        del self.expected[image_id]
        for store in ('fast', 'archive'):
            (self.cloud.store_dirs[store] / image_id).unlink()
        # The data proof is on by default.
        result = self.store_delete('cheap', image_id, fail_ok=True)
        self.assertCommandFailed(
            result, 1, 'The copy in store cheap was removed, but the '
            "image's data cannot be read now (GET /v2/images/%s/file "
            'answered 204 (no data))' % image_id)
        row = result.json()[0]
        self.assertEqual(('failed', ['archive', 'fast']),
                         (row['Result'], row['Remaining Stores']))
        self.assertEqual(set(), self.cloud.files_in_stores(image_id))
        # Its lock stays: no run of this command touches it any more.
        self.assertIn('Its lock stays', row['Reason'])
        self.assertIn(image_id, self.locks())
        other = self.store_delete('fast', image_id, fail_ok=True,
                                  extra=['--lock-wait', '0'])
        self.assertCommandFailed(
            other, 1, 'Image %s is locked by another run' % image_id,
            'openstack image store lock delete %s' % image_id)
        self.openstack('image', 'store', 'lock', 'delete', image_id)
