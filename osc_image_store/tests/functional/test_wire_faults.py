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
"""Faults on the wire between the CLI and Glance (a FaultProxy in front of
the real Glance): the report must say what really happened, or
``unknown`` when nobody can know, and nothing may be lost."""

import json
import os
import signal
import subprocess
import time

import localcloud

from osc_image_store.tests.functional import base

DELETE = r'^/v2/stores/'


class FaultTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.proxy = self.useFixture(localcloud.FaultProxy(
            self.cloud.url('glance')))

    def delete(self, store, *images, timeout=None, extra=()):
        return self.openstack(
            'image', 'store', 'delete', '--store', store, '-f', 'json',
            *extra, *images, fail_ok=True, image_endpoint=self.proxy.url,
            api_timeout=timeout)

    def row(self, result):
        rows = result.json()
        self.assertEqual(1, len(rows), result)
        return rows[0]

    def locked(self, image_id):
        return image_id in self.locks()

    def clear(self, *image_ids):
        """Clear locks the documented way (after checking the images)."""
        self.openstack('image', 'store', 'lock', 'delete', *image_ids)

    def popen(self, args, env):
        return subprocess.Popen(
            [base.OPENSTACK, *args], env=dict(os.environ, **env),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            stdin=subprocess.DEVNULL)

    def spawn_delete(self, store, *images, extra=()):
        env = self.cloud.env(base.ADMIN, image_endpoint=self.proxy.url)
        return self.popen(['image', 'store', 'delete', '--store', store,
                           '-f', 'json', *extra, *images], env)

    def wait_for_delete(self, count=1):
        deadline = time.monotonic() + 60
        while sum(s.method == 'DELETE' and s.path.startswith('/v2/stores/')
                  for s in self.proxy.seen) < count:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)


class TestWireFaults(FaultTestCase):

    def test_timeout_after_glance_did_it_is_removed(self):
        image_id = self.create_image(('fast', 'cheap'))
        self.proxy.delay_response(5, 'DELETE', DELETE)
        result = self.delete('cheap', image_id, timeout=2)
        self.expect_removed(image_id, 'cheap')
        row = self.row(result)
        self.assertEqual(('removed', ['fast']),
                         (row['Result'], row['Remaining Stores']), result)
        self.assertIn('no longer lists store cheap', row['Reason'])
        self.assertEqual(0, result.rc, result)
        self.assertFalse(self.locked(image_id))

    def test_timeout_before_glance_did_it_is_unknown_and_keeps_its_lock(
            self):
        image_id = self.create_image(('fast', 'cheap'))
        self.proxy.delay_request(6, 'DELETE', DELETE)
        result = self.delete('cheap', image_id, timeout=2)
        row = self.row(result)
        self.assertEqual('unknown', row['Result'], result)
        self.assertIn('may or may not have happened', row['Reason'])
        self.assertIn('Its lock stays (tag %s' % image_id, row['Reason'])
        self.assertIn('openstack image store lock delete %s' % image_id,
                      result.stderr)
        self.assertEqual(1, result.rc, result)
        # Glance carries it out later: the lock keeps other runs away.
        self.assertTrue(self.locked(image_id))
        other = self.delete('fast', image_id, extra=['--lock-wait', '1'])
        self.assertEqual('failed', self.row(other)['Result'], other)
        self.assertIn('is locked by another run', self.row(other)['Reason'])
        deadline = time.monotonic() + 30
        while 'cheap' in self.cloud.image_stores(image_id):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.2)
        self.expect_removed(image_id, 'cheap')
        # The documented way out, then a re-run that settles it.
        self.clear(image_id)
        again = self.delete('cheap', image_id, extra=['--ignore-missing'])
        self.assertEqual('absent', self.row(again)['Result'], again)
        self.assertEqual(0, again.rc, again)
        self.assertEqual(['fast'], self.cloud.image_stores(image_id))

    def test_503_without_forwarding_is_unknown(self):
        image_id = self.create_image(('fast', 'cheap'))
        self.proxy.status(503, 'backend timeout', 'DELETE', DELETE)
        result = self.delete('cheap', image_id)
        row = self.row(result)
        self.assertEqual(('unknown', ['cheap', 'fast']),
                         (row['Result'], row['Remaining Stores']), result)
        self.assertIn('HTTP 503', row['Reason'])
        self.assertEqual(1, result.rc)
        self.assertTrue(self.locked(image_id))
        self.clear(image_id)

    def test_502_after_glance_did_it_is_removed(self):
        image_id = self.create_image(('fast', 'cheap'))
        self.proxy.status_after_forward(502, 'bad gateway', 'DELETE', DELETE)
        result = self.delete('cheap', image_id)
        self.expect_removed(image_id, 'cheap')
        row = self.row(result)
        self.assertEqual('removed', row['Result'], result)
        self.assertIn('HTTP 502', row['Reason'])
        self.assertEqual(0, result.rc)

    def test_dropped_connection_after_glance_did_it_is_removed(self):
        image_id = self.create_image(('fast', 'cheap'))
        self.proxy.drop_after_forward('DELETE', DELETE)
        result = self.delete('cheap', image_id)
        self.expect_removed(image_id, 'cheap')
        row = self.row(result)
        self.assertEqual(('removed', ['fast']),
                         (row['Result'], row['Remaining Stores']), result)
        self.assertEqual(0, result.rc)

    def test_204_with_failed_read_back_is_unverified_without_stores(self):
        image_id = self.create_image(('fast', 'cheap'))
        self.proxy.delay_response(3, 'DELETE', DELETE)
        process = self.spawn_delete('cheap', image_id)
        self.wait_for_delete()
        # Every read after the DELETE fails.
        self.proxy.status(503, 'down', 'GET', r'^/v2/images', count=None)
        stdout, stderr = process.communicate(timeout=120)
        self.expect_removed(image_id, 'cheap')
        row = json.loads(stdout)[0]
        self.assertEqual(('unverified', None),
                         (row['Result'], row['Remaining Stores']), stderr)
        self.assertIn('could not be read back', row['Reason'])
        self.assertEqual(1, process.returncode)
        self.proxy.clear()
        self.assertTrue(self.locked(image_id))
        self.clear(image_id)


class TestSecondInterrupt(FaultTestCase):

    def test_second_ctrl_c_reports_finished_and_in_flight_rows(self):
        ids = self.create_images(6)
        # DELETEs reach Glance at once; their answers are held back.
        self.proxy.delay_response(4, 'DELETE', DELETE, count=None)
        env = self.cloud.env(base.ADMIN, image_endpoint=self.proxy.url)
        process = self.popen(['image', 'store', 'delete', '--store',
                              'cheap', '--parallel', '2', '-f', 'json',
                              *ids], env)
        self.wait_for_delete(2)
        process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
        self.assertEqual(130, process.returncode, stderr)
        rows = json.loads(stdout)
        sent = [s.path.rsplit('/', 1)[1] for s in self.proxy.seen
                if s.method == 'DELETE' and s.path.startswith('/v2/stores/')]
        self.assertEqual(2, len(sent), self.proxy.seen)
        self.assertEqual(sorted(sent), sorted(r['ID'] for r in rows))
        for row in rows:
            self.assertEqual('unknown', row['Result'], row)
            self.assertIn('may or may not have happened', row['Reason'])
        self.assertIn('the others were not started', stderr)
        for image_id in sent:
            self.expect_removed(image_id, 'cheap')
        # The two in flight keep their locks; the others were unlocked.
        self.assertEqual(set(sent), self.locks() & set(ids))
        time.sleep(4)  # the held answers come back; Glance is done
        self.clear(*sent)
