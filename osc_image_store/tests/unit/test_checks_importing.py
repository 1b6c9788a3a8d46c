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
"""Pending copies of a parallel import are not copies.

Glance 33 lists only ``active`` locations in ``stores`` (the placeholder
of a store still being written is not listed), but with
``max_parallel_stores`` > 1 an import makes the image ``active`` after
its first store and names every target store in
``os_glance_importing_to_stores`` until the last one has ended
(``glance/async_/flows/parallel_api_image_import.py``; checked on the
local cloud by ``tests/functional/test_parallel_import.py``).  A store
named there never counts as another copy.
"""

from osc_image_store.engine import checks
from osc_image_store.engine import results
from osc_image_store.tests.unit import base
from osc_image_store.tests.unit import test_checks
from osc_image_store.v2 import advice

TASK = test_checks.TASK


def parallel(stores, importing, **fields):
    """An image in the middle of a parallel import, as Glance lists it."""
    return base.image_resource(base.image_body(
        stores=stores, os_glance_import_task=TASK,
        os_glance_importing_to_stores=','.join(importing), **fields))


class TestImportingIsNoCopy(base.TestCase):

    def test_copies_outside_leaves_out_stores_being_imported(self):
        # cheap is written (the image turned active), fast still imports:
        # both stay named until the import ends.
        image = parallel(('cheap', 'fast'), ('cheap', 'fast'))
        self.assertEqual([], checks.copies_outside(image, 'cheap'))
        image = parallel(('cheap', 'archive', 'fast'), ('fast',))
        self.assertEqual(['archive'], checks.copies_outside(image, 'cheap'))

    def test_needs_copy(self):
        image = parallel(('cheap', 'fast'), ('fast',))
        self.assertTrue(checks.needs_copy(image, 'cheap',
                                          test_checks.stores()))

    def test_refusal_names_the_store_being_imported(self):
        image = parallel(('cheap', 'fast'), ('fast',))
        self.assertEqual(
            (results.FAILED,
             'Store cheap holds the only copy of image %s (store(s) fast, '
             'named by an import still in progress, do not count as copies '
             'until it ends); it is kept. To move it, run the command again '
             'with --copy-to <another store>; to delete the image itself, '
             'use "openstack image delete %s".' % (image.id, image.id)),
            checks.refusal(image, 'cheap', test_checks.stores(),
                           advice=advice.ADVICE))


class TestEngine(base.EngineCase):

    def test_pending_copy_is_no_copy_to_remove_against(self):
        # The importing flag alone (no lock) refuses the removal; no
        # DELETE is sent.
        body = base.image_body(stores=('cheap', 'fast'),
                               os_glance_importing_to_stores='fast')
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:'
                      + body['id'], json=base.listing(body))
        # openstacksdk reads the version document before the task list.
        self.http.get(base.V2 + '/', json=base.load('versions.json'))
        self.http.get(base.V2 + '/images/%s/tasks' % body['id'],
                      json={'tasks': [test_checks.task('processing')]})
        rows = self.run_engine([body['id']])
        self.assertEqual(['failed'], [r.result for r in rows])
        self.assertEqual([], self.deletes_sent())

    def deletes_sent(self):
        return [s for s in self.sent()
                if s.startswith('DELETE /v2/stores/')]
