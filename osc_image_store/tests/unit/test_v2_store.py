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

import argparse
import io
import json

from openstack import exceptions as sdk_exc
from osc_lib import exceptions
from osc_lib.test import base as osc_base
import testtools

from osc_image_store.sdk import proxy

from osc_image_store.tests.unit import base
from osc_image_store.v2 import store

V2 = base.V2
COLUMNS = ('ID', 'Name', 'Store', 'Result', 'Remaining Stores', 'Reason')


class CommandTestCase(base.TestCase, osc_base.TestCommand):
    """A command of this plugin on a real proxy (requests-mock HTTP)."""

    command_class = store.DeleteImageFromStore

    def setUp(self):
        super().setUp()
        self.app.client_manager.image_store = self.proxy
        self.cmd = self.command_class(self.app, None)


class TestDeleteImageFromStore(CommandTestCase):

    def setUp(self):
        super().setUp()
        self.mock_stores()

    def add(self, name, stores=('fast', 'cheap', 'archive'), delete=204,
            text=None):
        body = base.image_body(name=name, stores=stores)
        left = [s for s in stores if s != 'cheap']
        self.mock_image(body, base.image_body(name=name, stores=left))
        if delete:
            self.mock_store_delete('cheap', body['id'], delete, text,
                                   html=True)
        return body['id']

    def parse(self, *args):
        return self.check_parser(self.cmd, list(args), [])

    def test_parser(self):
        parsed = self.check_parser(
            self.cmd, ['--store', 'cheap', 'a', 'b', '--dry-run'],
            [('store', 'cheap'), ('images', ['a', 'b']), ('dry_run', True),
             ('ignore_missing', False), ('verify_data', False)])
        self.assertEqual('cheap', parsed.store)

    def test_parser_errors(self):
        for args in ([], ['a'], ['--store', 'cheap'],
                     ['--store', '', 'a'], ['--store', '../images', 'a'],
                     ['--store', 'os_glance_staging_store', 'a'],
                     ['--store', 'cheap', '']):
            self.assertRaises(osc_base.ParserException, self.parse, *args)
        self.assertEqual([], self.sent())

    def test_two_images(self):
        ids = [self.add('a'), self.add('b')]
        columns, data = self.cmd.take_action(
            self.parse('--store', 'cheap', *ids))
        self.assertEqual(COLUMNS, columns)
        self.assertEqual(
            [(ids[0], 'a', 'cheap', 'removed', 'archive, fast', None),
             (ids[1], 'b', 'cheap', 'removed', 'archive, fast', None)],
            [(r[0], r[1], r[2], r[3], r[4].human_readable(), r[5])
             for r in data])
        self.assertEqual(['archive', 'fast'], data[0][4].machine_readable())
        # Sent concurrently (--parallel 4 by default): order not fixed.
        self.assertEqual(sorted('%s/stores/cheap/%s' % (V2, i) for i in ids),
                         sorted(self.deletes()))

    def test_failure_among_three_runs_the_others_then_fails(self):
        ids = [self.add('a'), self.add('b', stores=('fast',), delete=None),
               self.add('c')]
        parsed = self.parse('--store', 'cheap', '-f', 'json', *ids)
        self.cmd.app.stdout = io.StringIO()
        exc = self.assertRaises(exceptions.CommandError, self.cmd.run,
                                parsed)
        self.assertEqual('Failed to remove 1 of 3 images from store cheap',
                         str(exc))
        rows = json.loads(self.cmd.app.stdout.getvalue())
        self.assertEqual(['removed', 'failed', 'removed'],
                         [r['Result'] for r in rows])
        self.assertEqual(['fast'], rows[1]['Remaining Stores'])
        self.assertEqual('Image %s is not in store cheap; it is in: fast.'
                         % ids[1], rows[1]['Reason'])
        self.assertEqual(2, len(self.deletes()))

    def test_success_returns_zero(self):
        image_id = self.add('a')
        self.cmd.app.stdout = io.StringIO()
        self.assertEqual(0, self.cmd.run(self.parse(
            '--store', 'cheap', '-f', 'value', '-c', 'Result', image_id)))
        self.assertEqual('removed\n', self.cmd.app.stdout.getvalue())

    def test_dry_run(self):
        image_id = self.add('a', delete=None)
        columns, data = self.cmd.take_action(
            self.parse('--store', 'cheap', '--dry-run', image_id))
        self.assertEqual('would remove', data[0][3])
        self.assertEqual([], self.deletes())

    def test_ignore_missing(self):
        image_id = self.add('a', stores=('fast', 'archive'), delete=None)
        columns, data = self.cmd.take_action(
            self.parse('--store', 'cheap', '--ignore-missing', image_id))
        self.assertEqual('absent', data[0][3])
        self.assertEqual(0, self.cmd._failed)

    def test_unknown_store_is_a_command_error(self):
        exc = self.assertRaises(
            exceptions.CommandError, self.cmd.take_action,
            self.parse('--store', 'nope', 'a'))
        self.assertEqual('Store nope does not exist on this cloud; its '
                         'stores are: fast, cheap, archive.', str(exc))
        self.assertEqual([('GET', V2 + '/info/stores')], self.sent())

    def test_multistore_off_said_once(self):
        self.mock_stores(status=404, body={})
        exc = self.assertRaises(
            exceptions.CommandError, self.cmd.take_action,
            self.parse('--store', 'cheap', 'a', 'b'))
        self.assertIn('Multi-store is not enabled on this cloud', str(exc))
        self.assertEqual(1, len(self.sent()))

    def test_help_documents_exit_codes(self):
        help_text = self.cmd.get_parser('image store delete').format_help()
        self.assertIn('Exit codes: 0', help_text)
        self.assertIn('130', help_text)


