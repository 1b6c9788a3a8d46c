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
"""Decisions from one fresh read of an image: may its copy leave a store?

Every function here is given the image as just read from the Images API
and answers without sending a request, except :func:`import_blocker`,
which reads the import task behind Glance's import lock or flag to say
whether it is still running.
"""

import datetime
import typing as ty

from osc_image_store.engine import advice as advice_mod
from osc_image_store.engine import options as options_mod
from osc_image_store.engine import outcome
from osc_image_store.engine import results
from osc_image_store.sdk import image as sdk_image
from osc_image_store.sdk import service_info

if ty.TYPE_CHECKING:
    from osc_image_store import guard

#: Glance busts an import lock whose task has not changed for this long
#: (twice as long while the task is ``pending``): images API,
#: ``_enforce_import_lock``.
IMPORT_LOCK_EXPIRY = datetime.timedelta(minutes=60)
#: Import task states in which the task may still write to the image.
RUNNING_TASK_STATES = ('pending', 'processing')


def names(stores: ty.Iterable[str]) -> str:
    """Store IDs for a message, sorted (Glance's order is not stable).

    :param stores: store IDs, in any order.
    :returns: the IDs joined with ``", "``, or ``(none)`` when there are
        none.
    """
    return ', '.join(sorted(stores)) or '(none)'


def copies_outside(image: sdk_image.Image, store: str) -> list[str]:
    """The stores holding the image's data besides ``store``.

    A store named in ``os_glance_importing_to_stores`` is never counted,
    even when ``stores`` lists it.  Glance 33 lists only ``active``
    locations (``ImageRepo._format_image_from_db``), so the placeholder
    of a store still being written is not in ``stores``; but with
    ``max_parallel_stores`` > 1 an import makes the image ``active``
    after its first store and clears the importing flag of every store
    only once the last one has ended (``parallel_api_image_import.py``):
    meanwhile a store may be listed and still named, and what the import
    does next (a failure elsewhere can remove the copies it wrote when
    ``all_stores_must_succeed``) is not known.

    :param image: the image as just read.
    :param store: the store ID to leave out.
    :returns: store IDs, each once, in Glance's order (possibly empty).
    """
    importing = set(image.importing_to_stores)
    return [s for s in image.store_ids if s != store and s not in importing]


def needs_copy(image: sdk_image.Image, store: str,
               stores: ty.Mapping[str, service_info.Store]) -> bool:
    """Whether the store holds the image's only copy that Glance manages.

    True when the image is in ``store`` and every other copy (if any) is on
    a read-only store: such an image must be copied elsewhere before its
    copy in ``store`` may go.  Stores named by an import in progress do
    not count as copies (:func:`copies_outside`).

    :param image: the image as just read.
    :param store: the store ID the copy is to leave.
    :param stores: the cloud's stores by ID; a store missing from it
        counts as writable.
    :returns: False as well when the image is not in ``store``.
    """
    if store not in image.store_ids:
        return False
    return all(s in stores and stores[s].is_read_only
               for s in copies_outside(image, store))


def refusal(
    image: sdk_image.Image, store: str,
    stores: ty.Mapping[str, service_info.Store], *,
    ignore_missing: bool = False, skip_only_copy: bool = False,
    allow_read_only_copies: bool = False,
    advice: advice_mod.Advice = advice_mod.API,
) -> tuple[str, str | None] | None:
    """Whether the copy in ``store`` must stay, from one fresh read.

    Checked in this order: the image is ``active``; it is in the store;
    another copy stays; not every other copy is on a read-only store
    (unless allowed).  Imports are checked by :func:`import_blocker`.

    :param image: the image as just read.
    :param store: the store ID the copy is to leave.
    :param stores: the cloud's stores by ID.
    :param ignore_missing: an image not in the store is ``absent``.
    :param skip_only_copy: a sole copy is ``skipped``, not ``failed``.
    :param allow_read_only_copies: remove even when every other copy is
        on a read-only store.
    :param advice: how the reason names the actions it advises.
    :returns: None when the removal may go on, else ``(result, reason)``
        with result ``failed``, ``absent`` or ``skipped``.
    """
    current = image.store_ids
    if store not in current and ignore_missing:
        return results.ABSENT, None
    if image.status != 'active':
        return results.FAILED, (
            'Image %s is %s; only active images can be removed from a '
            'store.' % (image.id, image.status))
    if store not in current:
        if ignore_missing:
            return results.ABSENT, None
        return results.FAILED, ('Image %s is not in store %s; it is in: %s.'
                                % (image.id, store, names(current)))
    others = copies_outside(image, store)
    if not others:
        pending = [s for s in image.store_ids
                   if s != store and s in image.importing_to_stores]
        return (results.SKIPPED if skip_only_copy else results.FAILED), (
            'Store %s holds the only copy of image %s%s; it is kept. To move '
            'it, run the command again with %s; to delete the image itself, '
            'use "%s".'
            % (store, image.id, ' (store(s) %s, named by an import still in '
               'progress, do not count as copies until it ends)'
               % names(pending) if pending else '', advice.option('copy_to'),
               advice.delete_image(image.id)))
    writable = [s for s in others
                if s not in stores or not stores[s].is_read_only]
    if not writable and not allow_read_only_copies:
        return (results.SKIPPED if skip_only_copy else results.FAILED), (
            'Every other copy of image %s is on a read-only store (%s), '
            'whose data Glance cannot check or manage; the copy in %s is '
            'kept. Pass %s to remove it anyway.'
            % (image.id, names(others), store,
               advice.option('allow_read_only_copies')))
    return None


