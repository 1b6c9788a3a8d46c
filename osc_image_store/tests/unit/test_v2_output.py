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
"""Output helpers of the commands: cells, progress line, Ctrl-C."""

import io
import signal
import threading
import time

import fixtures
import testtools

from osc_image_store.engine import results
from osc_image_store.v2 import output


class Terminal(io.StringIO):

    def isatty(self):
        return True


class TestCell(testtools.TestCase):

    def test_structured_formats_keep_lists_and_null(self):
        for formatter in ('json', 'yaml'):
            self.assertEqual(['a', 'b'], output.cell(('a', 'b'), formatter))
            self.assertIsNone(output.cell(None, formatter))
            self.assertIs(True, output.cell(True, formatter))

    def test_table_joins_with_a_space(self):
        self.assertEqual('a, b', output.cell(('a', 'b'), 'table'))
        self.assertEqual('', output.cell(None, 'table'))
        self.assertEqual('', output.cell((), 'table'))

    def test_script_formats_join_without_a_space(self):
        for formatter in ('value', 'csv', 'shell'):
            self.assertEqual('a,b', output.cell(['a', 'b'], formatter))
            self.assertEqual('', output.cell(None, formatter))
            self.assertEqual('x', output.cell('x', formatter))


class TestSummaries(testtools.TestCase):

    def row(self, result, size):
        return results.Removal('i', 'n', 'cheap', result, (), None, None,
                               size)

    def test_plan(self):
        rows = [self.row('would-remove', 1000000), self.row('would-move', 300),
                self.row('would-move', None), self.row('failed', 7),
                self.row('skipped', 7), self.row('absent', 7)]
        self.assertEqual(
            'Plan for store cheap: 1 image(s) to remove, 2 to copy into fast '
            'first (300 bytes), 1 skipped (sole copies), 1 blocked; '
            '1,000,300 bytes to be freed from cheap (unless Glance keeps '
            'deleted data: delayed_delete, RBD trash).',
            output.plan_summary(rows, 'cheap', 'fast'))
        self.assertEqual(
            'Plan for store cheap: 1 image(s) to remove, 1 skipped (sole '
            'copies), 1 blocked; 1,000,300 bytes to be freed from cheap '
            '(unless Glance keeps deleted data: delayed_delete, RBD '
            'trash).',
            output.plan_summary(rows, 'cheap', None))

    def test_left_in_the_project(self):
        self.assertEqual(
            'Store cheap still holds data of 1 visible image of project '
            'demo(s) (checked with the image listing; locations without a '
            'store ID are only seen with --check-untagged): i1',
            output.left_summary(['i1'], 0, 'cheap', False, 'demo'))

    def test_failure_counts(self):
        rows = [self.row(r, 1) for r in ('unknown', 'failed', 'removed',
                                         'unknown', 'copying')]
        self.assertEqual('1 copying, 1 failed, 2 unknown',
                         output.failure_counts(rows))

    def test_nothing_left(self):
        self.assertEqual(
            'Store cheap: no visible image lists it any more (checked with '
            'the image listing and 7 single-image reads). Glance frees the '
            'space unless it keeps deleted data: with delayed_delete, until '
            'its scrubber runs; on RBD, images with snapshots go to the '
            'trash.',
            output.left_summary([], 7, 'cheap', True))

    def test_left_names_at_most_20(self):
        left = ['i%02d' % n for n in range(21)]
        text = output.left_summary(left, 0, 'cheap', False)
        self.assertTrue(text.startswith(
            'Store cheap still holds data of 21 visible image(s) (checked '
            'with the image listing; locations without a store ID are only '
            'seen with --check-untagged): i00, i01,'))
        self.assertTrue(text.endswith('i18, i19 ...'))


