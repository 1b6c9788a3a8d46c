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
"""Image locks: one metadata definitions tag per image, named by its ID.

Two runs that free *different* stores of one image at once can both pass
Glance's "another copy is left" check and leave the image with no data.
So a run locks each image before its last read before the store DELETE,
and unlocks it once the read-back has settled the outcome.  The lock is
the tag ``<image ID>`` in the metadata definitions namespace
:data:`NAMESPACE` (private: admin only; unprotected, so tags can be
deleted; made on first use).  Creating a tag is Glance's atomic
test-and-set (tags are unique per namespace): of two runs, exactly one
gets 201.  No clock, lease or takeover is involved: a tag stays until
the run that made it deletes it, or an operator does (:func:`clear`;
:meth:`~osc_image_store.engine.advice.Advice.clear_locks` words it).

An image whose removal has an outcome in doubt (unknown, unverified, a
failed data proof, no store left) keeps its tag: Glance may still carry
the DELETE out, or the image may list a copy that has no data, so no run
may remove another copy of it until an operator has checked it and
cleared the lock.
"""

import dataclasses
import datetime
import typing as ty

from openstack import exceptions as sdk_exc

from osc_image_store.engine import advice as advice_mod
from osc_image_store.engine import outcome
from osc_image_store import guard
from osc_image_store.sdk import exceptions as sdk_exceptions
from osc_image_store.sdk import identifiers
from osc_image_store.sdk import metadef_tag

#: The namespace whose tags lock images (see the module docstring).
NAMESPACE = guard.LOCK_NAMESPACE
_DISPLAY = 'osc-image-store: images whose data is being removed'
_DESCRIPTION = ('Locks of osc-image-store: a tag named by an image ID while '
                'a run removes that image\'s data from a store. Delete a tag '
                'only once no run works on that image.')


class LockError(Exception):
    """Image locks cannot be taken at all (e.g. 403: not admin)."""


def unanswered(image_id: str, error: str,
               advice: advice_mod.Advice = advice_mod.API) -> str:
    """What an operator does about a lock request that got no answer.

    :param image_id: the image ID.
    :param error: the request's error.
    :param advice: how the sentences name the actions they advise.
    :returns: sentences for a row's reason.
    """
    return ('The request that locks image %s got no answer (%s): Glance may '
            'still make that lock. If "%s" shows it, it is this run\'s; '
            'clear it with "%s" once no request of this run can still reach '
            'Glance.'
            % (image_id, error, advice.list_locks(NAMESPACE),
               advice.clear_locks(NAMESPACE, [image_id])))


def since(tag: ty.Any) -> str:
    """When a lock tag was made, for messages.

    :param tag: a lock tag as read by :func:`current_locks` or
        :meth:`ImageLocks.busy_tags` (its ``created_at``, which a tag
        whose read failed lacks).
    :returns: ``YYYY-MM-DD HH:MM:SS UTC``; ``an unknown time`` without
        ``created_at``; the raw value (at most 40 characters) when it is
        not ISO 8601.
    """
    value = getattr(tag, 'created_at', None)
    if not value:
        return 'an unknown time'
    try:
        when = datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
    except ValueError:
        return str(value)[:40]
    return when.strftime('%Y-%m-%d %H:%M:%S UTC')


@dataclasses.dataclass(frozen=True)
class Taken:
    """What :meth:`ImageLocks.take` got.

    :ivar locked: IDs of the images locked by this call.
    :ivar busy: ``{image_id: None}`` of the images another run has locked
        (to wait for).
    :ivar unsure: ``{image_id: error}`` of the images whose lock request
        got no answer: Glance may create the lock later, so this run
        neither uses nor retries it.
    """

    locked: list[str]
    busy: dict[str, ty.Any]
    unsure: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Unreleased:
    """Why :meth:`ImageLocks.release` left a lock in place.

    :ivar reason: the error, for an operator.
    :ivar in_doubt: the delete got no answer and the lock is still there:
        the delete may still reach Glance later.
    """

    reason: str
    in_doubt: bool


@dataclasses.dataclass
class Ledger:
    """What happened to a run's locks, for its closing lines.

    :ivar kept: IDs of the images whose lock the run left in place (an
        outcome in doubt).
    :ivar locked_out: IDs of the images refused because another run held
        their lock for longer than the wait.
    :ivar unsure: IDs of the images whose lock request got no answer (a
        lock may appear for them later).
    :ivar unreleased: IDs of the images whose lock could not be removed.
    """

    kept: list[str] = dataclasses.field(default_factory=list)
    locked_out: list[str] = dataclasses.field(default_factory=list)
    unsure: list[str] = dataclasses.field(default_factory=list)
    unreleased: list[str] = dataclasses.field(default_factory=list)


