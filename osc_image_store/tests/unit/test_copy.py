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
"""Copying a sole copy into another store (copy-image import) and waiting
until the copy is real."""

import threading

from keystoneauth1 import exceptions as ks_exc

from osc_image_store.engine import copy
from osc_image_store.sdk import exceptions
from osc_image_store.tests.unit import base

TASK = '5c1a7d3e-0b8f-4e4a-9a57-6f0f5d2b8c11'


class TestCopyImport(base.TestCase):

    def test_post_import(self):
        body = base.image_body()
        self.http.post('%s/images/%s/import' % (base.V2, body['id']),
                       status_code=202, json={})
        response = self.proxy.import_image(
            base.image_resource(body), method='copy-image', stores=['fast'])
        self.assertEqual(202, response.status_code)
        request = self.requests()[0]
        self.assertEqual(
            ('POST /v2/images/%s/import' % body['id'], 'application/json',
             {'method': {'name': 'copy-image'}, 'stores': ['fast']}),
            (base.describe(request), request.headers['Accept'],
             request.json()))

    def test_hostile_store_sends_nothing(self):
        self.assertRaises(exceptions.InvalidIdentifier,
                          self.proxy.import_image,
                          base.image_resource(base.image_body()),
                          method='copy-image', stores=['fast', '../images'])
        self.assertEqual([], self.sent())


