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

from osc_image_store.sdk import exceptions
from osc_image_store.sdk import identifiers
from osc_image_store.tests import hostile

IMAGE_ID = '0c9f8f5e-3c5a-4f6b-9a1d-6e7f8a9b0c1d'


class TestStoreId(testtools.TestCase):

    def test_hostile_values_rejected(self):
        for value in hostile.STORES:
            self.assertRaises(exceptions.InvalidIdentifier,
                              identifiers.check_store_id, value)

    def test_valid_values(self):
        for value in ('fast', 'cheap', 'ceph-1', 'tier_2', 'a.b', 'x' * 255):
            self.assertEqual(value, identifiers.check_store_id(value))

    def test_message_names_the_rule(self):
        exc = self.assertRaises(exceptions.InvalidIdentifier,
                                identifiers.check_store_id, '../images')
        self.assertIn("'../images'", str(exc))
        self.assertIn('ASCII letters', str(exc))

    def test_internal_store_message(self):
        exc = self.assertRaises(exceptions.InvalidIdentifier,
                                identifiers.check_store_id,
                                'os_glance_staging_store')
        self.assertIn('internal stores', str(exc))


class TestImageIdentifiers(testtools.TestCase):

    def test_image_id_must_be_uuid(self):
        for value in ('', '..', '../images', IMAGE_ID + '/..',
                      IMAGE_ID + '?', IMAGE_ID[:-1], 'x' * 36):
            self.assertRaises(exceptions.InvalidIdentifier,
                              identifiers.check_image_id, value)
        self.assertEqual(IMAGE_ID, identifiers.check_image_id(IMAGE_ID))

    def test_name_or_id(self):
        for value in hostile.IMAGES_REJECTED + ['a\nb', 'a\ud800b']:
            self.assertRaises(exceptions.InvalidIdentifier,
                              identifiers.check_image_name_or_id, value)
        for value in hostile.IMAGES_NOT_FOUND + [
                'cirros', 'caf\u00e9 \u6620\u50cf', 'x' * 255, IMAGE_ID,
                'soft\u00adhyphen', 'zero\u200dwidth']:
            self.assertEqual(value,
                             identifiers.check_image_name_or_id(value))

    def test_store_image_path(self):
        self.assertEqual('/stores/cheap/' + IMAGE_ID,
                         identifiers.store_image_path('cheap', IMAGE_ID))
        self.assertRaises(exceptions.InvalidIdentifier,
                          identifiers.store_image_path, '..', IMAGE_ID)
        self.assertRaises(exceptions.InvalidIdentifier,
                          identifiers.store_image_path, 'cheap', '../x')
