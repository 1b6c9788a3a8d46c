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

import threading
import time

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc

from osc_image_store.sdk import exceptions
from osc_image_store.sdk import proxy
from osc_image_store.tests.unit import base

V2 = base.V2


class TestProxyBasics(base.TestCase):

    def test_from_connection_keeps_connection_class(self):
        self.assertIs(self.conn, self.proxy._connection)
        self.assertFalse(hasattr(type(self.conn), 'image_store'))

    def test_stores(self):
        self.mock_stores()
        stores = self.proxy.stores()
        self.assertEqual(['fast', 'cheap', 'archive'], [s.id for s in stores])
        self.assertEqual([True, False, False], [s.is_default for s in stores])
        self.assertEqual([False, False, True],
                         [s.is_read_only for s in stores])
        self.assertEqual([('GET', V2 + '/info/stores')], self.sent())

    def test_stores_detail(self):
        self.http.get(V2 + '/info/stores/detail',
                      json=base.load('stores_detail.json'))
        stores = self.proxy.stores(details=True)
        self.assertEqual(['file'] * 3, [s.type for s in stores])
        self.assertEqual([('GET', V2 + '/info/stores/detail')], self.sent())

    def test_stores_multistore_off(self):
        self.mock_stores(status=404, body={})
        exc = self.assertRaises(exceptions.MultiStoreNotEnabled,
                                self.proxy.stores)
        self.assertIn('Multi-store is not enabled', str(exc))

    def test_check_store_unknown_lists_stores(self):
        self.mock_stores()
        exc = self.assertRaises(exceptions.StoreNotFound,
                                self.proxy.check_store, 'nope')
        self.assertEqual(
            'Store nope does not exist on this cloud; its stores are: '
            'fast, cheap, archive.', str(exc))
        self.assertEqual(['fast', 'cheap', 'archive'], exc.available)

    def test_check_store_with_known_stores_sends_nothing(self):
        stores = [proxy.resources.Store.existing(id='fast')]
        self.assertEqual('fast', self.proxy.check_store('fast', stores))
        self.assertEqual([], self.sent())


class TestNoWholeImageDelete(base.TestCase):

    def test_delete_image_refused(self):
        image = base.image_body()
        self.assertRaises(exceptions.InvalidIdentifier,
                          self.proxy.delete_image, image['id'])
        self.assertRaises(exceptions.InvalidIdentifier,
                          self.proxy.delete_image, image['id'], store='cheap')
        self.assertEqual([], self.sent())

    def test_raw_deletes_refused(self):
        image_id = base.image_body()['id']
        for url in ('/images/' + image_id,
                    V2 + '/images/' + image_id,
                    '/stores/../images/' + image_id,
                    '/stores/./cheap/' + image_id,
                    '/stores/cheap/' + image_id + '?x=1',
                    '/stores/cheap/' + image_id + '/extra',
                    '/images/%s/members/x' % image_id,
                    '/stores/cheap/not-a-uuid',
                    '/stores/%2e%2e%2Fimages/' + image_id,
                    '/v2/images/%s;/v2/stores/cheap/%s' % (image_id, image_id),
                    V2 + '/stores/cheap/' + image_id):
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete, url)
        for override in ('endpoint_override', 'endpoint_filter'):
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete, '/stores/cheap/' + image_id,
                              **{override: V2 + '/images/' + image_id + '#'})
        self.assertEqual([], self.sent())

    def test_store_delete_allowed(self):
        image_id = base.image_body()['id']
        self.mock_store_delete('cheap', image_id)
        self.assertEqual(204, self.proxy.delete(
            '/stores/cheap/' + image_id).status_code)


