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
"""Remove many images' data from one store, in chunks, each image locked.

For each chunk of images (20 by default, or ``parallel``): the images are
locked (:mod:`~osc_image_store.engine.lock`: one metadef tag per image,
all in one request); one listing (``GET /v2/images?id=in:...``) reads the
locked ones and :mod:`~osc_image_store.engine.checks` run on it; one
``DELETE /v2/stores/{store}/{id}`` per image, ``parallel`` at once (the
images not yet sent are read again with one listing, and checked again,
when that read is older than ``fresh_for``); one listing reads them back
and :func:`~osc_image_store.engine.outcome.classify` decides each result;
a one-byte read proves a remaining copy; then each image is unlocked,
except after an outcome in doubt (unknown, unverified, a failed data
proof, no store left), whose lock stays for an operator to clear.
Images locked by another run are tried again about once a second, up to
``lock_wait`` seconds, while the others go on.  One image never has two
requests that change it in flight.  Rows come out in input order.

With ``copy_to``, a sole copy is first copied there (:mod:`~osc_image_
store.engine.copy`, ``max_copies`` at once on threads of their own, while
plain removals go on), and removed once the copy is proven.
"""

import collections
from concurrent import futures
import dataclasses
import random
import threading
import time
import typing as ty

from osc_image_store.engine import checks
from osc_image_store.engine import copy as copy_mod
from osc_image_store.engine import lock as lock_mod
from osc_image_store.engine import outcome
from osc_image_store.engine import results
from osc_image_store.engine import steps
from osc_image_store.sdk import exceptions
from osc_image_store.sdk import identifiers
from osc_image_store.sdk import proxy as sdk_proxy
from osc_image_store.sdk import resources

_ERRORS = outcome.REQUEST_ERRORS
#: Options of a batch (re-exported for callers).
Options = steps.Options
#: One output slot: [label, image ID or None, row or None while copying
#: or waiting for another run's lock].
_Slot = list
#: Images per chunk by default: at most this many (or ``parallel``) are
#: locked by a run at once, so a run that was killed leaves few locks.
DEFAULT_CHUNK = 20


