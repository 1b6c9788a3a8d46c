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
"""Remove many images' data from one store: the pipeline, chunk by chunk.

Each chunk of images (20 by default, or ``parallel``) goes through these
stages, each a module of its own:

1. resolve (:mod:`~osc_image_store.engine.resolve`): arguments to image
   IDs, each image once;
2. lock (:mod:`~osc_image_store.engine.acquire`): one metadef tag per
   image, all in one request; images locked by another run wait up to
   ``lock_wait`` seconds while the others go on;
3. read fresh (:mod:`~osc_image_store.engine.reads`): one listing,
   ``GET /v2/images?id=in:...``;
4. decide (:mod:`~osc_image_store.engine.checks`): may the copy leave,
   on that read?
5. copy (:mod:`~osc_image_store.engine.copy`), with ``copy_to`` only: a
   sole copy is copied first, ``max_copies`` at once on threads of their
   own while plain removals go on, and removed once the copy is proven;
6. remove and read back (:mod:`~osc_image_store.engine.delete`): one
   ``DELETE /v2/stores/{store}/{id}`` per image, ``parallel`` at once,
   each on a read at most ``fresh_for`` seconds old; one listing reads
   them back and :func:`~osc_image_store.engine.outcome.classify` gives
   each a verdict;
7. prove (:mod:`~osc_image_store.engine.prove`): a one-byte read proves
   a remaining copy; the row;
8. release (:mod:`~osc_image_store.engine.release`): unlock, or keep the
   lock of an outcome in doubt (unknown, unverified, a failed data
   proof, no store left) for an operator to clear;
9. report (:mod:`~osc_image_store.engine.results`): one
   :class:`~osc_image_store.engine.results.Removal` per image, in input
   order.

:class:`Remover` runs them and keeps what spans chunks: the output order,
the copies in flight and the images waited for.  One image never has two
requests that change it in flight.
"""

import collections
from concurrent import futures
import dataclasses
import threading
import time
import typing as ty

from osc_image_store.engine import acquire
from osc_image_store.engine import advice as advice_mod
from osc_image_store.engine import checks
from osc_image_store.engine import chunk as chunk_mod
from osc_image_store.engine import copy as copy_mod
from osc_image_store.engine import delete
from osc_image_store.engine import lock as lock_mod
from osc_image_store.engine import options as options_mod
from osc_image_store.engine import outcome
from osc_image_store.engine import prove
from osc_image_store.engine import reads
from osc_image_store.engine import release
from osc_image_store.engine import resolve
from osc_image_store.engine import results
from osc_image_store import guard
from osc_image_store.sdk import exceptions
from osc_image_store.sdk import identifiers
from osc_image_store.sdk import image as sdk_image
from osc_image_store.sdk import service_info

#: Options of a batch (re-exported for callers).
Options = options_mod.Options
#: One output slot: [label, image ID or None, row or None while copying
#: or waiting for another run's lock].
_Slot = list
#: Images per chunk by default: at most this many (or ``parallel``) are
#: locked by a run at once, so a run that was killed leaves few locks.
DEFAULT_CHUNK = 20


