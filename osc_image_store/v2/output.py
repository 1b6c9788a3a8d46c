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
"""Output helpers of the commands: cells, progress line, Ctrl-C handling."""

import contextlib
import signal
import threading
import time
import typing as ty

from osc_image_store.engine import results
from osc_image_store.i18n import _

#: cliff formatters that keep real lists and nulls.
STRUCTURED_FORMATS = ('json', 'yaml')


def cell(value: ty.Any, formatter: str) -> ty.Any:
    """A value as one output cell, fit for the chosen cliff formatter.

    json/yaml keep lists and None (null); the other formatters get an
    empty string for None and store lists joined with commas (table:
    ``", "``; value and csv: ``","``, so that a script can split them).

    :param value: a cell value (str, bool, int, None, list or tuple).
    :param formatter: ``parsed_args.formatter``.
    """
    if formatter in STRUCTURED_FORMATS:
        return list(value) if isinstance(value, tuple) else value
    if value is None:
        return ''
    if isinstance(value, (list, tuple)):
        return (', ' if formatter == 'table' else ',').join(value)
    return value


class Progress:
    """A one-line progress report on the command's stderr.

    Shown only when that stderr is a terminal and the output is a table:
    images done (of total, when known), failures, copies, rate and time
    left.  Rows come a chunk at a time, so the line is also redrawn every
    half second by a thread of its own, with the time going on.
    """

    #: Seconds between two redraws.
    EVERY = 0.5

    def __init__(self, stream: ty.TextIO | None, total: int | None = None):
        self.stream, self.total = stream, total
        self.shown = False
        self.start = time.monotonic()
        self.counts = (0, 0, 0, 0)
        self._lock = threading.Lock()
        self._done = threading.Event()
        if stream is not None:
            threading.Thread(target=self._tick, daemon=True,
                             name='progress').start()

    @classmethod
    def for_command(cls, stderr: ty.TextIO, formatter: str,
                    total: int | None) -> 'Progress':
        """A progress line, or a silent one when it is not wanted."""
        isatty = getattr(stderr, 'isatty', None)
        wanted = formatter == 'table' and bool(isatty and isatty())
        return cls(stderr if wanted else None, total)

    def update(self, done: int, failed: int, copying: int = 0,
               copied: int = 0) -> None:
        """Record the counts; the next redraw shows them.

        :param done: images reported so far.
        :param failed: of which failed, unverified, unknown or copying.
        :param copying: copies in flight or queued.
        :param copied: bytes copied so far.
        """
        self.counts = (done, failed, copying, copied)

    def text(self) -> str:
        """The progress line for the counts recorded so far."""
        done, failed, copying, copied = self.counts
        rate = done / max(time.monotonic() - self.start, 1e-6)
        text = (_('%(done)d of %(total)d image(s)') % {
            'done': done, 'total': self.total} if self.total
            else _('%d image(s)') % done)
        text += _(', %(failed)d to check') % {'failed': failed}
        if copying or copied:
            text += _(', %(copying)d copying, %(bytes)s bytes copied') % {
                'copying': copying, 'bytes': _bytes(copied)}
        text += _(', %(rate).1f/s, %(elapsed)ds elapsed') % {
            'rate': rate, 'elapsed': time.monotonic() - self.start}
        if self.total and rate > 0:
            text += _(', about %ds left') % ((self.total - done) / rate)
        return text

    def _tick(self) -> None:
        while not self._done.wait(self.EVERY):
            with self._lock:
                if self._done.is_set() or self.stream is None:
                    return
                self.stream.write('\r\033[K' + self.text())
                self.stream.flush()
                self.shown = True

    @contextlib.contextmanager
    def paused(self) -> ty.Iterator[None]:
        """Clear the line while something else is written to stderr."""
        with self._lock:
            self._erase()
            yield

    def clear(self) -> None:
        """Stop redrawing and clear the line."""
        self._done.set()
        with self._lock:
            self._erase()

    def _erase(self) -> None:
        if self.shown and self.stream is not None:
            self.stream.write('\r\033[K')
            self.stream.flush()
            self.shown = False


class StopOnSigint:
    """Context manager: while active, SIGINT sets an event instead of raising.

    A second SIGINT raises KeyboardInterrupt as usual.
    """

    def __init__(self, event: threading.Event):
        self.event = event
        self.previous: ty.Any = None

    def _handle(self, signum: int, frame: ty.Any) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()

    def __enter__(self) -> 'StopOnSigint':
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info: ty.Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def plan_summary(rows: ty.Sequence[ty.Any], store: str,
                 copy_to: str | None) -> str:
    """The one-line summary of a dry run.

    :param rows: the :class:`~osc_image_store.engine.results.Removal` rows.
    :returns: images to remove, to copy (and their bytes), blocked, and
        the bytes to be freed from ``store``.
    """
    remove = [r for r in rows if r.result == results.WOULD_REMOVE]
    move = [r for r in rows if r.result == results.WOULD_MOVE]
    blocked = [r for r in rows if r.result == results.FAILED]
    skipped = [r for r in rows if r.result == results.SKIPPED]
    text = _('Plan for store %(store)s: %(remove)d image(s) to remove') % {
        'store': store, 'remove': len(remove)}
    if copy_to:
        text += _(', %(move)d to copy into %(to)s first (%(bytes)s bytes)') % {
            'move': len(move), 'to': copy_to,
            'bytes': _bytes(sum(r.size or 0 for r in move))}
    if skipped:
        text += _(', %d skipped (sole copies)') % len(skipped)
    text += _(', %(blocked)d blocked; %(freed)s bytes to be freed from '
              '%(store)s.') % {
        'blocked': len(blocked), 'store': store,
        'freed': _bytes(sum(r.size or 0 for r in remove + move))}
    return text


def left_summary(left: ty.Sequence[str], read: int, store: str,
                 deep: bool, project: str | None = None) -> str:
    """What a finished ``--all-images`` run left in the store."""
    whose = (_('visible image of project %s') % project if project
             else _('visible image'))
    how = (_('the image listing and %d single-image reads') % read if deep
           else _('the image listing; locations without a store ID are only '
                  'seen with --check-untagged'))
    if not left:
        return _('Store %(store)s: no %(whose)s holds data there any more '
                 '(checked with %(how)s).') % {
            'store': store, 'how': how, 'whose': whose}
    return _('Store %(store)s still holds data of %(count)d %(whose)s(s) '
             '(checked with %(how)s): %(ids)s') % {
        'store': store, 'count': len(left), 'how': how, 'whose': whose,
        'ids': ', '.join(left[:20]) + (' ...' if len(left) > 20 else '')}


def _bytes(count: int) -> str:
    """A byte count with thousands separators."""
    return '{:,}'.format(count)


def failure_counts(rows: ty.Sequence[ty.Any]) -> str:
    """``1 failed, 2 unknown``: the rows that make the exit code 1."""
    counts: dict[str, int] = {}
    for row in rows:
        if row.failed:
            counts[row.result] = counts.get(row.result, 0) + 1
    return ', '.join('%d %s' % (n, r) for r, n in sorted(counts.items()))
