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
"""Resources built from recorded Glance 33 bodies."""

import copy

from openstack import fields
from openstack.image.v2 import image as _image
from openstack import resource
import testtools

from osc_image_store.sdk import resources
from osc_image_store.tests.unit import base


class TestStore(testtools.TestCase):

    def test_from_the_recorded_list(self):
        bodies = base.load('stores.json')['stores']
        stores = [resources.Store.existing(**b) for b in bodies]
        self.assertEqual(
            [('fast', 'fast file store', True, False, None),
             ('cheap', 'cheap file store', False, False, None),
             ('archive', 'archive file store', False, True, None)],
            [(s.id, s.description, s.is_default, s.is_read_only, s.type)
             for s in stores])

    def test_from_the_recorded_detail(self):
        body = base.load('stores_detail.json')['stores'][2]
        store = resources.Store.existing(**body)
        self.assertEqual(('archive', 'file', 0, True, '/srv/stores/archive'),
                         (store.id, store.type, store.weight,
                          store.is_read_only, store.properties['data_dir']))


class TestImage(testtools.TestCase):

    def image(self, **fields):
        return base.image_resource(base.image_body(**fields))

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
                         resources.StoreList.deserialize(' a, ,b,'))
        self.assertEqual(['a', '1'], resources.StoreList.deserialize(
            ['a', 1]))
        self.assertEqual([], resources.StoreList.deserialize(''))

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


class TestMetadefTag(testtools.TestCase):

    def test_name_is_the_id(self):
        tag = resources.MetadefTag.existing(
            namespace_name='ns', name='t', created_at='2026-12-06T10:00:00Z',
            updated_at='2026-12-06T10:00:00Z')
        self.assertEqual(('t', 't', 'ns', '2026-12-06T10:00:00Z'),
                         (tag.id, tag.name, tag.namespace_name,
                          tag.created_at))
        self.assertEqual('/metadefs/namespaces/ns/tags',
                         tag.base_path % {'namespace_name': 'ns'})
        self.assertEqual('tags', resources.MetadefTag.resources_key)

    def test_listed_names_only(self):
        tag = resources.MetadefTag.existing(name='t')
        self.assertEqual((None, None), (tag.created_at, tag.updated_at))


class TestCachedAttributes(testtools.TestCase):
    """The cached maps give what openstacksdk's own code gives."""

    class Plain(_image.Image):
        stores = resources.Image.stores

    def bodies(self):
        body = base.image_body(stores=('fast', 'cheap', 'fast'),
                               os_glance_import_task='t1',
                               x_custom='x h 1 2',
                               Name='case', self=None)
        yield body
        yield base.image_body(stores=None, locations=base.locations(
            ('fast', 'file:///a')), os_hidden=True, self=None)
        yield {'id': 'i', 'status': 'queued'}

    def test_same_resource_as_openstacksdk(self):
        for body in self.bodies():
            fast = resources.Image.existing(**copy.deepcopy(body))
            plain = self.Plain.existing(**copy.deepcopy(body))
            self.assertEqual(plain.to_dict(), fast.to_dict(), body)
            self.assertEqual(plain.properties, fast.properties)

    def test_same_maps_as_openstacksdk(self):
        for component in (fields.Body, fields.Header, fields.URI,
                          fields.Computed):
            self.assertEqual(
                dict(resource.Resource._get_mapping.__func__(
                    resources.Image, component)),
                dict(resources.Image._get_mapping(component)))
            self.assertEqual(
                list(resource.Resource._attributes_iterator.__func__(
                    resources.Image, (component,))),
                list(resources.Image._attributes_iterator((component,))))

    def test_consume_matches_openstacksdk(self):
        class Probe(resources.CachedAttributes):
            thing = resource.Header('X-Thing')
            mixed = resource.Body('MixedCase')
            plain = resource.Body('plain')

        probe = Probe.existing(id='i')
        extra = {'x-thing': 1, 'X-THING': 2, 'MixedCase': 3, 'mixed': 4,
                 'mixedcase': 5, 'Plain': 6, 'plain': 7}
        for cls, instance in ((resources.Image,
                               resources.Image.existing(id='i')),
                              (Probe, probe)):
            for component in (fields.Body, fields.Header):
                mapping = cls._get_mapping(component)
                for body in [*self.bodies(), extra]:
                    mine, theirs = copy.deepcopy(body), copy.deepcopy(body)
                    self.assertEqual(
                        resource.Resource._consume_attrs(
                            instance, mapping, theirs),
                        instance._consume_attrs(mapping, mine))
                    self.assertEqual(theirs, mine)  # the same keys consumed
        # Header names match whatever their case.
        self.assertEqual({'X-Thing': 2}, probe._consume_attrs(
            Probe._get_mapping(fields.Header), dict(extra)))
