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
"""The resource cache (osc_image_store.resource_cache): same results as
openstacksdk's own code, pinned to the private methods it overrides, and
applied by the guarded proxy without the sdk knowing."""

import copy
import inspect

from openstack import fields
from openstack.image.v2 import image as _image
from openstack import proxy
from openstack import resource
import testtools

from osc_image_store import resource_cache
from osc_image_store.sdk import image as sdk_image
from osc_image_store.sdk import metadef_tag
from osc_image_store.sdk import service_info
from osc_image_store.tests.unit import base
from osc_image_store.tests.unit.sdk import base as sdk_base


class TestPinned(testtools.TestCase):
    """The private openstacksdk methods overridden are still as expected.

    An openstacksdk release that renames them, changes their signatures or
    stops calling them when building a resource fails here, not in a run.
    """

    def signature(self, cls, name):
        return str(inspect.signature(getattr(cls, name)))

    def test_resource_methods(self):
        self.assertIsInstance(inspect.getattr_static(
            resource.Resource, '_attributes_iterator'), classmethod)
        self.assertIsInstance(inspect.getattr_static(
            resource.Resource, '_get_mapping'), classmethod)
        self.assertEqual(
            ['components'], list(inspect.signature(
                resource.Resource._attributes_iterator).parameters))
        self.assertEqual((fields.Body, fields.Header), inspect.signature(
            resource.Resource._attributes_iterator).parameters[
                'components'].default)
        self.assertEqual(['component'], list(inspect.signature(
            resource.Resource._get_mapping).parameters))
        self.assertEqual(['self', 'mapping', 'attrs'], list(
            inspect.signature(resource.Resource._consume_attrs).parameters))
        self.assertEqual(
            set(resource_cache.OVERRIDDEN),
            {name for name in vars(resource_cache.CachedAttributes)
             if name in vars(resource.Resource)
             and not name.startswith('__')})

    def test_proxy_methods(self):
        self.assertEqual(
            ['self', 'resource_type', 'paginated', 'base_path',
             'jmespath_filters', 'attrs'],
            list(inspect.signature(proxy.Proxy._list).parameters))
        self.assertEqual(
            ['self', 'resource_type', 'value', 'requires_id', 'base_path',
             'skip_cache', 'attrs'],
            list(inspect.signature(proxy.Proxy._get).parameters))

    def test_building_a_resource_uses_them(self):
        # openstacksdk still calls the three methods when it builds a
        # resource: the cached class's caches fill.
        class Probe(resource.Resource):
            name = resource.Body('name')
            code = resource.Header('X-Code')

        self.addCleanup(resource_cache._cached.pop, Probe)
        cached = resource_cache.cached(Probe)
        self.assertNotIn((cached, fields.Body),
                         resource_cache.CachedAttributes._maps)
        probe = cached.existing(id='i', name='x', **{'X-Code': 'y'})
        self.assertEqual(('x', 'y'), (probe.name, probe.code))
        mapping = resource_cache.CachedAttributes._maps[
            (cached, fields.Body)]
        self.assertIn('name', mapping)
        self.assertIn((cached, fields.Body),
                      resource_cache.CachedAttributes._scans)
        self.assertIs(mapping, resource_cache.CachedAttributes._indexes[
            id(mapping)][0])


