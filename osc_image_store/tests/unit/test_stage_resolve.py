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
"""The resolve stage alone (engine/resolve.py): image arguments to IDs,
in order, once each."""

from concurrent import futures

from osc_image_store.engine import resolve
from osc_image_store.engine import results
from osc_image_store.tests.unit import base

Removal = results.Removal


def by_name(name, hidden=False):
    """describe() of the lookup of an image by name."""
    return 'GET /v2/images?name=eq:%s&os_hidden=%s' % (name, hidden)


class TestResolver(base.TestCase):

    def setUp(self):
        super().setUp()
        self.resolver = resolve.Resolver(self.proxy, 'cheap')
        # One worker: the lookups go out in input order.
        self.pool = futures.ThreadPoolExecutor(1)
        self.addCleanup(self.pool.shutdown)
        self.body = base.image_body()
        self.iid = self.body['id']

    def resolve(self, items, dedupe=True):
        return self.resolver.resolve(items, self.pool, dedupe=dedupe)

    def test_uuid_taken_as_id_lower_cased_without_a_request(self):
        got = self.resolve([self.iid.upper()])
        self.assertEqual(resolve.Resolved([(self.iid, self.iid)], {}, {},
                                          [self.iid]), got)
        self.assertEqual([], self.sent())

    def test_resource_taken_by_its_id(self):
        got = self.resolve([base.image_resource(self.body)])
        self.assertEqual(resolve.Resolved([(self.iid, self.iid)], {}, {},
                                          [self.iid]), got)
        self.assertEqual([], self.sent())

    def test_name_looked_up(self):
        self.mock_name('cirros', self.body)
        got = self.resolve(['cirros'])
        self.assertEqual(resolve.Resolved([('cirros', self.iid)], {},
                                          {self.iid: 'cirros'}, [self.iid]),
                         got)
        self.assertEqual([by_name('cirros')], self.sent())

    def test_not_found_is_a_failed_row(self):
        self.mock_listing([])
        self.mock_listing([], hidden=True)
        got = self.resolve(['ghost'])
        self.assertEqual(resolve.Resolved(
            [('ghost', None)],
            {'ghost': Removal(None, 'ghost', 'cheap', 'failed', None,
                              'No image with name or ID ghost.')}, {}, []),
            got)
        self.assertEqual([by_name('ghost'), by_name('ghost', hidden=True)],
                         self.sent())

    def test_ambiguous_is_a_failed_row(self):
        first, second = sorted(base.image_body(n)['id'] for n in 'ab')
        self.mock_name('twin', base.image_body('twin', image_id=second),
                       base.image_body('twin', image_id=first))
        got = self.resolve(['twin'])
        self.assertEqual([('twin', None)], got.order)
        self.assertEqual([], got.ids)
        self.assertEqual(
            {'twin': Removal(None, 'twin', 'cheap', 'failed', None,
                             'More than one image has the name twin; use an '
                             'ID: %s, %s.' % (first, second))}, got.failed)
        self.assertEqual([by_name('twin')], self.sent())

    def test_invalid_argument_is_a_failed_row_without_a_request(self):
        got = self.resolve(['bad\x07name', ''])
        self.assertEqual([('bad\x07name', None), ('', None)], got.order)
        self.assertEqual(
            {'bad\x07name': Removal(
                None, 'bad\x07name', 'cheap', 'failed', None,
                "Invalid image name or ID 'bad\\x07name': it holds control "
                "characters."),
             '': Removal(None, '', 'cheap', 'failed', None,
                         'The image name or ID must not be empty.')},
            got.failed)
        self.assertEqual([], self.sent())

    def test_lookup_error_is_a_failed_row(self):
        self.mock_listing(base.glance_error(500, 'db down'))
        got = self.resolve(['cirros'])
        self.assertEqual([('cirros', None)], got.order)
        self.assertEqual([], got.ids)
        row = got.failed['cirros']
        self.assertEqual((None, 'cirros', 'failed', None),
                         (row.image_id, row.image_name, row.result,
                          row.remaining_stores))
        self.assertIn('500', row.reason)
        self.assertIn('db down', row.reason)
        self.assertEqual([by_name('cirros')], self.sent())

    def test_order_kept_with_failures_in_between(self):
        other = base.image_body('other')
        self.mock_listing([])  # registered first: the name wins
        self.mock_listing([], hidden=True)
        self.mock_name('cirros', self.body)
        got = self.resolve(['cirros', 'ghost', other['id']])
        self.assertEqual([('cirros', self.iid), ('ghost', None),
                          (other['id'], other['id'])], got.order)
        self.assertEqual([self.iid, other['id']], got.ids)
        self.assertEqual(['ghost'], list(got.failed))

    def test_repeats_in_one_call_once(self):
        self.mock_name('cirros', self.body)
        got = self.resolve(['cirros', self.iid, 'cirros', self.iid.upper()])
        self.assertEqual([('cirros', self.iid)], got.order)
        self.assertEqual([self.iid], got.ids)
        # The same name is looked up once.
        self.assertEqual([by_name('cirros')], self.sent())

    def test_met_in_an_earlier_call_skipped(self):
        self.mock_listing([])
        self.mock_listing([], hidden=True)
        self.mock_name('cirros', self.body)
        self.resolve([self.iid, 'ghost'])
        got = self.resolve(['ghost', self.iid.upper()])
        self.assertEqual(resolve.Resolved(), got)
        # An image met by ID, then by name: looked up, but not given again.
        got = self.resolve(['cirros'])
        self.assertEqual(resolve.Resolved([], {}, {self.iid: 'cirros'}, []),
                         got)
        self.assertEqual([by_name('ghost'), by_name('ghost', hidden=True),
                          by_name('cirros')], self.sent())

    def test_met_by_name_then_by_id_once(self):
        self.mock_name('cirros', self.body)
        self.assertEqual([self.iid], self.resolve(['cirros']).ids)
        self.assertEqual(resolve.Resolved(), self.resolve([self.iid]))
        self.assertEqual([by_name('cirros')], self.sent())

    def test_no_dedupe_for_a_second_pass(self):
        self.mock_name('cirros', self.body)
        self.resolve(['cirros', self.iid])
        got = self.resolve([self.iid, 'cirros'], dedupe=False)
        self.assertEqual([(self.iid, self.iid), ('cirros', self.iid)],
                         got.order)
        self.assertEqual([self.iid, self.iid], got.ids)
        self.assertEqual({self.iid: 'cirros'}, got.names)
