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
"""Copy an image's sole copy into another store, and wait until it is real.

Used before a removal when the store holds the image's only copy
(``Options.copy_to``).  The copy is Glance's ``copy-image`` import
(``POST /v2/images/{id}/import``).  It is finished only when Glance's
import lock (``os_glance_import_task``) is released, the importing flag
(``os_glance_importing_to_stores``) no longer names the target, ``stores``
lists the target, and one byte of the image can be read.  A target named
in ``os_glance_failed_import``, a lock whose task failed, a copy that
stalls, or the deadline end it as failed.  A copy already in flight (from
an earlier run) is waited for, never started twice.

A copy never hangs silently: its import task (``GET /v2/tasks/{id}``:
``status``, ``updated_at``, ``message``) and the image's import markers
are followed, and a copy whose task stays ``pending`` (never started), or
whose task and markers stop changing, is reported with the task's ID,
state and last update once :func:`quiet_allowed` has passed.  Glance 33
updates a running copy's task only from the status callback of its
``_ImportToStore`` step (``glance/async_/flows/api_image_import.py``,
``_status_callback``, which saves the task with ``message = "Copied <n>
MiB"``), and that callback runs at most every 60 seconds
(``CallbackIterator(..., min_interval=60)`` in
``glance/common/scripts/image_import/main.py``), on the next chunk
written.  Before that, while the task copies the image from its store
into the staging store (``_CopyImage``), nothing of the task or the image
changes at all; so until a first update is seen, a processing task also
gets time for that copy, at :data:`STAGING_RATE`.
"""

import dataclasses
import threading
import time
import typing as ty

from openstack import exceptions as sdk_exc

from osc_image_store.engine import advice as advice_mod
from osc_image_store.engine import checks
from osc_image_store.engine import options as options_mod
from osc_image_store.engine import outcome
from osc_image_store.engine import prove
from osc_image_store.engine import results
from osc_image_store import guard
from osc_image_store.sdk import exceptions as sdk_exceptions
from osc_image_store.sdk import image as sdk_image

#: Seconds between two reads of an image while its copy runs.
POLL = 1.0
#: Bytes a second that Glance is assumed to stage an image at, at least,
#: while a processing task shows no update yet (a first update comes 60 s
#: after the copy into the target store started): an image of ``size``
#: bytes gets ``size / STAGING_RATE`` seconds more.  1 MiB/s, far below
#: any disk or data-centre network.
STAGING_RATE = float(1 << 20)


@dataclasses.dataclass(frozen=True)
class Copied:
    """How a copy ended.

    :ivar ok: True when the copy is real, False when it failed, None when
        interrupted: with a reason, the copy was running in Glance when
        last read; without one, nothing was started.
    :ivar reason: for an operator (None when ok, or not started).
    :ivar size: bytes copied (the image size), 0 when nothing was copied
        by this run.
    :ivar stores: the image's stores as last read (None when unread).
    :ivar reached: the target store when the last read of the image
        listed it as a copy (not as a store still being imported into),
        else None: the ``Copied To`` of the image's row.
    """

    ok: bool | None
    reason: str | None = None
    size: int = 0
    stores: tuple[str, ...] | None = None
    reached: str | None = None


def _reached(image: sdk_image.Image | None, target: str) -> str | None:
    """``target`` when the image as read holds a copy there, else None."""
    if (image is not None and target in image.store_ids
            and target not in image.importing_to_stores):
        return target
    return None


def quiet_allowed(task: ty.Any, stall_after: float, size: int | None,
                  updates_seen: bool) -> float:
    """Seconds a copy may go without change before it counts as stalled.

    :param task: the import task as last read (None: unread, or no lock).
    :param stall_after: the bound of a task that Glance updates, and of
        one still ``pending`` (not started).
    :param size: the image size in bytes (None: unknown).
    :param updates_seen: whether the task has shown an update of a
        running copy (a ``message``, or a new ``updated_at`` while
        processing).
    """
    if (task is not None and task.status == 'processing'
            and not updates_seen):
        return stall_after + (size or 0) / STAGING_RATE
    return stall_after


