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
"""Decisions from one fresh read: refusals and the import check."""

import datetime

from osc_image_store.engine import checks
from osc_image_store.engine import results
from osc_image_store.sdk import service_info
from osc_image_store.tests.unit import base
from osc_image_store.v2 import advice

TASK = '5c1a7d3e-0b8f-4e4a-9a57-6f0f5d2b8c11'
OLD_TASK = '5c1a7d3e-0b8f-4e4a-9a57-6f0f5d2b8c10'
UPDATED = '2026-12-01T10:00:00Z'
AT = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.timezone.utc)


def stores():
    return {s['id']: service_info.Store.existing(**s)
            for s in base.load('stores.json')['stores']}


def task(status, task_id=TASK, updated_at=UPDATED):
    """A task body as GET /v2/tasks/{id} and /v2/images/{id}/tasks give."""
    return {'id': task_id, 'type': 'api_image_import', 'status': status,
            'created_at': '2026-12-01T09:00:00Z', 'updated_at': updated_at,
            'owner': 'p', 'input': {}, 'result': None, 'message': '',
            'image_id': base.image_body()['id'], 'request_id': 'req-1',
            'user_id': 'u'}


class TestRefusal(base.TestCase):

    def refusal(self, store='cheap', **body):
        image = base.image_resource(base.image_body(**body))
        return image.id, checks.refusal(image, store, stores())

    def test_passes(self):
        self.assertEqual((base.image_body()['id'], None), self.refusal())

    def test_not_active_first(self):
        image_id, refused = self.refusal(status='queued', stores=('fast',))
        self.assertEqual((results.FAILED, 'Image %s is queued; only active '
                          'images can be removed from a store.' % image_id),
                         refused)

    def test_not_in_store(self):
        image_id, refused = self.refusal(stores=('fast', 'archive'))
        self.assertEqual((results.FAILED, 'Image %s is not in store cheap; '
                          'it is in: archive, fast.' % image_id), refused)

    def test_not_in_store_ignored(self):
        image = base.image_resource(base.image_body(stores=('fast',)))
        self.assertEqual((results.ABSENT, None), checks.refusal(
            image, 'cheap', stores(), ignore_missing=True))

    def test_queued_image_is_absent_when_missing_is_ignored(self):
        # A re-run of a runbook must not stall on an image without data.
        image = base.image_resource(base.image_body(stores=None,
                                                    status='queued'))
        self.assertEqual((results.ABSENT, None), checks.refusal(
            image, 'cheap', stores(), ignore_missing=True))
        self.assertEqual(results.FAILED, checks.refusal(
            image, 'cheap', stores())[0])

    def test_only_copy(self):
        image = base.image_resource(base.image_body(stores=('cheap',)))
        reason = ('Store cheap holds the only copy of image %s; it is kept. '
                  'To move it, run the command again with --copy-to '
                  '<another store>; to delete the image itself, use '
                  '"openstack image delete %s".' % (image.id, image.id))
        self.assertEqual((results.FAILED, reason), checks.refusal(
            image, 'cheap', stores(), advice=advice.ADVICE))
        self.assertEqual((results.SKIPPED, reason), checks.refusal(
            image, 'cheap', stores(), skip_only_copy=True,
            advice=advice.ADVICE))

    def test_every_other_copy_read_only(self):
        image = base.image_resource(base.image_body(
            stores=('cheap', 'archive')))
        result, reason = checks.refusal(image, 'cheap', stores(),
                                        advice=advice.ADVICE)
        self.assertEqual(results.FAILED, result)
        self.assertEqual(
            'Every other copy of image %s is on a read-only store (archive), '
            'whose data Glance cannot check or manage; the copy in cheap is '
            'kept. Pass --allow-read-only-copies to remove it anyway.'
            % image.id, reason)
        self.assertEqual(results.SKIPPED, checks.refusal(
            image, 'cheap', stores(), skip_only_copy=True)[0])
        self.assertIsNone(checks.refusal(image, 'cheap', stores(),
                                         allow_read_only_copies=True))

    def test_one_writable_copy_is_enough(self):
        image = base.image_resource(base.image_body(
            stores=('cheap', 'archive', 'fast')))
        self.assertIsNone(checks.refusal(image, 'cheap', stores()))

    def test_store_not_listed_counts_as_writable(self):
        image = base.image_resource(base.image_body(
            stores=('cheap', 'legacy')))
        self.assertIsNone(checks.refusal(image, 'cheap', stores()))


