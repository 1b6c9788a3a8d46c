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
"""An Images API v2 proxy that removes an image's data from one store.

Everything here comes from two Glance calls:

* ``DELETE /v2/stores/{store_id}/{image_id}`` (Images API 2.10+): 204 on
  success.  Glance checks, in this order: multi-store on (404), store
  enabled on the node (409), image visible (404), policy
  ``delete_image_location`` (403, admin-only by default), image
  ``active`` (409), more than one location (403), a location in that
  store (404), backend not in use (409), backend reachable (503).
* ``GET /v2/images/{image_id}``, whose ``stores`` field lists the stores
  holding the image's data.

Because the image is read before the delete, the proxy can tell the real
reason before Glance's check order hides it (a one-copy image asked to
leave a store it is not in gets 403 "only store" from Glance).  Because
it is re-read after the delete, a delete that Glance answered with 204
but that left the image in a bad state (see the concurrent-delete race in
Glance) is reported as an error, never as a success.

No request made through this proxy can delete a whole image: every
``DELETE`` it would send is checked against the store-scoped path.
"""

import collections
from concurrent import futures
import dataclasses
import re
import threading
import typing as ty

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc
from openstack.image.v2 import _proxy
import requests

from osc_image_store.sdk import exceptions
from osc_image_store.sdk import identifiers
from osc_image_store.sdk import resources

if ty.TYPE_CHECKING:
    from openstack import connection

#: The only DELETE this proxy sends: ``/stores/<store>/<uuid>``, relative
#: to the image endpoint, with a store ID as identifiers.check_store_id
#: allows (no dot segment).
_STORE_DELETE_PATH = re.compile(
    r'/stores/(?!\.+/)[A-Za-z0-9_.-]+/'
    r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
    r'[0-9a-fA-F]{12}')
#: Request arguments that would send a DELETE somewhere else.
_ENDPOINT_ARGUMENTS = {'endpoint_override', 'endpoint_filter', 'base_url',
                       'interface', 'service_type', 'version',
                       'min_version', 'max_version', 'allow'}


def _clean_details(details: str, status: int | None) -> str:
    """Glance's explanation as plain text.

    Drops HTML tags (JSON messages end with ``<br /><br />``), folds white
    space, and drops the "404 Not Found: " heading of HTML error pages.
    """
    details = ' '.join(re.sub(r'<[^>]*>', ' ', details).split())
    head = re.match(r'%s [A-Za-z -]+: ' % status, details)
    return details[head.end():] if head else details


#: Glance reads these name prefixes as filter operators.
_NAME_OPERATOR = re.compile(r'(in|eq|neq|gt|gte|lt|lte):')


def _name_filter(name: str) -> str | None:
    """The ``name`` query value that finds images with exactly that name.

    Glance reads ``in:a,b`` as "a or b" (and other prefixes as operators),
    so such names are quoted in an ``in:`` list; results are still compared
    with the name by the caller.

    :returns: the value, or None when Glance cannot look the name up
        (an operator-like name with a double quote or backslash).
    """
    if not _NAME_OPERATOR.match(name):
        return name
    if '"' in name or '\\' in name:
        return None
    return 'in:"%s"' % name


def _store_names(stores: ty.Iterable[str]) -> str:
    """Store IDs for a message, sorted (Glance's order is not stable)."""
    return ', '.join(sorted(stores)) or '(none)'


#: Errors that fail one image of a batch, not the batch.
_FAILURES = (sdk_exc.SDKException, ks_exc.ClientException)

#: Values of :attr:`Removal.result`.
REMOVED = 'removed'
WOULD_REMOVE = 'would remove'
ABSENT = 'absent'
FAILED = 'failed'
SKIPPED = 'skipped'


