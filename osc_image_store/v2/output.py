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
    """A progress report of the command on its stderr.

    On a terminal, with table output, one line redrawn every half second
    by a thread of its own (rows come a chunk at a time): images done (of
    total, when known), failures, copies, rate and time left.  Elsewhere
    (a log, a cron job, a pipe; or another output format), one plain line
    every :attr:`LOG_EVERY` seconds, the first after that long, so that a
    short run prints nothing; stdout never gets any.  The thread writes
    until :meth:`clear`.

    :param stream: where to write (the command's stderr), or None for a
        report that writes nothing (no thread is started).
    :param total: how many images the run was given, or None when that
        is not known (``--all-images``).
    :param log: write a plain line every :attr:`LOG_EVERY` seconds
        instead of redrawing one every :attr:`EVERY` seconds.
    """

    #: Seconds between two redraws of the terminal line.
    EVERY = 0.5
    #: Seconds between two lines in a log (and before the first).
    LOG_EVERY = 30.0

    def __init__(self, stream: ty.TextIO | None, total: int | None = None,
                 log: bool = False):
        self.stream, self.total, self.log = stream, total, log
        self.shown = False
        self.start = time.monotonic()
        self.counts = (0, 0, 0, 0)
        #: Called at each line for the copies in flight now (they change
        #: between rows); None: the count given to :meth:`update`.
        self.copies: ty.Callable[[], int] | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        if stream is not None:
            threading.Thread(target=self._tick, daemon=True,
                             name='progress').start()

    @classmethod
    def for_command(cls, stderr: ty.TextIO, formatter: str,
                    total: int | None) -> 'Progress':
        """The progress report of a command writing to ``stderr``.

        A redrawn line on a terminal with table output, else log lines;
        nothing at all when ``stderr`` has no ``write``.

        :param stderr: the command's stderr (``self.app.stderr``).
        :param formatter: ``parsed_args.formatter``.
        :param total: how many images the run was given, or None when
            that is not known.
        :returns: a :class:`Progress`, to be ended with
            :meth:`Progress.clear`.
        """
        isatty = getattr(stderr, 'isatty', None)
        if formatter == 'table' and bool(isatty and isatty()):
            return cls(stderr, total)
        if not hasattr(stderr, 'write'):
            return cls(None, total)
        return cls(stderr, total, log=True)

    def update(self, done: int, failed: int, copying: int = 0,
               copied: int = 0) -> None:
        """Record the counts; the next redraw shows them.

        :param done: images reported so far.
        :param failed: of which failed, unverified, unknown or copying.
        :param copying: copies in flight or queued.
        :param copied: bytes copied so far.
        """
        self.counts = (done, failed, copying, copied)

    def _counts(self) -> tuple[int, int, int, int]:
        done, failed, copying, copied = self.counts
        if self.copies is not None:
            copying = self.copies()
        return done, failed, copying, copied

    def text(self) -> str:
        """The progress line for the counts recorded so far."""
        done, failed, copying, copied = self._counts()
        elapsed = time.monotonic() - self.start
        rate = done / max(elapsed, 1e-6)
        text = (_('%(done)d of %(total)d image(s)') % {
            'done': done, 'total': self.total} if self.total
            else _('%d image(s)') % done)
        text += _(', %(failed)d to check') % {'failed': failed}
        if copying or copied:
            text += _(', %(copying)d copying, %(bytes)s bytes copied') % {
                'copying': copying, 'bytes': _bytes(copied)}
        text += _(', %(rate).1f/s, %(elapsed)ds elapsed') % {
            'rate': rate, 'elapsed': elapsed}
        if self.total and rate > 0:
            text += _(', about %ds left') % ((self.total - done) / rate)
        return text

    def log_text(self) -> str:
        """One line of the log report: done/total, copies, time, ETA."""
        done, failed, copying, _copied = self._counts()
        elapsed = time.monotonic() - self.start
        text = (_('Progress: %(done)d of %(total)d image(s) done') % {
            'done': done, 'total': self.total} if self.total
            else _('Progress: %d image(s) done') % done)
        text += _(' (%(failed)d to check), %(copying)d cop(ies) in flight, '
                  '%(elapsed)s elapsed') % {
            'failed': failed, 'copying': copying,
            'elapsed': _duration(elapsed)}
        if self.total and done:
            text += _(', about %s left') % _duration(
                (self.total - done) * elapsed / done)
        return text

    def _tick(self) -> None:
        every = self.LOG_EVERY if self.log else self.EVERY
        while not self._done.wait(every):
            with self._lock:
                if self._done.is_set() or self.stream is None:
                    return
                try:
                    if self.log:
                        self.stream.write(self.log_text() + '\n')
                    else:
                        self.stream.write('\r\033[K' + self.text())
                        self.shown = True
                    self.stream.flush()
                except (OSError, ValueError):
                    return  # stderr closed (a pipe whose reader left)

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
        if self.shown and self.stream is not None and not self.log:
            self.stream.write('\r\033[K')
            self.stream.flush()
            self.shown = False


