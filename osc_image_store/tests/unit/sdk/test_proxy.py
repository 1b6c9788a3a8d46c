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
"""The calls of :class:`osc_image_store.sdk._proxy.Proxy`: what each
sends and what it returns."""

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import plugin
from keystoneauth1 import session as ks_session
import openstack.connection
from openstack import exceptions as sdk_exc

from osc_image_store.sdk import _proxy
from osc_image_store.sdk import exceptions
from osc_image_store.sdk import service_info
from osc_image_store.tests import hostile
from osc_image_store.tests.unit import base
from osc_image_store.tests.unit.sdk import base as sdk_base

V2 = base.V2
#: The namespace the fake Glance of the tests has (base.LockTags).
NAMESPACE = base.NAMESPACE


def ids(count):
    return ['00000000-0000-4000-8000-%012d' % i for i in range(count)]


class TestStores(sdk_base.TestImageProxy):

    def test_stores(self):
        self.mock_stores()
        stores = self.proxy.stores()
        self.assertEqual(
            [('fast', True, False), ('cheap', False, False),
             ('archive', False, True)],
            [(s.id, s.is_default, s.is_read_only) for s in stores])
        self.assertEqual([base.STORES], self.sent())

    def test_detail(self):
        self.http.get(V2 + '/info/stores/detail',
                      json=base.load('stores_detail.json'))
        stores = self.proxy.stores(details=True)
        self.assertEqual(
            [('fast', 'file', 0), ('cheap', 'file', 0),
             ('archive', 'file', 0)],
            [(s.id, s.type, s.weight) for s in stores])
        self.assertEqual(['GET /v2/info/stores/detail'], self.sent())

    def test_multistore_off(self):
        self.mock_stores(status=404, body={})
        exc = self.assertRaises(exceptions.MultiStoreNotEnabled,
                                self.proxy.stores)
        self.assertEqual(404, exc.http_status)
        self.assertIn('answered 404 to GET /v2/info/stores', str(exc))

    def test_find_store_reads_the_stores(self):
        self.mock_stores()
        self.assertEqual('cheap', self.proxy.find_store('cheap').id)
        self.assertEqual([base.STORES], self.sent())

    def test_find_store_in_given_stores_sends_nothing(self):
        stores = [service_info.Store.existing(id='fast')]
        self.assertIs(stores[0], self.proxy.find_store('fast', stores))
        self.assertEqual([], self.sent())

    def test_unknown_store_names_the_others(self):
        self.mock_stores()
        exc = self.assertRaises(exceptions.StoreNotFound,
                                self.proxy.find_store, 'nope')
        self.assertEqual('Store nope does not exist on this cloud; its '
                         'stores are: archive, cheap, fast.', str(exc))
        self.assertEqual(['archive', 'cheap', 'fast'], exc.available)


class TestImageReads(sdk_base.TestImageProxy):

    def test_get_image(self):
        body = base.image_body()
        self.mock_image(body)
        image = self.proxy.get_image(body['id'])
        self.assertEqual(['fast', 'cheap', 'archive'], image.store_ids)
        self.assertEqual([base.get_image(body['id'])], self.sent())

    def test_get_image_refuses_a_non_uuid(self):
        self.assertRaises(exceptions.InvalidIdentifier,
                          self.proxy.get_image, '../images')
        self.assertEqual([], self.sent())

    def test_images_by_id_one_listing(self):
        one, two = base.image_body('one'), base.image_body('two')
        self.mock_listing([one, two])
        found = self.proxy.images_by_id([one['id'], two['id']])
        self.assertEqual({one['id']: 'one', two['id']: 'two'},
                         {k: v.name for k, v in found.items()})
        self.assertEqual([base.listing_of(one['id'], two['id'])],
                         self.sent())

    def test_images_by_id_hidden_pass_only_for_the_missing(self):
        one, hidden = base.image_body('one'), base.image_body('hidden')
        self.mock_listing([one])
        self.mock_listing([hidden], hidden=True)
        found = self.proxy.images_by_id([one['id'], hidden['id']])
        self.assertEqual({one['id'], hidden['id']}, set(found))
        self.assertEqual(
            [base.listing_of(one['id'], hidden['id']),
             base.listing_of(hidden['id'], hidden=True)], self.sent())

    def test_images_by_id_leaves_out_the_unknown(self):
        self.mock_listing([])
        self.mock_listing([], hidden=True)
        self.assertEqual({}, self.proxy.images_by_id(ids(1)))
        self.assertEqual(2, len(self.sent()))

    def test_images_by_id_at_most_50_per_listing(self):
        wanted = ids(101)
        self.http.get(V2 + '/images', json=base.listing())
        self.proxy.images_by_id(wanted)
        visible = [r.qs['id'][0] for r in self.requests()
                   if r.qs['os_hidden'] == ['false']]
        self.assertEqual([50, 50, 1],
                         [len(v.split(',')) for v in visible])
        self.assertEqual('in:' + ','.join(wanted[50:100]),
                         visible[1].lower())

    def test_images_by_id_checks_every_id_first(self):
        self.assertRaises(exceptions.InvalidIdentifier,
                          self.proxy.images_by_id, ids(1) + ['x,y'])
        self.assertEqual([], self.sent())


