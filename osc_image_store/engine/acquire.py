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
"""The lock stage: lock a chunk's images before the read they rest on.

One request locks the chunk
(:meth:`~osc_image_store.engine.lock.ImageLocks.take`).  An image locked
by another run waits: it is tried again about once a second
(:meth:`Acquirer.due`) until ``lock_wait`` seconds have passed since it
was first met, then it fails.  An image whose lock request got no answer
fails at once and is never tried again (its lock may still appear).
"""

import dataclasses
import random
import time
import typing as ty

from osc_image_store.engine import advice as advice_mod
from osc_image_store.engine import lock as lock_mod
from osc_image_store.engine import results


@dataclasses.dataclass
class Acquired:
    """What :meth:`Acquirer.acquire` got for a chunk.

    :ivar locked: IDs of the images this run now holds, in input order.
    :ivar waiting: IDs of the images another run holds, to try again.
    :ivar rows: ``{image ID: row}``: ``failed`` for a lock request with
        no answer, or a wait that ran out.
    """

    locked: list[str]
    waiting: set[str]
    rows: dict[str, results.Removal]


class Acquirer:
    """Takes the locks of chunks; keeps the waits for other runs' locks.

    :param locks: the run's image locks,
        :class:`~osc_image_store.engine.lock.ImageLocks`.
    :param ledger: the run's :class:`~osc_image_store.engine.lock.Ledger`
        (``locked_out`` and ``unsure`` are appended to).
    :param store: the store ID (for the rows).
    :param lock_wait: seconds an image locked by another run is waited
        for.
    :param on_wait: called once with a sentence when images are waited
        for, or None.
    :param advice: how the rows name the actions they advise.
    :ivar waiting: ``{image ID: deadline}`` (:func:`time.monotonic`, s)
        of the images waited for.
    """

    def __init__(self, locks: lock_mod.ImageLocks, ledger: lock_mod.Ledger,
                 store: str, lock_wait: float,
                 on_wait: ty.Callable[[str], None] | None = None,
                 advice: advice_mod.Advice = advice_mod.API):
        self.locks, self.ledger, self.store = locks, ledger, store
        self.advice = advice
        self.lock_wait, self.on_wait = lock_wait, on_wait
        self.waiting: dict[str, float] = {}
        self._next_try = 0.0

    def acquire(self, image_ids: list[str],
                name_of: ty.Callable[[str], str | None]) -> Acquired:
        """Lock images, with one ``POST .../tags``.

        See :meth:`~osc_image_store.engine.lock.ImageLocks.take`.

        :param image_ids: image IDs, in order.
        :param name_of: an image's name, for the rows.
        :returns: :class:`Acquired`.
        :raises: :class:`~osc_image_store.engine.lock.LockError` when no
            lock can be taken at all (nothing was locked).
        """
        taken = self.locks.take(image_ids)
        rows: dict[str, results.Removal] = {}
        now = time.monotonic()
        late, waiting = [], set()
        for image_id, error in taken.unsure.items():
            self.waiting.pop(image_id, None)
            self.ledger.unsure.append(image_id)
            rows[image_id] = results.row(
                self.store, image_id, name_of(image_id), results.FAILED, None,
                'Nothing was removed. %s Then run this command again.'
                % lock_mod.unanswered(image_id, error, self.advice))
        for image_id in image_ids:
            if image_id in self.locks.held or image_id in taken.unsure:
                self.waiting.pop(image_id, None)
                continue
            deadline = self.waiting.setdefault(image_id,
                                               now + self.lock_wait)
            if now >= deadline:
                del self.waiting[image_id]
                late.append(image_id)
            else:
                waiting.add(image_id)
        if waiting and self.on_wait is not None:
            self.on_wait(
                'Waiting up to %d s for image(s) locked by another run of '
                'this command: %s%s' % (
                    self.lock_wait, ', '.join(sorted(waiting)[:5]),
                    ', ...' if len(waiting) > 5 else '.'))
            self.on_wait = None  # said once
        if late:
            tags = self.locks.busy_tags(late)
            for image_id in late:
                self.ledger.locked_out.append(image_id)
                rows[image_id] = results.row(
                    self.store, image_id, name_of(image_id), results.FAILED,
                    None, 'Image %s is locked by another run of this command '
                    '(tag %s of metadata definitions namespace %s, since '
                    '%s); waited %d s; nothing was removed. A lock also '
                    'stays after a removal whose outcome was unknown or '
                    'unverified, and after a run that was killed: check '
                    'where the image\'s data is with "%s"; once no run works '
                    'on it, clear the lock with "%s".'
                    % (image_id, image_id, lock_mod.NAMESPACE,
                       lock_mod.since(tags.get(image_id)),
                       self.lock_wait, self.advice.where(image_id),
                       self.advice.clear_locks(lock_mod.NAMESPACE,
                                               [image_id])))
        return Acquired([i for i in image_ids if i in self.locks.held],
                        waiting, rows)

    def wait_for(self, image_id: str) -> None:
        """Wait for an image met locked elsewhere (e.g. by a copy job).

        :param image_id: an image ID; its wait starts now unless it had
            started already.
        """
        self.waiting.setdefault(image_id, time.monotonic() + self.lock_wait)

    def due(self) -> bool:
        """Whether the waiting images are to be tried again now.

        About once a second (0.5 to 1.5 s, at random, so that runs do
        not keep meeting); a True answer schedules the next try.
        """
        if not self.waiting or time.monotonic() < self._next_try:
            return False
        self._next_try = time.monotonic() + random.uniform(0.5, 1.5)
        return True

    def next_try(self) -> float:
        """When the waiting images are next due (:func:`time.monotonic`)."""
        return self._next_try
