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
"""``openstack image store list``."""

import json

from osc_image_store.tests.unit import base
from osc_image_store.tests.unit import command
from osc_image_store.v2 import store


class TestListStore(command.CommandTestCase):

    command_class = store.ListStore

    def json(self, *args):
        self.assertEqual(0, self.run_cmd('-f', 'json', *args))
        return json.loads(self.stdout.getvalue())

    def test_list(self):
        self.mock_stores()
        self.assertEqual(
            [{'ID': 'fast', 'Description': 'fast file store',
              'Default': True, 'Read Only': False},
             {'ID': 'cheap', 'Description': 'cheap file store',
              'Default': False, 'Read Only': False},
             {'ID': 'archive', 'Description': 'archive file store',
              'Default': False, 'Read Only': True}], self.json())
        self.assertEqual([base.STORES], self.sent())

    def test_no_description_is_null_in_json_and_empty_in_value(self):
        self.mock_stores({'stores': [{'id': 'bare'}]})
        self.assertEqual([{'ID': 'bare', 'Description': None,
                           'Default': False, 'Read Only': False}],
                         self.json())
        self.stdout.seek(0)
        self.stdout.truncate()
        self.assertEqual(0, self.run_cmd('-f', 'value'))
        self.assertEqual('bare  False False\n', self.stdout.getvalue())

    def test_long(self):
        self.http.get(base.V2 + '/info/stores/detail',
                      json=base.load('stores_detail.json'))
        rows = self.json('--long')
        self.assertEqual({'ID': 'archive', 'Description': 'archive file '
                          'store', 'Default': False, 'Read Only': True,
                          'Type': 'file', 'Weight': 0}, rows[2])
        self.assertEqual(['GET /v2/info/stores/detail'], self.sent())

    def test_long_refused_falls_back(self):
        self.http.get(base.V2 + '/info/stores/detail',
                      **base.glance_error(403, 'Forbidden'))
        self.mock_stores()
        rows = self.json('--long')
        self.assertEqual(['ID', 'Description', 'Default', 'Read Only'],
                         list(rows[0]))
        self.assertIn('WARNING The cloud does not let you read store '
                      'details (type, weight): listing the basic columns '
                      'only.', self.logs.output)
        self.assertEqual(['GET /v2/info/stores/detail', base.STORES],
                         self.sent())

    def test_image_data_column(self):
        self.mock_stores()
        body = base.image_body(stores=('fast', 'archive'))
        self.mock_image(body)
        rows = self.json('--image', body['id'])
        self.assertEqual([('fast', True), ('cheap', False),
                          ('archive', True)],
                         [(r['ID'], r['Image Data']) for r in rows])

    def test_image_by_name(self):
        self.mock_stores()
        self.mock_name('cirros', base.image_body(stores=('cheap',)))
        rows = self.json('--image', 'cirros')
        self.assertEqual([False, True, False],
                         [r['Image Data'] for r in rows])

    def test_multistore_off(self):
        self.mock_stores(status=404, body={})
        self.assertEqual(1, self.run_cmd())
        self.assertIn('Multi-store is not enabled on this cloud', self.error)

    def test_unknown_image(self):
        self.mock_stores()
        self.mock_listing([])
        self.mock_listing([], hidden=True)
        self.assertEqual(1, self.run_cmd('--image', 'ghost'))
        self.assertEqual('No image with name or ID ghost.', self.error)

    def test_ambiguous_image(self):
        self.mock_stores()
        self.mock_name('twin', base.image_body('twin'),
                       base.image_body('twin', image_id=base.image_body(
                           'other')['id']))
        self.assertEqual(1, self.run_cmd('--image', 'twin'))
        self.assertIn('More than one image has the name twin', self.error)

    def test_invalid_image_is_a_usage_error(self):
        for value in ('', ' ', 'a\x01b', 'x' * 256):
            self.assertEqual(2, self.run_cmd('--image', value))
        self.assertEqual([], self.sent())
