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
"""The prove stage alone (engine/prove.py): the one-byte read of a
remaining copy, and the row of a removal from its verdict and proof."""

from concurrent import futures

from keystoneauth1 import exceptions as ks_exc

from osc_image_store.engine import chunk as chunk_mod
from osc_image_store.engine import outcome
from osc_image_store.engine import prove
from osc_image_store.engine import results
from osc_image_store.tests.unit import base
from osc_image_store.v2 import advice

Removal = results.Removal
LEFT = ('archive', 'fast')


class TestProveData(base.TestCase):

    def setUp(self):
        super().setUp()
        self.body = base.image_body()
        self.iid = self.body['id']

    def prove(self, **fields):
        image = base.image_resource(dict(self.body, **fields))
        return prove.prove_data(self.proxy, image)

    def test_206_with_a_byte_proves_it(self):
        self.mock_file(self.iid)
        self.assertEqual((True, ''), self.prove())
        self.assertEqual([base.read_byte(self.iid)], self.sent())
        self.assertEqual('bytes=0-0', self.requests()[0].headers['Range'])

    def test_200_with_a_byte_proves_it(self):
        self.mock_file(self.iid, status=200)
        self.assertEqual((True, ''), self.prove())

    def test_size_0_needs_no_read(self):
        self.assertEqual((True, ''), self.prove(size=0))
        self.assertEqual([], self.sent())

    def test_no_data_is_false(self):
        why = 'GET /v2/images/%s/file answered ' % self.iid
        for status, content, said in ((204, b'', '204 (no data)'),
                                      (206, b'', '200 with no data'),
                                      (416, b'', '416'), (404, b'', '404')):
            self.mock_file(self.iid, status=status, content=content)
            self.assertEqual((False, why + said), self.prove(), status)

    def test_5xx_says_nothing(self):
        # (500: a 503 is read again after a real back-off.)
        self.mock_file(self.iid, status=500, content=b'')
        self.assertEqual(
            (None, 'the one-byte read of its data answered 500, which says '
             'nothing about the data'), self.prove())
        self.assertEqual([base.read_byte(self.iid)], self.sent())

    def test_no_answer_says_nothing(self):
        self.http.get('%s/images/%s/file' % (base.V2, self.iid),
                      exc=ks_exc.ConnectFailure('refused'))
        proven, why = self.prove()
        self.assertIsNone(proven)
        self.assertTrue(
            why.startswith('the one-byte read of its data failed ('), why)
        self.assertIn('refused', why)


def done(value):
    """A finished future of a proof."""
    future = futures.Future()
    future.set_result(value)
    return future


class TestSettle(base.TestCase):

    def setUp(self):
        super().setUp()
        body = base.image_body()
        self.iid = body['id']
        self.before = base.image_resource(body)
        self.after = base.image_resource(base.with_stores(body, *LEFT,
                                                          name='renamed'))

    def settle(self, verdict, proof=None, read_only=False, after=True):
        item = chunk_mod.Work(self.before, sent=True, verdict=verdict,
                              after=self.after if after else None)
        return prove.settle(item, proof, 'cheap', read_only, advice.ADVICE)

    def test_removed(self):
        verdict = outcome.Verdict(None, None, LEFT)
        self.assertEqual(Removal(self.iid, 'renamed', 'cheap', 'removed',
                                 LEFT, None),
                         self.settle(verdict, done((True, ''))))
        self.assertEqual('removed', self.settle(verdict).result)
        self.assertEqual([], self.sent())

    def test_name_from_the_read_before_without_a_read_back(self):
        row = self.settle(outcome.Verdict(None, None, None), after=False)
        self.assertEqual((self.iid, 'cirros', 'removed', None),
                         (row.image_id, row.image_name, row.result,
                          row.remaining_stores))

    def test_read_only_store_unlinked(self):
        verdict = outcome.Verdict(None, 'It answered 503.', LEFT)
        row = self.settle(verdict, done((True, '')), read_only=True)
        self.assertEqual(Removal(
            self.iid, 'renamed', 'cheap', 'unlinked', LEFT,
            'It answered 503. Store cheap is read-only: Glance dropped the '
            'location, but the data there was not deleted.'), row)

    def test_data_cannot_be_read_is_failed(self):
        row = self.settle(outcome.Verdict(None, None, LEFT),
                          done((False, 'GET x answered 204 (no data)')))
        self.assertEqual(Removal(
            self.iid, 'renamed', 'cheap', 'failed', LEFT,
            'The copy in store cheap was removed, but the image\'s data '
            'cannot be read now (GET x answered 204 (no data)): it may have '
            'lost its data; check it before anything else.'), row)

    def test_proof_failed_is_unverified(self):
        row = self.settle(outcome.Verdict(None, None, LEFT),
                          done((None, 'the one-byte read failed (x)')))
        self.assertEqual(Removal(
            self.iid, 'renamed', 'cheap', 'unverified', LEFT,
            'The copy in store cheap was removed, but the one-byte read '
            'failed (x); check the image with "openstack image save".'), row)

    def test_verdict_result_passed_through(self):
        verdict = outcome.Verdict(results.UNKNOWN, 'No answer.', LEFT,
                                  keep_lock=True)
        # A proof has nothing to add to a verdict that decides.
        row = self.settle(verdict, done((False, 'no data')))
        self.assertEqual(Removal(self.iid, 'renamed', 'cheap', 'unknown',
                                 LEFT, 'No answer.'), row)
        self.assertEqual(
            Removal(self.iid, 'renamed', 'cheap', 'absent', LEFT, None),
            self.settle(outcome.Verdict(results.ABSENT, None, LEFT),
                        read_only=True))