class TestDeleteImageFromStore(base.TestCase):

    def test_sends_exactly_store_delete_then_reads(self):
        before = base.image_body()
        after = base.image_body(stores=('fast', 'archive'))
        self.mock_store_delete('cheap', before['id'])
        self.mock_image(after)
        image = self.proxy.delete_image_from_store(before['id'], 'cheap')
        self.assertEqual(['fast', 'archive'], image.store_ids)
        self.assertEqual(
            [('DELETE', '%s/stores/cheap/%s' % (V2, before['id'])),
             ('GET', '%s/images/%s' % (V2, before['id']))], self.sent())
        self.assertEqual('application/json',
                         self.requests()[0].headers['Accept'])

    def test_not_in_store_is_not_ignored(self):
        body = base.image_body()
        self.mock_store_delete('cheap', body['id'], 404,
                               'Image %s is not stored in store cheap.'
                               % body['id'], html=True)
        exc = self.assertRaises(sdk_exc.NotFoundException,
                                self.proxy.delete_image_from_store,
                                body['id'], 'cheap')
        self.assertIn('is not stored in store cheap', str(exc.details))
        self.assertNotIn('<', exc.details)

    def test_invalid_identifiers_send_nothing(self):
        body = base.image_body()
        for store, image_id in (('..', body['id']), ('', body['id']),
                                ('cheap', '../images'), ('cheap', '')):
            self.assertRaises(exceptions.InvalidIdentifier,
                              self.proxy.delete_image_from_store,
                              image_id, store)
        self.assertEqual([], self.sent())


class TestResolveImage(base.TestCase):

    def test_by_id(self):
        body = base.image_body()
        self.mock_image(body)
        self.assertEqual(body['id'],
                         self.proxy.resolve_image(body['id']).id)
        self.assertEqual([('GET', '%s/images/%s' % (V2, body['id']))],
                         self.sent())

    def test_by_name_goes_in_query_only(self):
        body = base.image_body(name='../images')
        self.http.get(V2 + '/images', json={'images': [body]})
        self.assertEqual(body['id'],
                         self.proxy.resolve_image('../images').id)
        self.assertEqual(1, len(self.sent()))
        request = self.requests()[0]
        self.assertEqual('/v2/images', request.path)
        self.assertEqual({'name': ['../images'], 'os_hidden': ['false']},
                         request.qs)

    def test_exact_name_only(self):
        # Glance reads in:a,b as "a or b": only an exact name may match.
        alpha = base.image_body(name='alpha')
        self.http.get(V2 + '/images', json={'images': [alpha]})
        exc = self.assertRaises(exceptions.ImageNotFound,
                                self.proxy.resolve_image, 'in:alpha')
        self.assertEqual('No image with name or ID in:alpha.', str(exc))
        self.assertEqual(['in:"in:alpha"'] * 2,
                         [r.qs['name'][0] for r in self.requests()])

    def test_operator_name_found_quoted(self):
        odd = base.image_body(name='gt:5')
        self.http.get(V2 + '/images', json={'images': [odd]})
        self.assertEqual(odd['id'], self.proxy.resolve_image('gt:5').id)
        self.assertEqual('in:"gt:5"', self.requests()[0].qs['name'][0])

    def test_hidden_image_by_name(self):
        hidden = base.image_body(name='secret')

        def listing(request, context):
            shown = request.qs['os_hidden'] == ['true']
            return {'images': [hidden] if shown else []}

        self.http.get(V2 + '/images', json=listing)
        self.assertEqual(hidden['id'],
                         self.proxy.resolve_image('secret').id)
        self.assertEqual([['false'], ['true']],
                         [r.qs['os_hidden'] for r in self.requests()])

    def test_not_found(self):
        self.http.get(V2 + '/images', json={'images': []})
        exc = self.assertRaises(exceptions.ImageNotFound,
                                self.proxy.resolve_image, 'ghost')
        self.assertEqual('No image with name or ID ghost.', str(exc))

    def test_uuid_not_found_then_name_lookup(self):
        missing = '11111111-2222-3333-4444-555555555555'
        self.http.get('%s/images/%s' % (V2, missing), status_code=404)
        self.http.get(V2 + '/images', json={'images': []})
        exc = self.assertRaises(exceptions.ImageNotFound,
                                self.proxy.resolve_image, missing)
        self.assertIn(missing, str(exc))

    def test_ambiguous_lists_ids(self):
        one = base.image_body(
            name='twin', image_id='aaaaaaaa-0000-0000-0000-000000000001')
        two = base.image_body(
            name='twin', image_id='aaaaaaaa-0000-0000-0000-000000000002')
        self.http.get(V2 + '/images', json={'images': [two, one]})
        exc = self.assertRaises(exceptions.AmbiguousImage,
                                self.proxy.resolve_image, 'twin')
        self.assertEqual([one['id'], two['id']], exc.image_ids)
        self.assertIn(one['id'] + ', ' + two['id'], str(exc))


