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
"""The guarded proxy (osc_image_store.guard): no request through it can
delete anything but one store's copy or one image lock, write to an image
(no PATCH, no PUT), or POST anything but a copy import, the lock namespace
and its tags; no hostile identifier reaches a request.  It is built from a
connection once, and sends a read that gets 503 again once."""

import io
import os
import re
import tokenize
from unittest import mock
from urllib import parse

import fixtures
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import openstack.connection
from openstack import exceptions as sdk_exc
import requests_mock

import osc_image_store
from osc_image_store.engine import lock
from osc_image_store import guard
from osc_image_store.sdk import _proxy as sdk_proxy
from osc_image_store.sdk import exceptions
from osc_image_store.sdk import service_info
from osc_image_store.tests import hostile
from osc_image_store.tests.unit import base

V2 = base.V2
#: Paths relative to the image endpoint.
NS = '/metadefs/namespaces/' + lock.NAMESPACE
OTHER_NS = '/metadefs/namespaces/OS::Compute::Libvirt'


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

    def test_lock_tag_delete_goes_through(self):
        for name in (self.image_id, self.image_id.upper()):
            self.assertEqual(204, self.proxy.delete(
                NS + '/tags/' + name).status_code)
        self.proxy.delete_metadef_tag(lock.NAMESPACE, self.image_id)
        self.proxy.remove_tag_from_metadef_namespace(lock.NAMESPACE,
                                                     self.image_id)
        self.assertEqual([V2 + NS + '/tags/' + self.image_id,
                          V2 + NS + '/tags/' + self.image_id.upper()]
                         + [V2 + NS + '/tags/' + self.image_id] * 2,
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
                    '//evil.example.com/stores/cheap/' + image_id,
                    # The lock namespace: only one tag named by an ID.
                    NS,
                    NS + '/',
                    NS + '/tags',
                    NS + '/tags/',
                    NS + '/tags/not-a-uuid',
                    NS + '/tags/' + image_id + 'a',
                    NS + '/tags/' + image_id + '/',
                    NS + '/tags/' + image_id + '?x=1',
                    NS + '/tags/..',
                    NS + '/tags/%2e%2e',
                    NS + '/tags/../tags/' + image_id,
                    NS + '/tags/../../other/tags/' + image_id,
                    NS + '/properties',
                    NS + '/properties/' + image_id,
                    NS + '/objects',
                    NS + '/objects/' + image_id,
                    NS + '/resource_types/OS::Glance::Image',
                    '/metadefs/namespaces/other/tags/' + image_id,
                    OTHER_NS + '/tags/' + image_id,
                    OTHER_NS,
                    '/metadefs/namespaces',
                    V2 + NS + '/tags/' + image_id,
                    NS.upper() + '/tags/' + image_id):
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

    def test_delete_image_without_a_store_refused(self):
        for args, kwargs in (((self.image_id,), {}),
                             ((self.image_id,), {'store': None}),
                             ((self.image_id,), {'ignore_missing': False}),
                             ((base.image_resource(base.image_body()),), {}),
                             ((), {'endpoint_override': V2})):
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete_image, *args, **kwargs)
        self.assertEqual([], self.sent())

    def test_delete_image_with_a_store_is_the_store_delete(self):
        self.proxy.delete_image(self.image_id, store='cheap')
        self.assertEqual([V2 + '/stores/cheap/' + self.image_id],
                         self.deletes())
        self.assertRaises(exceptions.InvalidIdentifier,
                          self.proxy.delete_image, self.image_id, store='')
        self.assertEqual(1, len(self.sent()))

    def test_delete_image_with_a_store_that_is_no_store_id_refused(self):
        # Falsy or odd values never reach a "whole image" branch, and are
        # refused as identifiers before the wire (not AttributeError).
        for store in ('', ' ', '..', b'..', 0, False, 1.5,
                      service_info.Store(id='..'), service_info.Store()):
            error = self.assertRaises(
                exceptions.InvalidIdentifier, self.proxy.delete_image,
                self.image_id, store=store)
            self.assertTrue(str(error), store)
        self.assertEqual([], self.sent())

    def test_guard_checks_the_store_before_the_sdk_call(self):
        # The guard's own check, whatever the layer below does.
        with mock.patch.object(sdk_proxy.Proxy, 'delete_image') as below:
            for store in (None, '', 0, False, b'..', '..',
                          service_info.Store(id='..')):
                self.assertRaises(exceptions.InvalidIdentifier,
                                  self.proxy.delete_image, self.image_id,
                                  store=store)
            self.assertEqual([], below.call_args_list)
            self.proxy.delete_image(self.image_id, store='cheap')
            below.assert_called_once_with(self.image_id, store='cheap')

    def test_inherited_deletes_refused(self):
        image = base.image_resource(base.image_body())
        # The cache call reads the version document first.
        self.http.get(V2 + '/', json=base.load('versions.json'))
        other = 'OS::Compute::Libvirt'
        for call in (
                lambda: self.proxy.remove_tag(image, 'x'),
                lambda: self.proxy.remove_member('p', image),
                lambda: self.proxy.delete_metadef_namespace('ns'),
                lambda: self.proxy.delete_metadef_namespace(lock.NAMESPACE),
                lambda: self.proxy.cache_delete_image(self.image_id),
                lambda: self.proxy.delete_all_metadef_properties(
                    lock.NAMESPACE),
                lambda: self.proxy.delete_all_metadef_objects(
                    lock.NAMESPACE),
                lambda: self.proxy.remove_tags_from_metadef_namespace(
                    lock.NAMESPACE),
                lambda: self.proxy.remove_tag_from_metadef_namespace(
                    other, self.image_id),
                lambda: self.proxy.delete_metadef_tag(other, self.image_id),
                lambda: self.proxy.delete_metadef_tag(lock.NAMESPACE, 'x'),
                lambda: self.proxy.delete_metadef_tag(
                    lock.NAMESPACE, '../../%s/tags/%s' % (
                        other, self.image_id))):
            error = self.assertRaises(exceptions.InvalidIdentifier, call)
            self.assertTrue(str(error).startswith('Refusing DELETE '),
                            error)
        self.assertEqual([], self.deletes())
        for name in ('', '.', '..'):
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete_metadef_tag, lock.NAMESPACE,
                              name)
        self.assertEqual([], [s for s in self.sent()
                              if not s.startswith('GET ')])

    def test_network_path_reference_sends_nothing(self):
        # "//host/..." would name another host: refused by the guard.
        for path in ('//stores/cheap/' + self.image_id,
                     '///stores/cheap/' + self.image_id):
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete, path)
        self.assertEqual([], self.sent())

    def test_relative_spellings_land_on_the_same_path(self):
        # Without its leading slash, the request goes to the endpoint plus
        # that path, nowhere else.
        for path in ('stores/cheap/' + self.image_id,
                     NS.lstrip('/') + '/tags/' + self.image_id):
            self.proxy.delete(path)
        self.assertEqual([V2 + '/stores/cheap/' + self.image_id]
                         + [V2 + NS + '/tags/' + self.image_id],
                         self.deletes())