class Remover(steps.Steps):
    """Removes images' data from one store; see the module docstring.

    :param proxy: an :class:`osc_image_store.sdk.proxy.Proxy`; ``store``:
        the store ID; ``options``: :class:`Options`.
    :param stop: when set (e.g. by a first Ctrl-C), nothing more is
        started; what is in flight finishes and is reported.
    :param on_wait: called once with a sentence when images locked by
        other runs are waited for.
    :ivar not_started: some images were not started because of ``stop``.
    :ivar halted: why the run stopped removing (image locks could not be
        taken any more), or None.
    :ivar kept_locks: IDs of the images whose lock this run left in place
        (unknown or unverified outcomes).
    :ivar locked_out: IDs of the images refused because another run
        held their lock for longer than ``lock_wait``.
    :ivar lock_unsure: IDs of the images whose lock request got no
        answer (a lock may appear for them later).
    :ivar unreleased: IDs of the images whose lock this run could not
        remove (see their rows).
    :ivar bytes_copied: bytes copied into ``copy_to`` by this run.
    """

    def __init__(self, proxy: sdk_proxy.Proxy, store: str,
                 options: Options = Options(),
                 stop: threading.Event | None = None,
                 on_wait: ty.Callable[[str], None] | None = None):
        if options.chunk_size is None:
            options = dataclasses.replace(
                options, chunk_size=max(DEFAULT_CHUNK, options.parallel))
        if (options.parallel < 1 or (options.chunk_size or 0) < 1
                or options.max_copies < 1):
            raise ValueError('parallel, chunk_size and max_copies must be '
                             'at least 1')
        self.proxy, self.store, self.options = proxy, store, options
        self.stop = stop or threading.Event()
        self.locks = lock_mod.ImageLocks(proxy)
        self.on_wait = on_wait
        self.halted: str | None = None
        self.kept_locks: list[str] = []
        self.locked_out: list[str] = []
        self.lock_unsure: list[str] = []
        self.unreleased: list[str] = []
        # image ID -> monotonic deadline, for images locked by other runs
        self._waiting: dict[str, float] = {}
        self._next_try = 0.0
        self._given = 0  # rows given out
        self._interrupted = False
        self.not_started = False
        self.bytes_copied = 0
        self._chunk: steps.Chunk | None = None
        self._seen: set[str] = set()
        self._seen_ids: set[str] = set()
        self._out: collections.deque[_Slot] = collections.deque()
        self._copies: dict[str, futures.Future[copy_mod.Copied | None]] = {}
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
            :class:`~osc_image_store.engine.lock.LockError` when the first
            images cannot be locked at all (e.g. not admin); an error of
            ``images`` itself after the rows of the images read before
            it.  When locks cannot be taken later, the images left get
            ``failed`` rows and :attr:`halted` says why.
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
                self._retry(pool, copies)
                yield from self._ready()
                if error is not None:
                    raise error
            while self._copies or self._waiting:
                if self.stop.is_set() or self.halted:
                    self._give_up_waiting()
                self._moves(pool, wait=True)
                if self._waiting and not self._copies:
                    self.stop.wait(max(0.0, self._next_try
                                       - time.monotonic()))
                self._retry(pool, copies)
                yield from self._ready()
            yield from self._ready()
        except KeyboardInterrupt:
            self._interrupted = True  # interrupted_rows() unlocks
            raise
        finally:
            copies.shutdown(wait=False, cancel_futures=True)
            pool.shutdown(wait=False, cancel_futures=True)
            if not self._interrupted:
                self._unlock_all()

    def _retry(self, pool: futures.Executor,
               copies: futures.Executor) -> None:
        """Try again the images that other runs had locked (when due)."""
        if (not self._waiting or self.stop.is_set() or self.halted
                or time.monotonic() < self._next_try):
            return
        self._next_try = time.monotonic() + random.uniform(0.5, 1.5)
        for _label, image_id, row in self._handle(
                list(self._waiting), pool, copies, first=False):
            if image_id is not None and row is not None:
                self._fill(image_id, row)

    def _give_up_waiting(self) -> None:
        """Stop waiting for locked images (Ctrl-C): they are not started."""
        for image_id in list(self._waiting):
            del self._waiting[image_id]
            self.not_started = True
            self._fill(image_id, None)

    def _unlock_all(self) -> None:
        """Unlock what this run still holds, but not a DELETE in doubt.

        Reached with images held only when the run ends early (an error
        of ``images``, a lock error, a bug): an image of the chunk in
        hand whose DELETE was sent but not read back keeps its lock.
        """
        chunk = self._chunk
        for image_id in list(self.locks.held):
            if chunk is not None and image_id in chunk.sent \
                    and image_id not in chunk.rows:
                self.locks.keep(image_id)
                self.kept_locks.append(image_id)
            else:
                self._release(image_id)

    def interrupted_rows(self) -> list[results.Removal]:
        """Rows still held when the batch was torn down (second Ctrl-C).

        The finished rows not yet given out, ``copying`` for images whose
        copy was under way, and, for the chunk in hand, ``unknown`` for
        those whose DELETE was sent but not read back: their locks stay.
        Images waiting for another run's lock were not started.  Then
        every other lock of this run is released.
        """
        rows = [slot[2] or self._row(
            slot[1], self._names.get(slot[1]), results.COPYING, None,
            'Interrupted while image %s was being copied into store %s: the '
            'copy may go on in Glance; nothing was removed. Run the command '
            'again to finish.' % (slot[1], self.options.copy_to))
            for slot in self._out
            if slot[2] is not None or slot[1] not in self._waiting]
        self._out.clear()
        self._waiting.clear()
        chunk, self._chunk = self._chunk or steps.Chunk(), None
        # A worker between its stop check and its send holds the mutex:
        # once it is ours, chunk.sent names every DELETE that may go out
        # (stop is set: no worker sends after it).
        self.stop.set()
        got = chunk.mutex.acquire(timeout=10)
        if got:
            chunk.mutex.release()
        for label, image_id in chunk.order:
            if image_id is None:
                rows.append(chunk.failed[label])
            elif image_id in chunk.rows:
                rows.append(self._unlock(chunk.rows[image_id]))
            elif image_id in chunk.sent:
                rows.append(self._unlock(self._row(
                    image_id, chunk.names.get(image_id), results.UNKNOWN,
                    None, 'Interrupted while the removal of image %s from '
                    'store %s was in flight: it may or may not have '
                    'happened, and Glance may still carry it out.'
                    % (image_id, self.store))))
            elif not got and image_id in self.locks.held:
                self.locks.keep(image_id)  # its DELETE may be going out
                self.kept_locks.append(image_id)
        self._unlock_all()
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
                self._release(image_id)
                self._fill(image_id, None)
                continue
            copied = job.result()
            if copied is None:  # locked by another run: wait for it
                self._waiting.setdefault(
                    image_id, time.monotonic() + self.options.lock_wait)
                continue
            if copied.ok is None and copied.reason is None:
                self.not_started = True
                self._release(image_id)
                self._fill(image_id, None)
                continue
            self.bytes_copied += copied.size
            if copied.ok:
                ready.append(image_id)
                continue
            # Nothing was removed: an import that goes on in Glance holds
            # Glance's own import lock, which every run respects.  Copied
            # To names the target only when the last read listed a copy
            # there; "copying" only when the copy was running as last read.
            self._fill(image_id, self._unlock(self._row(
                image_id, self._names.get(image_id),
                results.FAILED if copied.ok is False else results.COPYING,
                copied.stores, copied.reason, copied_to=copied.reached),
                keep=False))
        if not ready:
            return
        if self.stop.is_set():
            # The copy is done, so not "copying"; nothing was removed.
            for image_id in ready:
                self._fill(image_id, self._unlock(self._row(
                    image_id, self._names.get(image_id), results.FAILED,
                    None, 'Copied into store %s (proven); interrupted before '
                    'its removal from %s: nothing was removed. Run the '
                    'command again to finish (the copy is not made again).'
                    % (self.options.copy_to, self.store),
                    copied_to=self.options.copy_to), keep=False))
            return
        for _label, image_id, row in self._handle(ready, pool, None,
                                                  first=False):
            if image_id is not None and row is not None:
                self._fill(image_id, copy_mod.moved(
                    row, ty.cast(str, self.options.copy_to)))

    # -- one chunk -------------------------------------------------------

    def _handle(self, items: list[ty.Any], pool: futures.Executor,
                copies: futures.Executor | None,
                first: bool = True) -> list[_Slot]:
        """Handle one chunk; its slots in order (row None: pending).

        A slot's row is None while its image is being copied, or waits
        for another run's lock.

        :param copies: the copy executor, or None for a removal pass over
            images this run copied.
        :param first: False for a pass over images met before (copied, or
            waiting for a lock): no image is skipped as a repeat.
        """
        chunk = self._chunk = steps.Chunk()
        pending = self._resolve(items, chunk, pool, dedupe=first)
        copying: set[str] = set()
        waiting: set[str] = set()
        go = []
        if pending and not self.options.dry_run and not (
                self.stop.is_set() or self.halted):
            pending = self._lock(pending, chunk, waiting)
        if pending and (self.stop.is_set() or self.halted):
            self.not_started = True
            for image_id in pending if self.halted else ():
                chunk.rows[image_id] = self._row(
                    image_id, chunk.names.get(image_id), results.FAILED,
                    None, ty.cast(str, self.halted))
            for image_id in pending:
                self._release(image_id)
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
        # Unlock (or keep the lock of an outcome in doubt), in parallel.
        done = [i for i in pending if i in chunk.rows]
        for image_id, row in zip(done, pool.map(
                self._unlock, [chunk.rows[i] for i in done])):
            chunk.rows[image_id] = row
        for image_id in pending:
            if image_id not in chunk.rows and image_id not in copying:
                self._release(image_id)  # not started
        self._chunk = None
        slots: list[_Slot] = []
        for label, slot_id in chunk.order:
            if slot_id is None:
                slots.append([label, None, chunk.failed[label]])
            elif (slot_id in chunk.rows or slot_id in copying
                  or slot_id in waiting):
                slots.append([label, slot_id, chunk.rows.get(slot_id)])
        return slots

    def _lock(self, image_ids: list[str], chunk: steps.Chunk,
              waiting: set[str]) -> list[str]:
        """Lock the images (before their last read); the IDs locked.

        Images locked by another run wait (``waiting``, retried by
        :meth:`_retry`) until ``lock_wait`` has passed since they were
        first met; then they get ``failed`` rows.
        """
        try:
            taken = self.locks.take(image_ids)
        except lock_mod.LockError as exc:
            if not self._given and not self._out:
                # nothing done yet: the run ends with it
                raise lock_mod.LockError('%s Nothing was removed.'
                                         % exc) from exc
            self.halted = str(exc)
            return image_ids  # failed below, nothing locked
        now = time.monotonic()
        late = []
        for image_id, error in taken.unsure.items():
            self._waiting.pop(image_id, None)
            self.lock_unsure.append(image_id)
            chunk.rows[image_id] = self._row(
                image_id, self._name(image_id, chunk), results.FAILED, None,
                'Nothing was removed. %s Then run this command again.'
                % lock_mod.unanswered(image_id, error))
        for image_id in image_ids:
            if image_id in self.locks.held or image_id in taken.unsure:
                self._waiting.pop(image_id, None)
                continue
            deadline = self._waiting.setdefault(
                image_id, now + self.options.lock_wait)
            if now >= deadline:
                del self._waiting[image_id]
                late.append(image_id)
            else:
                waiting.add(image_id)
                self._names[image_id] = self._name(image_id, chunk)
        if waiting and self.on_wait is not None:
            self.on_wait(
                'Waiting up to %d s for image(s) locked by another run of '
                'this command: %s%s' % (
                    self.options.lock_wait, ', '.join(sorted(waiting)[:5]),
                    ', ...' if len(waiting) > 5 else '.'))
            self.on_wait = None  # said once
        if late:
            tags = self.locks.busy_tags(late)
            for image_id in late:
                self.locked_out.append(image_id)
                chunk.rows[image_id] = self._row(
                    image_id, self._name(image_id, chunk), results.FAILED,
                    None, 'Image %s is locked by another run of this command '
                    '(tag %s of metadata definitions namespace %s, since '
                    '%s); waited %d s; nothing was removed. A lock also '
                    'stays after a removal whose outcome was unknown or '
                    'unverified, and after a run that was killed: check '
                    'where the image\'s data is with "openstack image store '
                    'list --image %s"; once no run works on it, clear the '
                    'lock with "%s".'
                    % (image_id, image_id, lock_mod.NAMESPACE,
                       lock_mod.since(tags.get(image_id)),
                       self.options.lock_wait, image_id,
                       lock_mod.clear_command([image_id])))
        return [i for i in image_ids if i in self.locks.held]

    def _name(self, image_id: str, chunk: steps.Chunk) -> str | None:
        """An image's name, as its chunk or an earlier one read it."""
        return chunk.names.get(image_id) or self._names.get(image_id)

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
        # A copy that has to queue holds no lock meanwhile (a run that
        # dies leaves few): its job takes the lock again before its last
        # read.
        if len(self._copies) >= self.options.max_copies:
            self._release(image.id)
        self._copies[image.id] = copies.submit(self._copy, image.id)
        return None

    def _copy(self, image_id: str) -> copy_mod.Copied | None:
        """A copy job: lock the image, then copy it (and wait).

        :returns: how the copy ended, or None when another run holds the
            image's lock (it then waits like any locked image).
        """
        if self.stop.is_set():
            return copy_mod.Copied(None)
        try:
            taken = self.locks.take([image_id])
        except lock_mod.LockError as exc:
            return copy_mod.Copied(False, '%s Nothing was copied or '
                                   'removed.' % exc)
        if taken.unsure:
            self.lock_unsure.append(image_id)
            return copy_mod.Copied(False, 'Nothing was copied or removed. %s'
                                   % lock_mod.unanswered(
                                       image_id, taken.unsure[image_id]))
        if taken.busy:
            return None
        return copy_mod.copy_and_wait(
            self.proxy, image_id, self.store,
            ty.cast(str, self.options.copy_to), self.options.copy_timeout,
            self.stop, stall_after=self.options.stall_after)
