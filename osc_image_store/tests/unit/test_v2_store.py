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
"""``openstack image store delete``: parsing, exit codes, output formats."""

import json
import signal
from urllib import parse

from osc_image_store.engine import lock
from osc_image_store.tests import hostile
from osc_image_store.tests.unit import base
from osc_image_store.tests.unit import command
from osc_image_store.tests.unit import test_remover


class TestParser(command.DeleteCase):

    def test_defaults(self):
        self.check_parser(self.cmd, ['--store', 'cheap', 'a', 'b'], [
            ('store', 'cheap'), ('images', ['a', 'b']),
            ('all_images', False), ('project', None), ('parallel', 4),
            ('dry_run', False), ('ignore_missing', False),
            ('verify_data', True), ('allow_read_only_copies', False),
            ('lock_wait', 30)])

    def test_options(self):
        self.check_parser(self.cmd, [
            '--store', 'cheap', '--all-images', '--project', 'p',
            '--parallel', '10', '--dry-run', '--ignore-missing',
            '--no-verify-data', '--allow-read-only-copies'], [
            ('images', ()), ('all_images', True), ('project', 'p'),
            ('parallel', 10), ('dry_run', True), ('ignore_missing', True),
            ('verify_data', False), ('allow_read_only_copies', True)])
        self.check_parser(self.cmd, ['--store', 'cheap', '--parallel', '1',
                                     'a'], [('parallel', 1)])

    def test_usage_errors_exit_2_before_any_request(self):
        for args in ([], ['a'], ['--store', 'cheap'],
                     ['--store', 'cheap', '--all-images', 'a'],
                     ['--store', 'cheap', ''],
                     ['--store', 'cheap', 'a\x01b'],
                     ['--store', 'cheap', '--parallel', '0', 'a'],
                     ['--store', 'cheap', '--parallel', '11', 'a'],
                     ['--store', 'cheap', '--parallel', 'x', 'a'],
                     ['--store', 'cheap', '--all-images', '--project', ' '],
                     ['--store', 'cheap', '--verify-data',
                      '--no-verify-data', 'a'],
                     ['--store', 'cheap', '--lock-wait', '-1', 'a'],
                     ['--store', 'cheap', '--lock-wait', '604801', 'a'],
                     ['--store', 'cheap', '--lock-wait', '1.5', 'a'],
                     ['--store', 'cheap', '--lock-wait', 'x', 'a'],
                     ['--store', 'cheap', '--lock-wait', '', 'a'],
                     ['--store', 'cheap', '--lock-wait']):
            self.assertEqual(2, self.run_cmd(*args), args)
        for value in hostile.STORES:
            self.assertEqual(2, self.run_cmd('--store', value, 'a'), value)
        self.assertEqual([], self.sent())
        self.assertIn('usage: check_parser', self.stderr.getvalue())

    def test_copy_options(self):
        self.check_parser(self.cmd, ['--store', 'cheap', 'a'], [
            ('copy_to', None), ('max_copies', 2), ('copy_timeout', 3600),
            ('check_untagged', False)])
        self.check_parser(self.cmd, [
            '--store', 'cheap', '--copy-to', 'fast', '--max-copies', '10',
            '--copy-timeout', '1', 'a'], [
            ('copy_to', 'fast'), ('max_copies', 10), ('copy_timeout', 1)])
        for args in (['--max-copies', '0'], ['--max-copies', '11'],
                     ['--copy-timeout', '0'], ['--copy-to', '..']):
            self.assertEqual(2, self.run_cmd('--store', 'cheap', *args, 'a'),
                             args)
        self.assertEqual([], self.sent())

    def test_usage_errors_the_command_finds(self):
        for args, message in (
                (['--copy-to', 'cheap', 'a'],
                 '--copy-to must name another store than --store'),
                (['--check-untagged', 'a'],
                 '--check-untagged can only be used with --all-images')):
            self.assertEqual(2, self.run_cmd('--store', 'cheap', *args))
            self.assertIn('error: ' + message, self.stderr.getvalue())
        self.assertEqual([], self.sent())

    def test_lock_wait(self):
        for value, seconds in (('0', 0), ('5', 5), ('604800', 604800)):
            self.check_parser(self.cmd, ['--store', 'cheap', '--lock-wait',
                                         value, 'a'],
                              [('lock_wait', seconds)])
        self.assertEqual(2, self.run_cmd('--store', 'cheap', '--lock-wait',
                                         '604801', 'a'))
        self.assertIn("argument --lock-wait: must be a whole number from 0 "
                      "to 604800, not '604801'", self.stderr.getvalue())
        self.assertEqual([], self.sent())

    def test_parallel_message(self):
        self.run_cmd('--store', 'cheap', '--parallel', '11', 'a')
        self.assertIn("argument --parallel: must be a whole number from 1 "
                      "to 10, not '11'", self.stderr.getvalue())

    def test_project_needs_all_images(self):
        self.assertEqual(2, self.run_cmd('--store', 'cheap', '--project',
                                         'p', 'a'))
        self.assertIn('error: --project can only be used with --all-images',
                      self.stderr.getvalue())
        self.assertEqual([], self.sent())

    def test_unknown_column_before_any_request(self):
        self.assertEqual(1, self.run_cmd('--store', 'cheap', '-c', 'Nope',
                                         'a'))
        self.assertEqual('No column Nope; columns are: ID, Name, Store, '
                         'Result, Remaining Stores, Reason', self.error)
        self.assertEqual([], self.sent())