class TestRemoveImageFromStore(base.TestCase):

    def setUp(self):
        super().setUp()
        self.stores_mock = self.mock_stores()

    def test_removed(self):
        before = base.image_body()
        self.mock_image(before, base.image_body(stores=('fast', 'archive')))
        self.mock_store_delete('cheap', before['id'])
        removal = self.proxy.remove_image_from_store(before['id'], 'cheap')
        self.assertEqual(
            proxy.Removal(before['id'], 'cirros', 'cheap', 'removed',
                          ('archive', 'fast')), removal)
        image_url = '%s/images/%s' % (V2, before['id'])
        self.assertEqual(
            [('GET', V2 + '/info/stores'), ('GET', image_url),
             ('DELETE', '%s/stores/cheap/%s' % (V2, before['id'])),
             ('GET', image_url)], self.sent())

    def check_refused(self, body, store, exc_class, message):
        self.mock_image(body)
        exc = self.assertRaises(exc_class, self.proxy.remove_image_from_store,
                                body['id'], store)
        self.assertEqual(message, str(exc))
        self.assertEqual([], self.deletes())

    def test_no_properties(self):
        body = base.image_body()
        image = base.image_resource(body)
        image.properties = None
        self.mock_image(base.image_body(stores=('fast', 'archive')))
        self.mock_store_delete('cheap', body['id'])
        self.assertEqual('removed', self.proxy.remove_image_from_store(
            image, 'cheap').result)

    def test_import_in_progress(self):
        body = base.image_body(stores=('fast', 'cheap'))
        body['os_glance_importing_to_stores'] = 'archive'
        self.check_refused(
            body, 'fast', exceptions.ImageNotActive,
            'Image %s is being copied into store(s) archive (an import is in '
            'progress); removing a copy now could lose its data. Wait until '
            'the import ends.' % body['id'])

    def test_not_active(self):
        body = base.image_body(status='deactivated')
        self.check_refused(
            body, 'cheap', exceptions.ImageNotActive,
            'Image %s is deactivated; only active images can be removed '
            'from a store.' % body['id'])

    def test_not_in_store(self):
        body = base.image_body(stores=('fast',))
        self.check_refused(
            body, 'cheap', exceptions.ImageNotInStore,
            'Image %s is not in store cheap; it is in: fast.' % body['id'])

    def test_only_store(self):
        body = base.image_body(stores=('cheap',))
        self.check_refused(
            body, 'cheap', exceptions.OnlyStore,
            'Store cheap holds the only copy of image %s; refusing to '
            'remove it. To delete the image, use "openstack image '
            'delete".' % body['id'])

    def test_unknown_store(self):
        body = base.image_body()
        self.check_refused(
            body, 'nope', exceptions.StoreNotFound,
            'Store nope does not exist on this cloud; its stores are: '
            'fast, cheap, archive.')
        self.assertEqual([('GET', V2 + '/info/stores')], self.sent())

    def test_dry_run_sends_no_delete(self):
        body = base.image_body()
        self.mock_image(body)
        removal = self.proxy.remove_image_from_store(
            body['id'], 'cheap', dry_run=True)
        self.assertEqual('would remove', removal.result)
        self.assertEqual(('archive', 'fast'), removal.remaining_stores)
        self.assertEqual([], self.deletes())

    def test_ignore_missing(self):
        body = base.image_body(stores=('fast', 'archive'))
        self.mock_image(body)
        removal = self.proxy.remove_image_from_store(
            body['id'], 'cheap', ignore_missing=True)
        self.assertEqual('absent', removal.result)
        self.assertEqual(('archive', 'fast'), removal.remaining_stores)
        self.assertEqual([], self.deletes())

    def test_ignore_missing_race_404(self):
        body = base.image_body()
        self.mock_image(body, base.image_body(stores=('fast', 'archive')))
        self.mock_store_delete('cheap', body['id'], 404,
                               'Image %s is not stored in store cheap.'
                               % body['id'], html=True)
        removal = self.proxy.remove_image_from_store(
            body['id'], 'cheap', ignore_missing=True)
        self.assertEqual('absent', removal.result)

    def test_store_still_listed_after_204(self):
        body = base.image_body()
        self.mock_image(body, body)
        self.mock_store_delete('cheap', body['id'])
        exc = self.assertRaises(exceptions.RemovalNotVerified,
                                self.proxy.remove_image_from_store,
                                body['id'], 'cheap')
        self.assertIn('now lists stores: archive, cheap, fast', str(exc))
        self.assertEqual(['fast', 'cheap', 'archive'], exc.stores)

    def test_no_store_left_after_204(self):
        body = base.image_body(stores=('fast', 'cheap'))
        self.mock_image(body, base.image_body(stores=None))
        self.mock_store_delete('cheap', body['id'])
        exc = self.assertRaises(exceptions.RemovalNotVerified,
                                self.proxy.remove_image_from_store,
                                body['id'], 'cheap')
        self.assertIn('now lists stores: (none)', str(exc))

    def test_verify_data(self):
        body = base.image_body()
        after = base.image_body(stores=('fast', 'archive'))
        self.mock_image(body, after)
        self.mock_store_delete('cheap', body['id'])
        file_mock = self.http.get(
            '%s/images/%s/file' % (V2, body['id']), status_code=206,
            content=b'x')
        removal = self.proxy.remove_image_from_store(
            body['id'], 'cheap', verify_data=True)
        self.assertEqual('removed', removal.result)
        self.assertEqual('bytes=0-0', file_mock.last_request.headers['Range'])

    def test_verify_data_no_data(self):
        body = base.image_body()
        self.mock_image(body, base.image_body(stores=('fast', 'archive')))
        self.mock_store_delete('cheap', body['id'])
        self.http.get('%s/images/%s/file' % (V2, body['id']),
                      status_code=204)
        exc = self.assertRaises(exceptions.ImageDataUnreadable,
                                self.proxy.remove_image_from_store,
                                body['id'], 'cheap', verify_data=True)
        self.assertIn('The copy in store cheap was removed; Image %s lists '
                      'stores archive, fast, yet its data cannot be read'
                      % body['id'], str(exc))
        self.assertIn('answered 204', str(exc))
        self.assertEqual(['fast', 'archive'], exc.stores)


