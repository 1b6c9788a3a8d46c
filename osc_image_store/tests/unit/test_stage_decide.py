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
"""The decide stage alone (checks.decide): may the copy leave, on this
read?  The import check first (it may read a task), then the refusals."""

import datetime

from osc_image_store.engine import checks
from osc_image_store.engine import options
from osc_image_store.engine import results
from osc_image_store.tests.unit import base
from osc_image_store.tests.unit import test_checks

Removal = results.Removal
TASK = test_checks.TASK


class TestDecide(base.TestCase):

    def decide(self, opts=options.Options(), **fields):
        body = base.image_body(**fields)
        self.iid = body['id']
        return checks.decide(base.image_resource(body), self.proxy, 'cheap',
                             test_checks.stores(), opts)

    def test_removal_may_go_on(self):
        self.assertIsNone(self.decide())
        self.assertEqual([], self.sent())

    def test_refused_row_with_the_stores_as_read(self):
        row = self.decide(stores=('fast', 'archive'))
        self.assertEqual(Removal(
            self.iid, 'cirros', 'cheap', 'failed', ('archive', 'fast'),
            'Image %s is not in store cheap; it is in: archive, fast.'
            % self.iid), row)
        self.assertEqual([], self.sent())

    def test_ignore_missing_is_absent(self):
        row = self.decide(options.Options(ignore_missing=True),
                          stores=('fast',))
        self.assertEqual(Removal(self.iid, 'cirros', 'cheap', 'absent',
                                 ('fast',), None), row)

    def test_skip_only_copy_is_skipped(self):
        row = self.decide(options.Options(skip_only_copy=True),
                          stores=('cheap',))
        self.assertEqual(('skipped', ('cheap',)),
                         (row.result, row.remaining_stores))
        self.assertIn('holds the only copy', row.reason)
        self.assertEqual('failed', self.decide(stores=('cheap',)).result)

    def test_allow_read_only_copies(self):
        self.assertEqual('failed',
                         self.decide(stores=('cheap', 'archive')).result)
        self.assertIsNone(self.decide(
            options.Options(allow_read_only_copies=True),
            stores=('cheap', 'archive')))

    def test_import_checked_first_with_its_task(self):
        # decide() reads the clock: the task was updated just now.
        now = datetime.datetime.now(datetime.timezone.utc)
        self.http.get(base.V2 + '/tasks/' + TASK, json=test_checks.task(
            'processing', updated_at=now.strftime('%Y-%m-%dT%H:%M:%SZ')))
        # Not in the store, and missing is ignored: still the import
        # refuses it (its end could write the store back).
        row = self.decide(options.Options(ignore_missing=True),
                          stores=('fast',), os_glance_import_task=TASK)
        self.assertEqual(('failed', ('fast',)),
                         (row.result, row.remaining_stores))
        self.assertTrue(row.reason.startswith(
            'Image %s is being imported (task %s, processing); removing a '
            'copy now could leave a ghost copy' % (self.iid, TASK)),
            row.reason)
        self.assertEqual(['GET /v2/tasks/' + TASK], self.sent())

    def test_image_not_active_no_task_read(self):
        row = self.decide(status='importing', os_glance_import_task=TASK)
        self.assertEqual(Removal(
            self.iid, 'cirros', 'cheap', 'failed',
            ('archive', 'cheap', 'fast'),
            'Image %s is importing; only active images can be removed from '
            'a store.' % self.iid), row)
        self.assertEqual([], self.sent())
