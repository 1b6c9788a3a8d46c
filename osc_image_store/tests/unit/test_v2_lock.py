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
"""``openstack image store lock list`` and ``... lock delete``."""

import json

from keystoneauth1 import exceptions as ks_exc

from osc_image_store.tests.unit import base
from osc_image_store.tests.unit import command
from osc_image_store.v2 import lock


class TestListLock(command.CommandTestCase):

    command_class = lock.ListLock

    def setUp(self):
        super().setUp()
        self.tags = self.mock_locks()
        self.body = base.image_body()
        self.iid = self.body['id']
        self.gone = base.image_body('gone')['id']

    def test_oldest_first_with_the_image(self):
        self.tags.add(self.gone, since='2026-12-06T09:00:00Z')
        self.tags.add(self.iid, since='2026-12-06T08:00:00Z')
        self.tags.add('set-by-hand', since='2026-12-06T07:00:00Z')
        self.mock_listing([self.body])
        self.mock_listing([], hidden=True)
        self.assertEqual(0, self.run_cmd('-f', 'json'))
        self.assertEqual(
            [{'Image ID': 'set-by-hand', 'Name': None, 'Stores': None,
              'Locked Since': '2026-12-06 07:00:00 UTC'},
             {'Image ID': self.iid, 'Name': 'cirros',
              'Stores': ['archive', 'cheap', 'fast'],
              'Locked Since': '2026-12-06 08:00:00 UTC'},
             {'Image ID': self.gone, 'Name': None, 'Stores': None,
              'Locked Since': '2026-12-06 09:00:00 UTC'}],
            json.loads(self.stdout.getvalue()))
        # The listing, one read per tag (for its time), one listing of
        # the images named by an ID (and the hidden pass for the one not
        # found); nothing is changed.
        sent = self.sent()
        self.assertEqual(base.LIST_LOCKS, sent[0])
        self.assertEqual(sorted(base.read_lock(n) for n in (
            self.gone, self.iid, 'set-by-hand')), sorted(sent[1:4]))
        self.assertEqual(
            [base.listing_of(self.iid, self.gone),
             base.listing_of(self.gone, hidden=True)], sent[4:])
        self.assertEqual({'GET'}, {r.method for r in self.requests()})

    def test_table(self):
        self.tags.add(self.iid)
        self.mock_listing([self.body])
        self.assertEqual(0, self.run_cmd())
        out = self.stdout.getvalue()
        self.assertIn('| Image ID ', out)
        self.assertIn('| %s | cirros | archive, cheap, fast | 2026-12-06 '
                      '17:58:03 UTC |' % self.iid, out)

    def test_none(self):
        self.assertEqual(0, self.run_cmd('-f', 'json'))
        self.assertEqual([], json.loads(self.stdout.getvalue()))
        self.assertEqual([base.LIST_LOCKS], self.sent())
        self.assertIn('No image is locked.', self.logs.output)

    def test_no_namespace_yet(self):
        # Glance answers 404 alike when the namespace is not visible.
        self.tags.exists = False
        self.assertEqual(0, self.run_cmd('-f', 'value'))
        self.assertEqual('', self.stdout.getvalue())
        self.assertIn(
            'No image lock is visible to you: the locks\' namespace '
            'osc-image-store-locks does not exist yet, or it is not visible '
            'to you (it is private: admin only by default, so a user '
            'without the admin role sees no lock even when images are '
            'locked).', self.logs.output)
        self.assertNotIn('No image is locked.', self.logs.output)

    def test_not_allowed(self):
        self.http.get(base.TAGS, **base.glance_error(
            403, 'You are not authorized to complete get_metadef_tags '
            'action.'))
        self.assertEqual(1, self.run_cmd())
        self.assertTrue(self.error.startswith(
            'Could not read the image locks: '), self.error)
        self.assertIn('get_metadef_tags', self.error)

    def test_image_listing_fails(self):
        self.tags.add(self.iid)
        self.mock_listing(base.glance_error(500, 'db down'))
        self.assertEqual(1, self.run_cmd())
        self.assertIn('Could not read the image locks: ', self.error)


class TestDeleteLock(command.CommandTestCase):

    command_class = lock.DeleteLock

    def setUp(self):
        super().setUp()
        self.tags = self.mock_locks()
        self.iid = base.image_body()['id']
        self.oid = base.image_body('other')['id']
        self.tags.add(self.iid, self.oid, 'keep-me')

    def test_clears_each_once(self):
        self.assertEqual(0, self.run_cmd(self.iid, self.oid.upper(),
                                         self.iid))
        self.assertEqual([base.unlock(self.iid), base.unlock(self.oid)],
                         self.sent())
        self.assertEqual(['keep-me'], self.tags.names())

    def test_no_lock(self):
        self.tags.tags.pop(self.oid)
        self.assertEqual(1, self.run_cmd(self.iid, self.oid))
        self.assertEqual('1 of 2 locks were not cleared.', self.error)
        self.assertIn('ERROR Image %s has no lock visible to you: there is '
                      'none, or the locks\' namespace osc-image-store-locks '
                      'is not visible to you (it is private: admin only by '
                      'default).' % self.oid, self.logs.output)
        self.assertEqual(['keep-me'], self.tags.names())

    def test_error_said_and_counted(self):
        self.tags.fail('DELETE', self.iid, ks_exc.ConnectFailure)
        self.assertEqual(1, self.run_cmd(self.iid, self.oid))
        self.assertEqual('1 of 2 locks were not cleared.', self.error)
        self.assertIn('ERROR Could not clear the lock of image %s: '
                      % self.iid, self.logs.output)
        # Sent once each: the failed one is not tried again.
        self.assertEqual([base.unlock(self.iid), base.unlock(self.oid)],
                         self.sent())

    def test_only_image_ids_nothing_sent(self):
        for value in ('keep-me', '', '..', '../tags', self.iid + '/x',
                      '%2e%2e', self.iid[:-1]):
            self.assertEqual(2, self.run_cmd(value), value)
        self.assertEqual(2, self.run_cmd())
        self.assertEqual([], self.sent())
        self.assertEqual(sorted([self.iid, self.oid, 'keep-me']),
                         self.tags.names())