class TestServerAnswers(base.TestCase):
    """Answers to the DELETE that the read before could not foresee."""

    def check(self, status, text, exc_class, message, html=False):
        self.mock_stores()
        body = base.image_body()
        self.mock_image(body)
        self.mock_store_delete('cheap', body['id'], status, text, html=html)
        exc = self.assertRaises(exc_class, self.proxy.remove_image_from_store,
                                body['id'], 'cheap')
        self.assertEqual(message % {'id': body['id']}, str(exc))
        self.assertEqual(status, exc.http_status)

    def test_policy_403(self):
        self.check(
            403, 'You are not authorized to complete delete_image_location '
            'action.', exceptions.StoreRemovalFailed,
            'Not authorized to remove image %(id)s from store cheap (policy '
            '"delete_image_location", admin-only by default) (HTTP 403: You '
            'are not authorized to complete delete_image_location action.)')

    def test_only_store_403(self):
        self.check(
            403, 'Cannot delete image data from the only store containing '
            'it. Consider deleting the image instead.', exceptions.OnlyStore,
            'Store cheap now holds the only copy of image %(id)s; nothing '
            'was removed (HTTP 403: Cannot delete image data '
            'from the only store containing it. Consider deleting the image '
            'instead.)')

    def test_html_body(self):
        self.check(409, 'Image data could not be deleted because it is in '
                   'use', exceptions.StoreRemovalFailed,
                   'Store cheap refused to remove the data of image %(id)s '
                   'because it is in use (HTTP 409: Image data could not be '
                   'deleted because it is in use)', html=True)

    def test_image_gone_404(self):
        self.check(404, 'Failed to find image x', exceptions.ImageNotFound,
                   'Image %(id)s was not found when removing it from store '
                   'cheap (deleted meanwhile, or not visible to you) (HTTP '
                   '404: Failed to find image x)')

    def test_store_not_on_node_409(self):
        self.check(409, 'The selected store cheap is not available on this '
                   'node.', exceptions.StoreRemovalFailed,
                   'Store cheap is not enabled on the Images API node that '
                   'answered (HTTP 409: The selected store '
                   'cheap is not available on this node.)')

    def test_not_active_409(self):
        self.check(409, "It's not allowed to remove image data from store if "
                   "image status is not 'active'", exceptions.ImageNotActive,
                   "Image %(id)s is no longer active (HTTP 409: "
                   "It's not allowed to remove image data from store if image "
                   "status is not 'active')")

    def test_in_use_409(self):
        self.check(409, 'Image data could not be deleted because it is in '
                   'use', exceptions.StoreRemovalFailed,
                   'Store cheap refused to remove the data of image %(id)s '
                   'because it is in use (HTTP 409: Image data '
                   'could not be deleted because it is in use)')

    def test_server_error_500(self):
        self.check(500, 'Boom', exceptions.StoreRemovalFailed,
                   'The Images API failed to remove image %(id)s from store '
                   'cheap (HTTP 500: Boom)')