class TestPostGuard(base.TestCase):
    """POST: a copy import, the lock namespace, its tags; nothing else."""

    def setUp(self):
        super().setUp()
        self.image_id = base.image_body()['id']
        self.http.register_uri('POST', requests_mock.ANY, status_code=201,
                               json={})
        # What inherited calls read first (none found).
        self.http.get(V2 + '/images', json=base.listing())

    def post(self, path, append=None, **kwargs):
        headers = {} if append is None else {'X-Openstack-Append': append}
        return self.proxy.post(path, headers=headers, json={'tags': []},
                               **kwargs)

    def test_allowed_posts_go_through(self):
        image_id = self.image_id
        self.post('/images/%s/import' % image_id)
        self.post('/metadefs/namespaces')
        self.post(NS + '/tags/' + image_id)
        for value in ('True', 'true', 'TRUE'):
            self.post(NS + '/tags', append=value)
        self.proxy.post(NS + '/tags', json={'tags': []},
                        headers={'x-openstack-append': 'True'})
        self.assertEqual(
            ['POST /v2/images/%s/import' % image_id,
             'POST /v2/metadefs/namespaces',
             'POST /v2%s/tags/%s' % (NS, image_id)]
            + ['POST /v2%s/tags ' % NS] * 4, self.sent())

    def test_replacing_every_tag_refused(self):
        # Without X-Openstack-Append: True, Glance replaces every tag of
        # the namespace: every other run's locks would be gone.
        for append in (None, 'False', 'false', '', '0', 'Truex', 'yes'):
            error = self.assertRaises(exceptions.InvalidIdentifier,
                                      self.post, NS + '/tags', append)
            self.assertTrue(str(error).startswith('Refusing POST '), error)
        self.assertRaises(exceptions.InvalidIdentifier, self.proxy.post,
                          NS + '/tags', json={'tags': []})
        self.assertEqual([], self.sent())

    def test_other_posts_refused(self):
        image_id = self.image_id
        for path in (OTHER_NS + '/tags', '/metadefs/namespaces/other/tags',
                     OTHER_NS + '/tags/' + image_id,
                     NS + '/tags/not-a-uuid', NS + '/tags/' + image_id + '/',
                     NS + '/tags/../tags', NS + '/objects',
                     NS + '/properties', NS + '/resource_types',
                     NS, '/metadefs/namespaces/', '/metadefs/namespaces?x=1',
                     '/images', '/images/%s/actions/deactivate' % image_id,
                     '/images/%s/members' % image_id,
                     '/images/%s/locations' % image_id,
                     '/images/%s/import?x=1' % image_id,
                     '/images/not-a-uuid/import', '/tasks', '/cache',
                     '/stores/cheap/' + image_id, '/images/%s/tags/x'
                     % image_id, V2 + '/images/%s/import' % image_id,
                     '//evil.example.com/metadefs/namespaces'):
            for append in (None, 'True'):
                self.assertRaises(exceptions.InvalidIdentifier, self.post,
                                  path, append)
        self.assertEqual([], self.sent())

    def test_endpoint_arguments_refused(self):
        for name, value in (('endpoint_override', V2 + '/images#'),
                            ('base_url', V2 + '/x#'),
                            ('service_type', 'compute'),
                            ('interface', 'admin')):
            self.assertRaises(exceptions.InvalidIdentifier, self.post,
                              NS + '/tags/' + self.image_id, None,
                              **{name: value})
        self.assertEqual([], self.sent())

    def test_inherited_posts_refused(self):
        image = base.image_resource(base.image_body())
        other = 'OS::Compute::Libvirt'
        for call in (
                lambda: self.proxy.create_image('x', allow_duplicates=True),
                lambda: self.proxy.deactivate_image(image),
                lambda: self.proxy.reactivate_image(image),
                lambda: self.proxy.add_member(image, member_id='p'),
                lambda: self.proxy.create_task(type='import'),
                lambda: self.proxy.create_metadef_object(
                    lock.NAMESPACE, name='x'),
                lambda: self.proxy.create_metadef_property(
                    lock.NAMESPACE, name='x', type='string', title='x'),
                lambda: self.proxy.add_tag_to_metadef_namespace(
                    other, self.image_id),
                lambda: self.proxy.create_metadef_tag(other, self.image_id),
                lambda: self.proxy.create_metadef_tag(lock.NAMESPACE, 'x'),
                lambda: self.proxy.append_metadef_tags(other,
                                                       [self.image_id])):
            error = self.assertRaises(exceptions.InvalidIdentifier, call)
            self.assertTrue(str(error).startswith('Refusing POST '), error)
        self.assertEqual([], [s for s in self.sent()
                              if not s.startswith('GET ')])


