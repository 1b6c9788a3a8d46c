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
"""What a store delete did: Glance's answers explained, verdicts, proof."""

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc

from osc_image_store.engine import outcome
from osc_image_store.engine import prove
from osc_image_store.engine import results
from osc_image_store.sdk import service_info
from osc_image_store.tests.unit import base


class OutcomeCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.body = base.image_body()
        self.iid = self.body['id']

    def error(self, status, text='', html=False):
        """The exception the proxy raises for this Glance answer."""
        answer = (status if isinstance(status, type)
                  else base.glance_error(status, text, html))
        self.mock_store_delete('cheap', self.iid, answer)
        try:
            self.proxy.delete_image(self.iid, store='cheap',
                                    ignore_missing=False)
        except (sdk_exc.SDKException, ks_exc.ClientException) as exc:
            return exc
        self.fail('no error')

    def image(self, *stores, **fields):
        return base.image_resource(base.with_stores(self.body, *stores,
                                                    **fields))


class TestExplain(OutcomeCase):

    def explain(self, status, text, html=False):
        return outcome.explain(self.error(status, text, html), self.iid,
                               'cheap')

    def test_only_store(self):
        self.assertEqual(
            'Store cheap now holds the only copy of image %s; nothing was '
            'removed (HTTP 403: Cannot delete image data from the only store '
            'containing it. Consider deleting the image instead.)' % self.iid,
            self.explain(403, 'Cannot delete image data from the only store '
                         'containing it. Consider deleting the image '
                         'instead.', html=True))

    def test_policy_named_by_glance(self):
        explained = self.explain(403, 'You are not authorized to complete '
                                 'get_image_location action.')
        self.assertIn(
            'Not authorized to remove image %s from store cheap (policy '
            '"get_image_location", admin-only by default) (HTTP 403: '
            % self.iid, explained)

    def test_policy_unnamed(self):
        self.assertIn('(policy "delete_image_location", admin-only by '
                      'default) (HTTP 403: Forbidden)',
                      self.explain(403, 'Forbidden'))

    def test_not_in_store(self):
        self.assertEqual(
            'Image %s is no longer in store cheap (HTTP 404: Image %s is not '
            'stored in store cheap.)' % (self.iid, self.iid),
            self.explain(404, 'Image %s is not stored in store cheap.'
                         % self.iid, html=True))

    def test_image_not_found(self):
        self.assertIn('Image %s was not found when removing it from store '
                      'cheap (deleted meanwhile, or not visible to you)'
                      % self.iid, self.explain(404, 'Failed to find image'))

    def test_store_not_on_node(self):
        self.assertIn('Store cheap is not enabled on the Images API node '
                      'that answered (HTTP 409: ', self.explain(
                          409, 'The selected store cheap is not available '
                          'on this node.'))

    def test_not_active(self):
        self.assertIn('Image %s is no longer active (HTTP 409' % self.iid,
                      self.explain(409, "It's not allowed to remove image "
                                   "data from store if image status is not "
                                   "'active'"))

    def test_in_use(self):
        self.assertIn('Store cheap refused to remove the data of image %s '
                      'because it is in use' % self.iid, self.explain(
                          409, 'Image data could not be deleted because it '
                          'is in use', html=True))

    def test_server_error(self):
        self.assertEqual('The Images API failed to remove image %s from '
                         'store cheap (HTTP 503: busy)' % self.iid,
                         self.explain(503, 'busy'))

    def test_no_answer(self):
        self.assertIn('No answer from the Images API to the removal of '
                      'image %s from store cheap (' % self.iid,
                      outcome.explain(self.error(ks_exc.ConnectTimeout),
                                      self.iid, 'cheap'))

    def test_is_clear(self):
        self.assertTrue(outcome.is_clear(self.error(404, 'x')))
        self.assertTrue(outcome.is_clear(self.error(499, 'x')))
        self.assertFalse(outcome.is_clear(self.error(500, 'x')))
        self.assertFalse(outcome.is_clear(self.error(ks_exc.ConnectFailure)))
        self.assertFalse(outcome.is_clear(None))