class ImageLocks:
    """The image locks held by one run.

    :param proxy: the SDK proxy (its metadef tag calls).
    :param advice: how :class:`LockError` names the fix it advises.
    :ivar held: IDs of the images this run has locked and not released.
    """

    def __init__(self, proxy: guard.GuardedProxy,
                 advice: advice_mod.Advice = advice_mod.API):
        self.proxy, self.advice = proxy, advice
        self.held: set[str] = set()
        self._namespace_checked = False

    def take(self, image_ids: ty.Sequence[str]) -> Taken:
        """Lock the images that no other run has locked.

        Once per run first ``GET /v2/metadefs/namespaces/{ns}`` (404:
        made, ``POST /v2/metadefs/namespaces``; a public or protected one
        is refused).  Then one ``POST .../tags`` (``X-Openstack-Append:
        True``) for all of them: 201 locks them all in one transaction.
        On 409 (one is locked), ``GET .../tags`` tells which, and the
        others are locked the same way (one by one, ``POST
        .../tags/{id}``, if that races again).  A lock request that gets
        no answer (timeout, 5xx) is never followed by another for the same
        images: its lock may still be made later.

        :param image_ids: image IDs; those this run holds are left alone.
        :returns: :class:`Taken`.
        :raises: :class:`LockError` when the namespace cannot be used
            (403 and other refusals, a public or protected namespace):
            nothing is locked then.
        """
        wanted = [i for i in dict.fromkeys(image_ids) if i not in self.held]
        if not wanted:
            return Taken([], {}, {})
        self._check_namespace()
        busy: dict[str, ty.Any] = {}
        for _attempt in range(2):
            if len(wanted) < 2:
                break
            try:
                self._append(wanted)
                return Taken(self._got(wanted), busy, {})
            except sdk_exc.ConflictException:
                pass
            except outcome.REQUEST_ERRORS as exc:
                _raise_if_unusable(exc)
                return Taken([], busy, dict.fromkeys(wanted, _describe(exc)))
            if busy:
                break  # raced again after the listing: one by one
            try:
                tags = {t.name for t in self.proxy.metadef_tags(NAMESPACE)}
            except outcome.REQUEST_ERRORS as exc:
                # nothing was made: try them later
                _raise_if_unusable(exc)
                return Taken([], dict.fromkeys(wanted, None), {})
            busy = {i: None for i in wanted if i in tags}
            wanted = [i for i in wanted if i not in tags]
        locked: list[str] = []
        unsure: dict[str, str] = {}
        for image_id in wanted:  # one by one: each answer is definite
            try:
                self._create(image_id)
                self.held.add(image_id)
                locked.append(image_id)
            except sdk_exc.ConflictException:
                busy[image_id] = None
            except outcome.REQUEST_ERRORS as exc:
                _raise_if_unusable(exc)
                unsure[image_id] = _describe(exc)
        return Taken(locked, busy, unsure)

    def release(self, image_id: str) -> Unreleased | None:
        """Unlock an image this run locked (``DELETE .../tags/{id}``).

        Sent once: a 404 (cleared by an operator) is fine; another 4xx
        leaves the lock.  After no answer (timeout, 5xx) the tag is read
        (``GET .../tags/{id}``): 404, it was released; still there, or
        that read failed too, the delete may yet reach Glance, so it is
        never sent again (by then the name may be another run's lock).

        :param image_id: the image ID; nothing is sent for an image this
            run does not hold (never locked, released or kept).
        :returns: None when released or not held, else
            :class:`Unreleased` (``in_doubt`` after no answer).
        """
        try:
            self.held.remove(image_id)  # one caller only: sent once
        except KeyError:
            return None
        try:
            self.proxy.delete_metadef_tag(NAMESPACE, image_id)
        except sdk_exc.HttpException as exc:
            if exc.status_code and exc.status_code < 500:
                return Unreleased(_describe(exc), False)
            return self._after_no_answer(image_id, exc)
        except outcome.REQUEST_ERRORS as exc:
            return self._after_no_answer(image_id, exc)
        return None

    def present(self) -> set[str] | None:
        """The images locked now, by any run (``GET .../tags``).

        :returns: their IDs, or None when the listing failed.
        """
        try:
            return {t.name for t in self.proxy.metadef_tags(NAMESPACE)}
        except sdk_exc.NotFoundException:
            return set()  # the namespace was deleted
        except outcome.REQUEST_ERRORS:
            return None

    def _after_no_answer(self, image_id: str,
                         error: Exception) -> Unreleased | None:
        try:
            self.proxy.get_metadef_tag(NAMESPACE, image_id)
        except sdk_exc.NotFoundException:
            return None  # the delete was carried out
        except outcome.REQUEST_ERRORS:
            pass
        return Unreleased(_describe(error), True)

    def _check_namespace(self) -> None:
        """Check (once) that the namespace is private and unprotected."""
        if self._namespace_checked:
            return
        try:
            namespace = self.proxy.get_metadef_namespace(NAMESPACE)
        except sdk_exc.NotFoundException:
            self._make_namespace()
            self._namespace_checked = True
            return
        except outcome.REQUEST_ERRORS as exc:
            _raise_if_unusable(exc)
            return  # checked on the next call
        if namespace.visibility != 'private' or namespace.is_protected:
            raise LockError(
                'The image locks cannot be used: the metadata definitions '
                'namespace %s is %s (every project could read it, or its '
                'locks could not be removed). Make it private and '
                'unprotected with "%s", then run this command again.'
                % (NAMESPACE, ' and '.join(filter(None, (
                    namespace.visibility != 'private' and str(
                        namespace.visibility), namespace.is_protected
                    and 'protected'))),
                   self.advice.open_namespace(NAMESPACE)))
        self._namespace_checked = True

    def keep(self, image_id: str) -> None:
        """Leave an image's lock in place for an operator to clear.

        Nothing is sent: the run only stops holding the lock, so
        :meth:`release` leaves it alone.

        :param image_id: the image ID.
        """
        self.held.discard(image_id)

    def busy_tags(self, image_ids: ty.Iterable[str]) -> dict[str, ty.Any]:
        """The lock tags of images, with when they were made, if readable.

        One ``GET .../tags/{id}`` per image (the listing has no times).

        :param image_ids: IDs of the images another run has locked.
        :returns: ``{image_id: tag}`` of those still locked (a 404 leaves
            an image out); when a read fails otherwise, the tag has only
            its name (no ``created_at``).
        """
        return _read_tags(self.proxy, image_ids)

    def _got(self, image_ids: list[str]) -> list[str]:
        self.held.update(image_ids)
        return image_ids

    def _append(self, image_ids: list[str]) -> None:
        self._in_namespace(
            lambda: self.proxy.append_metadef_tags(NAMESPACE, image_ids))

    def _create(self, image_id: str) -> None:
        self._in_namespace(
            lambda: self.proxy.create_metadef_tag(NAMESPACE, image_id))

    def _in_namespace(self, call: ty.Callable[[], object]) -> None:
        """Run a tag create; make the namespace on 404 and run it again."""
        try:
            call()
            return
        except sdk_exc.NotFoundException:
            pass
        self._make_namespace()
        call()

    def _make_namespace(self) -> None:
        """``POST /v2/metadefs/namespaces`` (409: another run made it)."""
        try:
            self.proxy.create_metadef_namespace(
                namespace=NAMESPACE, display_name=_DISPLAY,
                description=_DESCRIPTION, visibility='private',
                is_protected=False)
        except sdk_exc.ConflictException:
            pass  # another run made it first
        except outcome.REQUEST_ERRORS as exc:
            raise LockError(_unusable(exc)) from exc


