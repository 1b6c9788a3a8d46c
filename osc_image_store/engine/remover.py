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
"""Remove many images' data from one store, in chunks, under a lock.

For each chunk of images (default 20), in this order:

1. one listing (``GET /v2/images?id=in:...``) reads every image; the
   checks of :mod:`~osc_image_store.engine.checks` run on it;
2. the images that pass are locked against other runs
   (:mod:`~osc_image_store.engine.lock`: ``PATCH`` each, wait, one
   listing again); that confirming read is the fresh state each removal
   is decided on, and the checks run again on it;
3. one ``DELETE /v2/stores/{store}/{id}`` per image (re-read first if
   the confirming read is older than a second);
4. one listing reads them all back; :func:`~osc_image_store.engine.
   outcome.classify` decides each result from it;
5. a one-byte read proves a remaining copy of each removed image;
6. the locks are removed (kept when a removal's outcome is unknown).

Images locked by another run are retried until ``lock_wait`` runs out.
Requests of a step run on ``parallel`` threads; one image never has two
requests that change it in flight.  Rows come out in input order.
"""

from concurrent import futures
import random
import threading
import time
import typing as ty

from osc_image_store.engine import checks
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
#: Errors of an image argument that did not resolve to one image.
_NOT_RESOLVED = (exceptions.ImageNotFound, exceptions.AmbiguousImage,
                 exceptions.InvalidIdentifier)


class Remover(steps.Steps):
    """Removes images' data from one store; see the module docstring.

    :param proxy: an :class:`osc_image_store.sdk.proxy.Proxy`.
    :param store: the store ID.
    :param options: :class:`Options`.
    :param stop: when set (e.g. by a first Ctrl-C), nothing more is
        started; what is in flight finishes and is reported.
    """

    def __init__(self, proxy: sdk_proxy.Proxy, store: str,
                 options: Options = Options(),
                 stop: threading.Event | None = None):
        if options.parallel < 1 or options.chunk_size < 1:
            raise ValueError('parallel and chunk_size must be at least 1')
        self.proxy, self.store, self.options = proxy, store, options
        self.stop = stop or threading.Event()
        self.lock = lock_mod.Lock()
        self.not_started = False
        self._chunk: steps.Chunk | None = None
        self._seen: set[str] = set()
        self.stores: dict[str, resources.Store] = {}
        self.target: resources.Store | None = None

    def run(self, images: ty.Iterable[str | resources.Image],
            ) -> ty.Iterator[results.Removal]:
        """Remove each image's copy in the store; never fail the batch.

        :param images: names, IDs or resources, in output order (may be a
            paginated generator: it is read one chunk at a time).
        :returns: an iterator of :class:`~osc_image_store.engine.results.
            Removal`, one per distinct image, in input order.
        :raises: :class:`~osc_image_store.sdk.exceptions.MultiStoreNotEnabled`,
            :class:`~osc_image_store.sdk.exceptions.StoreNotFound` or
            :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier` before
            any image; an error of ``images`` itself after the rows of the
            images read before it.
        """
        all_stores = self.proxy.stores()
        self.target = self.proxy.find_store(self.store, all_stores)
        self.stores = {s.id: s for s in all_stores}
        pool = futures.ThreadPoolExecutor(self.options.parallel,
                                          thread_name_prefix='image-store')
        source = iter(images)
        try:
            while True:
                chunk: list[ty.Any] = []
                error, end = None, False
                try:
                    while len(chunk) < self.options.chunk_size:
                        chunk.append(next(source))
                except StopIteration:
                    end = True
                except _ERRORS as exc:
                    error = exc
                if self.stop.is_set():
                    self.not_started = bool(chunk) or not end
                    return
                yield from self._handle(chunk, pool)
                if error is not None:
                    raise error
                if end:
                    return
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def interrupted_rows(self) -> list[results.Removal]:
        """Rows of the chunk in hand when the batch was torn down.

        For a second Ctrl-C: the finished images of the current chunk, and
        ``unknown`` for those whose DELETE was sent but not read back.
        Locks of images not yet deleted are removed (best effort).
        """
        chunk, self._chunk = self._chunk, None
        if chunk is None:
            return []
        rows = []
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
                    '--image %s".%s'
                    % (image_id, self.store, image_id, self._lock_hint())))
        for image_id in chunk.locked - chunk.sent - set(chunk.rows):
            self._release(image_id)
        return rows

    # -- one chunk -------------------------------------------------------

    def _handle(self, items: list[ty.Any], pool: futures.Executor,
                ) -> ty.Iterator[results.Removal]:
        chunk = self._chunk = steps.Chunk()
        pending = self._resolve(items, chunk, pool)
        deadline = time.monotonic() + self.options.lock_wait
        while pending and not self.stop.is_set():
            busy, claim = [], []
            fresh = self._read(pending, chunk)
            for image_id in pending:
                image = fresh.get(image_id)
                if image is None:
                    continue
                row = self._check(image)
                if row is None and self.options.dry_run:
                    row = self._row(
                        image_id, image.name, results.WOULD_REMOVE,
                        checks.copies_outside(image, self.store),
                        outcome.dry_run_note(image, self.store,
                                             self.stores[self.store]))
                if row is not None:
                    chunk.rows[image_id] = row
                elif self.lock.blocks(image):
                    busy.append(image)
                else:
                    claim.append(image)
            held, contended = self._take(claim, chunk, pool)
            go = []
            for image in held:
                row = self._check(image)
                if row is None:
                    go.append(image)
                else:
                    chunk.rows[image.id] = row
                    self._release(image.id, chunk)
            if self.stop.is_set():
                for image in go:
                    self._release(image.id, chunk)
                self.not_started = self.not_started or bool(go)
                break
            self._remove(go, chunk, pool)
            pending = [i.id for i in busy] + contended
            if pending and time.monotonic() > deadline:
                for image in busy:
                    holder = self.lock.blocks(image)
                    chunk.rows[image.id] = self._row(
                        image.id, image.name, results.FAILED,
                        image.store_ids, 'Image %s is locked by another run '
                        'of this tool (%s); nothing was removed. Run this '
                        'command again later: a lock is taken over %d '
                        'minutes after it was taken (its run has died by '
                        'then).' % (image.id,
                                    holder.describe() if holder else '?',
                                    lock_mod.STALE_AFTER // 60))
                pending = [i for i in contended if i not in chunk.rows]
                for image_id in pending:
                    chunk.rows[image_id] = self._row(
                        image_id, chunk.names.get(image_id), results.FAILED,
                        None, 'Image %s could not be locked against other '
                        'runs in time; nothing was removed.' % image_id)
                break
            if pending:
                time.sleep(random.uniform(0.2, 1.0))
        if pending and self.stop.is_set():
            self.not_started = True
        self._chunk = None
        for label, row_id in chunk.order:
            if row_id is None:
                yield chunk.failed[label]
            elif row_id in chunk.rows:
                yield chunk.rows[row_id]

    def _resolve(self, items: list[ty.Any], chunk: steps.Chunk,
                 pool: futures.Executor) -> list[str]:
        """Image IDs of the chunk's items, in order, without repeats."""
        jobs: list[tuple[str, futures.Future[resources.Image] | None]] = []
        for item in items:
            label = item if isinstance(item, str) else item.id
            if label in self._seen:
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
            if image_id is not None and image_id != label:
                if image_id in self._seen:
                    continue
                self._seen.add(image_id)
            chunk.order.append((label, image_id))
            if image_id is not None:
                ids.append(image_id)
        return ids