class TestNames(sdk_base.TestImageProxy):

    def test_exact_name_with_eq(self):
        body = base.image_body('in:a,b')
        self.mock_listing([body])
        self.assertEqual([body['id']], [
            i.id for i in self.proxy.find_images_by_name('in:a,b')])
        self.assertEqual(['GET /v2/images?name=eq:in:a,b&os_hidden=False'],
                         self.sent())

    def test_other_names_in_the_answer_are_dropped(self):
        self.mock_listing([base.image_body('Cirros')])
        self.mock_listing([base.image_body('CIRROS')], hidden=True)
        self.assertEqual([], self.proxy.find_images_by_name('cirros'))

    def test_hidden_pass_only_when_none_visible(self):
        hidden = base.image_body('secret', os_hidden=True)
        self.mock_listing([])
        self.mock_listing([hidden], hidden=True)
        self.assertEqual([hidden['id']], [
            i.id for i in self.proxy.find_images_by_name('secret')])
        self.assertEqual(['GET /v2/images?name=eq:secret&os_hidden=False',
                          'GET /v2/images?name=eq:secret&os_hidden=True'],
                         self.sent())

    def test_resolve_uuid_reads_the_image_only(self):
        body = base.image_body()
        self.mock_image(body)
        self.assertEqual(body['id'], self.proxy.resolve_image(body['id']).id)
        self.assertEqual([base.get_image(body['id'])], self.sent())

    def test_resolve_uuid_that_is_a_name(self):
        named = base.image_body(ids(1)[0], image_id=ids(2)[1])
        self.http.get('%s/images/%s' % (V2, ids(1)[0]),
                      **base.glance_error(404, 'Failed to find image'))
        self.mock_listing([named])
        self.assertEqual(named['id'],
                         self.proxy.resolve_image(ids(1)[0]).id)
        self.assertEqual(
            [base.get_image(ids(1)[0]),
             'GET /v2/images?name=eq:%s&os_hidden=False' % ids(1)[0]],
            self.sent())

    def test_resolve_not_found(self):
        self.mock_listing([])
        self.mock_listing([], hidden=True)
        exc = self.assertRaises(exceptions.ImageNotFound,
                                self.proxy.resolve_image, '../images')
        self.assertEqual('No image with name or ID ../images.', str(exc))
        self.assertEqual(
            ['GET /v2/images?name=eq:../images&os_hidden=False',
             'GET /v2/images?name=eq:../images&os_hidden=True'], self.sent())

    def test_resolve_ambiguous_lists_sorted_ids(self):
        first, second = ids(2)
        self.mock_listing([base.image_body('twin', image_id=second),
                           base.image_body('twin', image_id=first)])
        exc = self.assertRaises(exceptions.AmbiguousImage,
                                self.proxy.resolve_image, 'twin')
        self.assertEqual([first, second], exc.image_ids)
        self.assertEqual('More than one image has the name twin; use an ID: '
                         '%s, %s.' % (first, second), str(exc))