class TestCopyAndWait(base.TestCase):

    def setUp(self):
        super().setUp()
        self.body = base.image_body(stores=('cheap',))
        self.iid = self.body['id']
        self.stop = threading.Event()
        self.import_url = '%s/images/%s/import' % (base.V2, self.iid)

    def copy(self, timeout=5.0):
        return copy.copy_and_wait(self.proxy, self.iid, 'cheap', 'fast',
                                  timeout, self.stop, poll=0.01)

    def reads(self, *bodies):
        self.mock_image(*bodies)

    def copying(self, **fields):
        return base.with_stores(self.body, 'cheap', os_glance_import_task=TASK,
                                os_glance_importing_to_stores='fast',
                                **fields)

    def task(self, status, message=''):
        self.http.get(base.V2 + '/tasks/' + TASK, json={
            'id': TASK, 'status': status, 'type': 'api_image_import',
            'message': message, 'updated_at': '2999-01-01T00:00:00Z'})

    def test_copied_released_listed_and_read(self):
        self.http.post(self.import_url, status_code=202, json={})
        self.task('processing')
        self.reads(self.body, self.copying(),
                   base.with_stores(self.body, 'cheap', 'fast'))
        self.mock_file(self.iid)
        self.assertEqual(copy.Copied(True, None, 300, ('cheap', 'fast'),
                                     'fast'),
                         self.copy())
        self.assertEqual(
            [base.get_image(self.iid), 'POST /v2/images/%s/import' % self.iid,
             base.get_image(self.iid), 'GET /v2/tasks/' + TASK,
             base.get_image(self.iid), base.read_byte(self.iid)],
            self.sent())

    def test_already_there_is_not_copied_again(self):
        there = base.with_stores(self.body, 'cheap', 'fast')
        self.reads(there)
        self.mock_file(self.iid)
        self.assertEqual(copy.Copied(True, None, 0, ('cheap', 'fast'), 'fast'),
                         self.copy())
        self.assertNotIn('POST', ' '.join(self.sent()))

    def test_copy_in_flight_is_waited_for(self):
        self.task('processing')
        self.reads(self.copying(),
                   base.with_stores(self.body, 'cheap', 'fast'))
        self.mock_file(self.iid)
        self.assertIs(True, self.copy().ok)
        self.assertNotIn('POST', ' '.join(self.sent()))

    def test_other_import_blocks(self):
        self.task('processing')
        self.reads(base.with_stores(self.body, 'cheap',
                                    os_glance_import_task=TASK,
                                    os_glance_importing_to_stores='archive'))
        copied = self.copy()
        self.assertIs(False, copied.ok)
        self.assertIn('is being imported into store(s) archive',
                      copied.reason)
        self.assertTrue(copied.reason.endswith(
            'The copy in store cheap is kept.'))

    def test_failed_import_store(self):
        self.http.post(self.import_url, status_code=202, json={})
        self.reads(self.body, base.with_stores(
            self.body, 'cheap', os_glance_failed_import='fast'))
        copied = self.copy()
        self.assertEqual((False, 0, ('cheap',)),
                         (copied.ok, copied.size, copied.stores))
        self.assertIn('Glance failed to copy image %s into store fast'
                      % self.iid, copied.reason)

    def test_task_failed(self):
        self.http.post(self.import_url, status_code=202, json={})
        self.task('failure', 'staging quota exceeded')
        self.reads(self.body, self.copying())
        copied = self.copy()
        self.assertIs(False, copied.ok)
        self.assertIn('The import task %s that copies image %s into store '
                      'fast failed: staging quota exceeded.'
                      % (TASK, self.iid), copied.reason)

    def test_refused(self):
        self.http.post(self.import_url, **base.glance_error(
            403, 'You are not authorized to complete copy_image action.'))
        self.reads(self.body)
        copied = self.copy()
        self.assertIs(False, copied.ok)
        self.assertIn('Glance refused to copy image %s into store fast. '
                      'Glance answered the import with HTTP 403: '
                      % self.iid, copied.reason)
        self.assertEqual(1, len([s for s in self.sent()
                                 if s.startswith('POST')]))

    def test_import_answer_lost_then_read(self):
        self.http.post(self.import_url, exc=ks_exc.ConnectFailure)
        self.reads(self.body, base.with_stores(self.body, 'cheap', 'fast'))
        self.mock_file(self.iid)
        self.assertEqual(copy.Copied(True, None, 300, ('cheap', 'fast'),
                                     'fast'),
                         self.copy())

    def test_import_answered_500_is_waited_for(self):
        # Glance may have started it all the same: read and wait.
        self.http.post(self.import_url, **base.glance_error(500, 'oops'))
        self.task('processing')
        self.reads(self.body, self.copying(),
                   base.with_stores(self.body, 'cheap', 'fast'))
        self.mock_file(self.iid)
        copied = self.copy()
        self.assertEqual((True, ('cheap', 'fast')), (copied.ok, copied.stores))

    def test_ended_without_the_copy(self):
        self.http.post(self.import_url, status_code=202, json={})
        self.reads(self.body, self.body)
        copied = self.copy()
        self.assertIs(False, copied.ok)
        self.assertIn('arrived in store fast', copied.reason)

    def test_copy_unreadable(self):
        self.http.post(self.import_url, status_code=202, json={})
        self.reads(self.body, base.with_stores(self.body, 'cheap', 'fast'))
        self.mock_file(self.iid, 204, b'')
        copied = self.copy()
        self.assertIs(False, copied.ok)
        self.assertIn('Image %s is in store fast now, but GET '
                      '/v2/images/%s/file answered 204 (no data)'
                      % (self.iid, self.iid), copied.reason)

    def test_deadline(self):
        self.http.post(self.import_url, status_code=202, json={})
        self.task('processing')
        self.reads(self.body, self.copying())
        copied = self.copy(timeout=0)
        self.assertIs(False, copied.ok)
        self.assertIn('has not finished after 0 s: its import task %s was '
                      'processing, last updated 2999-01-01T00:00:00Z.' % TASK,
                      copied.reason)

    def test_stop_while_waiting(self):
        self.http.post(self.import_url, status_code=202, json={})
        self.task('processing')

        def ctrl_c(request, context):
            self.stop.set()
            return self.copying()

        self.reads(self.body, {'json': ctrl_c})
        copied = self.copy()
        self.assertEqual((None, ('cheap',)), (copied.ok, copied.stores))
        self.assertIn('Interrupted while waiting for the copy of image %s '
                      'into store fast: its import task %s was processing, '
                      'last updated 2999-01-01T00:00:00Z; the copy may go on '
                      'in Glance.' % (self.iid, TASK), copied.reason)
        self.assertEqual(2, self.sent().count(base.get_image(self.iid)))