class _Watch:
    """What a copy's import looked like, and since when it has not moved."""

    def __init__(self, image_id: str, target: str, stall_after: float,
                 size: int | None, advice: advice_mod.Advice):
        self.image_id, self.target, self.advice = image_id, target, advice
        self.stall_after, self.size = stall_after, size
        self.key: ty.Any = None
        self.since = time.monotonic()
        self.image: sdk_image.Image | None = None
        self.task: ty.Any = None
        self.task_error: str | None = None
        self.updates_seen = False

    def see(self, image: sdk_image.Image, task: ty.Any,
            task_error: str | None) -> None:
        """Record one read of the image (and of its task)."""
        self.image, self.task, self.task_error = image, task, task_error
        status = getattr(task, 'status', None)
        updated = str(getattr(task, 'updated_at', None))
        key = (image.import_task, tuple(sorted(image.importing_to_stores)),
               tuple(sorted(image.store_ids)),
               tuple(sorted(image.failed_import_stores)), status, updated,
               getattr(task, 'message', None))
        if task is not None and status == 'processing' and (
                getattr(task, 'message', None)
                or (self.key is not None and self.key[4] == 'processing'
                    and self.key[5] != updated)):
            self.updates_seen = True  # Glance's status callback ran
        if key != self.key:
            self.key, self.since = key, time.monotonic()

    @property
    def quiet(self) -> float:
        """Seconds since the last change seen."""
        return time.monotonic() - self.since

    def alive(self) -> bool:
        """Whether the last read showed a task running, not stalled."""
        return (self.task is not None
                and self.task.status in checks.RUNNING_TASK_STATES
                and self.stalled() is None)

    def state(self) -> str:
        """The copy's import as last read, for an operator."""
        image, task = self.image, self.task
        if image is None:
            return 'the image could not be read since the copy was asked for'
        if task is not None:
            text = 'its import task %s was %s' % (task.id, task.status)
            if task.status == 'pending':
                text += ' (not started)'
            text += ', last updated %s' % (task.updated_at or '(unknown)')
            if getattr(task, 'message', None):
                text += ' ("%s")' % task.message
            return text
        if image.import_task:
            return ('its import task %s (the image\'s import lock) could not '
                    'be read%s' % (image.import_task, ' (%s)' % self.task_error
                                   if self.task_error else ''))
        if self.target in image.importing_to_stores:
            return ('the image listed store %s in os_glance_importing_to_'
                    'stores, with no import lock' % self.target)
        return 'no import of it was running'

    def stalled(self) -> str | None:
        """Why the copy counts as stalled now, or None."""
        if self.image is None:
            return None  # the deadline covers images that cannot be read
        allowed = quiet_allowed(self.task, self.stall_after, self.size,
                                self.updates_seen)
        quiet = self.quiet
        if quiet < allowed:
            return None
        task = self.task
        if task is not None and task.status == 'pending':
            what = 'has not started'
            may = ('Glance may still start it, or it may be lost (an Images '
                   'API worker that stopped, a database error)')
        else:
            what = 'has made no progress'
            may = ('Glance updates a running copy\'s task about once a '
                   'minute; the Images API that ran it may have stopped, or '
                   'its store may be stuck')
        return ('The copy of image %s into store %s %s: %s; nothing of it '
                'changed for %d s (this command waits at most %d s for a '
                'copy that does not move). %s. Nothing was removed. %s'
                % (self.image_id, self.target, what, self.state(), quiet,
                   allowed, may, _lock_note(self.image, task, self.advice)))


