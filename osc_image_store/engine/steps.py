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
"""The steps of a chunk: reads, checks, deletes, read-back, proof, rows.

:class:`Steps` is the base of :class:`~osc_image_store.engine.remover.
Remover`; each method is one step of the pipeline described there.
"""

from concurrent import futures
import dataclasses
import threading
import time
import typing as ty

from osc_image_store.engine import checks
from osc_image_store.engine import lock as lock_mod
from osc_image_store.engine import options
from osc_image_store.engine import outcome
from osc_image_store.engine import results
from osc_image_store.sdk import exceptions
from osc_image_store.sdk import identifiers
from osc_image_store.sdk import proxy as sdk_proxy
from osc_image_store.sdk import resources

_ERRORS = outcome.REQUEST_ERRORS
#: Options of a batch.
Options = options.Options
#: Errors of an image argument that did not resolve to one image.
_NOT_RESOLVED = (exceptions.ImageNotFound, exceptions.AmbiguousImage,
                 exceptions.InvalidIdentifier)
#: Most deletes of one image in one run (a store may hold 2+ locations).
_MAX_ROUNDS = 4


@dataclasses.dataclass
class _Work:
    """One image's removal within a chunk."""

    before: resources.Image
    error: Exception | None = None
    sent: bool = False
    row: results.Removal | None = None
    verdict: outcome.Verdict | None = None
    after: resources.Image | None = None
    read_at: float = 0.0


class Chunk:
    """Rows and in-flight state of the chunk being handled."""

    def __init__(self) -> None:
        self.order: list[tuple[str, str | None]] = []   # (label, image id)
        self.failed: dict[str, results.Removal] = {}    # label -> row
        self.rows: dict[str, results.Removal] = {}      # image id -> row
        self.names: dict[str, str | None] = {}
        self.sent: set[str] = set()
        self.read_at = 0.0
        self.mutex = threading.Lock()   # one re-read of the chunk at once