def current_locks(proxy: guard.GuardedProxy) -> list[ty.Any] | None:
    """Every image lock now (``GET .../tags``, then each tag for its time).

    :param proxy: the SDK proxy.
    :returns: :class:`~osc_image_store.sdk.metadef_tag.MetadefTag` list,
        oldest first; each tag's name is an image ID.  None when Glance
        answers 404 for the namespace: it does not exist yet, or it is
        not visible to the caller (it is private: a user without the
        admin role gets 404 even when images are locked).
    :raises: openstacksdk exceptions (e.g. 403).
    """
    try:
        names = [t.name for t in proxy.metadef_tags(NAMESPACE)]
    except sdk_exc.NotFoundException:
        return None
    tags = _read_tags(proxy, names)
    return sorted(tags.values(), key=lambda t: (t.created_at or '', t.name))


def _read_tags(proxy: guard.GuardedProxy,
               names: ty.Iterable[str]) -> dict[str, ty.Any]:
    """``{name: tag}`` of the lock tags that exist (no time if unread)."""
    tags = {}
    for name in names:
        try:
            tags[name] = proxy.get_metadef_tag(NAMESPACE, name)
        except sdk_exc.NotFoundException:
            continue  # gone meanwhile
        except outcome.REQUEST_ERRORS:
            tags[name] = metadef_tag.MetadefTag(name=name)
    return tags


def clear(proxy: guard.GuardedProxy, image_id: str) -> None:
    """Clear an image's lock (``DELETE .../tags/{image_id}``).

    For an operator, once no run works on the image.  Sent once (no
    retry after a dropped connection or a 503).

    :param proxy: :class:`~osc_image_store.guard.GuardedProxy`.
    :param image_id: an image ID (UUID).
    :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
        for an ID that is not a UUID (nothing sent);
        ``openstack.exceptions.NotFoundException`` on 404 (the image has
        no lock, or the namespace does not exist); other openstacksdk or
        keystoneauth exceptions.
    """
    proxy.delete_metadef_tag(NAMESPACE, identifiers.check_image_id(image_id),
                             ignore_missing=False)


def _raise_if_unusable(exc: Exception) -> None:
    """Raise :class:`LockError` for a refusal that no retry can change."""
    if isinstance(exc, sdk_exc.HttpException) and exc.status_code in (
            400, 401, 403, 404):
        raise LockError(_unusable(exc)) from exc


def _describe(error: object) -> str:
    """An error for a message: ``HTTP 403: <Glance's text>``, or its text."""
    if isinstance(error, sdk_exc.HttpException) and error.status_code:
        details = sdk_exceptions.clean_details(
            error.details or '', error.status_code)
        return 'HTTP %s: %s' % (error.status_code, details or '-')
    return str(error)


def _unusable(error: object) -> str:
    return ('The image locks could not be taken (tags of the metadata '
            'definitions namespace %s; creating it and its tags is admin '
            'only by default: %s).' % (NAMESPACE, _describe(error)))