class TestImagesInStore(sdk_base.TestImageProxy):

    def test_filters_on_stores_over_pages_and_hidden(self):
        a = base.image_body('a', stores=('cheap', 'fast'))
        b = base.image_body('b', stores=('fast',))
        c = base.image_body('c', stores=None)
        h = base.image_body('h', stores=('cheap',), os_hidden=True)
        page2 = '/v2/images?limit=2&marker=%s&os_hidden=False' % b['id']
        # openstacksdk asks for one more page after a short one (a limit
        # was given): Glance answers it with no image.
        self.mock_listing(
            {'json': dict(base.listing(a, b), next=page2)}, [c], [])
        self.mock_listing([h], [], hidden=True)
        found = self.proxy.images_in_store('cheap', page_size=2)
        self.assertEqual(['a', 'h'], [i.name for i in found])
        self.assertEqual(
            ['GET /v2/images?limit=2&os_hidden=False',
             'GET /v2/images?limit=2&marker=%s&os_hidden=False' % b['id'],
             'GET /v2/images?limit=2&marker=%s&os_hidden=False' % c['id'],
             'GET /v2/images?limit=2&os_hidden=True',
             'GET /v2/images?limit=2&marker=%s&os_hidden=True' % h['id']],
            self.sent())

    def test_streams_one_page_at_a_time(self):
        a = base.image_body('a', stores=('cheap', 'fast'))
        page2 = '/v2/images?limit=1&marker=%s&os_hidden=False' % a['id']
        self.mock_listing({'json': dict(base.listing(a), next=page2)},
                          base.glance_error(500, 'db down'))
        found = self.proxy.images_in_store('cheap', page_size=1)
        self.assertEqual('a', next(found).name)
        self.assertEqual(['GET /v2/images?limit=1&os_hidden=False'],
                         self.sent())
        self.assertRaises(sdk_exc.HttpException, next, found)

    def test_hostile_store_before_any_request(self):
        found = self.proxy.images_in_store('../images')
        self.assertRaises(exceptions.InvalidIdentifier, next, found)
        self.assertEqual([], self.sent())

    def test_owner(self):
        self.mock_listing([])
        self.mock_listing([], hidden=True)
        self.assertEqual([], list(self.proxy.images_in_store(
            'cheap', owner='p-1')))
        self.assertEqual(
            ['GET /v2/images?limit=200&os_hidden=False&owner=p-1',
             'GET /v2/images?limit=200&os_hidden=True&owner=p-1'],
            self.sent())