class TestOutput(command.DeleteCase):

    def setUp(self):
        super().setUp()
        self.mock_locks()

    def remove(self, *args):
        self.mock_chunk(self.body)
        code = self.run_cmd('--store', 'cheap', *args, self.iid)
        self.assertEqual(0, code)
        self.assertEqual([base.STORES] + base.removal(self.iid), self.sent())
        return self.stdout.getvalue()

    def test_value_of_an_empty_reason_is_an_empty_line(self):
        self.assertEqual('\n', self.remove('-f', 'value', '-c', 'Reason'))

    def test_value_of_remaining_stores(self):
        self.assertEqual('archive,fast\n', self.remove(
            '-f', 'value', '-c', 'Remaining Stores'))

    def test_value_row(self):
        self.assertEqual('%s cirros cheap removed archive,fast \n' % self.iid,
                         self.remove('-f', 'value'))

    def test_csv(self):
        self.assertEqual(
            '"ID","Name","Store","Result","Remaining Stores","Reason"\n'
            '"%s","cirros","cheap","removed","archive,fast",""\n' % self.iid,
            self.remove('-f', 'csv').replace('\r\n', '\n'))

    def test_json_keeps_lists_and_null(self):
        self.assertEqual(
            [{'ID': self.iid, 'Name': 'cirros', 'Store': 'cheap',
              'Result': 'removed', 'Remaining Stores': ['archive', 'fast'],
              'Reason': None}], json.loads(self.remove('-f', 'json')))

    def test_yaml_keeps_lists_and_null(self):
        out = self.remove('-f', 'yaml')
        self.assertIn('Remaining Stores:\n  - archive\n  - fast\n', out)
        self.assertIn('Reason: null\n', out)

    def test_table(self):
        out = self.remove()
        self.assertIn('| removed | archive, fast    |        |', out)


class TestRequestPattern(test_remover.StepsMixin, command.DeleteCase):
    """Every request the command sends, at the HTTP boundary."""

    def setUp(self):
        super().setUp()
        self.mock_locks()

    def test_one_image(self):
        self.mock_chunk(self.body)
        self.assertEqual(0, self.run_cmd('--store', 'cheap', self.iid))
        namespace = '/v2/metadefs/namespaces/' + lock.NAMESPACE
        tags = '%s/tags/%s' % (namespace, self.iid)
        self.assertEqual(
            [('GET', '/v2/info/stores'),
             ('GET', namespace),
             ('POST', tags),
             ('GET', '/v2/images'),
             ('DELETE', '/v2/stores/cheap/' + self.iid),
             ('GET', '/v2/images'),
             ('GET', namespace + '/tags'),
             ('GET', '/v2/images/%s/file' % self.iid),
             ('DELETE', tags)],
            [(r.method, parse.urlsplit(r.url).path)
             for r in self.requests()])
        self.assertEqual([base.STORES] + base.removal(self.iid), self.sent())
        self.assertEqual([], self.lock_tags.names())

    def twenty_four(self, parallel):
        bodies = test_remover.images(24)
        every = test_remover.ids(bodies)
        self.mock_chunk(*bodies[:20])
        self.mock_chunk(*bodies[20:])
        self.assertEqual(0, self.run_cmd('--store', 'cheap', '--parallel',
                                         str(parallel), '-f', 'value', '-c',
                                         'Result', *every))
        self.assertEqual('removed\n' * 24, self.stdout.getvalue())
        self.assertEqual([], self.lock_tags.names())
        return every

    def test_twenty_four_images_one_request_at_a_time(self):
        every = self.twenty_four(1)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE]
            + test_remover.chunk_of(*every[:20])
            + test_remover.chunk_of(*every[20:]), self.sent())

    def test_twenty_four_images_four_at_a_time(self):
        every = self.twenty_four(4)
        steps = [base.STORES, base.READ_NAMESPACE]
        for part in (every[:20], every[20:]):
            steps += [base.lock_many(*part), base.listing_of(*part),
                      {base.store_delete(i) for i in part},
                      base.listing_of(*part), base.LIST_LOCKS,
                      {base.read_byte(i) for i in part},
                      {base.unlock(i) for i in part}]
        self.assertSteps(steps, self.sent())