@dataclasses.dataclass(frozen=True)
class Removal:
    """What happened to one image.

    :ivar image_id: the image ID, or None when the name did not resolve.
    :ivar image_name: the image name (or the argument that did not
        resolve).
    :ivar store: the store ID the data was to leave.
    :ivar result: one of ``removed``, ``would remove`` (dry run),
        ``absent`` (not in the store, with ``ignore_missing``),
        ``skipped`` (the store holds the only copy) or ``failed``.
    :ivar remaining_stores: the stores still holding the image's data, as
        read back from the Images API (or as planned, for a dry run),
        sorted.
    :ivar reason: why it failed or was skipped, for an operator.
    """

    image_id: str | None
    image_name: str | None
    store: str
    result: str
    remaining_stores: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def failed(self) -> bool:
        """Whether this image counts as a failure (exit code 1)."""
        return self.result == FAILED


class Proxy(_proxy.Proxy):
    """openstacksdk's Images API v2 proxy plus store-scoped data removal.

    Build it with :meth:`from_connection`; it shares the connection's
    keystoneauth session (one authentication, one version discovery).
    Whole-image deletes are refused: see :meth:`request`.
    """

    @classmethod
    def from_connection(cls, conn: 'connection.Connection') -> 'Proxy':
        """Build a proxy for one connection's image service.

        The ``Connection`` class is left unchanged (unlike
        ``Connection.add_service``, which would give this proxy to every
        connection in the process).

        :param conn: an :class:`openstack.connection.Connection`.
        :returns: a :class:`Proxy` on the cloud's image endpoint.
        """
        # openstacksdk's own image proxy resolves the endpoint as the rest
        # of openstacksdk does (an endpoint override without a version is
        # discovered and pinned in the config); discovery is cached in the
        # shared session, so this costs no extra request later.
        conn.image.get_endpoint()
        proxy = conn.config.get_session_client('image', constructor=cls)
        proxy._connection = conn
        return proxy

    def request(
        self, url: str, method: str, *args: ty.Any, **kwargs: ty.Any,
    ) -> requests.Response:
        """Send a request, refusing any DELETE but a store-scoped one.

        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            for a DELETE whose path is not
            ``/v2/stores/{store_id}/{image_id}``; nothing is sent.
        """
        if method.upper() == 'DELETE':
            if (not _STORE_DELETE_PATH.fullmatch(url)
                    or set(kwargs) & _ENDPOINT_ARGUMENTS):
                raise exceptions.InvalidIdentifier(
                    'Refusing DELETE %s: this proxy only removes image data '
                    'from one store.' % url)
        return super().request(url, method, *args, **kwargs)

    # ====== Stores ======

    def stores(  # type: ignore[override]
        self, details: bool = False, **query: ty.Any,
    ) -> list[resources.Store]:
        """List the cloud's stores (``GET /v2/info/stores[/detail]``).

        :param details: read ``/v2/info/stores/detail``, which adds
            ``type``, ``weight`` and ``properties`` and is admin-only
            by default.
        :returns: the stores as :class:`~osc_image_store.sdk.resources.Store`
            (Glance's internal stores are never listed).
        :raises: :class:`~osc_image_store.sdk.exceptions.MultiStoreNotEnabled`
            on 404; :class:`openstack.exceptions.ForbiddenException` when
            the caller may not read the detail.
        """
        base_path = resources.Store.base_path + ('/detail' if details else '')
        try:
            return list(self._list(
                resources.Store, base_path=base_path, **query))
        except sdk_exc.NotFoundException as exc:
            raise exceptions.MultiStoreNotEnabled(
                'Multi-store is not enabled on this cloud: the Images API '
                'answered 404 to GET /v2/info/stores, so image data lives '
                'in a single store and cannot be removed from one store.',
                http_status=exc.status_code) from exc

    def check_store(
        self, store: str, stores: ty.Sequence[resources.Store] | None = None,
    ) -> str:
        """Check that a store ID is one the cloud lists.

        :param store: a store ID.
        :param stores: the cloud's stores, when already read (saves
            ``GET /v2/info/stores``).
        :returns: the store ID.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`,
            :class:`~osc_image_store.sdk.exceptions.StoreNotFound`,
            :class:`~osc_image_store.sdk.exceptions.MultiStoreNotEnabled`.
        """
        identifiers.check_store_id(store)
        available = [s.id for s in (
            stores if stores is not None else self.stores())]
        if store not in available:
            raise exceptions.StoreNotFound(
                'Store %s does not exist on this cloud; its stores are: %s.'
                % (store, ', '.join(available) or '(none)'), available)
        return store

    # ====== Images ======

    def get_image(self, image: str | resources.Image) -> resources.Image:  # type: ignore[override]  # noqa: E501
        """Read an image (``GET /v2/images/{image_id}``), with its stores.

        :param image: an image ID (UUID) or an image resource.
        :returns: :class:`~osc_image_store.sdk.resources.Image`.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            for an ID that is not a UUID (nothing is sent);
            :class:`openstack.exceptions.NotFoundException` on 404.
        """
        image_id = image if isinstance(image, str) else image.id
        identifiers.check_image_id(image_id)
        return self._get(resources.Image, image_id)

    def resolve_image(self, name_or_id: str) -> resources.Image:
        """Find the one image with that ID or name.

        A UUID is read with ``GET /v2/images/{id}``; anything else (or a
        UUID that no image has as ID) is looked up by name with
        ``GET /v2/images?name=...`` (names only ever go in the query).

        :param name_or_id: an image name or ID.
        :returns: :class:`~osc_image_store.sdk.resources.Image`.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`,
            :class:`~osc_image_store.sdk.exceptions.ImageNotFound`,
            :class:`~osc_image_store.sdk.exceptions.AmbiguousImage`
            (with the matching IDs).
        """
        identifiers.check_image_name_or_id(name_or_id)
        if identifiers.is_uuid(name_or_id):
            try:
                return self.get_image(name_or_id)
            except sdk_exc.NotFoundException:
                pass
        name_filter = _name_filter(name_or_id)
        matches: list[resources.Image] = []
        for hidden in (False, True):  # hidden images only when no other
            if name_filter is not None and not matches:
                matches = [
                    image for image in self._list(
                        resources.Image, name=name_filter, is_hidden=hidden)
                    if image.name == name_or_id]
        if not matches:
            raise exceptions.ImageNotFound(
                'No image with name or ID %s.' % name_or_id, http_status=404)
        if len(matches) > 1:
            ids = sorted(m.id for m in matches)
            raise exceptions.AmbiguousImage(
                'More than one image has the name %s; use an ID: %s.'
                % (name_or_id, ', '.join(ids)), ids)
        return matches[0]

    def images_in_store(
        self, store: str, *, owner: str | None = None, page_size: int = 200,
    ) -> ty.Iterator[resources.Image]:
        """Every image visible to the caller whose data is in a store.

        Streams the pages of ``GET /v2/images?limit=...`` (Glance has no
        store filter, so images are filtered here on their ``stores``),
        once for ordinary and once for hidden images (``os_hidden``),
        which Glance leaves out of a plain listing.  Memory does not grow
        with the number of images.

        :param store: a store ID.
        :param owner: only images of this project ID.
        :param page_size: images per page.
        :returns: an iterator of :class:`~osc_image_store.sdk.resources.Image`.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`.
        """
        identifiers.check_store_id(store)
        for hidden in (False, True):
            query: dict[str, ty.Any] = {'is_hidden': hidden,
                                        'limit': page_size}
            if owner:
                query['owner'] = owner
            for image in self._list(resources.Image, **query):
                if store in image.store_ids:
                    yield image

    def delete_image(self, *args: ty.Any, **kwargs: ty.Any) -> ty.NoReturn:
        """Refused: this proxy never deletes a whole image.

        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            always; use :meth:`delete_image_from_store`.
        """
        raise exceptions.InvalidIdentifier(
            'This proxy never deletes a whole image; use '
            'delete_image_from_store(image, store).')

    def delete_image_from_store(
        self, image: str | resources.Image, store: str,
    ) -> resources.Image:
        """Remove an image's data from one store, then re-read the image.

        Sends exactly ``DELETE /v2/stores/{store}/{image_id}`` (each
        segment checked and percent-encoded) and, after the 204,
        ``GET /v2/images/{image_id}``.  No pre-checks; see
        :meth:`remove_image_from_store` for the checked path.

        :param image: an image ID (UUID) or image resource.
        :param store: a store ID.
        :returns: the image as read after the delete.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request; :class:`openstack.exceptions.HttpException`
            (``NotFoundException``, ``ForbiddenException``,
            ``ConflictException``...) for any status but 204.  Nothing is
            ignored.
        """
        image_id = image if isinstance(image, str) else image.id
        self._send_store_delete(image_id, store)
        return self.get_image(image_id)

    def remove_image_from_store(
        self,
        image: str | resources.Image,
        store: str,
        *,
        stores: ty.Sequence[resources.Store] | None = None,
        dry_run: bool = False,
        ignore_missing: bool = False,
        verify_data: bool = False,
    ) -> Removal:
        """Safely remove an image's data from one store.

        Checks, from one read of the image and before any DELETE: the
        store exists on the cloud, the image is ``active``, it is in the
        store, and the store is not its only one.  Then sends the
        store-scoped delete and re-reads the image: the store must be gone
        from its ``stores`` and another store must remain.

        Requests: ``GET /v2/info/stores`` (unless ``stores`` is given),
        one image read (unless ``image`` is a resource), one DELETE, one
        image read; plus one 1-byte ranged download with ``verify_data``.

        :param image: an image name or ID, or an image resource already
            read with :meth:`get_image` or :meth:`resolve_image`.
        :param store: a store ID.
        :param stores: the cloud's stores, from :meth:`stores`.
        :param dry_run: do every check but send no DELETE.
        :param ignore_missing: an image not in the store is a success
            (result ``absent``) instead of an error.
        :param verify_data: after the removal, read one byte of the image's
            data (``Range: bytes=0-0``) to prove a copy is still readable.
        :returns: a :class:`Removal` with result ``removed``,
            ``would remove`` or ``absent``.
        :raises: a subclass of
            :class:`~osc_image_store.sdk.exceptions.ImageStoreException`
            saying what happened; the image is then unchanged unless the
            exception is
            :class:`~osc_image_store.sdk.exceptions.RemovalNotVerified` or
            :class:`~osc_image_store.sdk.exceptions.ImageDataUnreadable`.
        """
        self.check_store(store, stores)
        if isinstance(image, str):
            image = self.resolve_image(image)
        current = image.store_ids
        if image.status != 'active':
            raise exceptions.ImageNotActive(
                'Image %s is %s; only active images can be removed from a '
                'store.' % (image.id, image.status))
        importing = resources.StoreList.deserialize(
            (image.properties or {}).get('os_glance_importing_to_stores')
            or '')
        if importing:
            raise exceptions.ImageNotActive(
                'Image %s is being copied into store(s) %s (an import is in '
                'progress); removing a copy now could lose its data. Wait '
                'until the import ends.' % (image.id, _store_names(importing)))
        if store not in current:
            if ignore_missing:
                return self._removal(image, store, ABSENT, current)
            raise exceptions.ImageNotInStore(
                'Image %s is not in store %s; it is in: %s.'
                % (image.id, store, _store_names(current)),
                http_status=404)
        remaining = [s for s in current if s != store]
        if not remaining:
            raise exceptions.OnlyStore(
                'Store %s holds the only copy of image %s; refusing to '
                'remove it. To delete the image, use "openstack image '
                'delete".' % (store, image.id))
        if dry_run:
            return self._removal(image, store, WOULD_REMOVE, remaining)

        try:
            self._send_store_delete(image.id, store)
        except _FAILURES as exc:
            return self._after_failed_delete(image, store, exc,
                                             ignore_missing)
        try:
            after = self.get_image(image.id)
        except _FAILURES as exc:
            raise exceptions.RemovalNotVerified(
                'The Images API accepted the removal of image %s from store '
                '%s (HTTP 204), but the image could not be read back (%s); '
                'check it with "openstack image store list --image %s".'
                % (image.id, store, exc, image.id)) from exc

        left = after.store_ids
        if store in left or not left:
            raise exceptions.RemovalNotVerified(
                'The Images API accepted the removal of image %s from store '
                '%s, but the image now lists stores: %s. Its data may be '
                'damaged; check it before doing anything else.'
                % (image.id, store, _store_names(left)), stores=left)
        if verify_data:
            try:
                self.check_image_data(after)
            except exceptions.ImageDataUnreadable as exc:
                exc.stores = left
                exc.args = ('The copy in store %s was removed; %s'
                            % (store, exc),)
                raise
        return self._removal(after, store, REMOVED, left)

    def _send_store_delete(self, image_id: str, store: str) -> None:
        """Send ``DELETE /v2/stores/{store}/{image_id}`` once.

        No retry (keystoneauth would otherwise retry a 503 or a dropped
        connection, and a second DELETE of a copy already gone answers
        404): what happened is read back from the image instead.

        :raises: :class:`openstack.exceptions.HttpException` for any status
            but 204; keystoneauth exceptions for transport failures.
        """
        response = self.delete(
            identifiers.store_image_path(store, image_id),
            headers={'Accept': 'application/json'}, connect_retries=0,
            status_code_retries=0)
        sdk_exc.raise_from_response(response)

    def _after_failed_delete(
        self, image: resources.Image, store: str, error: Exception,
        ignore_missing: bool,
    ) -> Removal:
        """Tell what a store-scoped delete that did not answer 204 did.

        The image is read again: a timeout, a dropped connection or a 5xx
        say nothing of what happened, and even a clear refusal may follow a
        change by someone else.  When the image no longer lists the store
        and still lists another, the removal happened: the result is
        ``removed``, with the error as its reason.

        :returns: a ``removed`` or (with ``ignore_missing``) ``absent``
            :class:`Removal`.
        :raises: the specific
            :class:`~osc_image_store.sdk.exceptions.ImageStoreException`,
            with ``stores`` as read now (None when the read failed too).
        """
        if isinstance(error, sdk_exc.HttpException) and error.status_code:
            failure = self._explain(error, image, store)
            clear = error.status_code < 500
        else:
            failure = exceptions.StoreRemovalFailed(
                'No answer from the Images API to the removal of image %s '
                'from store %s (%s)' % (image.id, store, error))
            clear = False
        try:
            now: list[str] | None = self.get_image(image.id).store_ids
        except _FAILURES:
            now = None
        failure.stores = now
        if now and store not in now:
            if ignore_missing and isinstance(failure,
                                             exceptions.ImageNotInStore):
                return self._removal(image, store, ABSENT, now)
            return Removal(image.id, image.name, store, REMOVED,
                           tuple(sorted(now)),
                           '%s; the image no longer lists store %s, so the '
                           'removal happened.' % (failure, store))
        if now is None and not clear:
            failure.args = ('%s. The removal may or may not have happened: '
                            'the image could not be read back; check it with '
                            '"openstack image store list --image %s".'
                            % (failure, image.id),)
        raise failure from error

    def remove_images_from_store(
        self,
        images: ty.Iterable[str | resources.Image],
        store: str,
        *,
        stores: ty.Sequence[resources.Store] | None = None,
        parallel: int = 1,
        skip_only_copy: bool = False,
        stop: threading.Event | None = None,
        dry_run: bool = False,
        ignore_missing: bool = False,
        verify_data: bool = False,
    ) -> ty.Iterator[Removal]:
        """Remove many images' data from one store; never fail the batch.

        Each image goes through :meth:`resolve_image` (for names and IDs)
        and :meth:`remove_image_from_store`; an error is reported in its
        :class:`Removal` (result ``failed``) and the others go on.  The
        same image (by argument, then by ID) is handled once, so two
        deletes of one image are never in flight at once.  At most
        ``parallel`` images are handled at a time, and at most
        ``2 * parallel`` are read ahead from ``images`` (which may be a
        paginated generator): memory does not grow with the batch.

        :param images: image names, IDs or resources, in output order.
        :param store: a store ID.
        :param stores: the cloud's stores; read once here when not given.
        :param parallel: how many images to handle at once (>= 1).
        :param skip_only_copy: report an image whose only copy is in the
            store as ``skipped`` (not ``failed``).
        :param stop: when set (e.g. from a SIGINT handler), no further
            image is started; those in flight finish and are reported.
        :param dry_run: see :meth:`remove_image_from_store`.
        :param ignore_missing: see :meth:`remove_image_from_store`.
        :param verify_data: see :meth:`remove_image_from_store`.
        :returns: an iterator of :class:`Removal`, in the order of
            ``images``.
        :raises: :class:`~osc_image_store.sdk.exceptions.MultiStoreNotEnabled`,
            :class:`~osc_image_store.sdk.exceptions.StoreNotFound`,
            :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            (for the store) before any image is handled.  An error of
            ``images`` itself (e.g. a listing page that fails) is raised
            after the images already started have been yielded.
        """
        if parallel < 1:
            raise ValueError('parallel must be at least 1')
        if stores is None:
            stores = self.stores()
        self.check_store(store, stores)
        claimed: set[str] = set()
        lock = threading.Lock()

        def stopped() -> bool:
            return stop is not None and stop.is_set()

        def handle(item: str | resources.Image, previous: threading.Event,
                   mine: threading.Event) -> Removal | None:
            # Images are claimed in input order (each waits for the one
            # before it to claim), so that of two arguments naming the same
            # image the first one is handled and the output order holds.
            image = item if isinstance(item, resources.Image) else None
            if stopped():
                mine.set()
                return None
            try:
                try:
                    if image is None:
                        image = self.resolve_image(ty.cast(str, item))
                finally:
                    previous.wait()
                    with lock:
                        duplicate = image is not None and image.id in claimed
                        if image is not None:
                            claimed.add(image.id)
                    mine.set()
                if duplicate or stopped():
                    return None
                return self.remove_image_from_store(
                    image, store, stores=stores, dry_run=dry_run,
                    ignore_missing=ignore_missing, verify_data=verify_data)
            except _FAILURES as exc:
                left = getattr(exc, 'stores', None)
                if image is None:
                    return Removal(None, ty.cast(str, item), store, FAILED,
                                   (), str(exc))
                if left is None:
                    left = image.store_ids
                result = FAILED
                if skip_only_copy and isinstance(exc, exceptions.OnlyStore):
                    result = SKIPPED
                return Removal(image.id, image.name, store, result,
                               tuple(sorted(left)), str(exc))

        def unique() -> ty.Iterator[str | resources.Image]:
            given: set[str] = set()
            for item in images:
                key = item if isinstance(item, str) else item.id
                if key not in given:
                    given.add(key)
                    yield item

        window: collections.deque[futures.Future[Removal | None]] = (
            collections.deque())
        # The pool runs tasks in submission order, so a task never waits
        # for the claim of a task that has not started.
        previous = threading.Event()
        previous.set()
        pool = futures.ThreadPoolExecutor(
            parallel, thread_name_prefix='image-store')
        source, source_error = unique(), None
        try:
            while not stopped():
                try:
                    item = next(source)
                except StopIteration:
                    break
                except _FAILURES as exc:
                    # E.g. a listing page failed: report what was started.
                    source_error = exc
                    break
                mine = threading.Event()
                window.append(pool.submit(handle, item, previous, mine))
                previous = mine
                while len(window) >= 2 * parallel or (
                        window and window[0].done()):
                    done = window.popleft().result()
                    if done is not None:
                        yield done
            while window:
                done = window.popleft().result()
                if done is not None:
                    yield done
            if source_error is not None:
                raise source_error
        finally:
            # On an error or a second Ctrl-C, start nothing more.
            pool.shutdown(wait=True, cancel_futures=True)

    def check_image_data(self, image: resources.Image) -> None:
        """Prove that an image's data can be read from some store.

        Sends ``GET /v2/images/{image_id}/file`` with
        ``Range: bytes=0-0``: 206 (or 200) with data means readable; 204
        (no data) or an error status means damaged.

        :param image: an image resource.
        :raises: :class:`~osc_image_store.sdk.exceptions.ImageDataUnreadable`.
        """
        path = '/images/%s/file' % identifiers.check_image_id(image.id)
        response = self.get(path, headers={'Range': 'bytes=0-0'},
                            stream=True)
        try:
            readable = (response.status_code in (200, 206)
                        and bool(next(response.iter_content(1), b'')))
        finally:
            response.close()
        if not readable:
            raise exceptions.ImageDataUnreadable(
                'Image %s lists stores %s, yet its data cannot be read '
                '(GET /v2/images/%s/file answered %s); the image may be '
                'damaged.' % (image.id, _store_names(image.store_ids),
                              image.id, response.status_code),
                http_status=response.status_code)

    @staticmethod
    def _removal(image: resources.Image, store: str, result: str,
                 remaining: ty.Iterable[str]) -> Removal:
        return Removal(image.id, image.name, store, result,
                       tuple(sorted(remaining)))

    @staticmethod
    def _explain(exc: sdk_exc.HttpException, image: resources.Image,
                 store: str) -> exceptions.ImageStoreException:
        """Map an answer to the store-scoped delete to a specific exception.

        The image was read just before, so most of Glance's refusals can
        only mean a change in between or a policy decision.
        """
        status = exc.status_code
        details = _clean_details(exc.details or '', status)
        cls: type[exceptions.ImageStoreException]
        cls, text = exceptions.StoreRemovalFailed, (
            'The Images API failed to remove image %s from store %s'
            % (image.id, store))
        if status == 403 and 'only store' in details:
            cls, text = exceptions.OnlyStore, (
                'Store %s now holds the only copy of image %s; nothing was '
                'removed' % (store, image.id))
        elif status == 403:
            rule = re.search(r'complete (\w+) action', details)
            text = ('Not authorized to remove image %s from store %s (policy '
                    '"%s", admin-only by default)'
                    % (image.id, store,
                       rule[1] if rule else 'delete_image_location'))
        elif status == 404 and 'not stored in store' in details:
            cls, text = exceptions.ImageNotInStore, (
                'Image %s is no longer in store %s' % (image.id, store))
        elif status == 404:
            cls, text = exceptions.ImageNotFound, (
                'Image %s was not found when removing it from store %s '
                '(deleted meanwhile, or not visible to you)'
                % (image.id, store))
        elif status == 409 and 'not available on this node' in details:
            text = ('Store %s is not enabled on the Images API node that '
                    'answered' % store)
        elif status == 409 and "status is not 'active'" in details:
            cls, text = exceptions.ImageNotActive, (
                'Image %s is no longer active' % image.id)
        elif status == 409:
            text = ('Store %s refused to remove the data of image %s because '
                    'it is in use' % (store, image.id))
        return cls('%s (HTTP %s: %s)' % (text, status, details or '-'),
                   http_status=status)