class TestMetadefTags(sdk_base.TestImageProxy):
    """The calls on tags of a metadata definitions namespace."""

    def setUp(self):
        super().setUp()
        self.tags = self.mock_locks()
        self.name = base.image_body()['id']

    def test_create(self):
        tag = self.proxy.create_metadef_tag(NAMESPACE, self.name)
        self.assertEqual((self.name, NAMESPACE, '2026-12-06T18:00:01Z'),
                         (tag.name, tag.namespace_name, tag.created_at))
        self.assertEqual([base.lock_one(self.name)], self.sent())
        self.assertEqual('application/json',
                         self.requests()[0].headers['Accept'])
        self.assertEqual(self.name, self.proxy.get_metadef_tag(
            NAMESPACE, self.name).name)

    def test_create_conflict_and_not_found(self):
        self.tags.add(self.name)
        self.assertRaises(sdk_exc.ConflictException,
                          self.proxy.create_metadef_tag, NAMESPACE,
                          self.name)
        self.tags.exists = False
        self.assertRaises(sdk_exc.NotFoundException,
                          self.proxy.create_metadef_tag, NAMESPACE,
                          self.name)

    def test_append(self):
        names = ids(3)
        tags = self.proxy.append_metadef_tags(NAMESPACE, names)
        self.assertEqual(names, [t.name for t in tags])
        request = self.requests()[0]
        self.assertEqual(('POST', base.TAGS, 'True',
                          {'tags': [{'name': n} for n in names]}),
                         (request.method, request.url,
                          request.headers['X-Openstack-Append'],
                          request.json()))
        self.assertEqual(names, self.tags.names())

    def test_append_conflict_creates_none(self):
        self.tags.add(ids(3)[1])
        self.assertRaises(sdk_exc.ConflictException,
                          self.proxy.append_metadef_tags, NAMESPACE,
                          ids(3))
        self.assertEqual([ids(3)[1]], self.tags.names())

    def test_list_names_only(self):
        self.tags.add(*ids(2))
        tags = self.proxy.metadef_tags(NAMESPACE)
        self.assertEqual([(n, None) for n in ids(2)],
                         [(t.name, t.created_at) for t in tags])
        self.assertEqual([base.LIST_LOCKS], self.sent())

    def test_get_one_with_its_time(self):
        self.tags.add(self.name)
        tag = self.proxy.get_metadef_tag(NAMESPACE, self.name)
        self.assertEqual((self.name, base.OTHER_SINCE),
                         (tag.name, tag.created_at))
        self.assertEqual([base.read_lock(self.name)], self.sent())

    def test_delete(self):
        self.tags.add(self.name)
        self.assertIsNone(self.proxy.delete_metadef_tag(NAMESPACE,
                                                        self.name))
        self.assertEqual([], self.tags.names())
        # Gone: ignored by default, else NotFound.
        self.assertIsNone(self.proxy.delete_metadef_tag(NAMESPACE,
                                                        self.name))
        self.assertRaises(sdk_exc.NotFoundException,
                          self.proxy.delete_metadef_tag, NAMESPACE,
                          self.name, ignore_missing=False)
        self.assertEqual([base.unlock(self.name)] * 3, self.sent())

    def test_delete_forbidden_raises(self):
        self.tags.fail('DELETE', self.name, base.glance_error(
            403, 'Namespace is protected'))
        self.assertRaises(sdk_exc.ForbiddenException,
                          self.proxy.delete_metadef_tag, NAMESPACE,
                          self.name)

    def test_tag_writes_sent_once(self):
        # A write that got a 503 or no answer may have been carried out:
        # never sent again (a tag DELETE sent twice can delete the lock
        # another run made in between).
        for call, method, name in (
                (lambda: self.proxy.create_metadef_tag(NAMESPACE,
                                                       self.name),
                 'POST', self.name),
                (lambda: self.proxy.delete_metadef_tag(NAMESPACE,
                                                       self.name),
                 'DELETE', self.name)):
            for answer in (base.glance_error(503, 'busy'),
                           ks_exc.ConnectFailure):
                self.tags.fail(method, name, answer)
                self.assertRaises((sdk_exc.HttpException,
                                   ks_exc.ConnectFailure), call)
        self.http.post(base.TAGS, [base.glance_error(503, 'busy'),
                                   {'exc': ks_exc.ConnectFailure}])
        for _answer in range(2):
            self.assertRaises((sdk_exc.HttpException, ks_exc.ConnectFailure),
                              self.proxy.append_metadef_tags,
                              NAMESPACE, [self.name])
        self.assertEqual([base.lock_one(self.name)] * 2
                         + [base.unlock(self.name)] * 2
                         + [base.lock_many(self.name)] * 2, self.sent())

    def test_names_are_one_segment(self):
        for name in ('', '.', '..'):
            for call in (self.proxy.create_metadef_tag,
                         self.proxy.delete_metadef_tag):
                self.assertRaises(exceptions.InvalidIdentifier, call,
                                  NAMESPACE, name)
        self.assertRaises(exceptions.InvalidIdentifier,
                          self.proxy.append_metadef_tags, '..', ids(1))
        self.assertEqual([], self.sent())


class ReauthPlugin(plugin.BaseAuthPlugin):
    """A token plugin that re-authenticates on a 401, as a real one does."""

    def __init__(self):
        super().__init__()
        self.tokens = 0
        self.invalidated = 0

    def get_token(self, session, **kwargs):
        self.tokens += 1
        return 'token-%d' % self.tokens

    def get_endpoint(self, session, **kwargs):
        return base.ENDPOINT

    def invalidate(self):
        self.invalidated += 1
        return True


