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
"""Images with their stores, built from recorded Glance 33 bodies."""

from openstack.image.v2 import image as _image
import testtools

from osc_image_store.sdk import image
from osc_image_store.sdk import service_info
from osc_image_store.tests.unit import base
from osc_image_store.tests.unit.sdk import base as sdk_base

IDENTIFIER = 'IDENTIFIER'
EXAMPLE = {
    'id': IDENTIFIER,
    'name': 'cirros',
    'status': 'active',
    'container_format': 'bare',
    'disk_format': 'raw',
    'stores': 'fast,cheap,fast',
    'locations': [{'url': 'file:///fast/1', 'metadata': {'store': 'fast'}}],
    'os_glance_import_task': 't-1',
    'os_glance_importing_to_stores': 'archive',
    'os_glance_failed_import': 'cold',
    'color': 'red',
}


class TestImage(testtools.TestCase):

    def image(self, **fields):
        return base.image_resource(base.image_body(**fields))

    def test_basic(self):
        sot = image.Image()
        self.assertIsInstance(sot, _image.Image)
        self.assertEqual('images', sot.resources_key)
        self.assertEqual('/images', sot.base_path)
        self.assertEqual(_image.Image._query_mapping._mapping,
                         image.Image._query_mapping._mapping)

    def test_make_it(self):
        sot = image.Image(**EXAMPLE)
        self.assertEqual(IDENTIFIER, sot.id)
        self.assertEqual(['fast', 'cheap', 'fast'], sot.stores)
        self.assertEqual(['fast', 'cheap'], sot.store_ids)
        self.assertEqual('t-1', sot.import_task)
        self.assertEqual(['archive'], sot.importing_to_stores)
        self.assertEqual(['cold'], sot.failed_import_stores)
        self.assertEqual('red', sot.get_property('color'))
        self.assertNotIn('stores', sot.properties)
        self.assertEqual({'fast': ['file:///fast/1']}, sot.store_locations)
        self.assertEqual((2, 1, 0), (sot.locations_in('fast'),
                                     sot.locations_in('cheap'),
                                     sot.locations_in('archive')))

    def test_stores_of_the_recorded_image(self):
        image = base.image_resource(base.load('image.json'))
        self.assertEqual(['fast', 'cheap', 'archive'], image.store_ids)
        self.assertNotIn('stores', image.properties)

    def test_no_stores_field(self):
        image = self.image(stores=None)
        self.assertIsNone(image.stores)
        self.assertEqual([], image.store_ids)

    def test_a_store_listed_twice_is_one_store_with_two_locations(self):
        image = self.image(stores=('fast', 'cheap', 'cheap'))
        self.assertEqual(['fast', 'cheap'], image.store_ids)
        self.assertEqual((2, 1, 0), (image.locations_in('cheap'),
                                     image.locations_in('fast'),
                                     image.locations_in('archive')))

    def test_locations_counted_where_glance_shows_them(self):
        image = self.image(stores=('fast', 'cheap'), locations=[
            {'url': 'file:///cheap/1', 'metadata': {'store': 'cheap'}},
            {'url': 'file:///cheap/2', 'metadata': {'store': 'cheap'}},
            {'url': 'file:///fast/1', 'metadata': {'store': 'fast'}}])
        self.assertEqual((2, 1), (image.locations_in('cheap'),
                                  image.locations_in('fast')))

    def test_store_list(self):
        self.assertEqual(['a', 'b'],
                         image.StoreList.deserialize(' a, ,b,'))
        self.assertEqual(['a', '1'], image.StoreList.deserialize(
            ['a', 1]))
        self.assertEqual([], image.StoreList.deserialize(''))

    def test_store_locations(self):
        image = self.image(locations=[
            {'url': 'file:///fast/x', 'metadata': {'store': 'fast'}},
            {'url': 'file:///old/x', 'metadata': {}},
            {'url': 'file:///cheap/1', 'metadata': {'store': 'cheap'}},
            {'url': 'file:///cheap/2', 'metadata': {'store': 'cheap'}},
            {'url': 'file:///none/x'}])
        self.assertEqual({'fast': ['file:///fast/x'],
                          'cheap': ['file:///cheap/1', 'file:///cheap/2']},
                         image.store_locations)
        self.assertEqual({}, self.image().store_locations)

    def test_import_properties_of_the_recorded_image(self):
        image = base.image_resource(base.load('image.json'))
        self.assertEqual((None, [], []),
                         (image.import_task, image.importing_to_stores,
                          image.failed_import_stores))

    def test_import_properties(self):
        image = self.image(os_glance_import_task='t-1',
                           os_glance_importing_to_stores='fast,cheap',
                           os_glance_failed_import='archive')
        self.assertEqual(('t-1', ['fast', 'cheap'], ['archive']),
                         (image.import_task, image.importing_to_stores,
                          image.failed_import_stores))

    def test_listed_without_properties(self):
        image = self.image()
        image.properties = None
        self.assertEqual((None, [], [], None),
                         (image.import_task, image.importing_to_stores,
                          image.failed_import_stores,
                          image.get_property('color')))

    def test_get_property(self):
        image = self.image(color='red', count=3)
        self.assertEqual(('red', '3', None),
                         (image.get_property('color'),
                          image.get_property('count'),
                          image.get_property('missing')))


class TestImportImage(sdk_base.TestImageProxy):

    def test_asks_for_json(self):
        body = base.image_body()
        self.http.post('%s/images/%s/import' % (base.V2, body['id']),
                       status_code=202)
        sot = base.image_resource(body)
        response = sot.import_image(self.proxy, 'copy-image',
                                    stores=[service_info.Store(id='fast')])
        self.assertEqual(202, response.status_code)
        request = self.requests()[0]
        self.assertEqual(
            ('POST /v2/images/%s/import' % body['id'], 'application/json',
             {'method': {'name': 'copy-image'}, 'stores': ['fast']}),
            (base.describe(request), request.headers['Accept'],
             request.json()))

    def test_an_accept_given_is_kept(self):
        # The backward-compatible single store: openstacksdk sends its
        # header, and Accept is added beside it.
        body = base.image_body()
        self.http.post('%s/images/%s/import' % (base.V2, body['id']),
                       status_code=202)
        base.image_resource(body).import_image(
            self.proxy, 'copy-image', store=service_info.Store(id='fast'))
        headers = self.requests()[0].headers
        self.assertEqual(('fast', 'application/json'),
                         (headers['X-Image-Meta-Store'], headers['Accept']))