class TestClassify(OutcomeCase):

    def classify(self, error, after, **kwargs):
        return outcome.classify(base.image_resource(self.body), 'cheap',
                                error, after, **kwargs)

    def test_gone_after_204(self):
        self.assertEqual(outcome.Verdict(None, None, ('archive', 'fast')),
                         self.classify(None, self.image('fast', 'archive')))

    def test_204_unreadable(self):
        # The image may list a copy with no data behind it: the lock stays.
        verdict = self.classify(None, None)
        self.assertEqual((results.UNVERIFIED, None, True),
                         (verdict.result, verdict.remaining,
                          verdict.keep_lock))
        self.assertIn('(HTTP 204), but the image could not be read back',
                      verdict.reason)

    def test_204_still_listed(self):
        verdict = self.classify(None, self.image('fast', 'cheap'))
        self.assertEqual((results.UNVERIFIED, ('cheap', 'fast'), False),
                         (verdict.result, verdict.remaining, verdict.again))
        self.assertIn('but the image still lists that store', verdict.reason)
        # A ghost may be all that keeps another run from removing the last
        # real copy: the image's lock stays.
        self.assertTrue(verdict.keep_lock)
        self.assertIn('Before removing any other copy, check which stores '
                      'really hold its data; then clear the lock (below)',
                      verdict.reason)
        self.assertTrue(verdict.reason.endswith('only copy listed besides '
                                                'the real ones.'))

    def test_204_one_of_two_locations_left(self):
        self.body['locations'] = base.locations(
            ('cheap', 'file:///c/1'), ('cheap', 'file:///c/2'),
            ('fast', 'file:///f/1'))
        after = self.image('fast', 'cheap', locations=base.locations(
            ('cheap', 'file:///c/2'), ('fast', 'file:///f/1')))
        self.assertEqual(
            outcome.Verdict(None, None, ('cheap', 'fast'), again=True),
            self.classify(None, after))

    def test_204_same_locations_left(self):
        self.body['locations'] = base.locations(('cheap', 'file:///c/1'),
                                                ('fast', 'file:///f/1'))
        after = self.image('fast', 'cheap', locations=self.body['locations'])
        self.assertEqual(results.UNVERIFIED,
                         self.classify(None, after).result)

    def test_no_store_left(self):
        verdict = self.classify(None, self.image())
        # The data may be lost: the lock stays until someone looked.
        self.assertEqual((results.FAILED, (), True),
                         (verdict.result, verdict.remaining,
                          verdict.keep_lock))
        self.assertIn('lists no store at all after the removal from cheap: '
                      'its data may be lost', verdict.reason)

    def test_import_started_meanwhile(self):
        verdict = self.classify(None, self.image(
            'fast', os_glance_import_task='t-1'))
        # The import may write the old location list back: lock stays.
        self.assertEqual((results.UNVERIFIED, ('fast',), True),
                         (verdict.result, verdict.remaining,
                          verdict.keep_lock))
        self.assertIn('but an import (task t-1) started meanwhile',
                      verdict.reason)

    def test_503_yet_gone(self):
        verdict = self.classify(self.error(503, 'busy'), self.image('fast'))
        self.assertEqual((None, ('fast',), False),
                         (verdict.result, verdict.remaining,
                          verdict.keep_lock))
        self.assertEqual(
            'The Images API failed to remove image %s from store cheap (HTTP '
            '503: busy); the image no longer lists store cheap, so the '
            'removal happened.' % self.iid, verdict.reason)

    def test_503_still_listed_is_unknown(self):
        verdict = self.classify(self.error(503, 'busy'), self.image(
            'fast', 'cheap'))
        self.assertEqual((results.UNKNOWN, ('cheap', 'fast'), True),
                         (verdict.result, verdict.remaining,
                          verdict.keep_lock))
        self.assertTrue(verdict.reason.endswith('in a few minutes.'))

    def test_timeout_unreadable_is_unknown(self):
        verdict = self.classify(self.error(ks_exc.ConnectTimeout), None)
        self.assertEqual((results.UNKNOWN, None, True),
                         (verdict.result, verdict.remaining,
                          verdict.keep_lock))
        self.assertIn('the removal may or may not have happened',
                      verdict.reason)
        self.assertTrue(verdict.reason.endswith('in a few minutes.'))

    def test_refusal_still_listed(self):
        verdict = self.classify(self.error(409, 'in use'),
                                self.image('fast', 'cheap'))
        self.assertEqual((results.FAILED, False),
                         (verdict.result, verdict.keep_lock))

    def test_refusal_unreadable(self):
        verdict = self.classify(self.error(403, 'Forbidden'), None)
        self.assertEqual((results.FAILED, None, False),
                         (verdict.result, verdict.remaining,
                          verdict.keep_lock))
        self.assertTrue(verdict.reason.endswith(
            '; the image could not be read back.'))

    def test_not_in_store_404(self):
        error = self.error(404, 'Image %s is not stored in store cheap.'
                           % self.iid)
        self.assertEqual(results.FAILED, self.classify(
            error, self.image('fast')).result)
        self.assertEqual(outcome.Verdict(results.ABSENT, None, ('fast',)),
                         self.classify(error, self.image('fast'),
                                       ignore_missing=True))