class TestRemoveImagesFromStore(base.TestCase):

    def setUp(self):
        super().setUp()
        self.mock_stores()

    def add(self, name, stores=('fast', 'cheap', 'archive'), delete=204):
        body = base.image_body(name=name, stores=stores)
        left = [s for s in stores if s != 'cheap']
        self.mock_image(body, body if delete and delete != 204
                        else base.image_body(name=name, stores=left))
        if delete:
            self.mock_store_delete('cheap', body['id'], delete, 'boom')
        return body['id']

    def test_failure_does_not_stop_batch_and_order_kept(self):
        ids = [self.add('a'), self.add('b', delete=500), self.add('c')]
        removals = list(self.proxy.remove_images_from_store(
            ids, 'cheap', parallel=3))
        self.assertEqual(ids, [r.image_id for r in removals])
        self.assertEqual(['removed', 'failed', 'removed'],
                         [r.result for r in removals])
        self.assertEqual(('archive', 'cheap', 'fast'),
                         removals[1].remaining_stores)
        self.assertEqual(1, self.deletes().count(
            '%s/stores/cheap/%s' % (V2, ids[0])))

    def test_same_image_removed_once(self):
        image_id = self.add('a')
        self.http.get(V2 + '/images', json={'images': [
            base.image_body(name='a')]})
        removals = list(self.proxy.remove_images_from_store(
            [image_id, 'a', image_id], 'cheap', parallel=2))
        self.assertEqual(1, len(removals))
        self.assertEqual(1, len(self.deletes()))

    def test_first_mention_wins_whatever_finishes_first(self):
        slow = base.image_body(name='slow')
        after = base.image_body(name='slow', stores=('fast', 'archive'))
        answers = iter([slow, after])

        def read_slowly(request, context):
            body = next(answers)
            if body is slow:
                time.sleep(0.3)  # the name lookup below resolves first
            return body

        self.http.get('%s/images/%s' % (V2, slow['id']), json=read_slowly)
        self.http.get(V2 + '/images', json={'images': [slow]})
        self.mock_store_delete('cheap', slow['id'])
        other = self.add('other')
        removals = list(self.proxy.remove_images_from_store(
            [slow['id'], other, 'slow'], 'cheap', parallel=3))
        self.assertEqual([(slow['id'], 'removed'), (other, 'removed')],
                         [(r.image_id, r.result) for r in removals])
        self.assertEqual(2, len(self.deletes()))

    def test_unresolved_name_row(self):
        self.http.get(V2 + '/images', json={'images': []})
        removals = list(self.proxy.remove_images_from_store(
            ['ghost'], 'cheap'))
        self.assertEqual(
            [proxy.Removal(None, 'ghost', 'cheap', 'failed', (),
                           'No image with name or ID ghost.')], removals)

    def test_skip_only_copy(self):
        image_id = self.add('solo', stores=('cheap',), delete=None)
        removals = list(self.proxy.remove_images_from_store(
            [image_id], 'cheap', skip_only_copy=True))
        self.assertEqual('skipped', removals[0].result)
        self.assertEqual(('cheap',), removals[0].remaining_stores)
        self.assertEqual([], self.deletes())

    def test_stop_event_starts_nothing_new(self):
        ids = [self.add(name) for name in 'abcd']
        stop = threading.Event()
        batch = self.proxy.remove_images_from_store(
            ids, 'cheap', stop=stop, parallel=1)
        first = next(batch)
        stop.set()
        rest = list(batch)
        self.assertEqual(ids[0], first.image_id)
        handled = [first] + rest
        self.assertEqual(len(handled), len(self.deletes()))
        self.assertLess(len(handled), 4)

    def test_store_checked_before_any_image(self):
        self.assertRaises(exceptions.StoreNotFound, list,
                          self.proxy.remove_images_from_store(
                              ['a'], 'nope'))
        self.assertEqual([('GET', V2 + '/info/stores')], self.sent())

    def test_parallel_must_be_positive(self):
        self.assertRaises(ValueError, list,
                          self.proxy.remove_images_from_store(
                              ['a'], 'cheap', parallel=0))