def decide(
    image: sdk_image.Image, proxy: 'guard.GuardedProxy', store: str,
    stores: ty.Mapping[str, service_info.Store], options: options_mod.Options,
    advice: advice_mod.Advice = advice_mod.API,
) -> results.Removal | None:
    """The decide stage: may the copy in ``store`` leave, on this read?

    An ``active`` image is first checked for an import
    (:func:`import_blocker`, which may read its task), then every image
    by :func:`refusal`.

    :param image: the image as just read.
    :param proxy: :class:`~osc_image_store.guard.GuardedProxy` (for the
        import task).
    :param store: the store ID the copy is to leave.
    :param stores: the cloud's stores by ID.
    :param options: :class:`~osc_image_store.engine.options.Options`
        (``ignore_missing``, ``skip_only_copy``,
        ``allow_read_only_copies``).
    :param advice: how the reason names the actions it advises.
    :returns: None when the removal may go on, else the image's row
        (``failed``, ``absent`` or ``skipped``, with the reason and the
        stores as read).
    """
    refused: tuple[str, str | None] | None = None
    if image.status == 'active':
        blocker = import_blocker(image, proxy, advice=advice)
        if blocker is not None:
            refused = results.FAILED, blocker
    if refused is None:
        refused = refusal(
            image, store, stores, ignore_missing=options.ignore_missing,
            skip_only_copy=options.skip_only_copy,
            allow_read_only_copies=options.allow_read_only_copies,
            advice=advice)
    if refused is None:
        return None
    return results.row(store, image.id, image.name, refused[0],
                       image.store_ids, refused[1])


