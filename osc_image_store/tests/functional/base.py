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
"""Functional test base: the real ``openstack`` CLI in a subprocess against
the project's local Keystone + multi-store Glance (``tools/localcloud``).

Every image a test creates is tracked with the stores it must be in; after
each test the store directories on disk and the Images API must agree with
that, so that no test can lose an image or a stored byte unnoticed.
"""

from concurrent import futures
import json
import os
import re
import subprocess
import sys
import time
import uuid

import localcloud
import testtools

from osc_image_store.engine import lock

ADMIN = localcloud.ADMIN_CLOUD
MEMBER = localcloud.MEMBER_CLOUD
NOMULTI = localcloud.NOMULTI_CLOUD
ODD = localcloud.ODD_CLOUD
OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')
#: A gunicorn access log line: request line and User-Agent.
_ACCESS = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" .* '
                     r'"(?P<agent>[^"]*)"$')
#: The only DELETEs that a client other than the fixture may send: a
#: store's copy of an image, and an image lock (a tag named by its ID).
_CLI_DELETE = re.compile(r'/v2/stores/[A-Za-z0-9_.-]+/[0-9a-f-]{36}|'
                         r'/v2/metadefs/namespaces/%s/tags/[0-9a-f-]{36}'
                         % lock.NAMESPACE)
#: Where image locks live, for the fixture's own reads.
LOCKS = '/metadefs/namespaces/%s/tags' % lock.NAMESPACE


class CommandResult:
    """A finished ``openstack`` run: ``rc``, ``stdout``, ``stderr``."""

    def __init__(self, args, completed):
        self.args = args
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return 'openstack %s -> %s\nstdout: %s\nstderr: %s' % (
            ' '.join(self.args), self.rc, self.stdout, self.stderr)