class TestServerErrorThenRead(base.TestCase):
    """A failed DELETE may have worked: the image is read to tell."""

    def setUp(self):
        super().setUp()
        self.mock_stores()
        self.body = base.image_body()

    def test_removal_happened_anyway(self):
        self.mock_image(self.body, base.image_body(stores=('fast',)))
        self.mock_store_delete('cheap', self.body['id'], 500, 'database is '
                               'locked')
        removal = self.proxy.remove_image_from_store(self.body['id'],
                                                     'cheap')
        self.assertEqual(('removed', ('fast',)),
                         (removal.result, removal.remaining_stores))
        self.assertIn('(HTTP 500: database is locked); the image no longer '
                      'lists store cheap, so the removal happened.',
                      removal.reason)

    def test_removal_did_not_happen(self):
        self.mock_image(self.body, self.body)
        self.mock_store_delete('cheap', self.body['id'], 500, 'boom')
        exc = self.assertRaises(exceptions.StoreRemovalFailed,
                                self.proxy.remove_image_from_store,
                                self.body['id'], 'cheap')
        self.assertEqual(['fast', 'cheap', 'archive'], exc.stores)
        self.assertEqual(500, exc.http_status)

    def test_policy_rule_named_from_glance_text(self):
        self.mock_image(self.body)
        self.mock_store_delete('cheap', self.body['id'], 403, 'You are not '
                               'authorized to complete get_image_location '
                               'action.')
        exc = self.assertRaises(exceptions.StoreRemovalFailed,
                                self.proxy.remove_image_from_store,
                                self.body['id'], 'cheap')
        self.assertIn('(policy "get_image_location", admin-only by default)',
                      str(exc))

    def test_timeout_then_read(self):
        self.mock_image(self.body, base.image_body(stores=('fast',)))
        self.http.delete('%s/stores/cheap/%s' % (V2, self.body['id']),
                         exc=ks_exc.ConnectTimeout)
        removal = self.proxy.remove_image_from_store(self.body['id'],
                                                     'cheap')
        self.assertEqual('removed', removal.result)
        self.assertIn('No answer from the Images API', removal.reason)
        self.assertEqual(1, len(self.deletes()))

    def test_no_retry_of_503(self):
        self.mock_image(self.body, self.body)
        self.mock_store_delete('cheap', self.body['id'], 503, 'busy')
        exc = self.assertRaises(exceptions.StoreRemovalFailed,
                                self.proxy.remove_image_from_store,
                                self.body['id'], 'cheap')
        self.assertEqual(1, len(self.deletes()))
        self.assertEqual(['fast', 'cheap', 'archive'], exc.stores)

    def test_unknown_outcome_says_so(self):
        self.http.get('%s/images/%s' % (V2, self.body['id']), [
            {'json': self.body}, {'status_code': 500, 'json': {}}])
        self.http.delete('%s/stores/cheap/%s' % (V2, self.body['id']),
                         exc=ks_exc.ConnectFailure)
        exc = self.assertRaises(exceptions.StoreRemovalFailed,
                                self.proxy.remove_image_from_store,
                                self.body['id'], 'cheap')
        self.assertIn('The removal may or may not have happened', str(exc))
        self.assertIsNone(exc.stores)

    def test_204_then_unreadable(self):
        self.http.get('%s/images/%s' % (V2, self.body['id']), [
            {'json': self.body}, {'status_code': 403, 'json': {}}])
        self.mock_store_delete('cheap', self.body['id'])
        exc = self.assertRaises(exceptions.RemovalNotVerified,
                                self.proxy.remove_image_from_store,
                                self.body['id'], 'cheap')
        self.assertIn('accepted the removal of image %s from store cheap '
                      '(HTTP 204), but the image could not be read back'
                      % self.body['id'], str(exc))
