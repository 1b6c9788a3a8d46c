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
"""``openstack image store list`` on the real local cloud."""

from osc_image_store.tests.functional import base


class TestStoreList(base.TestCase):

    def list(self, *args, cloud=base.ADMIN, fail_ok=False):
        return self.openstack('image', 'store', 'list', '-f', 'json', *args,
                              cloud=cloud, fail_ok=fail_ok)

    def test_plain(self):
        rows = {r['ID']: r for r in self.list().json()}
        self.assertEqual({'fast', 'cheap', 'archive'}, set(rows))
        self.assertEqual({'ID', 'Description', 'Default', 'Read Only'},
                         set(rows['fast']))
        self.assertTrue(rows['fast']['Default'])
        self.assertFalse(rows['cheap']['Default'])
        self.assertFalse(rows['archive']['Read Only'])

    def test_long_as_admin(self):
        rows = {r['ID']: r for r in self.list('--long').json()}
        self.assertEqual(('file', 'file', 'file'),
                         (rows['fast']['Type'], rows['cheap']['Type'],
                          rows['archive']['Type']))
        self.assertIn('Weight', rows['fast'])

    def test_long_as_member_warns_and_lists_basic_columns(self):
        result = self.list('--long', cloud=base.MEMBER, fail_ok=True)
        self.assertEqual(0, result.rc, result)
        self.assertIn('does not let you read store details', result.stderr)
        self.assertEqual({'ID', 'Description', 'Default', 'Read Only'},
                         set(result.json()[0]))

    def test_image_shows_where_it_lives(self):
        image_id = self.create_image(('fast', 'archive'))
        rows = self.list('--image', image_id).json()
        self.assertEqual({'fast': True, 'cheap': False, 'archive': True},
                         {r['ID']: r['Image Data'] for r in rows})
        value = self.openstack('image', 'store', 'list', '--image',
                               image_id, '-f', 'value', '-c', 'ID', '-c',
                               'Image Data')
        self.assertEqual({'fast True', 'cheap False', 'archive True'},
                         set(value.stdout.splitlines()))

    def test_unknown_image(self):
        result = self.list('--image', 'no-such-image', fail_ok=True)
        self.assertCommandFailed(result, 1,
                                 'No image with name or ID no-such-image.')

    def test_multi_store_off(self):
        result = self.list(cloud=base.NOMULTI, fail_ok=True)
        self.assertCommandFailed(result, 1, 'Multi-store is not enabled')