class Remover:
    """Removes images' data from one store; see the module docstring.

    :param proxy: an :class:`osc_image_store.guard.GuardedProxy`.
    :param store: the store ID.
    :param options: :class:`~osc_image_store.engine.options.Options`.
    :param stop: when set (e.g. by a first Ctrl-C), nothing more is
        started; what is in flight finishes and is reported.
    :param on_wait: called once with a sentence when images locked by
        other runs are waited for.
    :param advice: how the rows name the actions they advise (the
        engine's terms by default; the CLI gives its commands').
    :ivar locks: the run's image locks,
        :class:`~osc_image_store.engine.lock.ImageLocks`.
    :ivar ledger: the run's :class:`~osc_image_store.engine.lock.Ledger`.
    :ivar bytes_copied: bytes copied into ``copy_to`` by this run.
    :raises ValueError: ``parallel``, ``chunk_size`` or ``max_copies``
        below 1.
    """

    def __init__(self, proxy: guard.GuardedProxy, store: str,
                 options: Options = Options(),
                 stop: threading.Event | None = None,
                 on_wait: ty.Callable[[str], None] | None = None,
                 advice: advice_mod.Advice = advice_mod.API):
        if options.chunk_size is None:
            options = dataclasses.replace(
                options, chunk_size=max(DEFAULT_CHUNK, options.parallel))
        if (options.parallel < 1 or (options.chunk_size or 0) < 1
                or options.max_copies < 1):
            raise ValueError('parallel, chunk_size and max_copies must be '
                             'at least 1')
        self.proxy, self.store, self.options = proxy, store, options
        self.advice = advice
        self.run_state = chunk_mod.Run(stop or threading.Event())
        self.locks = lock_mod.ImageLocks(proxy, advice)
        self.ledger = lock_mod.Ledger()
        self.resolver = resolve.Resolver(proxy, store)
        self.acquirer = acquire.Acquirer(self.locks, self.ledger, store,
                                         options.lock_wait, on_wait, advice)
        self.releaser = release.Releaser(self.locks, self.ledger, advice)
        self.stores: dict[str, service_info.Store] = {}
        self.deleter = delete.Deleter(proxy, store, self.stores, options,
                                      self.run_state, advice)
        self.target: service_info.Store | None = None
        self.bytes_copied = 0
        self._given = 0  # rows given out
        self._interrupted = False
        self._chunk: chunk_mod.Chunk | None = None
        self._out: collections.deque[_Slot] = collections.deque()
        self._copies: dict[str, futures.Future[copy_mod.Copied | None]] = {}
        self._names: dict[str, str | None] = {}

    @property
    def stop(self) -> threading.Event:
        """The run's stop event (see the ``stop`` parameter)."""
        return self.run_state.stop

    @property
    def halted(self) -> str | None:
        """Why the run stopped removing, or None.

        Set when image locks could not be taken any more.
        """
        return self.run_state.halted

    @property
    def not_started(self) -> bool:
        """Whether some images were not started (stop, or a halt)."""
        return self.run_state.not_started

    @property
    def kept_locks(self) -> list[str]:
        """IDs of the images whose lock this run left in place."""
        return self.ledger.kept

    @property
    def locked_out(self) -> list[str]:
        """IDs of the images another run held locked too long.

        They were refused after ``lock_wait`` seconds.
        """
        return self.ledger.locked_out

    @property
    def lock_unsure(self) -> list[str]:
        """IDs of the images whose lock request got no answer."""
        return self.ledger.unsure

    @property
    def unreleased(self) -> list[str]:
        """IDs of the images whose lock this run could not remove."""
        return self.ledger.unreleased

    @property
    def copies_pending(self) -> int:
        """Copies started or queued and not yet settled."""
        return len(self._copies)

    def run(self, images: ty.Iterable[str | sdk_image.Image],
            ) -> ty.Iterator[results.Removal]:
        """Remove each image's copy in the store; never fail the batch.

        :param images: names, IDs or resources, in output order (may be a
            paginated generator: it is read one chunk at a time).
        :returns: an iterator of
            :class:`~osc_image_store.engine.results.Removal`, one per
            distinct image, in input order.
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
        self.stores.update((s.id, s) for s in all_stores)
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
        run = self.run_state
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
                except outcome.REQUEST_ERRORS as exc:
                    error = exc
                if run.ending:
                    run.not_started = bool(chunk) or not end
                    break
                self._out.extend(self._handle(chunk, pool, copies))
                self._moves(pool, wait=False)
                self._retry(pool, copies)
                yield from self._ready()
                if error is not None:
                    raise error
            while self._copies or self.acquirer.waiting:
                if run.ending:
                    self._give_up_waiting()
                self._moves(pool, wait=True)
                if self.acquirer.waiting and not self._copies:
                    self.stop.wait(max(0.0, self.acquirer.next_try()
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
        if not self.acquirer.waiting or self.run_state.ending \
                or not self.acquirer.due():
            return
        for _label, image_id, row in self._handle(
                list(self.acquirer.waiting), pool, copies, first=False):
            if image_id is not None and row is not None:
                self._fill(image_id, row)

    def _give_up_waiting(self) -> None:
        """Stop waiting for locked images (Ctrl-C): they are not started."""
        for image_id in list(self.acquirer.waiting):
            del self.acquirer.waiting[image_id]
            self.run_state.not_started = True
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
                self.releaser.keep(image_id)
            else:
                self.releaser.release(image_id)

    def interrupted_rows(self) -> list[results.Removal]:
        """Rows still held when the batch was torn down (second Ctrl-C).

        The finished rows not yet given out, ``copying`` for images whose
        copy was under way, and, for the chunk in hand, ``unknown`` for
        those whose DELETE was sent but not read back: their locks stay.
        Images waiting for another run's lock were not started.  Then
        every other lock of this run is released.

        :returns: :class:`~osc_image_store.engine.results.Removal` list,
            in input order.
        """
        waiting = self.acquirer.waiting
        rows = [slot[2] or self._row(
            slot[1], self._names.get(slot[1]), results.COPYING, None,
            'Interrupted while image %s was being copied into store %s: the '
            'copy may go on in Glance; nothing was removed. Run the command '
            'again to finish.' % (slot[1], self.options.copy_to))
            for slot in self._out
            if slot[2] is not None or slot[1] not in waiting]
        self._out.clear()
        waiting.clear()
        chunk, self._chunk = self._chunk or chunk_mod.Chunk(), None
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
                rows.append(self.releaser.unlock(chunk.rows[image_id]))
            elif image_id in chunk.sent:
                rows.append(self.releaser.unlock(self._row(
                    image_id, chunk.names.get(image_id), results.UNKNOWN,
                    None, 'Interrupted while the removal of image %s from '
                    'store %s was in flight: it may or may not have '
                    'happened, and Glance may still carry it out.'
                    % (image_id, self.store))))
            elif not got and image_id in self.locks.held:
                self.releaser.keep(image_id)  # its DELETE may be going out
        self._unlock_all()
        return rows

    def left_in_store(self, owner: str | None = None,
                      deep: bool = False) -> tuple[list[str], int]:
        """Which visible images still hold data in the run's store.

        See :func:`~osc_image_store.engine.checks.left_in_store`.

        :param owner: only images of this project ID; None: every image
            visible to the caller.
        :param deep: also read every visible image one by one
            (``GET /v2/images/{id}``), to find locations without a store
            ID.
        :returns: ``(image IDs, images read one by one)``.
        :raises: openstacksdk or keystoneauth exceptions.
        """
        return checks.left_in_store(self.proxy, self.store, owner, deep)

    # -- output order ----------------------------------------------------

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

    def _row(self, image_id: str | None, name: str | None, result: str,
             remaining: ty.Iterable[str] | None, reason: str | None,
             copied_to: str | None = None,
             size: int | None = None) -> results.Removal:
        """:func:`~osc_image_store.engine.results.row` for this store."""
        return results.row(self.store, image_id, name, result, remaining,
                           reason, copied_to, size)

    def _name(self, image_id: str, chunk: chunk_mod.Chunk) -> str | None:
        """An image's name, as its chunk or an earlier one read it."""
        return chunk.names.get(image_id) or self._names.get(image_id)

    def _moves(self, pool: futures.Executor, wait: bool) -> None:
        """Settle finished copies; remove the images copied."""
        if wait:
            if self.run_state.ending:
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
                self.run_state.not_started = True
                self.releaser.release(image_id)
                self._fill(image_id, None)
                continue
            copied = job.result()
            if copied is None:  # locked by another run: wait for it
                self.acquirer.wait_for(image_id)
                continue
            if copied.ok is None and copied.reason is None:
                self.run_state.not_started = True
                self.releaser.release(image_id)
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
            self._fill(image_id, self.releaser.unlock(self._row(
                image_id, self._names.get(image_id),
                results.FAILED if copied.ok is False else results.COPYING,
                copied.stores, copied.reason, copied_to=copied.reached),
                keep=False))
        if not ready:
            return
        if self.stop.is_set():
            # The copy is done, so not "copying"; nothing was removed.
            for image_id in ready:
                self._fill(image_id, self.releaser.unlock(self._row(
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
        """Run one chunk through the stages; its slots in order.

        resolve, lock, read fresh, decide (or start a copy), remove and
        read back, prove, release.  A slot's row is None while its image
        is being copied, or waits for another run's lock.

        :param items: image names, IDs or resources.
        :param pool: the executor of the chunk's requests.
        :param copies: the copy executor, or None for a removal pass over
            images this run copied.
        :param first: False for a pass over images met before (copied, or
            waiting for a lock): no image is skipped as a repeat.
        """
        run = self.run_state
        chunk = self._chunk = chunk_mod.Chunk()
        resolved = self.resolver.resolve(items, pool, dedupe=first)
        chunk.order, chunk.failed = resolved.order, resolved.failed
        chunk.names.update(resolved.names)
        pending = resolved.ids
        copying: set[str] = set()
        waiting: set[str] = set()
        go = []
        if pending and not self.options.dry_run and not run.ending:
            pending, waiting = self._acquire(pending, chunk)
        if pending and run.ending:
            run.not_started = True
            for image_id in pending if run.halted else ():
                chunk.rows[image_id] = self._row(
                    image_id, chunk.names.get(image_id), results.FAILED,
                    None, run.halted)
            for image_id in pending:
                self.releaser.release(image_id)
            pending = []
        fresh = self._read(pending, chunk) if pending else {}
        for image_id in pending:
            image = fresh.get(image_id)
            if image is None:
                continue
            if copies is not None and self._to_copy(image):
                row = self._plan_copy(image, copies, copying)
            else:
                row = checks.decide(image, self.proxy, self.store,
                                    self.stores, self.options, self.advice)
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
            run.not_started = True
        elif go:
            self._remove(go, chunk, pool)
        # Unlock (or keep the lock of an outcome in doubt), in parallel.
        done = [i for i in pending if i in chunk.rows]
        for image_id, row in zip(done, pool.map(
                self.releaser.unlock, [chunk.rows[i] for i in done])):
            chunk.rows[image_id] = row
        for image_id in pending:
            if image_id not in chunk.rows and image_id not in copying:
                self.releaser.release(image_id)  # not started
        self._chunk = None
        slots: list[_Slot] = []
        for label, slot_id in chunk.order:
            if slot_id is None:
                slots.append([label, None, chunk.failed[label]])
            elif (slot_id in chunk.rows or slot_id in copying
                  or slot_id in waiting):
                slots.append([label, slot_id, chunk.rows.get(slot_id)])
        return slots

    def _acquire(self, image_ids: list[str], chunk: chunk_mod.Chunk,
                 ) -> tuple[list[str], set[str]]:
        """The lock stage for a chunk: ``(locked IDs, waiting IDs)``.

        A :class:`~osc_image_store.engine.lock.LockError` ends the run
        when nothing was done yet; later it halts the run (the images
        left fail with its reason).
        """
        try:
            acquired = self.acquirer.acquire(
                image_ids, lambda image_id: self._name(image_id, chunk))
        except lock_mod.LockError as exc:
            if not self._given and not self._out:
                # nothing done yet: the run ends with it
                raise lock_mod.LockError('%s Nothing was removed.'
                                         % exc) from exc
            self.run_state.halted = str(exc)
            return image_ids, set()  # failed by the caller, none locked
        chunk.rows.update(acquired.rows)
        for image_id in acquired.waiting:
            self._names[image_id] = self._name(image_id, chunk)
        return acquired.locked, acquired.waiting

    def _read(self, image_ids: list[str],
              chunk: chunk_mod.Chunk) -> dict[str, sdk_image.Image]:
        """The read-fresh stage: one listing; rows for images not read."""
        chunk.read_at = time.monotonic()
        found, rows = reads.read_fresh(self.proxy, self.store, image_ids,
                                       chunk.names)
        for image_id, image in found.items():
            chunk.names[image_id] = image.name
        for image_id, row in rows.items():
            chunk.rows.setdefault(image_id, row)
        return found

    def _remove(self, images: list[sdk_image.Image], chunk: chunk_mod.Chunk,
                pool: futures.Executor) -> None:
        """Remove, read back, check the locks held, prove: a row each.

        An outcome in doubt, or a failed data proof, keeps its lock.
        """
        run = self.run_state
        work = self.deleter.remove(images, chunk, pool)
        self.releaser.check_held(work)
        proofs = {}
        for image_id, item in work.items():
            if (item.verdict is not None and item.verdict.result is None
                    and item.after is not None and self.options.verify_data):
                proofs[image_id] = pool.submit(prove.prove_data,
                                               self.proxy, item.after)
        read_only = bool(self.target and self.target.is_read_only)
        for image_id, item in work.items():
            if item.row is None and item.verdict is None:
                if run.halted and not self.stop.is_set():
                    chunk.rows[image_id] = self._row(
                        image_id, item.before.name, results.FAILED,
                        item.before.store_ids, run.halted)
                else:
                    run.not_started = True  # stopped before its DELETE
                continue
            row = item.row or prove.settle(item, proofs.get(image_id),
                                           self.store, read_only, self.advice)
            if item.verdict is not None and (
                    item.verdict.keep_lock
                    or (item.verdict.result is None
                        and row.result == results.FAILED)):
                # In doubt, or the data proof failed: the lock stays.
                row = self.releaser.unlock(row, keep=True)
            chunk.rows[image_id] = row

    def _to_copy(self, image: sdk_image.Image) -> bool:
        """Whether the image's sole copy must be copied before removal."""
        return (self.options.copy_to is not None
                and image.status == 'active'
                and checks.needs_copy(image, self.store, self.stores))

    def _plan_copy(self, image: sdk_image.Image, copies: futures.Executor,
                   copying: set[str]) -> results.Removal | None:
        """A ``would-move`` row (dry run), or start the copy (no row)."""
        target = ty.cast(str, self.options.copy_to)
        if self.options.dry_run:
            blocker = checks.import_blocker(image, self.proxy,
                                            advice=self.advice)
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
            self.releaser.release(image.id)
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
            self.ledger.unsure.append(image_id)
            return copy_mod.Copied(False, 'Nothing was copied or removed. %s'
                                   % lock_mod.unanswered(
                                       image_id, taken.unsure[image_id],
                                       self.advice))
        if taken.busy:
            return None
        return copy_mod.copy_and_wait(
            self.proxy, image_id, self.store,
            ty.cast(str, self.options.copy_to), self.options.copy_timeout,
            self.stop, stall_after=self.options.stall_after,
            advice=self.advice)
