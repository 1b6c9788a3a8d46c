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
"""Stores, and the store-scoped delete of an image's data."""

from unittest import mock

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc
from openstack.image.v2 import service_info as _service_info
import testtools

from osc_image_store.sdk import exceptions
from osc_image_store.sdk import service_info
from osc_image_store.tests import hostile
from osc_image_store.tests.unit import base
from osc_image_store.tests.unit.sdk import base as sdk_base

IDENTIFIER = 'IDENTIFIER'
IMAGE_ID = '0c9f8f5e-3c5a-4f6b-9a1d-6e7f8a9b0c1d'
EXAMPLE = {
    'id': IDENTIFIER,
    'description': 'Fast access to rbd store',
    'default': 'true',
    'read-only': 'true',
    'type': 'rbd',
    'weight': 100,
    'properties': {'pool': 'pool1', 'chunk_size': 65536},
}


class TestStore(testtools.TestCase):

    def test_basic(self):
        sot = service_info.Store()
        self.assertIsInstance(sot, _service_info.Store)
        self.assertIsNone(sot.resource_key)
        self.assertEqual('stores', sot.resources_key)
        self.assertEqual('/info/stores', sot.base_path)
        self.assertFalse(sot.allow_create)
        self.assertFalse(sot.allow_fetch)
        self.assertFalse(sot.allow_commit)
        self.assertFalse(sot.allow_delete)
        self.assertTrue(sot.allow_list)

    def test_make_it(self):
        sot = service_info.Store(**EXAMPLE)
        self.assertEqual(IDENTIFIER, sot.id)
        self.assertEqual('Fast access to rbd store', sot.description)
        self.assertTrue(sot.is_default)
        self.assertTrue(sot.is_read_only)
        self.assertEqual('rbd', sot.type)
        self.assertEqual(100, sot.weight)
        self.assertEqual(EXAMPLE['properties'], sot.properties)

    def test_flags_left_out_are_false(self):
        sot = service_info.Store(id=IDENTIFIER)
        self.assertEqual((False, False, None, None),
                         (sot.is_default, sot.is_read_only, sot.type,
                          sot.weight))

    def test_from_the_recorded_list(self):
        bodies = base.load('stores.json')['stores']
        stores = [service_info.Store.existing(**b) for b in bodies]
        self.assertEqual(
            [('fast', 'fast file store', True, False, None),
             ('cheap', 'cheap file store', False, False, None),
             ('archive', 'archive file store', False, True, None)],
            [(s.id, s.description, s.is_default, s.is_read_only, s.type)
             for s in stores])

    def test_from_the_recorded_detail(self):
        body = base.load('stores_detail.json')['stores'][2]
        store = service_info.Store.existing(**body)
        self.assertEqual(('archive', 'file', 0, True, '/srv/stores/archive'),
                         (store.id, store.type, store.weight,
                          store.is_read_only, store.properties['data_dir']))

    def test_delete_image(self):
        sot = service_info.Store(id='cheap')
        session = mock.Mock()
        session.delete.return_value = mock.Mock(status_code=204)

        self.assertIs(session.delete.return_value,
                      sot.delete_image(session, image=IMAGE_ID))

        session.delete.assert_called_once_with(
            '/stores/cheap/' + IMAGE_ID,
            headers={'Accept': 'application/json'}, allow_reauth=False,
            connect_retries=0, status_code_retries=0,
            retriable_status_codes=[])

    def test_delete_image_refuses_dot_segments(self):
        # openstacksdk 4.22 joins these unchecked: a store ".." turns the
        # request into DELETE /v2/images/{image_id} once Glance normalises
        # the path.
        session = mock.Mock()
        for store in hostile.STORES + ['', '..', '.']:
            self.assertRaises(exceptions.InvalidIdentifier,
                              service_info.Store(id=store).delete_image,
                              session, IMAGE_ID)
        for image in hostile.IMAGES_REJECTED + ['..', IMAGE_ID + '/..']:
            self.assertRaises(exceptions.InvalidIdentifier,
                              service_info.Store(id='cheap').delete_image,
                              session, image)
        session.delete.assert_not_called()


class TestStoreDeleteImage(sdk_base.TestImageProxy):
    """Store.delete_image through the sdk's proxy, as sent."""

    def setUp(self):
        super().setUp()
        self.body = base.image_body()
        self.store = service_info.Store(id='cheap')

    def test_image_resource(self):
        self.mock_store_delete('cheap', self.body['id'])
        response = self.store.delete_image(
            self.proxy, base.image_resource(self.body))
        self.assertEqual(204, response.status_code)
        self.assertEqual([base.store_delete(self.body['id'])], self.sent())
        self.assertEqual('application/json',
                         self.requests()[0].headers['Accept'])

    def test_ignore_missing(self):
        self.mock_store_delete('cheap', self.body['id'], base.glance_error(
            404, 'Image is not stored in store cheap.'))
        self.assertIsNone(self.store.delete_image(
            self.proxy, self.body['id'], ignore_missing=True))
        self.assertRaises(sdk_exc.NotFoundException,
                          self.store.delete_image, self.proxy,
                          self.body['id'])
        self.assertEqual([base.store_delete(self.body['id'])] * 2,
                         self.sent())

    def test_sent_once(self):
        # The proxy sends a read that gets 503 or a dropped connection
        # again; the store delete, never.
        self.proxy.status_code_retries = 3
        self.proxy.connect_retries = 3
        self.mock_store_delete('cheap', self.body['id'],
                               base.glance_error(503, 'busy'),
                               ks_exc.ConnectFailure, 204)
        self.assertRaises(sdk_exc.HttpException, self.store.delete_image,
                          self.proxy, self.body['id'])
        self.assertRaises(ks_exc.ConnectFailure, self.store.delete_image,
                          self.proxy, self.body['id'])
        self.assertEqual([base.store_delete(self.body['id'])] * 2,
                         self.sent())

    def test_segments_percent_encoded(self):
        # Every character a store ID may have is sent as it is: nothing
        # needs encoding, and nothing else gets through the check.
        store = 'Ceph_1.a-b'
        self.mock_store_delete(store, self.body['id'])
        service_info.Store(id=store).delete_image(self.proxy, self.body['id'])
        self.assertEqual([base.store_delete(self.body['id'], store)],
                         self.sent())