def _lock_note(image: sdk_image.Image, task: ty.Any,
               advice: advice_mod.Advice) -> str:
    """What the import lock left on the image means for an operator."""
    if not image.import_task:
        return 'Run the command again later.'
    if task is not None and task.status not in checks.RUNNING_TASK_STATES:
        return ('Its import task ended (%s) but its lock (os_glance_import_'
                'task %s) stayed on the image: Glance refuses other imports '
                'of it until a new import replaces the lock, %d minutes after '
                'the task\'s last update. Run the command again then.'
                % (task.status, image.import_task,
                   checks.import_expiry(task).total_seconds() // 60))
    lapse = ''
    if task is not None:
        lapse = (' or Glance treats it as expired (%d minutes after the '
                 'task\'s last update)'
                 % (checks.import_expiry(task).total_seconds() // 60))
    return ('Its import lock (os_glance_import_task %s) stays on the image '
            'until the task ends%s: until then Glance refuses other imports '
            'of it. Check it with "%s", and run the command again once it '
            'has ended.'
            % (image.import_task, lapse,
               advice.show_task(image.import_task)))


def copy_and_wait(proxy: guard.GuardedProxy, image_id: str, store: str,
                  target: str, timeout: float, stop: threading.Event,
                  poll: float = POLL,
                  stall_after: float = options_mod.Options.stall_after,
                  advice: advice_mod.Advice = advice_mod.API) -> Copied:
    """Copy an image into ``target`` unless it is there; wait until real.

    :param proxy: the SDK proxy.
    :param image_id: the image ID.
    :param store: the store being freed (for messages).
    :param target: the store to copy into.
    :param timeout: seconds to wait for the copy.
    :param stop: when set, stop waiting (the copy may go on in Glance).
    :param poll: seconds between two reads.
    :param stall_after: seconds without any change of the import task or
        the image's import markers after which the copy is reported as
        stalled (see :func:`quiet_allowed`).
    :param advice: how the reasons name the actions they advise.
    :returns: :class:`Copied`.
    """
    copied, last = _copy(proxy, image_id, store, target, timeout, stop,
                         poll, stall_after, advice)
    return dataclasses.replace(
        copied, reached=target if copied.ok else _reached(last, target))


def _copy(proxy: guard.GuardedProxy, image_id: str, store: str, target: str,
          timeout: float, stop: threading.Event, poll: float,
          stall_after: float, advice: advice_mod.Advice,
          ) -> tuple[Copied, sdk_image.Image | None]:
    """:func:`copy_and_wait`, and the image as last read (None: unread)."""
    deadline = time.monotonic() + timeout
    kept = ' The copy in store %s is kept.' % store
    if stop.is_set():
        return Copied(None), None  # Ctrl-C before it started: say nothing.
    try:
        image = proxy.get_image(image_id)
    except outcome.REQUEST_ERRORS as exc:
        return Copied(False, 'Image %s could not be read before its copy '
                      '(%s).%s' % (image_id, exc, kept)), None
    started = False
    refused = ''
    if target not in image.store_ids:
        busy = image.import_task or image.importing_to_stores
        if busy and target not in image.importing_to_stores and not (
                _copying_into(proxy, image, target)):
            return Copied(False, '%s%s' % (
                checks.import_blocker(image, proxy, advice=advice), kept),
                stores=tuple(sorted(image.store_ids))), image
        if not busy:
            if stop.is_set():
                return Copied(None,
                              stores=tuple(sorted(image.store_ids))), image
            try:
                sdk_exc.raise_from_response(proxy.import_image(
                    image, method='copy-image', stores=[target]))
                started = True
            except sdk_exc.HttpException as exc:
                refused = (' Glance answered the import with HTTP %s: %s.'
                           % (exc.status_code, sdk_exceptions.clean_details(
                               exc.details or '',
                               exc.status_code).rstrip('.')))
                status = exc.status_code or 500
                if status >= 500:
                    started = True  # it may have started: read and see
                elif status not in (400, 409):
                    return Copied(False, 'Glance refused to copy image %s '
                                  'into store %s.%s%s'
                                  % (image_id, target, refused, kept),
                                  stores=tuple(sorted(image.store_ids))), image
                # 400: already there; 409: an import took the lock just
                # now.  The reads below tell which.
            except outcome.REQUEST_ERRORS:
                # The import may or may not have started: read and see.
                started = True
    watch = _Watch(image_id, target, stall_after, image.size, advice)
    last: sdk_image.Image | None = image
    while True:
        stores = tuple(sorted(last.store_ids)) if last is not None else None
        if stop.is_set():
            return _interrupted(watch, kept, stores), last
        now: sdk_image.Image | None
        try:
            now = proxy.get_image(image_id)
        except outcome.REQUEST_ERRORS:
            now = None
        if now is not None:
            last = now
            done, task, error = _settled(proxy, now, target, refused + kept,
                                         advice)
            stores = tuple(sorted(now.store_ids))
            if done is not None:
                return dataclasses.replace(
                    done, stores=stores,
                    size=(now.size or 0) if done.ok and started else 0), now
            watch.see(now, task, error)
            stalled = watch.stalled()
            if stalled is not None:
                return Copied(False, stalled + kept, stores=stores), now
        if time.monotonic() > deadline:
            return Copied(False, 'The copy of image %s into store %s has '
                          'not finished after %d s: %s.%s %s'
                          % (image_id, target, timeout, watch.state(),
                             kept, _lock_note(last, watch.task, advice)
                             if last is not None
                             else 'Run the command again later.'),
                          stores=stores), last
        time.sleep(poll)


def _copying_into(proxy: guard.GuardedProxy, image: sdk_image.Image,
                  target: str) -> bool:
    """Whether the image's import lock is a copy into ``target`` not ended.

    A ``copy-image`` task sets ``os_glance_importing_to_stores`` only once
    it runs: while it is ``pending`` only its input says where it copies
    to (for example the copy of an earlier run that was reported as not
    started).
    """
    if not image.import_task:
        return False
    try:
        task = proxy.get_task(image.import_task)
    except outcome.REQUEST_ERRORS:
        return False
    given = task.input if isinstance(task.input, dict) else {}
    method = ((given.get('import_req') or {}).get('method') or {}).get('name')
    return (task.status in checks.RUNNING_TASK_STATES
            and method == 'copy-image'
            and target in (given.get('backend') or ()))


def _interrupted(watch: _Watch, kept: str,
                 stores: tuple[str, ...] | None) -> Copied:
    """The end of a copy waited for when Ctrl-C came: what was last read."""
    head = ('Interrupted while waiting for the copy of image %s into store '
            '%s: %s' % (watch.image_id, watch.target, watch.state()))
    if watch.alive():
        go_on = ('Glance may still start it' if watch.task.status == 'pending'
                 else 'the copy may go on in Glance')
        return Copied(None, '%s; %s. Nothing was removed. Run the command '
                      'again to finish: a copy in flight is waited for (and '
                      'reported if it stalls), not started again.%s'
                      % (head, go_on, kept), stores=stores)
    return Copied(False, '%s. Nothing was removed.%s' % (head, kept),
                  stores=stores)


def _settled(proxy: guard.GuardedProxy, image: sdk_image.Image, target: str,
             kept: str, advice: advice_mod.Advice,
             ) -> tuple[Copied | None, ty.Any, str | None]:
    """How the copy stands on one read: done, failed, or None (running).

    :returns: ``(verdict, task, error)``: the import task as read (None
        when there is no import lock, or its read failed: ``error``).
    """
    if target in image.failed_import_stores:
        return Copied(False, 'Glance failed to copy image %s into store %s '
                      '(os_glance_failed_import names it; a staging quota or '
                      'the target store refused it).%s'
                      % (image.id, target, kept)), None, None
    if image.import_task:
        try:
            task = proxy.get_task(image.import_task)
        except outcome.REQUEST_ERRORS as exc:
            return None, None, str(exc)
        if task.status == 'failure':
            return Copied(False, 'The import task %s that copies image %s '
                          'into store %s failed: %s.%s'
                          % (task.id, image.id, target,
                             task.message or '(no message)', kept)), task, None
        if checks.import_expired(task):
            # Nothing has moved for as long as Glance allows: the copy
            # died with the Images API that ran it.
            return Copied(False, '%s%s' % (
                checks.import_blocker(image, proxy, advice=advice),
                kept)), task, None
        return None, task, None
    if target in image.importing_to_stores:
        return None, None, None
    if target not in image.store_ids:
        return Copied(False, 'No copy of image %s arrived in store %s.%s'
                      % (image.id, target, kept)), None, None
    proven, why = prove.prove_data(proxy, image)
    if not proven:
        return Copied(False, 'Image %s is in store %s now, but %s.%s'
                      % (image.id, target, why or 'its data cannot be '
                         'read', kept)), None, None
    return Copied(True), None, None


def moved(row: results.Removal, target: str) -> results.Removal:
    """The row of a removal that followed this run's copy into ``target``.

    :param row: the removal's row (``removed`` becomes ``moved``; any
        other result keeps its value and says the copy was made).
    :param target: the store ID the image was copied into.
    :returns: the row with ``copied_to`` set, unless the removal's
        read-back no longer lists ``target``.
    """
    there = row.remaining_stores is None or target in row.remaining_stores
    if row.result == results.REMOVED and there:
        return dataclasses.replace(row, result=results.MOVED,
                                   copied_to=target)
    if not there:
        reason = ('Copied into store %s (proven), but the image read after '
                  'the removal from %s no longer lists %s: %s'
                  % (target, row.store, target, row.reason or row.result))
        return dataclasses.replace(row, reason=reason, copied_to=None)
    reason = ('Copied into store %s (proven); the removal from %s did not '
              'follow: %s' % (target, row.store, row.reason or row.result))
    return dataclasses.replace(row, reason=reason, copied_to=target)
