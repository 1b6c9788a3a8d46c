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
"""``openstack image store delete`` on the real local cloud."""

from osc_image_store.tests.functional import base


class TestStoreDelete(base.TestCase):

    def test_remove_one_store(self):
        image_id = self.create_image()
        name = self.cloud.admin_connection().image.get_image(image_id).name
        result = self.store_delete('cheap', name)
        self.expect_removed(image_id, 'cheap')
        self.assertEqual(
            [{'ID': image_id, 'Name': name, 'Store': 'cheap',
              'Result': 'removed', 'Remaining Stores': ['archive', 'fast'],
              'Reason': None}], result.json())
        self.assertEqual({'fast', 'archive'},
                         self.cloud.files_in_stores(image_id))

    def test_table_output(self):
        image_id = self.create_image()
        result = self.openstack('image', 'store', 'delete', '--store',
                                'archive', image_id)
        self.expect_removed(image_id, 'archive')
        header = result.stdout.splitlines()[1]
        for column in ('ID', 'Name', 'Store', 'Result', 'Remaining Stores'):
            self.assertIn(column, header)
        self.assertIn('cheap, fast', result.stdout)

    def test_two_images(self):
        ids = [self.create_image(), self.create_image()]
        result = self.store_delete('cheap', *ids)
        for image_id in ids:
            self.expect_removed(image_id, 'cheap')
        self.assertEqual([(i, 'removed') for i in ids],
                         [(r['ID'], r['Result']) for r in result.json()])

    def test_one_failure_among_three(self):
        ids = [self.create_image(), self.create_image(('fast', 'archive')),
               self.create_image()]
        result = self.store_delete('cheap', *ids, fail_ok=True)
        self.expect_removed(ids[0], 'cheap')
        self.expect_removed(ids[2], 'cheap')
        self.assertCommandFailed(
            result, 1,
            'Image %s is not in store cheap; it is in: archive, fast.'
            % ids[1],
            'Store cheap, 3 image(s): 2 removed, 1 failed (see Result and '
            'Reason)')
        self.assertEqual(['removed', 'failed', 'removed'],
                         [r['Result'] for r in result.json()])
