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
"""Progress in logs: when stderr is not a terminal (a cron job, a captured
log), one plain line every 30 s or so on stderr; nothing for a short run,
nothing on stdout."""

import io
import json
import time

import fixtures
import testtools

from osc_image_store.tests.unit import base
from osc_image_store.tests.unit import command
from osc_image_store.v2 import output


class TestLogLines(testtools.TestCase):

    def lines(self, stream, count):
        """Wait (at most 5 s) until ``count`` lines were written."""
        deadline = time.monotonic() + 5
        while stream.getvalue().count('\n') < count:
            self.assertLess(time.monotonic(), deadline, stream.getvalue())
            time.sleep(0.005)
        return stream.getvalue().splitlines()

    def test_every_30_seconds_by_default(self):
        self.assertEqual(30.0, output.Progress.LOG_EVERY)

    def test_plain_lines_on_a_log(self):
        self.useFixture(fixtures.MonkeyPatch(
            'osc_image_store.v2.output.Progress.LOG_EVERY', 0.02))
        stream = io.StringIO()
        progress = output.Progress.for_command(stream, 'json', 40)
        self.addCleanup(progress.clear)
        progress.update(10, 2, copying=3)
        lines = self.lines(stream, 2)
        self.assertRegex(lines[0], r'^Progress: 10 of 40 image\(s\) done '
                         r'\(2 to check\), 3 cop\(ies\) in flight, \d+s '
                         r'elapsed(, about \d+s left)?$')
        self.assertNotIn('\r', stream.getvalue())
        self.assertNotIn('\033', stream.getvalue())

    def test_short_run_prints_nothing(self):
        stream = io.StringIO()
        progress = output.Progress.for_command(stream, 'table', 3)
        progress.update(3, 0)
        time.sleep(0.05)
        progress.clear()
        self.assertEqual('', stream.getvalue())

    def test_log_text(self):
        progress = output.Progress(None, 150, log=True)
        progress.start -= 600
        progress.update(40, 5, copying=2)
        self.assertEqual('Progress: 40 of 150 image(s) done (5 to check), 2 '
                         'cop(ies) in flight, 10m00s elapsed, about 27m30s '
                         'left', progress.log_text())
        unknown = output.Progress(None, None, log=True)
        unknown.start -= 4000
        unknown.update(7, 0)
        self.assertEqual('Progress: 7 image(s) done (0 to check), 0 '
                         'cop(ies) in flight, 1h06m elapsed',
                         unknown.log_text())

    def test_copies_read_at_each_line(self):
        # No row has come yet, one copy runs: the line says so.
        progress = output.Progress(None, 1, log=True)
        progress.copies = lambda: 1
        self.assertIn('0 of 1 image(s) done (0 to check), 1 cop(ies) in '
                      'flight', progress.log_text())

    def test_paused_writes_no_escape(self):
        stream = io.StringIO()
        progress = output.Progress(stream, 1, log=True)
        with progress.paused():
            stream.write('ERROR one line\n')
        progress.clear()
        self.assertEqual('ERROR one line\n', stream.getvalue())


class TestCommand(command.DeleteCase):

    def test_lines_on_stderr_none_on_stdout(self):
        # A run that lasts (each image read takes real time here), its
        # stderr a pipe: progress lines there; stdout holds the JSON only.
        self.useFixture(fixtures.MonkeyPatch(
            'osc_image_store.v2.output.Progress.LOG_EVERY', 0.01))
        self.mock_locks()
        self.mock_chunk(self.body)

        def slow(request, context):
            time.sleep(0.1)  # real time: the progress thread runs
            context.status_code = 206
            return b'x'

        self.http.get('%s/images/%s/file' % (base.V2, self.iid),
                      content=slow)
        self.assertEqual(0, self.run_cmd('--store', 'cheap', '-f', 'json',
                                         self.iid))
        self.assertEqual(['removed'], [r['Result'] for r in json.loads(
            self.stdout.getvalue())])
        self.assertIn('Progress: 0 of 1 image(s) done (0 to check), 0 '
                      'cop(ies) in flight', self.stderr.getvalue())