class TestImportBlocker(base.TestCase):

    def mock_image_tasks(self, *tasks):
        # openstacksdk reads the version document before this listing.
        self.http.get(base.V2 + '/', json=base.load('versions.json'))
        self.http.get('%s/images/%s/tasks'
                      % (base.V2, base.image_body()['id']),
                      json={'tasks': list(tasks)})

    def blocker(self, now=AT, **fields):
        body = base.image_body(**fields)
        self.image_id = body['id']
        return checks.import_blocker(base.image_resource(body), self.proxy,
                                     now=now, advice=advice.ADVICE)

    def test_no_marker_no_request(self):
        self.assertIsNone(self.blocker())
        self.assertIsNone(self.blocker(os_glance_importing_to_stores=None,
                                       os_glance_failed_import='fast'))
        self.assertEqual([], self.sent())

    def test_unreadable_task_still_refuses(self):
        # GET /v2/tasks/{id} fails: the refusal stands, without details.
        self.http.get(base.V2 + '/tasks/' + TASK, status_code=404,
                      json={'message': 'gone'})
        reason = self.blocker(os_glance_import_task=TASK)
        self.assertEqual(
            'Image %s is being imported (task %s); removing a copy now could '
            'leave a ghost copy and lose data. Run this command again when '
            'the import has ended ("openstack image store list --image %s" '
            'shows the stores).' % (self.image_id, TASK, self.image_id),
            reason)

    def test_running_import_lock(self):
        self.http.get(base.V2 + '/tasks/' + TASK, json=task('processing'))
        reason = self.blocker(os_glance_import_task=TASK)
        self.assertEqual(
            'Image %s is being imported (task %s, processing); removing a '
            'copy now could leave a ghost copy and lose data. Run this '
            'command again when the import has ended ("openstack image store '
            'list --image %s" shows the stores). Its task was last updated '
            '%s (0 min ago); if no import is running any more (the Images '
            'API was restarted mid-copy), Glance treats the lock as expired '
            '60 minutes after that and the next import replaces it.'
            % (self.image_id, TASK, self.image_id, UPDATED), reason)
        self.assertEqual(['GET /v2/tasks/' + TASK], self.sent())

    def test_lock_expires_after_exactly_60_minutes(self):
        self.http.get(base.V2 + '/tasks/' + TASK, json=task('processing'))
        hour = datetime.timedelta(minutes=60)
        second = datetime.timedelta(seconds=1)
        self.assertIn('is being imported (task %s, processing)' % TASK,
                      self.blocker(now=AT + hour - second,
                                   os_glance_import_task=TASK))
        self.assertIn(
            'has an import lock of task %s (processing) that has not changed '
            'since %s: Glance treats it as expired' % (TASK, UPDATED),
            self.blocker(now=AT + hour, os_glance_import_task=TASK))

    def test_pending_lock_expires_after_exactly_120_minutes(self):
        self.http.get(base.V2 + '/tasks/' + TASK, json=task('pending'))
        minutes = datetime.timedelta(minutes=120)
        second = datetime.timedelta(seconds=1)
        self.assertIn('is being imported (task %s, pending)' % TASK,
                      self.blocker(now=AT + minutes - second,
                                   os_glance_import_task=TASK))
        self.assertIn('Glance treats it as expired', self.blocker(
            now=AT + minutes, os_glance_import_task=TASK))

    def test_stale_lock_of_a_failed_task(self):
        self.http.get(base.V2 + '/tasks/' + TASK, json=task('failure'))
        reason = self.blocker(os_glance_import_task=TASK,
                              os_glance_importing_to_stores='archive')
        self.assertEqual(
            'Image %s still has the import lock os_glance_import_task of '
            'import task %s, which ended in failure: the marker is stale '
            '(Glance stopped or failed mid-import) and no import is running, '
            'but it is not removed while it is there. Glance lets a new '
            'import replace the lock 60 minutes after the task\'s last update '
            '(%s). To clear it, re-run the copy (openstack image import %s '
            '--method copy-image --store archive) and, when it has ended, run '
            'this command again.'
            % (self.image_id, TASK, UPDATED, self.image_id), reason)

    def test_stale_importing_flag(self):
        self.mock_image_tasks(
            task('success', OLD_TASK, '2026-11-01T00:00:00Z'),
            task('failure'))
        reason = self.blocker(os_glance_importing_to_stores='fast,archive')
        self.assertEqual(
            'Image %s still has the importing flag '
            'os_glance_importing_to_stores (archive, fast) of import task %s, '
            'which ended in failure: the marker is stale (Glance stopped or '
            'failed mid-import) and no import is running, but it is not '
            'removed while it is there. To clear it, re-run the copy '
            '(openstack image import %s --method copy-image --store archive '
            'fast) and, when it has ended, run this command again.'
            % (self.image_id, TASK, self.image_id), reason)
        self.assertEqual(['GET /v2/', 'GET /v2/images/%s/tasks'
                          % self.image_id], self.sent())

    def test_importing_flag_with_a_running_task(self):
        self.mock_image_tasks(
            task('processing', OLD_TASK),
            task('failure', TASK, '2026-12-01T10:30:00Z'))
        reason = self.blocker(os_glance_importing_to_stores='fast')
        self.assertIn('is being imported into store(s) fast (task %s, '
                      'processing)' % OLD_TASK, reason)