class TestCase(testtools.TestCase):
    """Base class: ``self.cloud``, ``self.openstack()``, tracked images."""

    def setUp(self):
        super().setUp()
        self.cloud = localcloud.get_cloud()
        #: image ID -> (bytes, set of stores it must be in)
        self.expected = {}
        #: IDs of the images this test created
        self.created = set()
        self.glance_log = self.cloud.access_log('glance')
        self.glance_log_start = self.glance_log.stat().st_size
        self.addCleanup(self.clear_locks_left)

    def tearDown(self):
        self.check_images_intact()
        self.check_only_store_deletes()
        self.check_no_image_writes()
        self.check_no_locks_left()
        super().tearDown()

    def locks(self):
        """The IDs of the images locked now (tags of the lock namespace)."""
        response = self.cloud.image_api('GET', LOCKS, (200, 404))
        if response.status_code == 404:
            return set()
        return {tag['name'] for tag in response.json()['tags']}

    def check_no_locks_left(self):
        """Check that every run left no lock behind.

        A run unlocks each image once its outcome is known; a test that
        expects a lock to stay (an outcome in doubt, a killed run) clears
        it the documented way before it ends.
        """
        self.assertEqual(set(), self.locks() & self.created,
                         'image locks left behind')

    def clear_locks_left(self):
        """After a failed test: clear the locks of this test's images."""
        for image_id in self.locks() & self.created:
            self.cloud.image_api('DELETE', '%s/%s' % (LOCKS, image_id),
                                 (204, 404))

    def check_only_store_deletes(self):
        """Check that only store-scoped DELETEs reached Glance.

        Any DELETE in Glance's access log that the fixture did not send
        itself must remove one store's copy or one image lock, nothing
        more.
        """
        for path, agent in self.glance_deletes():
            if not agent.startswith(localcloud.FIXTURE_AGENT):
                self.assertTrue(_CLI_DELETE.fullmatch(path),
                                'a DELETE that is not store-scoped: %s (%s)'
                                % (path, agent))

    def check_no_image_writes(self):
        """Check that no client but the fixture sent a PATCH or a PUT.

        Every image save writes back the location list it read: the tool
        must never write to an image (Glance's access log).
        """
        writes = [(m, p) for m, p, agent in self.glance_requests()
                  if m in ('PATCH', 'PUT')
                  and not agent.startswith(localcloud.FIXTURE_AGENT)]
        self.assertEqual([], writes, 'writes to Glance by the CLI')

    # -- images ------------------------------------------------------------

    def create_image(self, stores=localcloud.STORES, name=None,
                     data=None):
        """Create a tracked image in ``stores``; deleted after the test."""
        name = name or 'isd-' + uuid.uuid4().hex[:12]
        data = data if data is not None else os.urandom(4096)
        image_id = self.cloud.create_image(name, data, stores=tuple(stores))
        self.addCleanup(self.cloud.delete_image, image_id)
        self.expected[image_id] = (data, set(stores))
        self.created.add(image_id)
        return image_id

    def create_images(self, count, stores=('fast', 'cheap')):
        """Create ``count`` tracked images, four at a time.

        The functional cloud's Glance runs on PostgreSQL, which takes
        concurrent writes.
        """
        with futures.ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda _: self.create_image(stores),
                                 range(count)))

    def glance_requests(self):
        """(method, path, User-Agent) of each request Glance logged."""
        with open(self.glance_log, errors='replace') as log:
            log.seek(self.glance_log_start)
            lines = log.read().splitlines()
        return [(m['method'], m['path'], m['agent'])
                for m in map(_ACCESS.search, lines) if m]

    def glance_deletes(self):
        """(path, User-Agent) of each DELETE Glance logged in this test."""
        return [(path, agent) for method, path, agent
                in self.glance_requests() if method == 'DELETE']

    def cli_deletes(self):
        """Paths of the DELETEs the CLI (not the fixture) sent."""
        return [path for path, agent in self.glance_deletes()
                if not agent.startswith(localcloud.FIXTURE_AGENT)]

    def kill_glance_mid_copy(self, image_id, stores):
        """Kill Glance's workers while it copies the image into ``stores``.

        "Glance died mid-import": the import task stays ``processing``
        with its lock and importing flag; a half-written file is left in
        the target store, so the image leaves the set whose files are
        checked.
        """
        self.cloud.start_copy(image_id, list(stores))
        deadline = time.monotonic() + 30
        while not self.cloud.image(image_id).get(
                'os_glance_importing_to_stores'):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        self.cloud.kill_workers('glance')
        del self.expected[image_id]

    def expect_removed(self, image_id, store):
        """Say that a test means to remove ``store``'s copy of an image."""
        self.expected[image_id][1].discard(store)

    def check_images_intact(self):
        """Store dirs and the Images API match what the test meant."""
        for image_id, (data, stores) in self.expected.items():
            self.assertEqual(stores, self.cloud.files_in_stores(image_id),
                             'store files of image %s' % image_id)
            for store in stores:
                self.assertEqual(data,
                                 self.cloud.store_bytes(store, image_id),
                                 'bytes of image %s in %s' % (image_id,
                                                              store))
            self.assertEqual(stores, set(self.cloud.image_stores(image_id)),
                             'stores Glance lists for image %s' % image_id)

    # -- the CLI -----------------------------------------------------------

    def openstack(self, *args, cloud=ADMIN, fail_ok=False,
                  image_endpoint=None, api_timeout=None):
        """Run the real ``openstack`` CLI; return a :class:`CommandResult`.

        Unless ``fail_ok``, a non-zero exit or any stderr output fails
        the test. ``image_endpoint`` (e.g. a ``localcloud.FaultProxy``'s
        ``url``) and ``api_timeout`` (seconds) go into the cloud's
        clouds.yaml (see ``LocalCloud.env``).
        """
        env = dict(os.environ, **self.cloud.env(
            cloud, image_endpoint=image_endpoint, api_timeout=api_timeout))
        env.pop('OS_CLOUD', None)
        completed = subprocess.run(
            [OPENSTACK, '--os-cloud', cloud, *args], env=env,
            capture_output=True, text=True, timeout=300,
            stdin=subprocess.DEVNULL)
        result = CommandResult(args, completed)
        if not fail_ok:
            self.assertEqual(0, result.rc, result)
            self.assertEqual('', result.stderr, result)
        return result

    def store_delete(self, store, *images, cloud=ADMIN, fail_ok=False,
                     extra=(), **client):
        """``openstack image store delete --store S IMAGE... -f json``.

        ``client``: ``image_endpoint`` and ``api_timeout`` of
        :meth:`openstack`.
        """
        return self.openstack('image', 'store', 'delete', '--store', store,
                              '-f', 'json', *extra, *images, cloud=cloud,
                              fail_ok=fail_ok, **client)

    def assertCommandFailed(self, result, rc, *messages):
        """Check the exit code and that stderr says each of messages."""
        self.assertEqual(rc, result.rc, result)
        try:
            reasons = [row['Reason'] or '' for row in result.json()]
        except ValueError:
            reasons = []
        for message in messages:
            # A failure's reason is in its row; stderr has a one-line log
            # per image and the summary.
            self.assertIn(message, '\n'.join([result.stderr, *reasons]),
                          result)
