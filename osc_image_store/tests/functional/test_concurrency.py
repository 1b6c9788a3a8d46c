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
Store deletes are slow inside Glance (as RBD's or Swift's are), so
that a DELETE holds Glance's read of the image open for seconds.  The
counts are printed on stdout (visible with ``stestr last``).
"""

import collections
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import localcloud

from osc_image_store.tests.functional import base

#: Multiplies the trials (e.g. 10 for a long hammer run; CI uses 1).
SCALE = int(os.environ.get('OSC_IMAGE_STORE_HAMMER_SCALE', '1'))
#: Trials and images per trial of the runs-at-once races.
TWO_TRIALS, THREE_TRIALS, IMAGES = 1 * SCALE, 1 * SCALE, 30
#: Seconds a store delete takes inside Glance in these races.
SLOW_DELETE = 2.0
#: Trials of the import race, and the image size (big enough that a copy
#: takes a while on loopback).
IMPORT_TRIALS, IMPORT_SIZE = 8 * SCALE, 24 * 1024 * 1024
#: The CLI with the image locks taken out (to show the race is real).
_NO_LOCKS = '''
import sys
from osc_image_store.engine import lock
def take(self, image_ids):
    self.held.update(image_ids)
    return lock.Taken(list(image_ids), {}, {})
lock.ImageLocks.take = take
lock.ImageLocks.release = lambda self, image_id: self.held.discard(image_id)
lock.ImageLocks.present = lambda self: None
from openstackclient import shell
sys.exit(shell.main(sys.argv[1:]))
'''


class HammerTestCase(base.TestCase):

    def tearDown(self):
        # Before the cleanups, which delete the test's images.
        self.cloud.set_store_delete_delay(0)
        super().tearDown()

    def slow_deletes(self, seconds=SLOW_DELETE):
        """Make every store delete take ``seconds`` inside Glance."""
        self.cloud.set_store_delete_delay(seconds)
        self.addCleanup(self.cloud.set_store_delete_delay, 0)

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

    def faulty_proxy(self, rng, first_only=False):
        """A FaultProxy for one run's faults (see below).

        Its metadef writes arrive 0.5-3 s late (all, or only the first),
        its store DELETEs 0-2 s late, and its ``Date`` header is 400 s
        off.
        """
        proxy = self.useFixture(localcloud.FaultProxy(
            self.cloud.url('glance'), seed=rng.randrange(1 << 30)))
        count = 1 if first_only else None
        for method in ('POST', 'DELETE'):
            proxy.delay_request((0.5, 3.0), method, r'^/v2/metadefs/',
                                count=count)
        proxy.delay_request((0.0, 2.0), 'DELETE', r'^/v2/stores/',
                            count=None)
        proxy.shift_date(rng.choice((-400, 400)))
        return proxy

    def spawn(self, store, *images, extra=(), image_endpoint=None,
              no_locks=False):
        command = [base.OPENSTACK]
        if no_locks:
            command = [sys.executable, '-c', _NO_LOCKS]
        return subprocess.Popen(
            [*command, 'image', 'store', 'delete', '--store', store,
             '-f', 'json', *extra, *images],
            env=dict(os.environ, **self.cloud.env(
                base.ADMIN, image_endpoint=image_endpoint)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            stdin=subprocess.DEVNULL)

    def count(self, ids, rows, copies):
        """Lost images and false reports after runs over ``ids``.

        :param rows: image ID -> the rows of every run for it.
        :param copies: the stores each image had before the runs.
        :returns: ``(lost, false, outcomes)``.
        """
        lost = false = 0
        outcomes = collections.Counter()
        for image_id in ids:
            readable = self.readable(image_id)
            listed = set(self.cloud.image_stores(image_id))
            on_disk = self.cloud.files_in_stores(image_id)
            lost += not readable or not on_disk
            outcomes[' + '.join(sorted('%s %s' % (r['Result'], r['Store'])
                                       for r in rows[image_id]))] += 1
            for row in rows[image_id]:
                if row['Result'] == 'removed':
                    # Stores only leave: what is listed now must be among
                    # the stores the row said were left.
                    false += (not readable or row['Store'] in listed
                              or row['Store'] in on_disk
                              or not listed <= set(row['Remaining Stores']))
                elif row['Result'] == 'failed':
                    # Nothing was removed by that run, or it says so.
                    false += row['Store'] not in listed and not (
                        'removed' in (row['Reason'] or ''))
            self.settle_expected(image_id)
        return lost, false, outcomes

    def race(self, stores, copies, trials, faults=True, no_locks=False):
        """Runs freeing ``stores`` at once over the same images.

        :returns: ``(lost, false, outcomes)`` over all trials.
        """
        rng = random.Random(len(stores) * 100 + trials)
        lost = false = 0
        outcomes = collections.Counter()
        self.slow_deletes()
        for _trial in range(trials):
            ids = self.create_images(IMAGES, copies)
            runs = []
            for store in stores:
                proxy = self.faulty_proxy(
                    rng, first_only=rng.random() < 0.3) if faults else None
                runs.append(self.spawn(
                    store, *rng.sample(ids, len(ids)),
                    extra=('--lock-wait', '600', '--parallel', '8'),
                    image_endpoint=proxy and proxy.url, no_locks=no_locks))
            rows = collections.defaultdict(list)
            for run in runs:
                stdout, stderr = run.communicate(timeout=900)
                self.assertIn(run.returncode, (0, 1), stderr)
                for row in json.loads(stdout):
                    rows[row['ID']].append(row)
            counts = self.count(ids, rows, copies)
            lost, false = lost + counts[0], false + counts[1]
            outcomes.update(counts[2])
        return lost, false, outcomes


class TestRunsAtOnce(HammerTestCase):

    def check(self, stores, copies, trials):
        lost, false, outcomes = self.race(stores, copies, trials)
        print('runs at once (%s) over %s-copy images, slow store deletes '
              '(%s s), late metadef writes and DELETEs, Date +-400 s: %d '
              'trials x %d images: lost %d, false reports %d, results %s'
              % (', '.join(stores), len(copies), SLOW_DELETE, trials,
                 IMAGES, lost, false, dict(outcomes)))
        self.assertEqual((0, 0), (lost, false), dict(outcomes))
        # The locks serialise the runs per image: every image loses all
        # the copies asked for but one (the last is refused as the only
        # copy), unless a run's outcome is in doubt.
        removed = sum(n * key.count('removed') for key, n in
                      outcomes.items())
        self.assertGreaterEqual(removed, trials * IMAGES
                                * (len(copies) - 1) * 0.9, dict(outcomes))
        self.assertEqual(set(), self.locks() & self.created, dict(outcomes))

    def test_two_runs_of_different_stores_lose_nothing(self):
        self.check(('fast', 'cheap'), ('fast', 'cheap'), TWO_TRIALS)

    def test_three_runs_of_different_stores_lose_nothing(self):
        self.check(('fast', 'cheap', 'archive'), ('fast', 'cheap', 'archive'),
                   THREE_TRIALS)

    def test_without_the_locks_the_same_race_loses_images(self):
        """The race is real: with the locks taken out, images are lost.

        Two runs (``fast`` and ``cheap``) over the same two-copy images,
        slow store deletes, no wire faults: both DELETEs of an image pass
        Glance's "another copy is left" check, and its data is gone.
        """
        ids = self.create_images(10, ('fast', 'cheap'))
        self.slow_deletes()
        runs = [self.spawn(store, *ids, extra=('--parallel', '8'),
                           no_locks=True) for store in ('fast', 'cheap')]
        for run in runs:
            stdout, stderr = run.communicate(timeout=300)
            self.assertIn(run.returncode, (0, 1), stderr)
            self.assertEqual(10, len(json.loads(stdout)), stderr)
        lost = [i for i in ids if not self.readable(i)]
        print('without the locks: %d of %d images lost' % (len(lost),
                                                           len(ids)))
        self.assertGreater(len(lost), 0)
        for image_id in lost:
            del self.expected[image_id]  # lost by design of this test
        for image_id in set(ids) - set(lost):
            self.settle_expected(image_id)


class TestKilledRun(HammerTestCase):

    def test_kill_9_mid_chunk_loses_nothing_and_names_the_locks(self):
        """``kill -9`` of a run mid-chunk, then a run of another store.

        The dead run's images stay locked: the other run reports each
        ``failed``, since when it is locked and the command that clears
        it; after clearing, a re-run finishes them.
        """
        ids = self.create_images(30, ('fast', 'cheap'))
        self.slow_deletes()
        dead = self.spawn('fast', *ids, extra=('--parallel', '4'))
        deadline = time.monotonic() + 60
        # Glance logs a DELETE when it answers: by then the next ones are
        # in its hands.
        while not any(m == 'DELETE' and p.startswith('/v2/stores/fast/')
                      and p.rsplit('/', 1)[1] in ids
                      for m, p, _agent in self.glance_requests()):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        time.sleep(0.5)
        dead.send_signal(signal.SIGKILL)
        output = dead.communicate(timeout=60)
        locked = self.locks() & set(ids)
        self.assertGreater(len(locked), 0, output)
        self.assertLessEqual(len(locked), 20)  # one chunk at most
        other = self.store_delete('cheap', *ids, fail_ok=True,
                                  extra=['--lock-wait', '1'])
        self.assertEqual(1, other.rc, other)
        rows = {row['ID']: row for row in other.json()}
        for image_id in ids:
            row = rows[image_id]
            if image_id in locked:
                self.assertEqual('failed', row['Result'], row)
                self.assertIn('is locked by another run', row['Reason'])
                self.assertIn(' UTC); waited 1 s', row['Reason'])
                self.assertIn('openstack image store lock delete %s'
                              % image_id, row['Reason'])
            else:
                self.assertEqual('removed', row['Result'], row)
        command = [line for line in other.stderr.splitlines()
                   if 'stayed locked by another run' in line]
        self.assertEqual(1, len(command), other.stderr)
        clear = command[0].split('run: openstack ', 1)[1].split()
        self.assertEqual(locked, set(clear[4:]))
        time.sleep(SLOW_DELETE + 1)  # the dead run's DELETEs are done
        self.openstack(*clear)
        self.assertEqual(set(), self.locks() & set(ids))
        again = self.store_delete('fast', *sorted(locked),
                                  extra=['--ignore-missing'])
        for row in again.json():
            self.assertIn(row['Result'], ('removed', 'absent'), row)
        for image_id in ids:
            self.assertTrue(self.readable(image_id), image_id)
            self.settle_expected(image_id)
            self.assertEqual(1, len(self.expected[image_id][1]), image_id)


class TestImportDuringRemoval(HammerTestCase):

    def import_started(self, image_id):
        """Whether Glance has taken (and maybe ended) the copy's import."""
        return any(m == 'POST' and p == '/v2/images/%s/import' % image_id
                   for m, p, _agent in self.glance_requests())

    def test_import_started_mid_removal_is_never_reported_removed(self):
        """A copy-image import started at a random moment of a removal.

        An outcome the import may have spoilt (``unverified``) keeps the
        image's lock: a run of another store refuses the image until an
        operator has checked it and cleared the lock.
        """
        lost = false = ghosts = orphans = kept = 0
        outcomes = collections.Counter()
        rng = random.Random(8)
        self.slow_deletes(1.0)
        for _trial in range(IMPORT_TRIALS):
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
            # Let the import end (it may fail: Glance copies from a store
            # whose copy may be going), then look at what is really there.
            deadline = time.monotonic() + 120
            while self.cloud.image(image_id).get('os_glance_import_task') \
                    or not self.import_started(image_id):
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.2)
            listed = set(self.cloud.image_stores(image_id))
            on_disk = self.cloud.files_in_stores(image_id)
            ghost = listed - on_disk
            ghosts += bool(ghost)
            orphans += bool(on_disk - listed)
            lost += not self.readable(image_id)
            if row['Result'] == 'removed':
                false += bool(ghost) or 'fast' in listed
            if row['Result'] in ('unverified', 'unknown'):
                kept += 1
                false += image_id not in self.locks()
                other = self.store_delete('cheap', image_id, fail_ok=True,
                                          extra=['--lock-wait', '0'])
                false += other.json()[0]['Result'] != 'failed' or (
                    'is locked by another run' not in
                    other.json()[0]['Reason'])
                self.openstack('image', 'store', 'lock', 'delete', image_id)
            outcomes[row['Result']] += 1
            if ghost or on_disk - listed:
                # Glance's own race: the import wrote back the location
                # list it read (a ghost), or the DELETE's save dropped the
                # location the import added (a file no location names).
                # Not the tool's image: forget it (the cleanup deletes it).
                del self.expected[image_id]
            else:
                self.settle_expected(image_id)
        print('import during removal (store deletes 1 s in Glance): %d '
              'trials: lost %d, false reports %d, ghost copies %d, files '
              'no location names %d, locks kept %d, results %s'
              % (IMPORT_TRIALS, lost, false, ghosts, orphans, kept,
                 dict(outcomes)))
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