class Steps:
    """State and steps shared by the chunks of one batch."""

    proxy: sdk_proxy.Proxy
    store: str
    options: Options
    stop: threading.Event
    locks: lock_mod.ImageLocks
    halted: str | None
    kept_locks: list[str]
    unreleased: list[str]
    lock_unsure: list[str]
    stores: dict[str, resources.Store]
    target: resources.Store | None
    not_started: bool
    _seen: set[str]
    _seen_ids: set[str]

    def _read(self, image_ids: list[str],
              chunk: Chunk) -> dict[str, resources.Image]:
        """One listing of the images; rows for those that cannot be read."""
        chunk.read_at = time.monotonic()
        try:
            found = self.proxy.images_by_id(image_ids)
        except _ERRORS as exc:
            for image_id in image_ids:
                chunk.rows[image_id] = self._row(
                    image_id, chunk.names.get(image_id), results.FAILED, None,
                    'Image %s could not be read (%s); nothing was removed.'
                    % (image_id, exc))
            return {}
        for image_id in image_ids:
            if image_id in found:
                chunk.names[image_id] = found[image_id].name
            elif image_id not in chunk.rows:
                chunk.rows[image_id] = self._row(
                    image_id, None, results.FAILED, None,
                    'No image with name or ID %s (deleted, or not visible '
                    'to you).' % image_id)
        return found

    def _unlock(self, row: results.Removal,
                keep: bool | None = None) -> results.Removal:
        """Unlock the row's image, or keep its lock; the row, with a note.

        :param keep: keep the lock; None: keep it after an ``unknown`` or
            ``unverified`` outcome (Glance may still carry the DELETE out,
            or the image may list a copy with no data behind it).
        """
        image_id = row.image_id
        if image_id is None or image_id not in self.locks.held:
            return row
        if keep is None:
            keep = row.result in (results.UNKNOWN, results.UNVERIFIED)
        if keep:
            self.locks.keep(image_id)
            self.kept_locks.append(image_id)
            note = (
                'Its lock stays (tag %s of metadata definitions namespace '
                '%s), so that no run of this command removes another copy of '
                'it meanwhile: check where its data is with "openstack image '
                'store list --image %s", then clear the lock with "%s".'
                % (image_id, lock_mod.NAMESPACE, image_id,
                   lock_mod.clear_command([image_id])))
        else:
            unreleased = self._release(image_id)
            if unreleased is None:
                return row
            if unreleased.in_doubt:
                note = ('The release of its lock got no answer (%s) and the '
                        'lock is still there: that release may still reach '
                        'Glance later. Until then runs of this command '
                        'refuse the image; clear the lock with "%s" only '
                        'once no request of this run can still arrive.'
                        % (unreleased.reason,
                           lock_mod.clear_command([image_id])))
            else:
                note = ('Its lock could not be removed (%s): runs of this '
                        'command refuse the image until "%s" is run.'
                        % (unreleased.reason,
                           lock_mod.clear_command([image_id])))
        return dataclasses.replace(
            row, reason=' '.join(filter(None, (row.reason, note))))

    def _check_held(self, work: dict[str, _Work]) -> None:
        """After the read-back: were the sent images locked throughout?

        One ``GET .../tags``.  An image whose lock is gone (an operator
        cleared it, the namespace was deleted) may have had another run's
        removal meanwhile: its removal is ``unverified``, and it is locked
        again when it can be.  A listing that fails changes nothing.
        """
        sent = [i for i, w in work.items() if w.sent and w.verdict is not None
                and i in self.locks.held]
        present = self.locks.present() if sent else None
        if present is None:
            return
        for image_id in sent:
            if image_id in present:
                continue
            item, verdict = work[image_id], work[image_id].verdict
            assert verdict is not None
            self.locks.keep(image_id)  # nothing left to release
            lost = (
                'Its lock (tag %s of metadata definitions namespace %s) was '
                'removed while this run held it (cleared by hand, or the '
                'namespace was deleted): another run may have removed another '
                'copy at the same time; check where its data is with '
                '"openstack image store list --image %s".'
                % (image_id, lock_mod.NAMESPACE, image_id))
            try:
                taken = self.locks.take([image_id])  # keep others away again
            except lock_mod.LockError:
                pass
            else:
                if taken.unsure:
                    self.lock_unsure.append(image_id)
                    lost += ' ' + lock_mod.unanswered(
                        image_id, taken.unsure[image_id])
            if verdict.result in (None, results.UNVERIFIED,
                                  results.UNKNOWN):
                item.verdict = dataclasses.replace(
                    verdict, result=verdict.result or results.UNVERIFIED,
                    reason=' '.join(filter(None, (verdict.reason, lost))),
                    keep_lock=True)

    def _release(self, image_id: str) -> lock_mod.Unreleased | None:
        """Unlock an image; a lock left in place is remembered."""
        unreleased = self.locks.release(image_id)
        if unreleased is not None:
            self.unreleased.append(image_id)
        return unreleased

    def _remove(self, images: list[resources.Image], chunk: Chunk,
                pool: futures.Executor) -> None:
        """DELETE, read back, prove; a row for each image."""
        work = {image.id: _Work(image, read_at=chunk.read_at)
                for image in images}
        active = list(work)
        for _round in range(_MAX_ROUNDS):
            if not active:
                break
            todo = {i: work[i] for i in active}
            for job in [pool.submit(self._delete, todo[i], todo, chunk)
                        for i in active]:
                job.result()
            sent = [i for i in active if work[i].sent and work[i].row is None]
            read_at = time.monotonic()
            after = self._read_back(sent)
            again = []
            for image_id in sent:
                item = work[image_id]
                item.after = after.get(image_id)
                item.verdict = outcome.classify(
                    item.before, self.store, item.error, item.after,
                    ignore_missing=self.options.ignore_missing)
                if item.verdict.again and item.after is not None:
                    item.before, item.error = item.after, None
                    item.sent, item.read_at = False, read_at
                    again.append(image_id)
            active = again
        for image_id in active:  # still more locations after the rounds
            item = work[image_id]
            item.sent = True
            item.verdict = outcome.Verdict(
                results.UNVERIFIED, 'Image %s still lists store %s after %d '
                'removals (one location each); run this command again.'
                % (image_id, self.store, _MAX_ROUNDS),
                tuple(sorted(item.after.store_ids)) if item.after else None)
        self._check_held(work)
        proofs = {}
        for image_id, item in work.items():
            if (item.verdict is not None and item.verdict.result is None
                    and item.after is not None and self.options.verify_data):
                proofs[image_id] = pool.submit(outcome.prove_data,
                                               self.proxy, item.after)
        for image_id, item in work.items():
            if item.row is None and item.verdict is None:
                if self.halted and not self.stop.is_set():
                    chunk.rows[image_id] = self._row(
                        image_id, item.before.name, results.FAILED,
                        item.before.store_ids, self.halted)
                else:
                    self.not_started = True  # stopped before its DELETE
                continue
            row = item.row or self._settle(item, proofs.get(image_id))
            if item.verdict is not None and (
                    item.verdict.keep_lock
                    or (item.verdict.result is None
                        and row.result == results.FAILED)):
                # In doubt, or the data proof failed: the lock stays.
                row = self._unlock(row, keep=True)
            chunk.rows[image_id] = row

    def _delete(self, item: _Work, work: dict[str, _Work],
                chunk: Chunk) -> None:
        """Send one store DELETE, on a read at most ``fresh_for`` old."""
        if self.stop.is_set() or self.halted:
            return  # Ctrl-C, or the lock is gone: no new removal starts.
        with chunk.mutex:
            if time.monotonic() - item.read_at > self.options.fresh_for:
                self._refresh(work)
            if item.row is not None or self.stop.is_set() or self.halted:
                return
            image = item.before
            chunk.sent.add(image.id)  # in flight from here on
            item.sent = True
        try:
            self.proxy.delete_image_from_store(image.id, self.store)
        except _ERRORS as exc:
            item.error = exc

    def _refresh(self, work: dict[str, _Work]) -> None:
        """Read the images not yet sent again (one listing); check them."""
        ids = [i for i, w in work.items() if not w.sent and w.row is None]
        read_at = time.monotonic()
        try:
            fresh = self.proxy.images_by_id(ids)
        except _ERRORS as exc:
            fresh, error = {}, str(exc)
        else:
            error = 'not found: deleted, or no longer visible to you'
        for image_id in ids:
            item = work[image_id]
            image = fresh.get(image_id)
            if image is None:
                item.row = self._row(
                    image_id, item.before.name, results.FAILED, None,
                    'Image %s could not be read again before its removal '
                    '(%s); nothing was removed.' % (image_id, error))
                continue
            item.before, item.read_at = image, read_at
            item.row = self._check(image)

    def _read_back(self, image_ids: list[str],
                   ) -> dict[str, resources.Image]:
        """Read images after their DELETEs; a listing, else one by one."""
        if not image_ids:
            return {}
        try:
            found = self.proxy.images_by_id(image_ids)
        except _ERRORS:
            found = {}
        for image_id in image_ids:
            if image_id not in found:
                try:
                    found[image_id] = self.proxy.get_image(image_id)
                except _ERRORS:
                    pass
        return found

    def _settle(self, item: _Work,
                proof: futures.Future[tuple[bool | None, str]] | None,
                ) -> results.Removal:
        """The row of a sent removal, from its verdict and data proof."""
        verdict = item.verdict
        assert verdict is not None
        image = item.after or item.before
        if verdict.result is not None:
            return self._row(image.id, image.name, verdict.result,
                             verdict.remaining, verdict.reason)
        result = (results.UNLINKED if self.target and self.target.is_read_only
                  else results.REMOVED)
        notes = [verdict.reason] if verdict.reason else []
        if result == results.UNLINKED:
            notes.append('Store %s is read-only: Glance dropped the '
                         'location, but the data there was not deleted.'
                         % self.store)
        if proof is not None:
            proven, why = proof.result()
            if proven is False:
                result = results.FAILED
                notes.append('The copy in store %s was removed, but the '
                             'image\'s data cannot be read now (%s): it may '
                             'have lost its data; check it before anything '
                             'else.' % (self.store, why))
            elif proven is None:
                result = results.UNVERIFIED
                notes.append('The copy in store %s was removed, but %s; '
                             'check the image with "openstack image save".'
                             % (self.store, why))
        return self._row(image.id, image.name, result, verdict.remaining,
                         ' '.join(notes) or None)

    def _check(self, image: resources.Image) -> results.Removal | None:
        """A row when the fresh state forbids the removal, else None."""
        reason = None
        if image.status == 'active':
            reason = checks.import_blocker(image, self.proxy)
        result = results.FAILED
        if reason is None:
            refused = checks.refusal(
                image, self.store, self.stores,
                ignore_missing=self.options.ignore_missing,
                skip_only_copy=self.options.skip_only_copy,
                allow_read_only_copies=self.options.allow_read_only_copies)
            if refused is None:
                return None
            result, reason = refused
        return self._row(image.id, image.name, result, image.store_ids,
                         reason)

    def _row(self, image_id: str, name: str | None, result: str,
             remaining: ty.Iterable[str] | None, reason: str | None,
             copied_to: str | None = None,
             size: int | None = None) -> results.Removal:
        return results.Removal(
            image_id, name, self.store, result,
            None if remaining is None else tuple(sorted(remaining)), reason,
            copied_to, size)

    def _resolve(self, items: list[ty.Any], chunk: Chunk,
                 pool: futures.Executor, dedupe: bool = True) -> list[str]:
        """Image IDs of the chunk's items, in order, without repeats.

        :param dedupe: skip items (and images) seen in earlier chunks;
            False for a second pass over images already handled.
        """
        jobs: list[tuple[str, futures.Future[resources.Image] | None]] = []
        for item in items:
            label = item if isinstance(item, str) else item.id
            if identifiers.is_uuid(label):
                label = label.lower()  # Glance's IDs are lower case
            if dedupe and label in self._seen:
                continue
            self._seen.add(label)
            if isinstance(item, str) and not identifiers.is_uuid(item):
                jobs.append((label, pool.submit(self.proxy.resolve_image,
                                                item)))
            else:
                jobs.append((label, None))
        ids = []
        for label, job in jobs:
            image_id: str | None = label
            if job is not None:
                try:
                    image = job.result()
                    image_id = image.id
                    chunk.names[image.id] = image.name
                except _NOT_RESOLVED + _ERRORS as exc:
                    image_id = None
                    chunk.failed[label] = results.Removal(
                        None, label, self.store, results.FAILED, None,
                        str(exc))
            if dedupe and image_id is not None:
                if image_id in self._seen_ids:
                    continue
                self._seen_ids.add(image_id)
            chunk.order.append((label, image_id))
            if image_id is not None:
                ids.append(image_id)
        return ids