def import_blocker(
    image: sdk_image.Image, proxy: 'guard.GuardedProxy',
    now: datetime.datetime | None = None,
    advice: advice_mod.Advice = advice_mod.API,
) -> str | None:
    """Why an import forbids touching the image now, if one does.

    An import that overlaps a removal writes back the location list it
    read and leaves a "ghost" copy (store listed, data gone).  So any
    import lock (``os_glance_import_task``) or importing flag
    (``os_glance_importing_to_stores``) refuses the removal.  The task
    behind it is read (``GET /v2/tasks/{id}``, or
    ``GET /v2/images/{id}/tasks`` for a flag alone) to tell a running
    import from a stale marker that Glance left after a failure.

    :param image: the image as just read.
    :param proxy: the SDK proxy, for the task reads.
    :param now: the current UTC time (for tests).
    :param advice: how the reason names the actions it advises.
    :returns: None, or the reason for an operator.
    """
    lock, importing = image.import_task, image.importing_to_stores
    if not lock and not importing:
        return None
    now = now or datetime.datetime.now(datetime.timezone.utc)
    task: ty.Any = None
    try:
        if lock:
            task = proxy.get_task(lock)
        else:
            tasks = sorted(proxy.image_tasks(image.id),
                           key=lambda t: t.updated_at or '')
            running = [t for t in tasks if t.status in RUNNING_TASK_STATES]
            task = (running or tasks)[-1] if tasks else None
    except outcome.REQUEST_ERRORS:  # the refusal stands, less detailed
        task = None
    where = (' into store(s) %s' % names(importing)) if importing else ''
    if task is None or task.status in RUNNING_TASK_STATES:
        state = (' (task %s, %s)' % (task.id, task.status) if task
                 else ' (task %s)' % lock if lock else '')
        age = _age(task, now) if task is not None else None
        if task is not None and age is not None and age >= _expiry(task):
            return ('Image %s has an import lock of task %s (%s) that has '
                    'not changed since %s: Glance treats it as expired and '
                    'the next import replaces it. No removal while it is '
                    'there; if no import is running, re-run the import '
                    '(%s), then this command.'
                    % (image.id, task.id, task.status, task.updated_at,
                       advice.copy_image(image.id, '<store>')))
        late = ''
        if task is not None and age is not None:
            late = (' Its task was last updated %s (%d min ago); if no import '
                    'is running any more (the Images API was restarted '
                    'mid-copy), Glance treats the lock as expired %s after '
                    'that and the next import replaces it.'
                    % (task.updated_at, age.total_seconds() // 60,
                       _minutes(_expiry(task))))
        return ('Image %s is being imported%s%s; removing a copy now could '
                'leave a ghost copy and lose data. Run this command again '
                'when the import has ended ("%s" shows the stores).%s'
                % (image.id, where, state, advice.where(image.id), late))
    marker = ('import lock os_glance_import_task' if lock
              else 'importing flag os_glance_importing_to_stores (%s)'
              % names(importing))
    until = ''
    if lock and task.updated_at:
        until = (' Glance lets a new import replace the lock %s after the '
                 'task\'s last update (%s).'
                 % (_minutes(_expiry(task)), task.updated_at))
    return ('Image %s still has the %s of import task %s, which ended in '
            '%s: the marker is stale (Glance stopped or failed mid-import) '
            'and no import is running, but it is not removed while it is '
            'there.%s To clear it, re-run the copy (%s) and, when it has '
            'ended, run this command again.'
            % (image.id, marker, task.id, task.status, until,
               advice.copy_image(image.id,
                                 ' '.join(sorted(importing)) or '<store>')))


def import_expired(task: ty.Any,
                   now: datetime.datetime | None = None) -> bool:
    """Whether Glance treats an import task's lock as expired.

    True when the task has not changed for 60 minutes (120 while
    ``pending``), the rule of the Images API's ``_enforce_import_lock``.

    :param task: the import task as read (``GET /v2/tasks/{id}``): its
        ``status`` and ``updated_at`` (ISO 8601; UTC when it has no
        offset).
    :param now: the current time, timezone-aware (for tests); None: now,
        in UTC.
    :returns: False as well when ``updated_at`` is missing or cannot be
        parsed.
    """
    age = _age(task, now or datetime.datetime.now(datetime.timezone.utc))
    return age is not None and age >= _expiry(task)


def import_expiry(task: ty.Any) -> datetime.timedelta:
    """How long after its last update Glance expires a task's import lock.

    The rule of the Images API's ``_enforce_import_lock``.

    :param task: the import task as read (its ``status``).
    :returns: 60 minutes, 120 while the task is ``pending``.
    """
    return IMPORT_LOCK_EXPIRY * (2 if task.status == 'pending' else 1)


_expiry = import_expiry


def _minutes(delta: datetime.timedelta) -> str:
    return '%d minutes' % (delta.total_seconds() // 60)


def _age(task: ty.Any, now: datetime.datetime) -> datetime.timedelta | None:
    """How long ago the task last changed, or None when unknown."""
    try:
        updated = datetime.datetime.fromisoformat(
            str(task.updated_at).replace('Z', '+00:00'))
    except (TypeError, ValueError):
        return None
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=datetime.timezone.utc)
    return now - updated


def left_in_store(proxy: 'guard.GuardedProxy', store: str,
                  owner: str | None = None,
                  deep: bool = False) -> tuple[list[str], int]:
    """Which visible images still hold data in the store, after a run.

    A listing (``GET /v2/images``, hidden images too) does not tag
    locations that lack a store ID; with ``deep``, every visible image
    is also read on its own (``GET /v2/images/{id}``: one request per
    image), which does.

    :param proxy: the SDK proxy.
    :param store: the store ID.
    :param owner: only images of this project ID.
    :param deep: read every image one by one as well.
    :returns: ``(image IDs, images read one by one)``.
    :raises: openstacksdk or keystoneauth exceptions.
    """
    listed = proxy.images_in_store(store, owner=owner)
    left = [image.id for image in listed]
    read = 0
    if deep:
        for image in proxy.all_images(owner=owner):
            if image.id in left:
                continue
            read += 1
            if store in proxy.get_image(image.id).store_ids:
                left.append(image.id)
    return left, read
