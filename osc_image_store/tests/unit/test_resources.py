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

import testtools

from osc_image_store.sdk import resources
from osc_image_store.tests.unit import base


class TestStore(testtools.TestCase):

    def test_basic(self):
        self.assertEqual('/info/stores', resources.Store.base_path)
        self.assertEqual('stores', resources.Store.resources_key)
        self.assertTrue(resources.Store.allow_list)
        self.assertFalse(resources.Store.allow_delete)
        self.assertFalse(resources.Store.allow_fetch)

    def test_make_it_from_recorded_list(self):
        bodies = base.load('stores.json')['stores']
        stores = [resources.Store.existing(**b) for b in bodies]
        self.assertEqual(
            [('fast', 'fast file store', True, False),
             ('cheap', 'cheap file store', False, False),
             ('archive', 'archive file store', False, True)],
            [(s.id, s.description, s.is_default, s.is_read_only)
             for s in stores])

    def test_make_it_from_recorded_detail(self):
        body = base.load('stores_detail.json')['stores'][2]
        store = resources.Store.existing(**body)
        self.assertEqual(('archive', 'file', 0, True),
                         (store.id, store.type, store.weight,
                          store.is_read_only))
        self.assertEqual('/srv/stores/archive',
                         store.properties['data_dir'])


class TestImage(testtools.TestCase):

    def test_stores_from_recorded_image(self):
        image = base.image_resource(base.load('image.json'))
        self.assertEqual(['fast', 'cheap', 'archive'], image.stores)
        self.assertEqual(['fast', 'cheap', 'archive'], image.store_ids)
        self.assertNotIn('stores', image.properties)
        self.assertEqual('active', image.status)

    def test_no_stores_field(self):
        image = base.image_resource(base.image_body(stores=None))
        self.assertIsNone(image.stores)
        self.assertEqual([], image.store_ids)

    def test_store_list_formatter(self):
        self.assertEqual(['a', 'b'],
                         resources.StoreList.deserialize(' a, ,b,'))
        self.assertEqual(['a'], resources.StoreList.deserialize(['a']))

    def test_store_locations(self):
        body = base.image_body()
        body['locations'] = [
            {'url': 'file:///fast/x', 'metadata': {'store': 'fast'}},
            {'url': 'file:///old/x', 'metadata': {}},
        ]
        image = base.image_resource(body)
        self.assertEqual({'fast': 'file:///fast/x'}, image.store_locations)
        self.assertEqual(
            {}, base.image_resource(base.image_body()).store_locations)
