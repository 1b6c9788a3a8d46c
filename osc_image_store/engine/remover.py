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
"""Remove many images' data from one store, in chunks, under one lock.

First the run takes the lock between runs (:mod:`~osc_image_store.engine.
runlock`).  Then, for each chunk of images (50 by default): the lock's
register is read again; one listing (``GET /v2/images?id=in:...``) reads
the images and :mod:`~osc_image_store.engine.checks` run on it; one
``DELETE /v2/stores/{store}/{id}`` per image, ``parallel`` at once (the
images not yet sent are read again with one listing, and checked again,
when that read is older than ``fresh_for``); one listing reads them back
and :func:`~osc_image_store.engine.outcome.classify` decides each result;
a one-byte read proves a remaining copy; an unknown outcome leaves a hold
(:mod:`~osc_image_store.engine.lock`).  One image never has two requests
that change it in flight.  Rows come out in input order.

With ``copy_to``, a sole copy is first copied there (:mod:`~osc_image_
store.engine.copy`, ``max_copies`` at once on threads of their own, while
plain removals go on), and removed once the copy is proven.
"""

import collections
from concurrent import futures
import dataclasses
import threading
import typing as ty

from osc_image_store.engine import checks
from osc_image_store.engine import copy as copy_mod
from osc_image_store.engine import lock as lock_mod
from osc_image_store.engine import outcome
from osc_image_store.engine import results
from osc_image_store.engine import runlock
from osc_image_store.engine import steps
from osc_image_store.sdk import exceptions
from osc_image_store.sdk import identifiers
from osc_image_store.sdk import proxy as sdk_proxy
from osc_image_store.sdk import resources

_ERRORS = outcome.REQUEST_ERRORS
#: Options of a batch (re-exported for callers).
Options = steps.Options
#: One output slot: [label, image ID or None, row or None while copying].
_Slot = list


