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
"""No request through the proxy can delete anything but one store's copy,
and no hostile identifier reaches a request."""

from urllib import parse

import requests_mock

from osc_image_store.sdk import exceptions
from osc_image_store.tests import hostile
from osc_image_store.tests.unit import base

V2 = base.V2


class TestDeleteGuard(base.TestCase):

    def setUp(self):
        super().setUp()
        self.image_id = base.image_body()['id']
        # Any DELETE that got through would be answered (and recorded).
        self.http.register_uri('DELETE', requests_mock.ANY, status_code=204)

    def test_store_delete_goes_through(self):
        self.assertEqual(204, self.proxy.delete(
            '/stores/cheap/' + self.image_id).status_code)
        self.assertEqual([V2 + '/stores/cheap/' + self.image_id],
                         self.deletes())

    def test_other_deletes_refused(self):
        image_id = self.image_id
        for url in ('/images/' + image_id,
                    V2 + '/images/' + image_id,
                    V2 + '/stores/cheap/' + image_id,
                    '/stores/../images/' + image_id,
                    '/stores/./images/' + image_id,
                    '/stores/.../' + image_id,
                    '/stores//' + image_id,
                    '/stores/cheap/' + image_id + '?x=1',
                    '/stores/cheap/' + image_id + '#x',
                    '/stores/cheap/' + image_id + '/',
                    '/stores/cheap/' + image_id + '/extra',
                    '/stores/cheap/not-a-uuid',
                    '/stores/%2e%2e%2Fimages/' + image_id,
                    '/stores/cheap/../../images/' + image_id,
                    '/images/%s/tags/x' % image_id,
                    '/images/%s/members/p' % image_id,
                    '/tasks/' + image_id,
                    'stores/cheap/' + image_id,
                    '//evil.example.com/stores/cheap/' + image_id):
            for method in ('DELETE', 'delete', 'Delete'):
                self.assertRaises(exceptions.InvalidIdentifier,
                                  self.proxy.request, url, method)
        self.assertEqual([], self.sent())

    def test_endpoint_arguments_refused(self):
        url = '/stores/cheap/' + self.image_id
        for name, value in (
                ('endpoint_override', V2 + '/images/' + self.image_id + '#'),
                ('endpoint_filter', {'service_type': 'compute'}),
                ('base_url', V2 + '/images/' + self.image_id + '#'),
                ('interface', 'admin'), ('service_type', 'compute'),
                ('version', '1'), ('min_version', '1'),
                ('max_version', '1'), ('allow', {})):
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete, url, **{name: value})
        self.assertEqual([], self.sent())

    def test_delete_image_always_refused(self):
        for args, kwargs in (((self.image_id,), {}),
                             ((self.image_id,), {'store': 'cheap'}),
                             ((self.image_id,), {'ignore_missing': False}),
                             ((base.image_resource(base.image_body()),), {}),
                             ((), {'endpoint_override': V2})):
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete_image, *args, **kwargs)
        self.assertEqual([], self.sent())

    def test_inherited_deletes_refused(self):
        image = base.image_resource(base.image_body())
        # The cache call reads the version document first.
        self.http.get(V2 + '/', json=base.load('versions.json'))
        for call in (lambda: self.proxy.remove_tag(image, 'x'),
                     lambda: self.proxy.remove_member('p', image),
                     lambda: self.proxy.delete_metadef_namespace('ns'),
                     lambda: self.proxy.cache_delete_image(self.image_id)):
            self.assertRaises(exceptions.InvalidIdentifier, call)
        self.assertEqual([], self.deletes())


class TestHostileIdentifiers(base.TestCase):

    def test_hostile_store_sends_nothing(self):
        for store in hostile.STORES:
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete_image_from_store,
                              self.image_id(), store)
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.find_store, store, [])
            self.assertRaises(exceptions.InvalidIdentifier, list,
                              self.proxy.images_in_store(store))
        self.assertEqual([], self.sent())

    def test_hostile_image_sends_nothing(self):
        for image in hostile.IMAGES_REJECTED + hostile.IMAGES_NOT_FOUND:
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete_image_from_store,
                              image, 'cheap')
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.add_image_property, image,
                              'osc_image_store_lock', 'x')
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.read_first_byte, image)
        self.assertEqual([], self.sent())

    def test_hostile_names_only_in_the_query(self):
        self.http.get(V2 + '/images', json=base.listing())
        for name in hostile.IMAGES_NOT_FOUND:
            self.assertRaises(exceptions.ImageNotFound,
                              self.proxy.resolve_image, name)
        paths = {r.url.split('?')[0] for r in self.requests()}
        self.assertEqual({V2 + '/images'}, paths)
        queries = [parse.parse_qs(parse.urlsplit(r.url).query)
                   for r in self.requests()]
        self.assertEqual(
            [{'name': ['eq:' + n], 'os_hidden': [hidden]}
             for n in hostile.IMAGES_NOT_FOUND
             for hidden in ('False', 'True')],
            queries)

    def test_hostile_store_refused_by_the_engine_without_a_delete(self):
        self.mock_stores()
        for store in hostile.STORES:
            engine = self.remover(store)
            self.assertRaises(exceptions.InvalidIdentifier, list,
                              engine.run([self.image_id()]))
        # Refused before any request, even GET /v2/info/stores.
        self.assertEqual([], self.requests())

    @staticmethod
    def image_id():
        return base.image_body()['id']
