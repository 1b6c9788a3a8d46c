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
"""The release stage: unlock each settled image, or keep its lock.

A lock stays after an outcome in doubt (the tag is the hold, see
:mod:`~osc_image_store.engine.lock`), and each row says what happened to
its image's lock.  :meth:`Releaser.check_held` makes sure, after the
read-back, that the sent images were locked throughout.
"""

import dataclasses
import typing as ty

from osc_image_store.engine import advice as advice_mod
from osc_image_store.engine import chunk as chunk_mod
from osc_image_store.engine import lock as lock_mod
from osc_image_store.engine import results


class Releaser:
    """Unlocks images, or keeps their locks, and notes it on their rows.

    :param locks: the run's image locks,
        :class:`~osc_image_store.engine.lock.ImageLocks`.
    :param ledger: the run's :class:`~osc_image_store.engine.lock.Ledger`
        (``kept``, ``unreleased`` and ``unsure`` are appended to).
    :param advice: how the notes name the actions they advise.
    """

    def __init__(self, locks: lock_mod.ImageLocks, ledger: lock_mod.Ledger,
                 advice: advice_mod.Advice = advice_mod.API):
        self.locks, self.ledger, self.advice = locks, ledger, advice

    def _clear(self, image_id: str) -> str:
        return self.advice.clear_locks(lock_mod.NAMESPACE, [image_id])

    def keep(self, image_id: str) -> None:
        """Leave an image's lock in place for an operator.

        :param image_id: an image ID this run holds.
        """
        self.locks.keep(image_id)
        self.ledger.kept.append(image_id)

    def release(self, image_id: str) -> lock_mod.Unreleased | None:
        """Unlock an image (``DELETE .../tags/{image_id}``, sent once).

        :param image_id: an image ID.
        :returns: None when unlocked (or not held), else
            :class:`~osc_image_store.engine.lock.Unreleased`; the image
            is then in the ledger's ``unreleased``.
        """
        unreleased = self.locks.release(image_id)
        if unreleased is not None:
            self.ledger.unreleased.append(image_id)
        return unreleased

    def unlock(self, row: results.Removal,
               keep: bool | None = None) -> results.Removal:
        """Unlock the row's image, or keep its lock; the row, with a note.

        :param row: a settled row.
        :param keep: keep the lock; None: keep it after an ``unknown`` or
            ``unverified`` outcome (Glance may still carry the DELETE out,
            or the image may list a copy with no data behind it).
        :returns: the row, its reason extended when the lock stays or
            could not be removed; unchanged when the image is not held.
        """
        image_id = row.image_id
        if image_id is None or image_id not in self.locks.held:
            return row
        if keep is None:
            keep = row.result in (results.UNKNOWN, results.UNVERIFIED)
        if keep:
            self.keep(image_id)
            note = (
                'Its lock stays (tag %s of metadata definitions namespace '
                '%s), so that no run of this command removes another copy of '
                'it meanwhile: check where its data is with "%s", then clear '
                'the lock with "%s".'
                % (image_id, lock_mod.NAMESPACE, self.advice.where(image_id),
                   self._clear(image_id)))
        else:
            unreleased = self.release(image_id)
            if unreleased is None:
                return row
            if unreleased.in_doubt:
                note = ('The release of its lock got no answer (%s) and the '
                        'lock is still there: that release may still reach '
                        'Glance later. Until then runs of this command '
                        'refuse the image; clear the lock with "%s" only '
                        'once no request of this run can still arrive.'
                        % (unreleased.reason, self._clear(image_id)))
            else:
                note = ('Its lock could not be removed (%s): runs of this '
                        'command refuse the image until "%s" is run.'
                        % (unreleased.reason, self._clear(image_id)))
        return dataclasses.replace(
            row, reason=' '.join(filter(None, (row.reason, note))))

    def check_held(self, work: ty.Mapping[str, chunk_mod.Work]) -> None:
        """After the read-back: were the sent images locked throughout?

        One ``GET /v2/metadefs/namespaces/{ns}/tags``.  An image whose
        lock is gone (an operator cleared it, the namespace was deleted)
        may have had another run's removal meanwhile: its verdict becomes
        ``unverified`` with ``keep_lock``, and it is locked again when it
        can be.  A listing that fails changes nothing.

        :param work: the chunk's removals by image ID; verdicts are
            changed in place.
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
                'copy at the same time; check where its data is with "%s".'
                % (image_id, lock_mod.NAMESPACE, self.advice.where(image_id)))
            try:
                taken = self.locks.take([image_id])  # keep others away again
            except lock_mod.LockError:
                pass
            else:
                if taken.unsure:
                    self.ledger.unsure.append(image_id)
                    lost += ' ' + lock_mod.unanswered(
                        image_id, taken.unsure[image_id], self.advice)
            if verdict.result in (None, results.UNVERIFIED,
                                  results.UNKNOWN):
                item.verdict = dataclasses.replace(
                    verdict, result=verdict.result or results.UNVERIFIED,
                    reason=' '.join(filter(None, (verdict.reason, lost))),
                    keep_lock=True)