class StopOnSigint:
    """Context manager: while active, SIGINT sets an event instead of raising.

    A second SIGINT raises KeyboardInterrupt as usual.  Only in the main
    thread (the only one that may set a signal handler): elsewhere it
    changes nothing.  On exit the previous handler is back.

    :param event: the event the first SIGINT sets (a SIGINT while it is
        already set raises).
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
                 copy_to: str | None, read_only: bool = False) -> str:
    """The one-line summary of a dry run.

    :param rows: the :class:`~osc_image_store.engine.results.Removal` rows.
    :param store: the store ID (``--store``).
    :param copy_to: the ``--copy-to`` store ID, or None (no copies are
        counted).
    :param read_only: the store is read-only: a removal drops the image's
        location and frees nothing.
    :returns: images to remove, to copy (and their bytes), skipped,
        blocked (``failed``), and the bytes the removals free from
        ``store`` (the sizes of the ``would-remove`` and ``would-move``
        rows).
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
    text += _(', %d blocked; ') % len(blocked)
    if read_only:
        return text + _('no space to be freed: store %(store)s is read-only '
                        '(Glance drops the locations; the data stays where '
                        'it is).') % {'store': store}
    return text + _('%(freed)s bytes to be freed from %(store)s (unless '
                    'Glance keeps deleted data: delayed_delete, RBD '
                    'trash).') % {
        'store': store,
        'freed': _bytes(sum(r.size or 0 for r in remove + move))}


#: What a final line says where Glance may keep the bytes of a removal.
KEPT_BYTES = _('Glance frees the space unless it keeps deleted data: with '
               'delayed_delete, until its scrubber runs; on RBD, images with '
               'snapshots go to the trash.')


def left_summary(left: ty.Sequence[str], read: int, store: str,
                 deep: bool, project: str | None = None,
                 read_only: bool = False) -> str:
    """What a finished ``--all-images`` run left in the store.

    :param left: IDs of the images that still list the store (see
        :meth:`~osc_image_store.engine.remover.Remover.left_in_store`).
    :param read: how many images were read one by one.
    :param store: the store ID.
    :param deep: the images were also read one by one
        (``--check-untagged``).
    :param project: the ``--project`` given (name or ID), or None.
    :param read_only: the store is read-only (its data stays).
    :returns: one line: that no visible image lists the store any more,
        and whether Glance frees the space; or how many still do, with
        the first 20 of their IDs.
    """
    whose = (_('visible image of project %s') % project if project
             else _('visible image'))
    how = (_('the image listing and %d single-image reads') % read if deep
           else _('the image listing; locations without a store ID are only '
                  'seen with --check-untagged'))
    if not left:
        text = _('Store %(store)s: no %(whose)s lists it any more (checked '
                 'with %(how)s).') % {
            'store': store, 'how': how, 'whose': whose}
        if read_only:
            return text + ' ' + _('The store is read-only: the data stays '
                                  'where it is (Glance only dropped the '
                                  'locations).')
        return text + ' ' + KEPT_BYTES
    return _('Store %(store)s still holds data of %(count)d %(whose)s(s) '
             '(checked with %(how)s): %(ids)s') % {
        'store': store, 'count': len(left), 'how': how, 'whose': whose,
        'ids': ', '.join(left[:20]) + (' ...' if len(left) > 20 else '')}


def result_counts(rows: ty.Sequence[ty.Any]) -> str:
    """``110 removed, 40 unverified``: every row counted by its Result.

    In the order of :data:`~osc_image_store.engine.results.ALL` (any
    other result last, by name).

    :param rows: the :class:`~osc_image_store.engine.results.Removal` rows.
    :returns: the counts joined with ``", "``; empty for no rows.
    """
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.result] = counts.get(row.result, 0) + 1
    order = {r: n for n, r in enumerate(results.ALL)}
    return ', '.join('%d %s' % (counts[r], r) for r in sorted(
        counts, key=lambda r: (order.get(r, len(order)), r)))


def batch_summary(rows: ty.Sequence[ty.Any], store: str) -> str:
    """The last line of a run with rows to look at: what the rows say.

    Every row is counted by its Result, nothing else: a removal whose
    outcome is not proven is ``unverified``, never "not removed".

    :param rows: the :class:`~osc_image_store.engine.results.Removal` rows.
    :param store: the store ID.
    :returns: the line: the store, the number of rows and their
        :func:`result_counts`.
    """
    return _('Store %(store)s, %(total)d image(s): %(counts)s (see Result '
             'and Reason)') % {'store': store, 'total': len(rows),
                               'counts': result_counts(rows)}


def _bytes(count: int) -> str:
    """A byte count with thousands separators."""
    return '{:,}'.format(count)


def _duration(seconds: float) -> str:
    """``45s``, ``12m05s`` or ``3h02m``."""
    seconds = int(max(seconds, 0))
    if seconds < 60:
        return '%ds' % seconds
    if seconds < 3600:
        return '%dm%02ds' % divmod(seconds, 60)
    return '%dh%02dm' % (seconds // 3600, seconds % 3600 // 60)


def failure_counts(rows: ty.Sequence[ty.Any]) -> str:
    """``1 failed, 2 unknown``: the rows that make the exit code 1.

    :param rows: the :class:`~osc_image_store.engine.results.Removal` rows.
    :returns: the rows whose result is in
        :data:`~osc_image_store.engine.results.FAILURES`, counted by
        result, sorted by name; empty when none failed.
    """
    counts: dict[str, int] = {}
    for row in rows:
        if row.failed:
            counts[row.result] = counts.get(row.result, 0) + 1
    return ', '.join('%d %s' % (n, r) for r, n in sorted(counts.items()))
