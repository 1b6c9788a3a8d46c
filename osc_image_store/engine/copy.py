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
(``--copy-to``).  The copy is Glance's ``copy-image`` import
(``POST /v2/images/{id}/import``).  It is finished only when Glance's
import lock (``os_glance_import_task``) is released, the importing flag
(``os_glance_importing_to_stores``) no longer names the target, ``stores``
lists the target, and one byte of the image can be read.  A target named
in ``os_glance_failed_import``, a lock whose task failed, or the deadline
end it as failed.  A copy already in flight (from an earlier run) is
waited for, never started twice.
"""

import dataclasses
import threading
import time

from openstack import exceptions as sdk_exc

from osc_image_store.engine import checks
from osc_image_store.engine import outcome
from osc_image_store.engine import results
from osc_image_store.sdk import exceptions as sdk_exceptions
from osc_image_store.sdk import proxy as sdk_proxy
from osc_image_store.sdk import resources

#: Seconds between two reads of an image while its copy runs.
POLL = 1.0


@dataclasses.dataclass(frozen=True)
class Copied:
    """How a copy ended.

    :ivar ok: True when the copy is real, False when it failed, None when
        interrupted: with a reason, the copy may go on in Glance; without
        one, nothing was started.
    :ivar reason: for an operator (None when ok, or not started).
    :ivar size: bytes copied (the image size), 0 when nothing was copied
        by this run.
    :ivar stores: the image's stores as last read (None when unread).
    """

    ok: bool | None
    reason: str | None = None
    size: int = 0
    stores: tuple[str, ...] | None = None


def copy_and_wait(proxy: sdk_proxy.Proxy, image_id: str, store: str,
                  target: str, timeout: float, stop: threading.Event,
                  poll: float = POLL) -> Copied:
    """Copy an image into ``target`` unless it is there; wait until real.

    :param proxy: the SDK proxy.
    :param image_id: the image ID.
    :param store: the store being freed (for messages).
    :param target: the store to copy into.
    :param timeout: seconds to wait for the copy.
    :param stop: when set, stop waiting (the copy goes on in Glance).
    :returns: :class:`Copied`.
    """
    deadline = time.monotonic() + timeout
    kept = ' The copy in store %s is kept.' % store
    if stop.is_set():
        return Copied(None)  # Ctrl-C before it started: nothing to say.
    try:
        image = proxy.get_image(image_id)
    except outcome.REQUEST_ERRORS as exc:
        return Copied(False, 'Image %s could not be read before its copy '
                      '(%s).%s' % (image_id, exc, kept))
    started = False
    refused = ''
    if target not in image.store_ids:
        busy = image.import_task or image.importing_to_stores
        if busy and target not in image.importing_to_stores:
            return Copied(False, '%s%s' % (
                checks.import_blocker(image, proxy), kept),
                stores=tuple(sorted(image.store_ids)))
        if not busy:
            if stop.is_set():
                return Copied(None, stores=tuple(sorted(image.store_ids)))
            try:
                proxy.copy_image_to_stores(image_id, [target])
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
                                  stores=tuple(sorted(image.store_ids)))
                # 400: already there; 409: an import took the lock just
                # now.  The reads below tell which.
            except outcome.REQUEST_ERRORS:
                # The import may or may not have started: read and see.
                started = True
    last: resources.Image | None = image
    while True:
        stores = tuple(sorted(last.store_ids)) if last is not None else None
        if stop.is_set():
            return Copied(None, 'Interrupted while image %s was being '
                          'copied into store %s: the copy goes on in Glance. '
                          'Run the command again to finish: a copy in '
                          'flight is waited for, not started again.%s'
                          % (image_id, target, kept), stores=stores)
        now: resources.Image | None
        try:
            now = proxy.get_image(image_id)
        except outcome.REQUEST_ERRORS:
            now = None
        if now is not None:
            last = now
            done = _settled(proxy, now, target, refused + kept)
            stores = tuple(sorted(now.store_ids))
            if done is not None:
                return dataclasses.replace(
                    done, stores=stores,
                    size=(now.size or 0) if done.ok and started else 0)
        if time.monotonic() > deadline:
            task = last.import_task if last is not None else None
            return Copied(False, 'The copy of image %s into store %s has '
                          'not finished after %d s%s.%s Run the command '
                          'again later: the copy in flight is waited for, '
                          'not started again.'
                          % (image_id, target, timeout,
                             ' (import task %s)' % task if task else '',
                             kept), stores=stores)
        time.sleep(poll)


def _settled(proxy: sdk_proxy.Proxy, image: resources.Image, target: str,
             kept: str) -> Copied | None:
    """How the copy stands on one read: done, failed, or None (running)."""
    if target in image.failed_import_stores:
        return Copied(False, 'Glance failed to copy image %s into store %s '
                      '(os_glance_failed_import names it; a staging quota or '
                      'the target store refused it).%s'
                      % (image.id, target, kept))
    if image.import_task:
        try:
            task = proxy.get_task(image.import_task)
        except outcome.REQUEST_ERRORS:
            return None
        if task.status == 'failure':
            return Copied(False, 'The import task %s that copies image %s '
                          'into store %s failed: %s.%s'
                          % (task.id, image.id, target,
                             task.message or '(no message)', kept))
        if checks.import_expired(task):
            # Nothing has moved for as long as Glance allows: the copy
            # died with the Images API that ran it.
            return Copied(False, '%s%s' % (
                checks.import_blocker(image, proxy), kept))
        return None
    if target in image.importing_to_stores:
        return None
    if target not in image.store_ids:
        return Copied(False, 'No copy of image %s arrived in store %s.%s'
                      % (image.id, target, kept))
    proven, why = outcome.prove_data(proxy, image)
    if not proven:
        return Copied(False, 'Image %s is in store %s now, but %s.%s'
                      % (image.id, target, why or 'its data cannot be '
                         'read', kept))
    return Copied(True)


def moved(row: results.Removal, target: str) -> results.Removal:
    """The row of a removal that followed this run's copy into ``target``.

    :param row: the removal's row (``removed`` becomes ``moved``; any
        other result keeps its value and says the copy was made).
    :returns: the row with ``copied_to`` set.
    """
    if row.result == results.REMOVED:
        return dataclasses.replace(row, result=results.MOVED,
                                   copied_to=target)
    reason = ('Copied into store %s (proven); the removal from %s did not '
              'follow: %s' % (target, row.store, row.reason or row.result))
    return dataclasses.replace(row, reason=reason, copied_to=target)