class TestNoImageWrite(base.TestCase):
    """No PATCH or PUT leaves the proxy: nothing writes to an image.

    A save writes back the location list it read, which can bring back a
    copy removed meanwhile (a ghost) or drop another run's copy.
    """

    def setUp(self):
        super().setUp()
        self.image_id = base.image_body()['id']
        for method in ('PATCH', 'PUT'):
            self.http.register_uri(method, requests_mock.ANY,
                                   status_code=200, json={})

    def test_patch_and_put_refused_on_every_path(self):
        image_id = self.image_id
        for path in ('/images/' + image_id, '/images/%s/file' % image_id,
                     '/images/%s/stage' % image_id,
                     '/images/%s/tags/x' % image_id,
                     '/images/%s/members/p' % image_id,
                     '/stores/cheap/' + image_id, NS, NS + '/tags',
                     NS + '/tags/' + image_id, OTHER_NS, '/', '',
                     V2 + '/images/' + image_id):
            for method in ('PATCH', 'patch', 'Patch', 'PUT', 'put', 'Put'):
                error = self.assertRaises(exceptions.InvalidIdentifier,
                                          self.proxy.request, path, method)
                self.assertTrue(str(error).startswith(
                    'Refusing %s ' % method.upper()), error)
            self.assertRaises(exceptions.InvalidIdentifier, self.proxy.patch,
                              path, json=[])
            self.assertRaises(exceptions.InvalidIdentifier, self.proxy.put,
                              path, json={})
        self.assertEqual([], self.sent())

    def test_inherited_writes_refused(self):
        image = base.image_resource(base.image_body())
        queued = base.image_resource(base.image_body(status='queued'))
        for call in (
                lambda: self.proxy.update_image(image, name='x'),
                lambda: self.proxy.update_image(self.image_id, name='x'),
                lambda: self.proxy.update_image_properties(
                    image, meta={'x': 'y'}),
                lambda: self.proxy.add_tag(image, 'x'),
                lambda: self.proxy.update_member('p', image, status='x'),
                lambda: self.proxy.update_metadef_namespace(
                    lock.NAMESPACE, description='x'),
                lambda: self.proxy.stage_image(queued, data=b'x'),
                lambda: self.proxy.upload_image(
                    container_format='bare', disk_format='raw', data=b'x',
                    id=self.image_id, name='x')):
            error = self.assertRaises(exceptions.InvalidIdentifier, call)
            # upload_image creates the image first (a POST).
            self.assertRegex(str(error), '^Refusing (PATCH|PUT|POST) ')
        self.assertEqual([], [s for s in self.sent()
                              if not s.startswith('GET ')])


