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
"""Odd stores and odd images: a read-only ``http`` store, two locations in
one store, 0-byte images (the "odd" Glance shows locations)."""

import os

import localcloud

from osc_image_store.tests.functional import base

ODD = localcloud.ODD_CLOUD


class OddTestCase(base.TestCase):

    def odd_image(self, stores=('fast',), data=None, web=False):
        """An image of the odd Glance in file ``stores`` (+ ``web``)."""
        data = data if data is not None else os.urandom(4096)
        image_id = self.cloud.create_image(
            'isd-odd-' + os.urandom(4).hex(), data, stores=stores, cloud=ODD)
        self.addCleanup(self.cloud.delete_image, image_id, ODD)
        if web:
            self.cloud.add_web_location(image_id, data)
            self.addCleanup(self.cloud.break_web_location, image_id)
        return image_id, data

    def delete_odd(self, store, *images, extra=()):
        return self.openstack('image', 'store', 'delete', '--store', store,
                              '-f', 'json', *extra, *images, cloud=ODD,
                              fail_ok=True)

    def web_file(self, image_id):
        return (self.cloud.web_dir / image_id).exists()


class TestReadOnlyStore(OddTestCase):

    def test_removal_from_read_only_store_says_data_stays(self):
        image_id, data = self.odd_image(('fast',), web=True)
        self.assertEqual({'fast', 'web'},
                         set(self.cloud.image_stores(image_id, ODD)))
        result = self.delete_odd('web', image_id)
        row = result.json()[0]
        self.assertEqual(('unlinked', ['fast']),
                         (row['Result'], row['Remaining Stores']), result)
        self.assertIn('the data there was not deleted', row['Reason'])
        self.assertEqual(0, result.rc, result)
        # Glance dropped the location; the bytes are still at the URL.
        self.assertEqual(['fast'], self.cloud.image_stores(image_id, ODD))
        self.assertTrue(self.web_file(image_id))
        self.assertEqual(data, self.cloud.store_bytes('fast', image_id,
                                                      ODD))

    def test_only_read_only_copies_left_is_refused(self):
        image_id, data = self.odd_image(('fast',), web=True)
        self.cloud.break_web_location(image_id)
        dry = self.delete_odd('fast', image_id, extra=['--dry-run'])
        result = self.delete_odd('fast', image_id)
        for run in (dry, result):
            row = run.json()[0]
            self.assertEqual('failed', row['Result'], run)
            self.assertIn('read-only store (web)', row['Reason'])
            self.assertEqual(1, run.rc)
        self.assertEqual(data, self.cloud.store_bytes('fast', image_id,
                                                      ODD))
        self.assertEqual({'fast', 'web'},
                         set(self.cloud.image_stores(image_id, ODD)))

    def test_forced_removal_onto_a_dead_url_is_reported_failed(self):
        image_id, _ = self.odd_image(('fast',), web=True)
        self.cloud.break_web_location(image_id)
        result = self.delete_odd('fast', image_id,
                                 extra=['--allow-read-only-copies'])
        row = result.json()[0]
        # The operator forced it; the data proof says the truth.
        self.assertEqual(('failed', ['web']),
                         (row['Result'], row['Remaining Stores']), result)
        self.assertIn('cannot be read now', row['Reason'])
        self.assertEqual(1, result.rc)

    def test_forced_removal_onto_a_live_url_is_proven(self):
        # Glance answers 400 to a ranged read from an http store; the
        # proof then reads the first byte of a plain download.
        image_id, data = self.odd_image(('fast',), web=True)
        result = self.delete_odd('fast', image_id,
                                 extra=['--allow-read-only-copies'])
        row = result.json()[0]
        self.assertEqual(('removed', ['web'], None),
                         (row['Result'], row['Remaining Stores'],
                          row['Reason']), result)
        self.assertEqual(0, result.rc)
        self.assertIsNone(self.cloud.store_bytes('fast', image_id, ODD))
        self.assertTrue(self.web_file(image_id))


class TestTwoLocationsInOneStore(OddTestCase):

    def test_every_location_in_the_store_is_removed(self):
        image_id, data = self.odd_image(('fast', 'slow'))
        second = self.cloud.add_second_file_location(image_id, 'fast', ODD)
        dry = self.delete_odd('fast', image_id, extra=['--dry-run'])
        row = dry.json()[0]
        self.assertEqual(('would-remove', ['slow']),
                         (row['Result'], row['Remaining Stores']), dry)
        self.assertIn('holds 2 locations', row['Reason'])
        result = self.delete_odd('fast', image_id)
        row = result.json()[0]
        self.assertEqual(('removed', ['slow'], None),
                         (row['Result'], row['Remaining Stores'],
                          row['Reason']), result)
        self.assertEqual(0, result.rc, result)
        self.assertEqual(['slow'], self.cloud.image_stores(image_id, ODD))
        self.assertIsNone(self.cloud.store_bytes('fast', image_id, ODD))
        self.assertFalse(second.exists())
        self.assertEqual(data, self.cloud.store_bytes('slow', image_id,
                                                      ODD))

    def test_without_locations_shown_stores_lists_it_twice(self):
        # The main Glance hides locations; "stores" names fast twice.
        image_id = self.create_image(('fast', 'cheap'))
        second = self.cloud.add_second_file_location(image_id, 'fast')
        self.assertEqual(['cheap', 'fast', 'fast'],
                         sorted(self.cloud.image_stores(image_id)))
        result = self.store_delete('fast', image_id)
        self.expect_removed(image_id, 'fast')
        row = result.json()[0]
        self.assertEqual(('removed', ['cheap']),
                         (row['Result'], row['Remaining Stores']), result)
        self.assertFalse(second.exists())


class TestZeroByteImage(base.TestCase):

    def test_zero_byte_image_is_removed_and_proven(self):
        image_id = self.create_image(('fast', 'cheap'), data=b'')
        result = self.store_delete('cheap', image_id)
        self.expect_removed(image_id, 'cheap')
        row = result.json()[0]
        self.assertEqual(('removed', ['fast'], None),
                         (row['Result'], row['Remaining Stores'],
                          row['Reason']), result)
