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
"""``openstack image store delete --all-images [--project]``."""

import json

from osc_image_store.tests.unit import base
from osc_image_store.tests.unit import command


class TestAllImages(command.DeleteCase):

    def setUp(self):
        super().setUp()
        self.mock_locks()
        self.shared = base.image_body('shared')
        self.solo = base.image_body('solo', stores=('cheap',))
        self.elsewhere = base.image_body('elsewhere', stores=('fast',))
        self.hidden = base.image_body('hidden', os_hidden=True)

    def listings(self, owner=None, left=()):
        """The listings of --all-images: selection, then what is left.

        :param left: the images the check after the run lists.
        """
        query = '&owner=' + owner if owner else ''
        for hidden, bodies in (
                ('false', [self.shared, self.solo, self.elsewhere]),
                ('true', [self.hidden])):
            url = base.V2 + '/images?limit=200&os_hidden=' + hidden + query
            after = [b for b in left if b.get('os_hidden') == (
                hidden == 'true')]
            # openstacksdk reads one more (empty) page after each.
            self.http.get(url, [{'json': base.listing(*bodies)},
                                {'json': base.listing()},
                                {'json': base.listing(*after)},
                                {'json': base.listing()}])

    def image_listings(self):
        return [s for s in self.sent() if s.startswith('GET /v2/images?')
                and 'id=in:' not in s and 'marker' not in s]

    def test_selects_by_store_hidden_included_sole_copy_skipped(self):
        self.listings(left=[self.solo])
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:%s,%s,%s'
            % (self.shared['id'], self.solo['id'], self.hidden['id']),
            json=base.listing(self.shared, self.solo, self.hidden))
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:%s,%s'
            % (self.shared['id'], self.hidden['id']),
            json=base.listing(base.with_stores(self.shared, 'fast'),
                              base.with_stores(self.hidden, 'fast')))
        for body in (self.shared, self.hidden):
            self.mock_store_delete('cheap', body['id'])
            self.mock_file(body['id'])
        self.assertEqual(0, self.run_cmd(
            '--store', 'cheap', '--all-images', '-f', 'value', '-c', 'Name',
            '-c', 'Result'))
        self.assertEqual('shared removed\nsolo skipped\nhidden removed\n',
                         self.stdout.getvalue())
        self.assertEqual(sorted([base.store_delete(self.shared['id']),
                                 base.store_delete(self.hidden['id'])]),
                         sorted(s for s in self.sent()
                                if s.startswith('DELETE /v2/stores/')))
        # One listing before the DELETEs, one after.
        self.assertEqual(
            [base.listing_of(self.shared['id'], self.solo['id'],
                             self.hidden['id']),
             base.listing_of(self.shared['id'], self.hidden['id'])],
            [s for s in self.sent() if 'id=in:' in s])
        # The three images locked in one request (after the one read of
        # the lock namespace), the locks listed after the read-back, each
        # image unlocked, all before the check of what is left.
        every = (self.shared['id'], self.solo['id'], self.hidden['id'])
        self.assertEqual(
            [base.READ_NAMESPACE, base.lock_many(*every), base.LIST_LOCKS]
            + sorted(base.unlock(i) for i in every),
            self.lock_requests()[:3] + sorted(self.lock_requests()[3:]))
        sent = self.sent()
        check = [i for i, s in enumerate(sent)
                 if s == 'GET /v2/images?limit=200&os_hidden=False'][-1]
        self.assertEqual(sorted(base.unlock(i) for i in every),
                         sorted(sent[check - 3:check]))
        self.assertEqual([], self.lock_tags.names())
        # Then what is left in the store is listed again, and said.
        self.assertEqual(
            ['GET /v2/images?limit=200&os_hidden=%s' % hidden
             for hidden in ('False', 'True')] * 2, self.image_listings())
        self.assertIn(
            'WARNING Store cheap still holds data of 1 visible image(s) '
            '(checked with the image listing; locations without a store ID '
            'are only seen with --check-untagged): %s' % self.solo['id'],
            self.logs.output)

    def test_empty_selection_prints_nothing_but_warns(self):
        self.solo, self.shared, self.hidden = (self.elsewhere,) * 3
        self.listings()
        self.assertEqual(0, self.run_cmd('--store', 'cheap', '--all-images',
                                         '-f', 'value'))
        self.assertEqual('', self.stdout.getvalue())
        self.assertIn('WARNING No image to remove from store cheap.',
                      self.logs.output)
        self.assertEqual([], self.deletes())
        self.assertEqual([], [s for s in self.sent() if 'id=in:' in s])
        # Nothing to remove: no lock taken.
        self.assertEqual([], self.lock_requests())

    def mock_identity(self):
        self.http.get(base.IDENTITY, json={'version': {
            'id': 'v3.14', 'status': 'stable',
            'links': [{'rel': 'self', 'href': base.IDENTITY + '/'}]}})

    def test_project_by_name(self):
        self.mock_identity()
        self.http.get(base.IDENTITY + '/projects/demo', status_code=404,
                      json={'error': {'code': 404}})
        self.http.get(base.IDENTITY + '/projects?name=demo', json={
            'projects': [{'id': 'p-1', 'name': 'demo'}]})
        self.solo, self.shared, self.hidden = (self.elsewhere,) * 3
        self.listings(owner='p-1')
        self.assertEqual(0, self.run_cmd('--store', 'cheap', '--all-images',
                                         '--project', 'demo'))
        self.assertEqual(
            ['GET /v2/images?limit=200&os_hidden=%s&owner=p-1' % hidden
             for hidden in ('False', 'True')] * 2, self.image_listings())

    def test_project_lookup_forbidden_takes_an_id(self):
        self.mock_identity()
        for url in ('/projects/p-9', '/projects?name=p-9'):
            self.http.get(base.IDENTITY + url, status_code=403,
                          json={'error': {'code': 403}})
        self.solo, self.shared, self.hidden = (self.elsewhere,) * 3
        self.listings(owner='p-9')
        self.assertEqual(0, self.run_cmd('--store', 'cheap', '--all-images',
                                         '--project', 'p-9'))
        self.assertEqual(
            ['GET /v2/images?limit=200&os_hidden=%s&owner=p-9' % hidden
             for hidden in ('False', 'True')] * 2, self.image_listings())

    def test_project_unknown(self):
        self.mock_identity()
        self.http.get(base.IDENTITY + '/projects/ghost', status_code=404,
                      json={})
        self.http.get(base.IDENTITY + '/projects?name=ghost',
                      json={'projects': []})
        self.assertEqual(1, self.run_cmd('--store', 'cheap', '--all-images',
                                         '--project', 'ghost'))
        self.assertEqual('No project with name or ID ghost', self.error)
        self.assertEqual([], [s for s in self.sent() if '/v2/' in s
                              and s != base.STORES])

    def test_listing_failure_keeps_the_report(self):
        page2 = '/v2/images?limit=200&marker=%s&os_hidden=False' % (
            self.shared['id'])
        self.http.get(base.V2 + '/images?limit=200&os_hidden=false', [
            {'json': dict(base.listing(self.shared), next=page2)},
            base.glance_error(500, 'db down')])
        self.mock_chunk(self.shared)
        code = self.run_cmd('--store', 'cheap', '--all-images', '-f', 'json')
        self.assertEqual(1, code)
        self.assertIn('Stopped after 1 image(s), reported above:',
                      self.error)
        self.assertIn('db down', self.error)
        self.assertEqual([(self.shared['id'], 'removed')],
                         [(r['ID'], r['Result'])
                          for r in json.loads(self.stdout.getvalue())])
        # The image removed was locked and unlocked; none is left.
        self.assertEqual([base.READ_NAMESPACE,
                          base.lock_one(self.shared['id']), base.LIST_LOCKS,
                          base.unlock(self.shared['id'])],
                         self.lock_requests())
        self.assertEqual([], self.lock_tags.names())