class Remover(steps.Steps):
    """Removes images' data from one store; see the module docstring.

    :param proxy: an :class:`osc_image_store.sdk.proxy.Proxy`; ``store``:
        the store ID; ``options``: :class:`Options`.
    :param stop: when set (e.g. by a first Ctrl-C), nothing more is
        started; what is in flight finishes and is reported.
    :param on_wait: called with a sentence about the lock between runs
        (a wait, or why it is kept).
    :ivar not_started: some images were not started because of ``stop``.
    :ivar halted: why the run stopped removing (lock lost), or None.
    :ivar bytes_copied: bytes copied into ``copy_to`` by this run.
    """

    def __init__(self, proxy: sdk_proxy.Proxy, store: str,
                 options: Options = Options(),
                 stop: threading.Event | None = None,
                 on_wait: ty.Callable[[str], None] | None = None):
        if options.chunk_size is None:
            options = dataclasses.replace(options, chunk_size=50)
        if (options.parallel < 1 or (options.chunk_size or 0) < 1
                or options.max_copies < 1):
            raise ValueError('parallel, chunk_size and max_copies must be '
                             'at least 1')
        self.proxy, self.store, self.options = proxy, store, options
        self.stop = stop or threading.Event()
        self.lock = lock_mod.Lock()
        self.runlock: runlock.RunLock | None = None
        self.on_wait = on_wait
        self.halted: str | None = None
        self.unheld: list[str] = []  # unknown outcomes without a hold
        self._given = 0  # rows given out
        self._interrupted = False
        self.not_started = False
        self.bytes_copied = 0
        self._chunk: steps.Chunk | None = None
        self._seen: set[str] = set()
        self._seen_ids: set[str] = set()
        self._out: collections.deque[_Slot] = collections.deque()
        self._copies: dict[str, futures.Future[copy_mod.Copied]] = {}
        self._names: dict[str, str | None] = {}
        self.stores: dict[str, resources.Store] = {}
        self.target: resources.Store | None = None

    @property
    def copies_pending(self) -> int:
        """Copies started or queued and not yet settled."""
        return len(self._copies)

    def run(self, images: ty.Iterable[str | resources.Image],
            ) -> ty.Iterator[results.Removal]:
        """Remove each image's copy in the store; never fail the batch.

        :param images: names, IDs or resources, in output order (may be a
            paginated generator: it is read one chunk at a time).
        :returns: an iterator of :class:`~osc_image_store.engine.results.
            Removal`, one per distinct image, in input order.
        :raises: :class:`~osc_image_store.sdk.exceptions.MultiStoreNotEnabled`,
            ``StoreNotFound`` or ``InvalidIdentifier`` (the store, or a
            ``copy_to`` store that is the same or read-only) first;
            :class:`~osc_image_store.engine.runlock.LockError` when the
            lock between runs (taken before the first images are read)
            cannot be taken; an error of ``images`` itself after the rows
            of the images read before it.  When the lock is lost, the
            images left get ``failed`` rows and :attr:`halted` says why.
        """
        identifiers.check_store_id(self.store)
        if self.options.copy_to is not None:
            identifiers.check_store_id(self.options.copy_to)
        all_stores = self.proxy.stores()
        self.target = self.proxy.find_store(self.store, all_stores)
        self.stores = {s.id: s for s in all_stores}
        copy_to = self.options.copy_to
        if copy_to is not None:
            into = self.proxy.find_store(copy_to, all_stores)
            if copy_to == self.store or into.is_read_only:
                raise exceptions.InvalidIdentifier(
                    'Store %s cannot take the copies: it is %s.' % (
                        copy_to, 'the store being freed'
                        if copy_to == self.store else 'read-only'))
        if not self.options.dry_run:  # taken before the first DELETE
            self.runlock = runlock.RunLock(
                self.proxy, self.store, self.options.settle,
                self.options.lock_wait, self.stop, self.on_wait)
        pool = futures.ThreadPoolExecutor(self.options.parallel,
                                          thread_name_prefix='image-store')
        copies = futures.ThreadPoolExecutor(self.options.max_copies,
                                            thread_name_prefix='image-copy')
        source = iter(images)
        try:
            end = False
            while not end:
                chunk: list[ty.Any] = []
                error = None
                try:
                    while len(chunk) < ty.cast(int, self.options.chunk_size):
                        chunk.append(next(source))
                except StopIteration:
                    end = True
                except _ERRORS as exc:
                    error = exc
                if self.stop.is_set() or self.halted:
                    self.not_started = bool(chunk) or not end
                    break
                self._out.extend(self._handle(chunk, pool, copies))
                self._moves(pool, wait=False)
                yield from self._ready()
                if error is not None:
                    raise error
            while self._copies:
                self._renew()
                self._moves(pool, wait=True)
                yield from self._ready()
            yield from self._ready()
        except KeyboardInterrupt:
            self._interrupted = True  # interrupted_rows() releases it
            raise
        finally:
            copies.shutdown(wait=False, cancel_futures=True)
            pool.shutdown(wait=False, cancel_futures=True)
            if not self._interrupted:
                self._release_run_lock()

    def _renew(self) -> None:
        """Keep the lock between runs while copies are waited for."""
        if self.runlock is not None and self.runlock.held:
            try:
                self.runlock.ensure()
            except runlock.LockError as exc:
                self.halted = str(exc)  # copies not started are cancelled

    def _release_run_lock(self) -> None:
        say = self.on_wait or (lambda text: None)
        if self.runlock is not None and self.unheld:
            say('This run keeps the lock between runs: %d image(s) whose '
                'removal may still happen got no hold (%s). Runs of other '
                'stores wait until it lapses, %d minutes after this run\'s '
                'last beat.' % (len(self.unheld), ', '.join(self.unheld),
                                runlock.STALE_AFTER // 60))
        elif self.runlock is not None:
            error = self.runlock.release()
            if error is not None:
                say('This run could not take itself out of the lock '
                    'between runs (%s); other runs ignore it %d minutes '
                    'after its last beat.' % (error,
                                              runlock.STALE_AFTER // 60))

    def interrupted_rows(self) -> list[results.Removal]:
        """Rows still held when the batch was torn down (second Ctrl-C).

        The finished rows not yet given out, ``copying`` for images whose
        copy was under way, and, for the chunk in hand, ``unknown`` for
        those whose DELETE was sent but not read back (they get a hold,
        best effort).  Then the lock between runs is released.
        """
        rows = [slot[2] or self._row(
            slot[1], self._names.get(slot[1]), results.COPYING, None,
            'Interrupted while image %s was being copied into store %s: the '
            'copy may go on in Glance; nothing was removed. Run the command '
            'again to finish.' % (slot[1], self.options.copy_to))
            for slot in self._out]
        self._out.clear()
        chunk, self._chunk = self._chunk, None
        if chunk is None:
            self._release_run_lock()
            return rows
        for label, image_id in chunk.order:
            if image_id is None:
                rows.append(chunk.failed[label])
            elif image_id in chunk.rows:
                rows.append(chunk.rows[image_id])
            elif image_id in chunk.sent:
                rows.append(self._row(
                    image_id, chunk.names.get(image_id), results.UNKNOWN,
                    None, 'Interrupted while the removal of image %s from '
                    'store %s was in flight: it may or may not have '
                    'happened; check it with "openstack image store list '
                    '--image %s".%s%s'
                    % (image_id, self.store, image_id,
                       self._lock_hint(image_id), self._hold(image_id))))
        self._release_run_lock()
        return rows

    def left_in_store(self, owner: str | None = None,
                      deep: bool = False) -> tuple[list[str], int]:
        """See :func:`~osc_image_store.engine.checks.left_in_store`."""
        return checks.left_in_store(self.proxy, self.store, owner, deep)

    # -- copies ----------------------------------------------------------

    def _ready(self) -> ty.Iterator[results.Removal]:
        """Give out the rows at the front whose images are settled."""
        while self._out and self._out[0][2] is not None:
            self._given += 1
            yield self._out.popleft()[2]

    def _fill(self, image_id: str, row: results.Removal | None) -> None:
        """Settle the slot of an image (None: drop it, never started)."""
        for slot in self._out:
            if slot[1] == image_id and slot[2] is None:
                if row is None:
                    self._out.remove(slot)
                else:
                    slot[2] = row
                return

    def _moves(self, pool: futures.Executor, wait: bool) -> None:
        """Settle finished copies; remove the images copied."""
        if wait:
            if self.stop.is_set() or self.halted:
                for job in self._copies.values():
                    job.cancel()
            futures.wait(list(self._copies.values()), timeout=1.0,
                         return_when=futures.FIRST_COMPLETED)
        ready = []
        for image_id, job in list(self._copies.items()):
            if not job.done():
                continue
            del self._copies[image_id]
            if job.cancelled():
                self.not_started = True
                self._fill(image_id, None)
                continue
            copied = job.result()
            if copied.ok is None and copied.reason is None:
                self.not_started = True
                self._fill(image_id, None)
                continue
            self.bytes_copied += copied.size
            if copied.ok:
                ready.append(image_id)
                continue
            self._fill(image_id, self._row(
                image_id, self._names.get(image_id),
                results.FAILED if copied.ok is False else results.COPYING,
                copied.stores, copied.reason, copied_to=self.options.copy_to))
        if not ready:
            return
        if self.stop.is_set():
            for image_id in ready:
                self._fill(image_id, self._row(
                    image_id, self._names.get(image_id), results.COPYING,
                    None, 'Copied into store %s; interrupted before its '
                    'removal from %s. Run the command again to finish.'
                    % (self.options.copy_to, self.store),
                    copied_to=self.options.copy_to))
            return
        for _label, image_id, row in self._handle(ready, pool, None):
            if image_id is not None and row is not None:
                self._fill(image_id, copy_mod.moved(
                    row, ty.cast(str, self.options.copy_to)))

    # -- one chunk -------------------------------------------------------

    def _handle(self, items: list[ty.Any], pool: futures.Executor,
                copies: futures.Executor | None) -> list[_Slot]:
        """Handle one chunk; its slots in order (row None: copying).

        :param copies: the copy executor, or None for a removal pass over
            images this run copied.
        """
        chunk = self._chunk = steps.Chunk()
        pending = self._resolve(items, chunk, pool, copies is not None)
        copying: set[str] = set()
        go = []
        if pending and self.runlock is not None and not self.halted:
            try:  # before the read DELETEs rest on
                if self.runlock.held:
                    self.runlock.check()
                else:  # the first images: take it
                    self.runlock.acquire()  # unheld if stopped meanwhile
            except runlock.LockError as exc:
                if not self.runlock.held and not self._given:
                    raise  # nothing done yet: the run ends with it
                self.halted = str(exc)
        if pending and (self.stop.is_set() or self.halted):
            self.not_started = True
            for image_id in pending if self.halted else ():
                chunk.rows[image_id] = self._row(
                    image_id, chunk.names.get(image_id), results.FAILED,
                    None, ty.cast(str, self.halted))
            pending = []
        fresh = self._read(pending, chunk) if pending else {}
        for image_id in pending:
            image = fresh.get(image_id)
            if image is None:
                continue
            if copies is not None and self._to_copy(image):
                row = self._plan_copy(image, copies, copying)
            else:
                row = self._check(image)
                if row is None and self.options.dry_run:
                    row = self._row(
                        image_id, image.name, results.WOULD_REMOVE,
                        checks.copies_outside(image, self.store),
                        outcome.dry_run_note(image, self.store,
                                             self.stores[self.store]),
                        size=image.size)
            if row is not None:
                chunk.rows[image_id] = row
            elif image_id not in copying:
                go.append(image)
        if go and self.stop.is_set():
            self.not_started = True
        elif go:
            self._remove(go, chunk, pool)
        self._chunk = None
        slots: list[_Slot] = []
        for label, slot_id in chunk.order:
            if slot_id is None:
                slots.append([label, None, chunk.failed[label]])
            elif slot_id in chunk.rows or slot_id in copying:
                slots.append([label, slot_id, chunk.rows.get(slot_id)])
        return slots

    def _to_copy(self, image: resources.Image) -> bool:
        """Whether the image's sole copy must be copied before removal."""
        return (self.options.copy_to is not None
                and image.status == 'active'
                and checks.needs_copy(image, self.store, self.stores))

    def _plan_copy(self, image: resources.Image, copies: futures.Executor,
                   copying: set[str]) -> results.Removal | None:
        """A ``would-move`` row (dry run), or start the copy (no row)."""
        target = ty.cast(str, self.options.copy_to)
        if self.options.dry_run:
            blocker = checks.import_blocker(image, self.proxy)
            if blocker and target not in image.importing_to_stores:
                return self._row(image.id, image.name, results.FAILED,
                                 image.store_ids, blocker, size=image.size)
            return self._row(
                image.id, image.name, results.WOULD_MOVE,
                checks.copies_outside(image, self.store) + [target],
                'Would copy %s bytes into store %s, then remove the copy in '
                '%s.' % (image.size, target, self.store),
                copied_to=target, size=image.size)
        self._names[image.id] = image.name
        copying.add(image.id)
        self._copies[image.id] = copies.submit(
            copy_mod.copy_and_wait, self.proxy, image.id, self.store,
            target, self.options.copy_timeout, self.stop)
        return None