class TestNoReauthentication(sdk_base.TestImageProxy):
    """A store DELETE answered 401 is not sent again after a new token.

    keystoneauth re-authenticates and sends a request again on a 401;
    that must not happen to the one store DELETE.
    """

    def setUp(self):
        super().setUp()
        self.auth = ReauthPlugin()
        conn = openstack.connection.Connection(
            session=ks_session.Session(auth=self.auth),
            image_endpoint_override=V2, image_api_version='2')
        self.client = sdk_base.sdk_proxy(conn)
        self.body = base.image_body()
        self._first = len(self.http.request_history)

    def test_store_delete_not_sent_again(self):
        self.mock_store_delete('cheap', self.body['id'], base.glance_error(
            401, 'The request you have made requires authentication.'), 204)
        exc = self.assertRaises(sdk_exc.HttpException,
                                self.client.delete_image, self.body['id'],
                                store='cheap', ignore_missing=False)
        self.assertEqual(401, exc.status_code)
        self.assertEqual([base.store_delete(self.body['id'])], self.sent())
        self.assertEqual(0, self.auth.invalidated)
        self.assertEqual(['token-1'], [r.headers['X-Auth-Token']
                                       for r in self.requests()])

    def test_other_requests_are_sent_again(self):
        # The same plugin and session re-authenticate a read: the test
        # above would see a second DELETE.
        self.http.get(V2 + '/images/' + self.body['id'], [
            base.glance_error(401, 'Authentication required'),
            {'json': self.body}])
        self.assertEqual(self.body['id'],
                         self.client.get_image(self.body['id']).id)
        self.assertEqual([base.get_image(self.body['id'])] * 2, self.sent())
        self.assertEqual(1, self.auth.invalidated)
        self.assertEqual(['token-1', 'token-2'],
                         [r.headers['X-Auth-Token'] for r in self.requests()])


class TestStoreDelete(sdk_base.TestImageProxy):

    def setUp(self):
        super().setUp()
        self.body = base.image_body()
        self.url = '%s/stores/cheap/%s' % (V2, self.body['id'])

    def test_sends_one_store_delete(self):
        self.mock_store_delete('cheap', self.body['id'])
        self.assertIsNone(self.proxy.delete_image(
            base.image_resource(self.body), store='cheap',
            ignore_missing=False))
        self.assertEqual([self.url], self.deletes())
        self.assertEqual([base.store_delete(self.body['id'])], self.sent())
        self.assertEqual('application/json',
                         self.requests()[0].headers['Accept'])

    def test_503_not_retried(self):
        self.mock_store_delete('cheap', self.body['id'],
                               base.glance_error(503, 'busy'), 204)
        exc = self.assertRaises(sdk_exc.HttpException,
                                self.proxy.delete_image, self.body['id'],
                                store='cheap', ignore_missing=False)
        self.assertEqual(503, exc.status_code)
        self.assertEqual([self.url], self.deletes())

    def test_dropped_connection_not_retried(self):
        self.mock_store_delete('cheap', self.body['id'],
                               ks_exc.ConnectFailure, 204)
        self.assertRaises(ks_exc.ConnectFailure,
                          self.proxy.delete_image, self.body['id'],
                          store='cheap', ignore_missing=False)
        self.assertEqual([self.url], self.deletes())

    def test_not_in_store_raises(self):
        self.mock_store_delete('cheap', self.body['id'], base.glance_error(
            404, 'Image %s is not stored in store cheap.' % self.body['id'],
            html=True))
        exc = self.assertRaises(sdk_exc.NotFoundException,
                                self.proxy.delete_image, self.body['id'],
                                store='cheap', ignore_missing=False)
        self.assertEqual('Image %s is not stored in store cheap.'
                         % self.body['id'],
                         exceptions.clean_details(exc.details, 404))


class TestDeleteImage(sdk_base.TestImageProxy):
    """delete_image as openstacksdk has it, with the store delete fixed."""

    def setUp(self):
        super().setUp()
        self.body = base.image_body()

    def test_store_resource(self):
        self.mock_store_delete('cheap', self.body['id'])
        self.proxy.delete_image(self.body['id'],
                                store=service_info.Store(id='cheap'))
        self.assertEqual([base.store_delete(self.body['id'])], self.sent())

    def test_missing_ignored_by_default(self):
        self.mock_store_delete('cheap', self.body['id'], base.glance_error(
            404, 'Image is not stored in store cheap.'))
        self.assertIsNone(self.proxy.delete_image(self.body['id'],
                                                  store='cheap'))
        self.assertEqual([base.store_delete(self.body['id'])], self.sent())

    def test_hostile_segments_send_nothing(self):
        for store in hostile.STORES + ['', '.', '..']:
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete_image, self.body['id'],
                              store=store)
        for image in hostile.IMAGES_REJECTED + hostile.IMAGES_NOT_FOUND:
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete_image, image, store='cheap')
        self.assertEqual([], self.sent())

    def test_without_a_store_the_whole_image(self):
        # openstacksdk's own behaviour, unchanged in the sdk (the plugin's
        # guard refuses it: see test_guard).
        self.http.delete('%s/images/%s' % (V2, self.body['id']),
                         status_code=204)
        self.proxy.delete_image(self.body['id'])
        self.assertEqual(['DELETE /v2/images/' + self.body['id']],
                         self.sent())