class TestListStore(CommandTestCase):

    command_class = store.ListStore

    def run_cmd(self, *args):
        return self.cmd.take_action(self.check_parser(self.cmd, list(args),
                                                      []))

    def test_list(self):
        self.mock_stores()
        columns, rows = self.run_cmd()
        self.assertEqual(('ID', 'Description', 'Default', 'Read Only'),
                         columns)
        self.assertEqual([('fast', 'fast file store', True, False),
                          ('cheap', 'cheap file store', False, False),
                          ('archive', 'archive file store', False, True)],
                         rows)
        self.assertEqual([('GET', V2 + '/info/stores')], self.sent())

    def test_long(self):
        self.http.get(V2 + '/info/stores/detail',
                      json=base.load('stores_detail.json'))
        columns, rows = self.run_cmd('--long')
        self.assertEqual(('ID', 'Description', 'Default', 'Read Only',
                          'Type', 'Weight'), columns)
        self.assertEqual(('archive', 'archive file store', False, True,
                          'file', 0), rows[2])
        self.assertEqual([('GET', V2 + '/info/stores/detail')], self.sent())

    def test_long_refused_falls_back(self):
        self.http.get(V2 + '/info/stores/detail', status_code=403,
                      json={'message': 'You are not authorized',
                            'code': '403 Forbidden', 'title': 'Forbidden'})
        self.mock_stores()
        with self.assertLogs('osc_image_store.v2.store', 'WARNING') as logs:
            columns, rows = self.run_cmd('--long')
        self.assertEqual(1, len(logs.output))
        self.assertIn('does not let you read store details', logs.output[0])
        self.assertEqual(('ID', 'Description', 'Default', 'Read Only'),
                         columns)
        self.assertEqual(3, len(rows))

    def test_image_data_column(self):
        self.mock_stores()
        body = base.image_body(stores=('fast', 'archive'))
        self.mock_image(body)
        columns, rows = self.run_cmd('--image', body['id'])
        self.assertEqual('Image Data', columns[-1])
        self.assertEqual([('fast', True), ('cheap', False),
                          ('archive', True)],
                         [(r[0], r[-1]) for r in rows])

    def test_multistore_off(self):
        self.mock_stores(status=404, body={})
        exc = self.assertRaises(exceptions.CommandError, self.run_cmd)
        self.assertIn('Multi-store is not enabled on this cloud', str(exc))

    def test_unknown_image(self):
        self.mock_stores()
        self.http.get(V2 + '/images', json={'images': []})
        exc = self.assertRaises(exceptions.CommandError, self.run_cmd,
                                '--image', 'ghost')
        self.assertEqual('No image with name or ID ghost.', str(exc))