class TestNoWriteInTheCode(base.TestCase):
    """No module of the plugin so much as names a write of an image."""

    #: Calls that send PATCH or PUT, or save a resource.
    CALLS = {'patch', 'put', 'commit', '_update', '_patch', 'update_image',
             'update_image_properties', 'add_tag', 'update_member',
             'update_metadef_namespace', 'stage_image', 'upload_image',
             'add_image_property', 'remove_image_property'}

    def modules(self):
        top = os.path.dirname(osc_image_store.__file__)
        for folder, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d != 'tests']
            for name in files:
                if name.endswith('.py'):
                    yield os.path.join(folder, name)

    def test_no_patch_or_put(self):
        found = []
        checked = 0
        for path in self.modules():
            checked += 1
            with open(path, 'rb') as f:
                tokens = list(tokenize.tokenize(io.BytesIO(f.read()).readline))
            for before, token, after in zip(tokens, tokens[1:], tokens[2:]):
                where = '%s:%d' % (os.path.relpath(path), token.start[0])
                if token.type == tokenize.STRING and re.fullmatch(
                        r'[rbuRBU]*([\'"])(PATCH|PUT)\1', token.string,
                        re.IGNORECASE):
                    found.append('%s %s' % (where, token.string))
                if (token.type == tokenize.NAME and token.string in self.CALLS
                        and before.string == '.' and after.string == '('):
                    found.append('%s .%s(' % (where, token.string))
        self.assertGreater(checked, 15)
        self.assertEqual([], found)


class TestHostileIdentifiers(base.TestCase):

    def test_hostile_store_sends_nothing(self):
        for store in hostile.STORES:
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete_image,
                              self.image_id(), store=store)
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.find_store, store, [])
            self.assertRaises(exceptions.InvalidIdentifier, list,
                              self.proxy.images_in_store(store))
        self.assertEqual([], self.sent())

    def test_hostile_image_sends_nothing(self):
        for image in hostile.IMAGES_REJECTED + hostile.IMAGES_NOT_FOUND:
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete_image, image, store='cheap')
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.create_metadef_tag, lock.NAMESPACE,
                              image)
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete_metadef_tag, lock.NAMESPACE,
                              image)
            self.assertRaises(exceptions.InvalidIdentifier, lock.clear,
                              self.proxy, image)
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


class TestFromConnection(base.TestCase):

    def test_endpoint_resolved_once_not_per_request(self):
        # A cloud without an endpoint override in its configuration: the
        # endpoint comes from the auth plugin, looked up once.
        conn = openstack.connection.Connection(
            session=ks_session.Session(auth=noauth.NoAuth(endpoint=V2)),
            image_api_version='2')
        client = guard.GuardedProxy.from_connection(conn)
        self.mock_stores()
        calls = []
        real = ks_session.Session.get_endpoint

        def counted(session, *args, **kwargs):
            calls.append(kwargs)
            return real(session, *args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch(
            'keystoneauth1.session.Session.get_endpoint', counted))
        for _ in range(3):
            client.stores()
        self.assertEqual([], calls)
        self.assertEqual(V2 + '/info/stores',
                         self.http.request_history[-1].url)

    def test_reads_retried_once_after_a_503(self):
        # Unlike the writes (sent once): a read is sent again once.
        tags = self.mock_locks()
        name = base.image_body()['id']
        tags.add(name)
        tags.fail('GET', name, base.glance_error(503, 'busy'),
                  base.glance_error(503, 'busy'))
        self.assertRaises(sdk_exc.HttpException, self.proxy.get_metadef_tag,
                          lock.NAMESPACE, name)
        self.assertEqual([base.read_lock(name)] * 2, self.sent())
        tags.fail('GET', name, base.glance_error(503, 'busy'))
        self.assertEqual(name, self.proxy.get_metadef_tag(
            lock.NAMESPACE, name).name)
        self.assertEqual([base.read_lock(name)] * 4, self.sent())
