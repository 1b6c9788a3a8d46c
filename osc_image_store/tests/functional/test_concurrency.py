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
"""Hammer tests: races that lose images, repeated on the real local cloud.

Each test repeats a race and counts, over all trials, the images left
without readable data (a one-byte read as admin, and the files on disk)
and the reports that were false (``removed`` for an image without data,
or for a copy that is still listed).  Zero is the only passing count.
The counts are printed on stdout (visible with ``stestr last``).
"""

import collections
import json
import os
import random
import subprocess
import threading
import time

import localcloud

from osc_image_store.tests.functional import base

#: Multiplies the trials (e.g. 10 for a long hammer run; CI uses 1).
SCALE = int(os.environ.get('OSC_IMAGE_STORE_HAMMER_SCALE', '1'))
#: Trials and images per trial of the two-run race.
RUNS_TRIALS, RUNS_IMAGES = 3 * SCALE, 30
#: Trials of the import race, and the image size (big enough that a copy
#: takes a while on loopback).
IMPORT_TRIALS, IMPORT_SIZE = 8 * SCALE, 24 * 1024 * 1024


class HammerTestCase(base.TestCase):

    def readable(self, image_id):
        """Whether one byte of the image's data can be read (as admin)."""
        response = self.cloud.image_api(
            'GET', f'/images/{image_id}/file', (200, 204, 206, 416),
            headers={'Range': 'bytes=0-0'})
        return response.status_code in (200, 206) and response.content

    def settle_expected(self, image_id):
        """After a race: expect what Glance lists, and check it is real.

        The teardown then proves that the store files match the stores
        Glance lists (no ghost copy) with the original bytes.
        """
        data, _ = self.expected[image_id]
        self.expected[image_id] = (data, set(self.cloud.image_stores(
            image_id)))

    def spawn(self, store, *images, extra=(), image_endpoint=None):
        return subprocess.Popen(
            [base.OPENSTACK, 'image', 'store', 'delete', '--store', store,
             '-f', 'json', *extra, *images],
            env=dict(os.environ, **self.cloud.env(
                base.ADMIN, image_endpoint=image_endpoint)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            stdin=subprocess.DEVNULL)


class TestTwoRunsAtOnce(HammerTestCase):

    def test_runs_freeing_different_stores_lose_nothing(self):
        """Three runs at once: two free ``fast``, one frees ``cheap``.

        Runs of the same store share the lock between runs; the run of
        the other store waits for them (or they for it).  Per image, at
        most one store's copy may go.
        """
        lost = false = removed = 0
        outcomes = collections.Counter()
        stores = ('fast', 'cheap', 'fast')
        rng = random.Random(6)
        # Every run goes through one proxy that holds a store DELETE until
        # another DELETE of the same image comes (0.5 s at most): without
        # the lock, the runs' DELETEs of one image meet in Glance, whose
        # "another copy is left" check then passes for both.
        proxy = self.useFixture(localcloud.FaultProxy(
            self.cloud.url('glance')))
        proxy.pair_deletes(0.5)
        for trial in range(RUNS_TRIALS):
            ids = self.create_images(RUNS_IMAGES, ('fast', 'cheap'))
            runs = [self.spawn(store, *rng.sample(ids, len(ids)),
                               extra=('--lock-wait', '600', '--parallel',
                                      '8'), image_endpoint=proxy.url)
                    for store in stores]
            outputs = [run.communicate(timeout=900) for run in runs]
            rows = {}
            for (stdout, stderr), run in zip(outputs, runs):
                self.assertIn(run.returncode, (0, 1), stderr)
                for row in json.loads(stdout):
                    rows.setdefault(row['ID'], []).append(row)
            for image_id in ids:
                readable = self.readable(image_id)
                listed = set(self.cloud.image_stores(image_id))
                lost += not readable
                results = sorted('%s %s' % (r['Result'], r['Store'])
                                 for r in rows[image_id])
                outcomes[' + '.join(results)] += 1
                gone = set()
                for row in rows[image_id]:
                    if row['Result'] == 'removed':
                        removed += 1
                        gone.add(row['Store'])
                        false += (not readable or row['Store'] in listed
                                  or set(row['Remaining Stores']) != listed)
                # At most one store's copy goes: the other store's run is
                # refused (only copy) on its fresh read.  An "unknown"
                # (a connection reset on the DELETE) leaves a hold, so
                # the other runs are refused then too; "unverified" says
                # the result could not be proven.
                unknown = any(r['Result'] in ('unknown', 'unverified')
                              for r in rows[image_id])
                false += len(gone) > 1 or (
                    not gone and listed != {'fast', 'cheap'}
                    and not unknown)
                self.settle_expected(image_id)
        print('runs at once (%s): %d trials x %d images: lost %d, false '
              'reports %d, results %s' % (', '.join(stores), RUNS_TRIALS,
                                          RUNS_IMAGES, lost, false,
                                          dict(outcomes)))
        self.assertEqual((0, 0), (lost, false))
        # Nearly every image loses one copy (unknown outcomes aside).
        self.assertGreaterEqual(removed, RUNS_TRIALS * RUNS_IMAGES * 0.9,
                                dict(outcomes))


class TestImportDuringRemoval(HammerTestCase):

    def test_import_started_mid_removal_is_never_reported_removed(self):
        """A copy-image import started at a random moment of a removal."""
        lost = false = ghosts = 0
        outcomes = {}
        rng = random.Random(8)
        for trial in range(IMPORT_TRIALS):
            image_id = self.create_image(('fast', 'cheap'),
                                         data=os.urandom(IMPORT_SIZE))
            delay = rng.uniform(0.5, 2.5)
            timer = threading.Timer(delay, self.cloud.start_copy,
                                    (image_id, ['archive']))
            run = self.spawn('fast', image_id)
            timer.start()
            stdout, stderr = run.communicate(timeout=300)
            timer.join()
            row = json.loads(stdout)[0]
            self.assertEqual(run.returncode, int(row['Result'] != 'removed'),
                             stderr)
            # Let the import end, then look at what is really there.
            self.cloud.wait_for_stores(image_id, ['archive'], timeout=120)
            deadline = time.monotonic() + 60
            while self.cloud.image(image_id).get('os_glance_import_task'):
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.2)
            listed = set(self.cloud.image_stores(image_id))
            on_disk = self.cloud.files_in_stores(image_id)
            ghost = listed - on_disk
            ghosts += bool(ghost)
            lost += not self.readable(image_id)
            if row['Result'] == 'removed':
                false += bool(ghost) or 'fast' in listed
            outcomes[row['Result']] = outcomes.get(row['Result'], 0) + 1
            if ghost:
                # Glance's own race (the import wrote back the location
                # list it read); the report said so. Not the tool's
                # image: forget it (the cleanup deletes it).
                del self.expected[image_id]
            else:
                self.settle_expected(image_id)
        print('import during removal: %d trials: lost %d, false reports '
              '%d, ghost copies %d, results %s'
              % (IMPORT_TRIALS, lost, false, ghosts, outcomes))
        self.assertEqual((0, 0), (lost, false))


class TestDeadImport(HammerTestCase):

    def test_import_left_by_a_dead_glance_is_named_with_its_task(self):
        image_id = self.create_image(('fast',), data=os.urandom(IMPORT_SIZE))
        self.kill_glance_mid_copy(image_id, ['cheap'])
        image = self.cloud.image(image_id)
        task = image['os_glance_import_task']
        self.assertEqual('cheap', image['os_glance_importing_to_stores'])
        for store in ('fast', 'cheap'):
            result = self.store_delete(store, image_id, fail_ok=True)
            row = result.json()[0]
            self.assertEqual('failed', row['Result'], result)
            self.assertIn('task %s, processing' % task, row['Reason'])
            self.assertIn('Glance treats the lock as expired 60 minutes '
                          'after that', row['Reason'])
            self.assertEqual(1, result.rc)
        self.assertEqual(['fast'], self.cloud.image_stores(image_id))
        self.assertTrue(self.readable(image_id))