class TestImportImage(sdk_base.TestImageProxy):
    """openstacksdk's import_image, as the copy-image import uses it."""

    def test_copy_image(self):
        body = base.image_body()
        self.http.post('%s/images/%s/import' % (V2, body['id']),
                       status_code=202)
        response = self.proxy.import_image(
            base.image_resource(body), method='copy-image',
            stores=['fast', service_info.Store(id='cheap')])
        self.assertEqual(202, response.status_code)
        request = self.requests()[0]
        self.assertEqual(
            ('POST /v2/images/%s/import' % body['id'], 'application/json',
             {'method': {'name': 'copy-image'},
              'stores': ['fast', 'cheap']}),
            (base.describe(request), request.headers['Accept'],
             request.json()))

    def test_answer_not_raised(self):
        body = base.image_body()
        self.http.post('%s/images/%s/import' % (V2, body['id']),
                       **base.glance_error(409, 'Image has active task'))
        response = self.proxy.import_image(
            base.image_resource(body), method='copy-image', stores=['fast'])
        self.assertEqual(409, response.status_code)
        exc = self.assertRaises(sdk_exc.ConflictException,
                                sdk_exc.raise_from_response, response)
        self.assertEqual('Image has active task',
                         exceptions.clean_details(exc.details, 409))


class TestReadFirstByte(sdk_base.TestImageProxy):

    def setUp(self):
        super().setUp()
        self.body = base.image_body()

    def read(self, status, content=b''):
        self.mock_file(self.body['id'], status, content)
        result = self.proxy.read_first_byte(self.body['id'])
        self.assertEqual([base.read_byte(self.body['id'])], self.sent())
        self.assertEqual('bytes=0-0', self.requests()[0].headers['Range'])
        return result

    def test_partial_content_with_a_byte(self):
        self.assertEqual(_proxy.FirstByte(206, True), self.read(206, b'x'))

    def test_whole_content_with_a_byte(self):
        self.assertEqual(_proxy.FirstByte(200, True), self.read(200, b'xyz'))

    def test_no_byte_in_a_success(self):
        self.assertEqual(_proxy.FirstByte(206, False), self.read(206))

    def test_no_byte_in_a_whole_answer(self):
        self.assertEqual(_proxy.FirstByte(200, False), self.read(200))

    def test_no_data(self):
        self.assertEqual(_proxy.FirstByte(204, False), self.read(204))

    def test_range_not_satisfiable(self):
        self.assertEqual(_proxy.FirstByte(416, False), self.read(416))

    def test_error_with_a_body_has_no_byte(self):
        # Only the data of a 200 or 206 answer is data.
        self.assertEqual(_proxy.FirstByte(500, False),
                         self.read(500, b'db down'))

    def test_store_without_ranges_read_plainly(self):
        # Glance answers 400 to a ranged read of an http store.
        self.http.get('%s/images/%s/file' % (V2, self.body['id']), [
            base.glance_error(400, 'Range not supported'),
            {'status_code': 200, 'content': b'xyz'}])
        self.assertEqual(_proxy.FirstByte(200, True),
                         self.proxy.read_first_byte(self.body['id']))
        self.assertEqual([base.read_byte(self.body['id'])] * 2, self.sent())
        self.assertEqual(['bytes=0-0', None],
                         [r.headers.get('Range') for r in self.requests()])

    def test_transport_error_raises(self):
        self.http.get('%s/images/%s/file' % (V2, self.body['id']),
                      exc=ks_exc.ConnectTimeout)
        self.assertRaises(ks_exc.ConnectTimeout,
                          self.proxy.read_first_byte, self.body['id'])