class TestProveData(OutcomeCase):

    def prove(self, status=None, content=b'', **fields):
        if status is not None:
            self.mock_file(self.iid, status, content)
        return prove.prove_data(self.proxy, self.image('fast', **fields))

    def test_one_byte_read(self):
        self.assertEqual((True, ''), self.prove(206, b'x'))
        self.assertEqual([base.read_byte(self.iid)], self.sent())

    def test_no_data(self):
        self.assertEqual(
            (False, 'GET /v2/images/%s/file answered 204 (no data)'
             % self.iid), self.prove(204))

    def test_success_without_a_byte(self):
        self.assertEqual(
            (False, 'GET /v2/images/%s/file answered 200 with no data'
             % self.iid), self.prove(200))

    def test_416_of_an_image_with_data(self):
        self.assertEqual(
            (False, 'GET /v2/images/%s/file answered 416' % self.iid),
            self.prove(416))

    def test_server_error_proves_nothing_either_way(self):
        proven, why = self.prove(503)
        self.assertIsNone(proven)
        self.assertIn('answered 503, which says nothing about the data', why)

    def test_empty_image_needs_no_read(self):
        self.assertEqual((True, ''), self.prove(size=0))
        self.assertEqual([], self.sent())

    def test_read_failed(self):
        self.http.get('%s/images/%s/file' % (base.V2, self.iid),
                      exc=ks_exc.ConnectFailure)
        proven, why = self.prove()
        self.assertIsNone(proven)
        self.assertIn('the one-byte read of its data failed (', why)


class TestDryRunNote(OutcomeCase):

    def store(self, store_id):
        return {s['id']: service_info.Store.existing(**s)
                for s in base.load('stores.json')['stores']}[store_id]

    def test_nothing_to_add(self):
        self.assertIsNone(outcome.dry_run_note(
            self.image('fast', 'cheap'), 'cheap', self.store('cheap')))

    def test_read_only_and_two_locations(self):
        image = self.image('fast', 'archive', locations=base.locations(
            ('archive', 'http://a/1'), ('archive', 'http://a/2'),
            ('fast', 'file:///f/1')))
        self.assertEqual(
            'Store archive is read-only: Glance would drop the location but '
            'leave the data; store archive holds 2 locations of the image; '
            'each is removed.',
            outcome.dry_run_note(image, 'archive', self.store('archive')))
