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
"""Pending copies of a parallel import are not copies, on the real local
cloud: its Glance writes the stores of one import in parallel
(``max_parallel_stores`` = 2), and ``set_store_add_hold`` keeps the write
into ``archive`` going while ``cheap`` is done and the image ``active``."""

import os
import time
import uuid

import localcloud

from osc_image_store.tests.functional import base


class TestParallelImport(base.TestCase):

    def setUp(self):
        super().setUp()
        self.assertGreater(self.cloud.max_parallel_stores, 1,
                           'a cloud with max_parallel_stores > 1')
        self.data = os.urandom(8192)
        self.cloud.set_store_add_hold(600, 'archive')
        self.addCleanup(self.cloud.set_store_add_hold, 0)
        self.image_id = self.cloud.start_import(
            'isd-' + uuid.uuid4().hex[:12], self.data, ['cheap', 'archive'])
        self.addCleanup(self.cloud.delete_image, self.image_id)
        self.created.add(self.image_id)

    def active_while_importing(self):
        """Wait until the image is active with cheap, archive still held."""
        deadline = time.monotonic() + 60
        while True:
            image = self.cloud.image(self.image_id)
            if image['status'] == 'active' and image.get('stores'):
                return image
            self.assertLess(time.monotonic(), deadline, image)
            time.sleep(0.1)

    def finish(self):
        self.cloud.set_store_add_hold(0)
        self.cloud.wait_for_stores(self.image_id, ['cheap', 'archive'])
        self.expected[self.image_id] = (self.data, {'cheap', 'archive'})

    def test_store_still_importing_is_no_copy(self):
        image = self.active_while_importing()
        # What Glance 33 shows meanwhile: only active locations are
        # listed, but every target store stays named as importing (cheap
        # too, although it is written) until the last one has ended.
        self.assertEqual('cheap', image['stores'])
        self.assertEqual({'archive', 'cheap'}, set(
            image['os_glance_importing_to_stores'].split(',')))
        self.assertTrue(image['os_glance_import_task'])
        plain = self.store_delete('cheap', self.image_id, fail_ok=True)
        moved = self.store_delete('cheap', self.image_id, fail_ok=True,
                                  extra=['--copy-to', 'fast'])
        for result in (plain, moved):
            self.assertEqual(1, result.rc, result)
            row = result.json()[0]
            self.assertEqual('failed', row['Result'], result)
            self.assertIn('is being imported into store(s) archive, cheap',
                          row['Reason'])
            self.assertIsNone(row.get('Copied To'))
        # Nothing was removed, nothing copied.
        self.assertEqual([], [p for p in self.cli_deletes()
                              if p.startswith('/v2/stores/')])
        self.assertEqual([], [p for m, p, agent in self.glance_requests()
                              if m == 'POST' and p.endswith('/import')
                              and not agent.startswith(
                                  localcloud.FIXTURE_AGENT)])
        self.assertEqual({'cheap'}, self.cloud.files_in_stores(self.image_id))
        self.finish()