class TestExitCodes(command.DeleteCase):

    def setUp(self):
        super().setUp()
        self.mock_locks()

    def test_failure_among_three(self):
        one, two = base.image_body('one'), base.image_body('two')
        solo = base.with_stores(self.body, 'cheap')
        self.mock_listing([one, solo, two])
        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:%s,%s'
            % (one['id'], two['id']),
            json=base.listing(base.with_stores(one, 'fast'),
                              base.with_stores(two, 'fast')))
        for body in (one, two):
            self.mock_store_delete('cheap', body['id'])
            self.mock_file(body['id'])
        code = self.run_cmd('--store', 'cheap', '-f', 'json', one['id'],
                            self.iid, two['id'])
        self.assertEqual(1, code)
        self.assertEqual('Store cheap, 3 image(s): 2 removed, 1 failed (see '
                         'Result and Reason)', self.error)
        rows = json.loads(self.stdout.getvalue())
        self.assertEqual(['removed', 'failed', 'removed'],
                         [r['Result'] for r in rows])
        self.assertEqual(['cheap'], rows[1]['Remaining Stores'])
        self.assertIn('ERROR Image %s: failed' % self.iid,
                      self.logs.output)
        # The DELETEs, the proofs and the unlocks are sent in parallel
        # (any order); the image refused is unlocked too.
        every = (one['id'], self.iid, two['id'])
        sent = self.sent()
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_many(*every),
             base.listing_of(*every),
             {base.store_delete(one['id']), base.store_delete(two['id'])},
             base.listing_of(one['id'], two['id']), base.LIST_LOCKS,
             {base.read_byte(one['id']), base.read_byte(two['id'])},
             {base.unlock(i) for i in every}],
            sent[:4] + [set(sent[4:6]), sent[6], sent[7], set(sent[8:10]),
                        set(sent[10:])])
        self.assertEqual([], self.lock_tags.names())

    def test_dry_run_failure(self):
        self.mock_listing([base.with_stores(self.body, 'cheap')])
        self.assertEqual(1, self.run_cmd('--store', 'cheap', '--dry-run',
                                         self.iid))
        self.assertEqual('Dry run: 1 of 1 images could not be removed from '
                         'store cheap (1 failed)', self.error)
        # A dry run takes no lock.
        self.assertEqual([base.STORES, base.listing_of(self.iid)],
                         self.sent())

    def test_dry_run_plan_on_stderr(self):
        self.mock_listing([self.body])
        self.assertEqual(0, self.run_cmd('--store', 'cheap', '--dry-run',
                                         '-f', 'value', '-c', 'Result',
                                         self.iid))
        self.assertEqual('would-remove\n', self.stdout.getvalue())
        self.assertIn('WARNING Plan for store cheap: 1 image(s) to remove, 0 '
                      'blocked; 300 bytes to be freed from cheap (unless '
                      'Glance keeps deleted data: delayed_delete, RBD '
                      'trash).', self.logs.output)
        self.assertEqual([base.STORES, base.listing_of(self.iid)],
                         self.sent())

    def test_absent_is_a_success(self):
        self.mock_listing([base.with_stores(self.body, 'fast')])
        self.assertEqual(0, self.run_cmd(
            '--store', 'cheap', '--ignore-missing', '-f', 'value', '-c',
            'Result', self.iid))
        self.assertEqual('absent\n', self.stdout.getvalue())
        self.assertEqual([base.STORES, base.READ_NAMESPACE,
                          base.lock_one(self.iid), base.listing_of(self.iid),
                          base.unlock(self.iid)], self.sent())

    def test_unknown_store(self):
        self.assertEqual(1, self.run_cmd('--store', 'nope', 'a'))
        self.assertEqual('Store nope does not exist on this cloud; its '
                         'stores are: archive, cheap, fast.', self.error)
        self.assertEqual([base.STORES], self.sent())

    def test_multistore_off(self):
        self.mock_stores(status=404, body={})
        self.assertEqual(1, self.run_cmd('--store', 'cheap', 'a', 'b'))
        self.assertIn('Multi-store is not enabled on this cloud', self.error)
        self.assertEqual([base.STORES], self.sent())

    def test_second_ctrl_c_reports_in_flight_as_unknown(self):
        def read_back(request, context):
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)
            return base.listing(self.body)

        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            [{'json': base.listing(self.body)}, {'json': read_back}])
        self.mock_store_delete('cheap', self.iid)
        code = self.run_cmd('--store', 'cheap', '-f', 'json', self.iid)
        self.assertEqual(130, code)
        rows = json.loads(self.stdout.getvalue())
        self.assertEqual([(self.iid, 'unknown', None)],
                         [(r['ID'], r['Result'], r['Remaining Stores'])
                          for r in rows])
        self.assertIn('Interrupted while the removal of image %s from store '
                      'cheap was in flight' % self.iid, rows[0]['Reason'])
        # The DELETE may still be carried out: the image's lock stays, and
        # the command says how to clear it.
        self.assertTrue(rows[0]['Reason'].endswith(
            ' Its lock stays (tag %s of metadata definitions namespace '
            'osc-image-store-locks), so that no run of this command removes '
            'another copy of it meanwhile: check where its data is with '
            '"openstack image store list --image %s", then clear the lock '
            'with "openstack image store lock delete %s".'
            % (self.iid, self.iid, self.iid)), rows[0]['Reason'])
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE, base.lock_one(self.iid),
             base.listing_of(self.iid), base.store_delete(self.iid),
             base.listing_of(self.iid)], self.sent())
        self.assertEqual([self.iid], self.lock_tags.names())
        self.assertIn('WARNING 1 image(s) keep their lock after an outcome '
                      'in doubt; no run of this command touches them until '
                      'it is cleared. Check where their data is ("openstack '
                      'image store list --image <image>"), then run: '
                      'openstack image store lock delete %s' % self.iid,
                      self.logs.output)
        self.assertIn('ERROR Interrupted: 1 image(s) reported above (1 '
                      'unknown); the others were not started.',
                      self.logs.output)

    def test_first_ctrl_c_starts_no_delete(self):
        def pre_read(request, context):
            signal.raise_signal(signal.SIGINT)
            return base.listing(self.body)

        self.http.get(
            base.V2 + '/images?os_hidden=false&id=in:' + self.iid,
            json=pre_read)
        self.assertEqual(130, self.run_cmd('--store', 'cheap', '-f', 'json',
                                           self.iid))
        self.assertEqual([], json.loads(self.stdout.getvalue()))
        self.assertEqual([base.STORES, base.READ_NAMESPACE,
                          base.lock_one(self.iid), base.listing_of(self.iid),
                          base.unlock(self.iid)], self.sent())
        self.assertEqual([], self.lock_tags.names())
        self.assertIn('the others were not started', self.logs.output)


