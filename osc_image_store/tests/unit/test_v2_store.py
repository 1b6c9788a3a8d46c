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
import time

from osc_image_store.engine import runlock
from osc_image_store.tests import hostile
from osc_image_store.tests.unit import base
from osc_image_store.tests.unit import command


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
        self.mock_register()

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


class TestExitCodes(command.DeleteCase):

    def setUp(self):
        super().setUp()
        self.mock_register()

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
        self.assertEqual('1 of 3 images were not removed from store cheap '
                         'as asked: 1 failed (see Result and Reason)',
                         self.error)
        rows = json.loads(self.stdout.getvalue())
        self.assertEqual(['removed', 'failed', 'removed'],
                         [r['Result'] for r in rows])
        self.assertEqual(['cheap'], rows[1]['Remaining Stores'])
        self.assertIn('ERROR Image %s: failed' % self.iid,
                      self.logs.output)
        # The DELETEs, then the proofs, are sent in parallel (any order).
        sent = self.sent()
        self.assertEqual(
            [base.STORES] + base.LOCK + [
                base.listing_of(one['id'], self.iid, two['id']),
                {base.store_delete(one['id']), base.store_delete(two['id'])},
                base.listing_of(one['id'], two['id']),
                {base.read_byte(one['id']), base.read_byte(two['id'])}]
            + base.UNLOCK,
            sent[:5] + [set(sent[5:7]), sent[7], set(sent[8:10])]
            + sent[10:])

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
                      'blocked; 300 bytes to be freed from cheap.',
                      self.logs.output)
        self.assertEqual([base.STORES, base.listing_of(self.iid)],
                         self.sent())

    def test_absent_is_a_success(self):
        self.mock_listing([base.with_stores(self.body, 'fast')])
        self.assertEqual(0, self.run_cmd(
            '--store', 'cheap', '--ignore-missing', '-f', 'value', '-c',
            'Result', self.iid))
        self.assertEqual('absent\n', self.stdout.getvalue())
        self.assertEqual([base.STORES] + base.LOCK
                         + [base.listing_of(self.iid)] + base.UNLOCK,
                         self.sent())

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
        self.mock_patch(self.body, base.locked(self.body))
        self.mock_store_delete('cheap', self.iid)
        code = self.run_cmd('--store', 'cheap', '-f', 'json', self.iid)
        self.assertEqual(130, code)
        rows = json.loads(self.stdout.getvalue())
        self.assertEqual([(self.iid, 'unknown', None)],
                         [(r['ID'], r['Result'], r['Remaining Stores'])
                          for r in rows])
        self.assertIn('Interrupted while the removal of image %s from store '
                      'cheap was in flight' % self.iid, rows[0]['Reason'])
        # The DELETE may still be carried out: the image gets a hold, then
        # the lock between runs is released.
        self.assertTrue(rows[0]['Reason'].endswith(
            ' A hold (property osc_image_store_lock) stays on it for 15 '
            'minutes so that no run of this command removes another copy '
            'meanwhile; once the image shows what happened, "openstack image '
            'unset --property osc_image_store_lock %s" removes it sooner.'
            % self.iid), rows[0]['Reason'])
        self.assertEqual(
            [base.STORES] + base.LOCK
            + [base.listing_of(self.iid), base.store_delete(self.iid),
               base.listing_of(self.iid), base.add_lock(self.iid)]
            + base.UNLOCK, self.sent())
        [[hold]] = self.patches()
        self.assertEqual(base.TOKEN, hold['value'].split()[0])
        self.assertEqual(runlock.State().dump(), self.register)
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
        self.assertEqual([base.STORES] + base.LOCK
                         + [base.listing_of(self.iid)] + base.UNLOCK,
                         self.sent())
        self.assertEqual(runlock.State().dump(), self.register)
        self.assertIn('the others were not started', self.logs.output)


