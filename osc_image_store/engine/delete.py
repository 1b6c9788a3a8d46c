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
"""The remove stage: the store DELETEs of a chunk, each read back.

Each image's ``DELETE /v2/stores/{store}/{image_id}`` is sent once, on a
read at most ``fresh_for`` seconds old (the images not yet sent are read
again with one listing, and decided again, when it is older); the sent
images are read back (:func:`~osc_image_store.engine.reads.read_back`)
and :func:`~osc_image_store.engine.outcome.classify` gives each a
verdict.  A store that still lists the image after a 204 holds another
location of it: the DELETE is sent again, up to :data:`MAX_ROUNDS`.
"""

from concurrent import futures
import dataclasses
import time
import typing as ty

from osc_image_store.engine import advice as advice_mod
from osc_image_store.engine import checks
from osc_image_store.engine import chunk as chunk_mod
from osc_image_store.engine import options as options_mod
from osc_image_store.engine import outcome
from osc_image_store.engine import reads
from osc_image_store.engine import results
from osc_image_store import guard
from osc_image_store.sdk import image as sdk_image
from osc_image_store.sdk import service_info

#: Most deletes of one image in one run (a store may hold 2+ locations).
MAX_ROUNDS = 4


class Deleter:
    """Sends a chunk's store DELETEs and classifies what they did.

    :param proxy: :class:`~osc_image_store.guard.GuardedProxy`.
    :param store: the store ID.
    :param stores: the cloud's stores by ID (to decide again).
    :param options: :class:`~osc_image_store.engine.options.Options`
        (``fresh_for``, ``ignore_missing`` and the decide flags).
    :param run: the run's :class:`~osc_image_store.engine.chunk.Run`: no
        DELETE is sent once it is ending.
    :param advice: how the verdicts name the actions they advise.
    """

    def __init__(self, proxy: guard.GuardedProxy, store: str,
                 stores: ty.Mapping[str, service_info.Store],
                 options: options_mod.Options, run: chunk_mod.Run,
                 advice: advice_mod.Advice = advice_mod.API):
        self.proxy, self.store, self.stores = proxy, store, stores
        self.options, self.run, self.advice = options, run, advice

    def remove(self, images: list[sdk_image.Image], chunk: chunk_mod.Chunk,
               pool: futures.Executor) -> dict[str, chunk_mod.Work]:
        """DELETE each image's copy (``parallel`` at once), read back.

        :param images: the images as read fresh, each decided removable.
        :param chunk: the chunk (its ``read_at``, ``sent`` and ``mutex``).
        :param pool: the executor of the DELETEs.
        :returns: ``{image ID: Work}``: a verdict for each image sent; a
            row for each refused by a re-read; neither for an image not
            sent (the run ended first).
        """
        work = {image.id: chunk_mod.Work(image, read_at=chunk.read_at)
                for image in images}
        active = list(work)
        for _round in range(MAX_ROUNDS):
            if not active:
                break
            todo = {i: work[i] for i in active}
            for job in [pool.submit(self._delete, todo[i], todo, chunk)
                        for i in active]:
                job.result()
            sent = [i for i in active if work[i].sent and work[i].row is None]
            read_at = time.monotonic()
            after = reads.read_back(self.proxy, sent)
            again = []
            for image_id in sent:
                item = work[image_id]
                item.after = after.get(image_id)
                item.verdict = outcome.classify(
                    item.before, self.store, item.error, item.after,
                    ignore_missing=self.options.ignore_missing,
                    advice=self.advice)
                if item.verdict.again and item.after is not None:
                    item.before, item.error = item.after, None
                    item.sent, item.read_at = False, read_at
                    item.removed_before += 1
                    again.append(image_id)
                elif item.removed_before:
                    item.verdict = self._after_earlier(item)
            active = again
        for image_id in active:  # still more locations after the rounds
            item = work[image_id]
            item.sent = True
            item.verdict = outcome.Verdict(
                results.UNVERIFIED, 'Image %s still lists store %s after %d '
                'removals (one location each); run this command again.'
                % (image_id, self.store, MAX_ROUNDS),
                tuple(sorted(item.after.store_ids)) if item.after else None)
        return work

    def _delete(self, item: chunk_mod.Work,
                work: dict[str, chunk_mod.Work],
                chunk: chunk_mod.Chunk) -> None:
        """Send one store DELETE, on a read at most ``fresh_for`` old."""
        if self.run.ending:
            return  # Ctrl-C, or the lock is gone: no new removal starts.
        with chunk.mutex:
            if time.monotonic() - item.read_at > self.options.fresh_for:
                self._refresh(work)
            if item.row is not None or self.run.ending:
                return
            image = item.before
            chunk.sent.add(image.id)  # in flight from here on
            item.sent = True
        try:
            self.proxy.delete_image(image.id, store=self.store,
                                    ignore_missing=False)
        except outcome.REQUEST_ERRORS as exc:
            item.error = exc

    def _refresh(self, work: dict[str, chunk_mod.Work]) -> None:
        """Read the images not yet sent again (one listing); decide again.

        An image refused now gets its row.  For an image whose earlier
        round removed one location (its
        :attr:`~osc_image_store.engine.chunk.Work.verdict` set), that row
        is ``unverified`` and says so.
        """
        ids = [i for i, w in work.items() if not w.sent and w.row is None]
        read_at = time.monotonic()
        try:
            fresh = self.proxy.images_by_id(ids)
        except outcome.REQUEST_ERRORS as exc:
            fresh, error = {}, str(exc)
        else:
            error = 'not found: deleted, or no longer visible to you'
        for image_id in ids:
            item = work[image_id]
            image = fresh.get(image_id)
            row: results.Removal | None
            if image is None:
                why = 'it could not be read again (%s)' % error
                row = results.row(
                    self.store, image_id, item.before.name, results.FAILED,
                    None, 'Image %s could not be read again before its '
                    'removal (%s); nothing was removed.' % (image_id, error))
            else:
                item.before, item.read_at = image, read_at
                row = checks.decide(image, self.proxy, self.store,
                                    self.stores, self.options, self.advice)
                why = 'a new read refused it: %s' % (
                    row.reason or row.result if row else '')
            if row is not None and item.removed_before:
                row = self._partly_removed(item, image, why)
            item.row = row

    def _after_earlier(self, item: chunk_mod.Work) -> outcome.Verdict:
        """The verdict of a later round, told with what came before.

        An earlier round removed a location of the image in the store, so
        a refusal now (e.g. 403: the store now holds the only copy; 409:
        the image is no longer active) does not mean nothing was removed:
        it is ``unverified`` and the lock stays.  Other verdicts keep
        their result and say it too.
        """
        verdict = item.verdict
        assert verdict is not None
        if verdict.result is None:
            return verdict  # the copy left the store: the proof decides
        if verdict.result in (results.FAILED, results.ABSENT) and not (
                verdict.keep_lock):
            return dataclasses.replace(
                verdict, result=results.UNVERIFIED, keep_lock=True,
                reason=self._earlier(item.before.id, item.removed_before,
                                     'The next: %s' % (verdict.reason
                                                       or verdict.result),
                                     check=True))
        return dataclasses.replace(verdict, reason=self._earlier(
            item.before.id, item.removed_before,
            'The next: %s' % (verdict.reason or verdict.result)))

    def _earlier(self, image_id: str, removed: int, then: str,
                 check: bool = False) -> str:
        """The reason of an image an earlier round removed a location of.

        :param image_id: the image ID.
        :param removed: locations the earlier rounds removed.
        :param then: what happened to the next location.
        :param check: add how to check where its data is, and to run again.
        """
        text = ('Store %s held more than one location of image %s; an '
                'earlier DELETE removed %d of them. %s'
                % (self.store, image_id, removed, then.rstrip('.') + '.'))
        if check:
            text += (' Check where its data is with "%s", then run this '
                     'command again.' % self.advice.where(image_id))
        return text

    def _partly_removed(self, item: chunk_mod.Work,
                        image: sdk_image.Image | None,
                        why: str) -> results.Removal:
        """The row of an image refused between two of its rounds.

        An earlier round removed one of its locations in the store: it is
        ``unverified`` (its lock stays), and counted as sent.
        """
        item.sent = True
        seen = image or item.after or item.before
        return results.row(
            self.store, seen.id, seen.name, results.UNVERIFIED,
            seen.store_ids, self._earlier(
                seen.id, item.removed_before,
                'Before the next could be removed, %s' % why, check=True))