class TestCachedAttributes(testtools.TestCase):
    """The cached maps give what openstacksdk's own code gives."""

    #: openstacksdk's own code, and the same class with cached maps.
    Plain = sdk_image.Image
    Cached = resource_cache.cached(sdk_image.Image)

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
            fast = self.Cached.existing(**copy.deepcopy(body))
            plain = self.Plain.existing(**copy.deepcopy(body))
            self.assertEqual(plain.to_dict(), fast.to_dict(), body)
            self.assertEqual(plain.properties, fast.properties)

    def test_same_maps_as_openstacksdk(self):
        for component in (fields.Body, fields.Header, fields.URI,
                          fields.Computed):
            self.assertEqual(
                dict(resource.Resource._get_mapping.__func__(
                    self.Cached, component)),
                dict(self.Cached._get_mapping(component)))
            self.assertEqual(
                list(resource.Resource._attributes_iterator.__func__(
                    self.Cached, (component,))),
                list(self.Cached._attributes_iterator((component,))))

    def test_consume_matches_openstacksdk(self):
        class Probe(resource_cache.CachedAttributes):
            thing = resource.Header('X-Thing')
            mixed = resource.Body('MixedCase')
            plain = resource.Body('plain')

        probe = Probe.existing(id='i')
        extra = {'x-thing': 1, 'X-THING': 2, 'MixedCase': 3, 'mixed': 4,
                 'mixedcase': 5, 'Plain': 6, 'plain': 7}
        for cls, instance in ((self.Cached, self.Cached.existing(id='i')),
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


class TestCached(testtools.TestCase):

    def test_a_subclass_memoized_per_class(self):
        cached = resource_cache.cached(sdk_image.Image)
        self.assertIs(cached, resource_cache.cached(sdk_image.Image))
        self.assertTrue(issubclass(cached, sdk_image.Image))
        self.assertEqual((cached, resource_cache.CachedAttributes,
                          sdk_image.Image), cached.__mro__[:3])
        self.assertEqual(('Image', sdk_image.Image.__module__),
                         (cached.__name__, cached.__module__))
        self.assertIsNot(cached, resource_cache.cached(_image.Image))
        self.assertIsInstance(cached.existing(id='i'), sdk_image.Image)

    def test_classes_with_their_own_methods_left_alone(self):
        class Own(resource.Resource):
            def _consume_attrs(self, mapping, attrs):
                return super()._consume_attrs(mapping, attrs)

        class Below(Own):
            pass

        for cls in (Own, Below, resource_cache.CachedAttributes):
            self.assertIs(cls, resource_cache.cached(cls))
        cached = resource_cache.cached(sdk_image.Image)
        self.assertIs(cached, resource_cache.cached(cached))


class TestCachedResources(base.TestCase):
    """The guarded proxy builds what it lists and gets with the cache."""

    def test_get_and_list(self):
        body = base.image_body()
        self.mock_image(body)
        self.mock_listing([body])
        self.mock_stores()
        image = self.proxy.get_image(body['id'])
        listed = list(self.proxy.images_by_id([body['id']]).values())[0]
        store = self.proxy.stores()[0]
        for found, cls in ((image, sdk_image.Image), (listed, sdk_image.Image),
                           (store, service_info.Store)):
            self.assertIsInstance(found, cls)
            self.assertIs(resource_cache.cached(cls), type(found))
        plain = base.image_resource(body).to_dict(computed=False)
        self.assertEqual(plain, image.to_dict(computed=False))
        self.assertEqual(plain, listed.to_dict(computed=False))

    def test_tags(self):
        tags = self.mock_locks()
        tags.add(base.image_body()['id'])
        for tag in (self.proxy.metadef_tags(base.NAMESPACE)
                    + [self.proxy.get_metadef_tag(
                        base.NAMESPACE, base.image_body()['id'])]):
            self.assertIs(resource_cache.cached(metadef_tag.MetadefTag),
                          type(tag))

    def test_get_of_a_resource_keeps_its_class(self):
        body = base.image_body()
        self.mock_image(body)
        given = base.image_resource(body)
        self.assertIs(given, self.proxy._get(sdk_image.Image, given))
        self.assertIs(sdk_image.Image, type(given))


class TestSdkAlone(sdk_base.TestImageProxy):
    """The sdk's proxy alone builds openstacksdk's way (no cache)."""

    def test_plain_classes(self):
        body = base.image_body()
        self.mock_image(body)
        self.assertIs(sdk_image.Image, type(self.proxy.get_image(body['id'])))