class TestImageLocks(command.DeleteCase):
    """The image locks, as the command shows them."""

    def setUp(self):
        super().setUp()
        self.mock_locks()
        self.other = base.image_body('other')
        self.oid = self.other['id']

    def locked_warning(self, *image_ids):
        return ('WARNING %d image(s) stayed locked by another run; if no run '
                'of this command works on them any more (see "openstack image '
                'store lock list"), check them and run: openstack image store '
                'lock delete %s' % (len(image_ids), ' '.join(image_ids)))

    def test_locked_by_another_run_and_no_wait(self):
        self.lock_tags.add(self.iid)
        self.assertEqual(1, self.run_cmd('--store', 'cheap', '--lock-wait',
                                         '0', '-f', 'value', '-c', 'Result',
                                         self.iid))
        self.assertEqual('failed\n', self.stdout.getvalue())
        self.assertEqual('Store cheap, 1 image(s): 1 failed (see Result and '
                         'Reason)', self.error)
        self.assertIn(self.locked_warning(self.iid), self.logs.output)
        # No "waiting" line when there is no wait.
        self.assertNotIn('Waiting up to', self.logs.output)
        self.assertEqual([base.STORES, base.READ_NAMESPACE,
                          base.lock_one(self.iid), base.read_lock(self.iid)],
                         self.sent())
        self.assertEqual([self.iid], self.lock_tags.names())

    def test_lock_wait_is_waited_while_the_others_go_on(self):
        self.lock_tags.add(self.iid)
        self.mock_chunk(self.other)
        start = self.clock.now
        self.assertEqual(1, self.run_cmd('--store', 'cheap', '--lock-wait',
                                         '5', '-f', 'json', self.iid,
                                         self.oid))
        rows = json.loads(self.stdout.getvalue())
        self.assertEqual([(self.iid, 'failed'), (self.oid, 'removed')],
                         [(r['ID'], r['Result']) for r in rows])
        self.assertIn('waited 5 s; nothing was removed', rows[0]['Reason'])
        # Said once; waited on the test clock.
        self.assertEqual(1, self.logs.output.count(
            'WARNING Waiting up to 5 s for image(s) locked by another run '
            'of this command: %s.' % self.iid))
        self.assertAlmostEqual(5.0, self.clock.now - start, places=2)
        self.assertIn(self.locked_warning(self.iid), self.logs.output)
        self.assertEqual([self.iid], self.lock_tags.names())

    def test_locks_cannot_be_taken(self):
        self.http.post(base.TAGS + '/' + self.iid, **base.glance_error(
            403, 'You are not authorized to complete add_metadef_tag '
            'action.'))
        self.assertEqual(1, self.run_cmd('--store', 'cheap', self.iid))
        self.assertTrue(self.error.startswith(
            'The image locks could not be taken (tags of the metadata '
            'definitions namespace osc-image-store-locks; creating it and its '
            'tags is admin only by default: '), self.error)
        self.assertTrue(self.error.endswith('). Nothing was removed.'),
                        self.error)
        self.assertEqual([base.STORES, base.READ_NAMESPACE,
                          base.lock_one(self.iid)], self.sent())

    def test_locks_lost_mid_run_stops_and_says_so(self):
        # The first image waits for another run; the second is removed;
        # the next try of the first is refused (403): the run stops.
        self.lock_tags.add(self.iid)
        self.mock_chunk(self.other)
        self.lock_tags.fail('POST', self.iid, 409, base.glance_error(
            403, 'no'))
        self.assertEqual(1, self.run_cmd('--store', 'cheap', '-f', 'json',
                                         self.iid, self.oid))
        rows = json.loads(self.stdout.getvalue())
        self.assertEqual([(self.iid, 'failed'), (self.oid, 'removed')],
                         [(r['ID'], r['Result']) for r in rows])
        self.assertTrue(self.error.startswith(
            'Stopped after 2 image(s), reported above: The image locks could '
            'not be taken'), self.error)
        self.assertEqual([base.store_delete(self.oid)],
                         [s for s in self.sent()
                          if s.startswith('DELETE /v2/stores/')])

    def test_kept_lock_said_with_the_command(self):
        self.mock_listing([self.body], [self.body])
        self.mock_store_delete('cheap', self.iid, base.glance_error(
            503, 'busy'))
        self.assertEqual(1, self.run_cmd('--store', 'cheap', self.iid))
        self.assertIn('WARNING 1 image(s) keep their lock after an outcome '
                      'in doubt', self.logs.output)
        self.assertIn('then run: openstack image store lock delete %s'
                      % self.iid, self.logs.output)
        self.assertNotIn('stayed locked by another run', self.logs.output)
        self.assertEqual([self.iid], self.lock_tags.names())

    def test_no_lock_warning_after_a_clean_run(self):
        self.mock_chunk(self.body)
        self.assertEqual(0, self.run_cmd('--store', 'cheap', self.iid))
        self.assertNotIn('lock', self.logs.output)
        self.assertEqual([], self.lock_tags.names())

    def unsure_warning(self, *image_ids):
        return ('WARNING %d image(s) may keep a lock of this run that it '
                'could not remove, or whose lock request got no answer (see '
                'their rows and "openstack image store lock list"); once no '
                'request of this run can still reach Glance, run: openstack '
                'image store lock delete %s'
                % (len(image_ids), ' '.join(image_ids)))

    def test_lock_request_without_answer_said_with_the_command(self):
        # The append gets no answer: neither image is read or removed,
        # the append is not sent again, and the closing line names both.
        self.http.post(base.TAGS, [
            base.glance_error(504, 'Gateway Timeout'),
            base.glance_error(403, 'sent again')])  # never sent
        self.assertEqual(1, self.run_cmd('--store', 'cheap', '-f', 'json',
                                         self.iid, self.oid))
        rows = json.loads(self.stdout.getvalue())
        self.assertEqual([(self.iid, 'failed'), (self.oid, 'failed')],
                         [(r['ID'], r['Result']) for r in rows])
        self.assertEqual(
            'Nothing was removed. The request that locks image %s got no '
            'answer (HTTP 504: Gateway Timeout): Glance may still make that '
            'lock. If "openstack image store lock list" shows it, it is this '
            'run\'s; clear it with "openstack image store lock delete %s" '
            'once no request of this run can still reach Glance. Then run '
            'this command again.' % (self.iid, self.iid), rows[0]['Reason'])
        self.assertIn(self.unsure_warning(self.iid, self.oid),
                      self.logs.output)
        self.assertNotIn('keep their lock after an outcome in doubt',
                         self.logs.output)
        self.assertEqual('Store cheap, 2 image(s): 2 failed (see Result and '
                         'Reason)', self.error)
        self.assertEqual([base.STORES, base.READ_NAMESPACE,
                          base.lock_many(self.iid, self.oid)], self.sent())

    def test_unreleased_lock_said_with_the_command(self):
        # The unlock gets no answer and the tag is still there: the
        # removal stands (exit 0); the row and the closing line say so.
        self.mock_chunk(self.body)
        self.lock_tags.fail('DELETE', self.iid,
                            base.glance_error(503, 'busy'))
        self.assertEqual(0, self.run_cmd('--store', 'cheap', '-f', 'json',
                                         self.iid))
        rows = json.loads(self.stdout.getvalue())
        self.assertEqual('removed', rows[0]['Result'])
        self.assertTrue(rows[0]['Reason'].startswith(
            'The release of its lock got no answer (HTTP 503: busy) and the '
            'lock is still there'), rows[0]['Reason'])
        self.assertIn(self.unsure_warning(self.iid), self.logs.output)
        self.assertEqual([self.iid], self.lock_tags.names())
        self.assertEqual([base.STORES] + base.removal(self.iid)
                         + [base.read_lock(self.iid)], self.sent())

    def test_unreleased_and_unsure_in_one_closing_line(self):
        # The second image is locked by another run at first; the first
        # one is removed, and its unlock refused (a definite answer); the
        # next try of the second gets no answer.
        self.lock_tags.add(self.oid)
        self.mock_chunk(self.body)
        self.lock_tags.fail('DELETE', self.iid, base.glance_error(403, 'no'))
        self.lock_tags.fail('POST', self.oid, base.glance_error(500, 'x'),
                            base.glance_error(403, 'sent again'))
        self.assertEqual(1, self.run_cmd('--store', 'cheap', '-f', 'json',
                                         self.iid, self.oid))
        rows = json.loads(self.stdout.getvalue())
        self.assertEqual([(self.iid, 'removed'), (self.oid, 'failed')],
                         [(r['ID'], r['Result']) for r in rows])
        self.assertTrue(rows[0]['Reason'].startswith(
            'Its lock could not be removed (HTTP 403: no): runs of this '
            'command refuse the image until'), rows[0]['Reason'])
        self.assertTrue(rows[1]['Reason'].startswith(
            'Nothing was removed. The request that locks image %s got no '
            'answer (HTTP 500: x)' % self.oid), rows[1]['Reason'])
        # One line for both, the unlock refused first.
        self.assertEqual(1, self.logs.output.count('may keep a lock of this '
                                                   'run'))
        self.assertIn(self.unsure_warning(self.iid, self.oid),
                      self.logs.output)
        self.assertNotIn('stayed locked by another run', self.logs.output)
        self.assertEqual(
            [base.STORES, base.READ_NAMESPACE,
             base.lock_many(self.iid, self.oid), base.LIST_LOCKS]
            + base.removal(self.iid, first=False)
            + [base.lock_one(self.oid)], self.sent())

    def test_public_namespace_refused_before_anything(self):
        self.lock_tags.namespace = {'visibility': 'public'}
        self.assertEqual(1, self.run_cmd('--store', 'cheap', self.iid))
        self.assertEqual(
            'The image locks cannot be used: the metadata definitions '
            'namespace osc-image-store-locks is public (every project could '
            'read it, or its locks could not be removed). Make it private '
            'and unprotected with "openstack image metadef namespace set '
            '--private --unprotected osc-image-store-locks", then run this '
            'command again. Nothing was removed.', self.error)
        self.assertEqual([base.STORES, base.READ_NAMESPACE], self.sent())
        self.assertEqual([], self.lock_tags.names())