class TestDeleteAllImages(CommandTestCase):

    def setUp(self):
        super().setUp()
        self.mock_stores()
        self.shared = base.image_body(name='shared')
        self.solo = base.image_body(name='solo', stores=('cheap',))
        self.elsewhere = base.image_body(name='elsewhere',
                                         stores=('fast', 'archive'))
        self.hidden = base.image_body(name='hidden')
        self.hidden['os_hidden'] = True
        pages = {'false': [self.shared, self.solo, self.elsewhere],
                 'true': [self.hidden]}

        def listing(request, context):
            # One page per pass; the page after the marker is empty.
            if 'marker' in request.qs:
                return {'images': []}
            return {'images': pages[request.qs['os_hidden'][0]]}

        self.http.get(V2 + '/images', json=listing)
        for body in (self.shared, self.hidden):
            self.mock_image(base.image_body(name=body['name'],
                                            stores=('fast', 'archive')))
            self.mock_store_delete('cheap', body['id'])

    def run_cmd(self, *args):
        return self.cmd.take_action(self.check_parser(
            self.cmd, ['--store', 'cheap', '--all-images', *args], []))

    def test_selects_by_store_and_skips_only_copies(self):
        columns, rows = self.run_cmd()
        self.assertEqual([('shared', 'removed'), ('solo', 'skipped'),
                          ('hidden', 'removed')],
                         [(r[1], r[3]) for r in rows])
        self.assertEqual(0, self.cmd._failed)
        self.assertEqual(
            ['%s/stores/cheap/%s' % (V2, self.shared['id']),
             '%s/stores/cheap/%s' % (V2, self.hidden['id'])],
            sorted(self.deletes(), key=[
                '%s/stores/cheap/%s' % (V2, self.shared['id']),
                '%s/stores/cheap/%s' % (V2, self.hidden['id'])].index))
        queries = [r.qs for r in self.requests()
                   if r.path == '/v2/images' and 'marker' not in r.qs]
        self.assertEqual([{'os_hidden': ['false'], 'limit': ['200']},
                          {'os_hidden': ['true'], 'limit': ['200']}],
                         queries)

    def test_three_requests_per_image_at_most(self):
        self.run_cmd('--parallel', '1')
        per_image = [r for r in self.requests()
                     if self.shared['id'] in r.url]
        self.assertEqual(['DELETE', 'GET'], [r.method for r in per_image])

    def test_project_by_id_when_lookup_forbidden(self):
        identity = self.app.client_manager.sdk_connection.identity
        identity.find_project.side_effect = \
            sdk_exc.ForbiddenException('no')
        self.run_cmd('--project', 'p-1', '--dry-run')
        self.assertEqual(['p-1', 'p-1'],
                         [r.qs['owner'][0] for r in self.requests()
                          if r.path == '/v2/images' and 'marker' not in r.qs])
        self.assertEqual([], self.deletes())

    def test_project_unknown(self):
        identity = self.app.client_manager.sdk_connection.identity
        identity.find_project.side_effect = \
            sdk_exc.NotFoundException('no')
        exc = self.assertRaises(exceptions.CommandError, self.run_cmd,
                                '--project', 'ghost')
        self.assertEqual('No project with name or ID ghost', str(exc))

    def test_project_needs_all_images(self):
        parsed = self.check_parser(
            self.cmd, ['--store', 'cheap', '--project', 'p', 'img'], [])
        exc = self.assertRaises(SystemExit, self.cmd.take_action, parsed)
        self.assertEqual(2, exc.code)
        self.assertEqual([], self.sent())

    def test_unknown_column_before_any_request(self):
        parsed = self.check_parser(
            self.cmd, ['--store', 'cheap', '-c', 'Nope', 'img'], [])
        exc = self.assertRaises(exceptions.CommandError,
                                self.cmd.take_action, parsed)
        self.assertIn('No column Nope; columns are: ID, Name', str(exc))
        self.assertEqual([], self.sent())

    def test_listing_failure_keeps_the_report(self):
        self.http.get(V2 + '/images', [
            {'json': {'images': [self.shared], 'next':
                      '/v2/images?marker=%s&limit=200&os_hidden=false'
                      % self.shared['id']}},
            {'status_code': 500, 'json': {'message': 'db down'},
             'headers': {'Content-Type': 'application/json'}},
        ])
        parsed = self.check_parser(
            self.cmd, ['--store', 'cheap', '--all-images', '--parallel', '1',
                       '-f', 'json'], [])
        self.cmd.app.stdout = io.StringIO()
        exc = self.assertRaises(exceptions.CommandError, self.cmd.run,
                                parsed)
        self.assertIn('Stopped after 1 image(s), reported above:', str(exc))
        self.assertIn('db down', str(exc))
        rows = json.loads(self.cmd.app.stdout.getvalue())
        self.assertEqual([(self.shared['id'], 'removed')],
                         [(r['ID'], r['Result']) for r in rows])

    def test_parser(self):
        for args in (['--store', 'cheap'],
                     ['--store', 'cheap', '--all-images', 'img'],
                     ['--store', 'cheap', '--parallel', '0', 'img'],
                     ['--store', 'cheap', '--parallel', 'x', 'img'],
                     ['--store', 'cheap', '--parallel', '11', 'img'],
                     ['--store', 'cheap', '--all-images', '--project', ''],
                     ['--store', 'cheap', '--all-images', '--project', ' ']):
            self.assertRaises(osc_base.ParserException, self.check_parser,
                              self.cmd, args, [])
        self.check_parser(self.cmd, ['--store', 'cheap', 'img'],
                          [('parallel', 4), ('images', ['img']),
                           ('all_images', False)])


class TestProgress(testtools.TestCase):

    def test_hidden_unless_terminal_table(self):
        stream = io.StringIO()
        parsed = argparse.Namespace(formatter='json')
        progress = store._Progress.for_command(stream, parsed)
        progress.update([])
        progress.clear()
        self.assertEqual('', stream.getvalue())

    def test_shown_and_cleared(self):
        stream = io.StringIO()
        progress = store._Progress(stream)
        removal = proxy.Removal('i', 'n', 'cheap', 'failed')
        progress.update([removal])
        progress.clear()
        self.assertEqual('\r1 image(s) handled, 1 failed\r\x1b[K',
                         stream.getvalue())