class TestProgress(testtools.TestCase):

    def test_redrawn_line_only_for_a_table_on_a_terminal(self):
        line = output.Progress.for_command(Terminal(), 'table', 3)
        self.addCleanup(line.clear)
        self.assertEqual((True, False), (line.stream is not None, line.log))
        # Elsewhere: log lines (see test_v2_progress_log).
        for stream, formatter in ((Terminal(), 'json'),
                                  (io.StringIO(), 'table')):
            logged = output.Progress.for_command(stream, formatter, 3)
            self.addCleanup(logged.clear)
            self.assertEqual((stream, True), (logged.stream, logged.log))
        self.assertIsNone(output.Progress.for_command(
            object(), 'table', 3).stream)

    def test_text(self):
        progress = output.Progress(None, 4)
        progress.start -= 10
        progress.update(2, 1)
        self.assertEqual('2 of 4 image(s), 1 to check, 0.2/s, 10s elapsed, '
                         'about 10s left', progress.text())
        progress.update(2, 1, copying=3, copied=1234567)
        self.assertEqual('2 of 4 image(s), 1 to check, 3 copying, 1,234,567 '
                         'bytes copied, 0.2/s, 10s elapsed, about 10s left',
                         progress.text())
        unknown = output.Progress(None)
        unknown.start -= 10
        unknown.update(2, 0)
        self.assertEqual('2 image(s), 0 to check, 0.2/s, 10s elapsed',
                         unknown.text())

    def drawn(self, stream, count):
        """Wait (at most 5 s) until the line was drawn ``count`` times."""
        deadline = time.monotonic() + 5
        while stream.getvalue().count('\r\x1b[K') < count:
            self.assertLess(time.monotonic(), deadline, stream.getvalue())
            time.sleep(0.005)

    def test_redrawn_by_its_thread_while_rows_do_not_come(self):
        self.useFixture(fixtures.MonkeyPatch(
            'osc_image_store.v2.output.Progress.EVERY', 0.01))
        stream = Terminal()
        progress = output.Progress(stream, 4)
        self.addCleanup(progress.clear)
        progress.update(1, 0)
        self.drawn(stream, 2)
        self.assertIn('1 of 4 image(s), 0 to check', stream.getvalue())

    def test_paused_and_cleared(self):
        self.useFixture(fixtures.MonkeyPatch(
            'osc_image_store.v2.output.Progress.EVERY', 0.01))
        stream = Terminal()
        progress = output.Progress(stream, 1)
        self.drawn(stream, 1)
        with progress.paused():
            # The line is erased, and not drawn again meanwhile.
            self.assertTrue(stream.getvalue().endswith('elapsed\r\x1b[K'))
            stream.write('ERROR one line')
            time.sleep(0.05)
            self.assertTrue(stream.getvalue().endswith('ERROR one line'))
        progress.clear()
        drawn = stream.getvalue()
        time.sleep(0.05)
        self.assertEqual(drawn, stream.getvalue())
        self.assertFalse(progress.shown)

    def test_silent(self):
        progress = output.Progress(None, 1)
        progress.update(1, 0)
        time.sleep(0.01)
        progress.clear()
        self.assertFalse(progress.shown)


class TestStopOnSigint(testtools.TestCase):

    def test_first_sets_the_event_second_interrupts(self):
        before = signal.getsignal(signal.SIGINT)
        event = threading.Event()
        with output.StopOnSigint(event):
            signal.raise_signal(signal.SIGINT)
            self.assertTrue(event.is_set())
            self.assertRaises(KeyboardInterrupt, signal.raise_signal,
                              signal.SIGINT)
        self.assertIs(before, signal.getsignal(signal.SIGINT))

    def test_no_handler_outside_the_main_thread(self):
        before = signal.getsignal(signal.SIGINT)
        seen = []

        def enter():
            with output.StopOnSigint(threading.Event()):
                seen.append(signal.getsignal(signal.SIGINT))

        thread = threading.Thread(target=enter)
        thread.start()
        thread.join()
        self.assertEqual([before], seen)