class TestLockBetweenRuns(command.DeleteCase):
    """The lock between runs, as the command shows it."""

    def setUp(self):
        super().setUp()
        self.beat = int(time.time())
        self.other = runlock.State('fast', {'other': ['h', 1, self.beat]})
        self.mock_register(self.other)

    def busy(self, wait):
        return (
            'Other runs of this command are removing image data from store '
            'fast: h:1 (last seen %s UTC). A run that frees another store '
            'waits for them (%d s at most, --lock-wait); nothing was '
            'removed. Run this command again when they have ended; a run '
            'that died is forgotten 5 minutes after it was last seen.'
            % (time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(self.beat)),
               wait))

    def test_run_of_another_store_and_no_wait(self):
        self.assertEqual(1, self.run_cmd('--store', 'cheap', '--lock-wait',
                                         '0', self.iid))
        self.assertEqual(self.busy(0), self.error)
        # No "waiting" line when there is no wait.
        self.assertNotIn('Waiting up to', self.logs.output)
        # Nothing read, written or removed: the register is the other's.
        self.assertEqual([base.STORES, base.LOCK[0]], self.sent())
        self.assertEqual([], self.deletes())
        self.assertEqual(self.other.dump(), self.register)

    def test_lock_wait_is_waited(self):
        self.assertEqual(1, self.run_cmd('--store', 'cheap', '--lock-wait',
                                         '5', self.iid))
        self.assertEqual(self.busy(5), self.error)
        # The register is read again while the wait lasts (on the test
        # clock), never written; the waiting message is given once.
        sent = self.sent()
        self.assertEqual(base.STORES, sent[0])
        self.assertGreater(len(sent), 3)
        self.assertEqual({base.LOCK[0]}, set(sent[1:]))
        self.assertEqual(1, self.logs.output.count('Waiting up to 5 s'))
        self.assertGreaterEqual(self.clock.now, 1005.0)
        self.assertEqual(self.other.dump(), self.register)

    def test_same_store_shares_the_lock(self):
        self.mock_register(runlock.State('cheap', {'other': ['h', 1,
                                                             self.beat]}))
        self.mock_chunk(self.body)
        self.assertEqual(0, self.run_cmd('--store', 'cheap', '--lock-wait',
                                         '0', self.iid))
        self.assertEqual([base.STORES] + base.removal(self.iid)
                         + [base.LOCK[0]], self.sent())
        # This run took itself out again (and read the register once more:
        # the other run may have written at the same time); the other run
        # is still there.
        self.assertEqual(runlock.State('cheap', {'other': ['h', 1,
                                                           self.beat]}),
                         runlock.State.parse(self.register))

    def test_register_refused(self):
        self.http.get(base.REGISTER, **base.glance_error(
            403, 'You are not authorized to complete get_metadef_namespace '
            'action.'))
        self.assertEqual(1, self.run_cmd('--store', 'cheap', self.iid))
        self.assertTrue(self.error.startswith(
            'The lock between runs could not be read (metadata definitions '
            'namespace osc-image-store-removals, admin only by default: '),
            self.error)
        self.assertTrue(self.error.endswith('nothing was removed.'),
                        self.error)
        self.assertEqual([base.STORES, base.LOCK[0]], self.sent())

    def test_lock_lost_mid_run_stops_and_says_so(self):
        # The first DELETE is slow; meanwhile the register comes to name
        # another store's run: seen when the chunk is read again, so the
        # second DELETE is not sent, and the command says why, exit 1.
        self.mock_register()
        second = base.image_body('second')
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:'
                      + self.iid, json=base.listing(base.with_stores(
                          self.body, 'fast', 'archive')))  # the read-back
        self.mock_file(self.iid)
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:%s,%s'
                      % (self.iid, second['id']),
                      json=base.listing(self.body, second))

        self.mock_slow_delete(self.iid, base.SETTLE + 0.5,
                              then=lambda: self.set_register(self.other))
        self.mock_store_delete('cheap', second['id'])
        self.http.get(base.V2 + '/images?os_hidden=false&id=in:'
                      + second['id'], json=base.listing(second))  # re-read
        self.assertEqual(1, self.run_cmd('--store', 'cheap', '--parallel',
                                         '1', self.iid, second['id']))
        self.assertEqual([base.store_delete(self.iid)],
                         [s for s in self.sent() if s.startswith('DELETE')])
        self.assertIn('Stopped after 2 image(s), reported above: Another '
                      'run took the lock between runs (h:1', self.error)
