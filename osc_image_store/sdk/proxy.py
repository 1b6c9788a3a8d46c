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
"""openstacksdk's Images API v2 proxy plus the calls of a store removal.

Stores, exact image reads and listings, the copy-image import, a one-byte
data read, ``DELETE /v2/stores/{store}/{image}`` sent once, and the
metadata definitions tags that lock images.  :meth:`Proxy.request` is the
single place every request goes through; it refuses, before the wire,
any ``PATCH`` or ``PUT`` (nothing here writes to an image), and any
``DELETE`` or ``POST`` but those listed in its docstring: no request
made through this proxy can delete an image, a namespace, or a tag of
another namespace.
"""

import re
import typing as ty
from urllib import parse

from openstack import exceptions as sdk_exc
from openstack.image.v2 import _proxy
import requests

from osc_image_store.sdk import exceptions
from osc_image_store.sdk import identifiers
from osc_image_store.sdk import resources

if ty.TYPE_CHECKING:
    from openstack import connection

_UUID = (r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
         r'[0-9a-fA-F]{12}')
#: The metadata definitions namespace whose tags lock images: one tag
#: named by the image ID per locked image (private, unprotected).
LOCK_NAMESPACE = 'osc-image-store-locks'
_TAGS = '/metadefs/namespaces/%s/tags' % LOCK_NAMESPACE
#: The DELETEs this proxy sends, relative to the image endpoint: a store's
#: copy of an image (a store ID as identifiers.check_store_id allows, no
#: dot segment), and one lock tag named by an image ID.
_DELETE_PATHS = (
    re.compile(r'/stores/(?!\.+/)[A-Za-z0-9_.-]+/' + _UUID),
    re.compile(re.escape(_TAGS) + '/' + _UUID),
)
#: The POSTs this proxy sends: a copy-image import, a namespace, one lock
#: tag, and many lock tags appended (only with ``X-Openstack-Append:
#: True``: without it Glance replaces every tag of the namespace).
_POST_PATHS = (
    re.compile(r'/images/' + _UUID + '/import'),
    re.compile(r'/metadefs/namespaces'),
    re.compile(re.escape(_TAGS) + '/' + _UUID),
)
_APPEND_PATH = re.compile(re.escape(_TAGS))
#: Request arguments that would send a DELETE somewhere else.
_ENDPOINT_ARGUMENTS = {'endpoint_override', 'endpoint_filter', 'base_url',
                       'interface', 'service_type', 'version',
                       'min_version', 'max_version', 'allow'}
#: Request arguments of a write sent at most once: keystoneauth would
#: otherwise send it again after a dropped connection or a 503, when the
#: first may have been carried out (a tag DELETE sent twice can delete the
#: lock another run made in between).
_ONCE: dict[str, ty.Any] = {'connect_retries': 0, 'status_code_retries': 0,
                            'retriable_status_codes': []}
#: Longest ``id=in:`` list sent in one listing (keeps URLs short).
MAX_IDS_PER_LISTING = 50


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
        # Resolve the endpoint as openstacksdk's image proxy does, once:
        # each request then skips the catalog and version lookup.
        endpoint = conn.image.get_endpoint()
        proxy = conn.config.get_session_client('image', constructor=cls)
        proxy._connection = conn
        proxy.endpoint_override = endpoint
        # A read that gets 503 is retried once, not for half a minute
        # (the store DELETE is never retried).
        proxy.status_code_retries = min(proxy.status_code_retries or 0, 1)
        return proxy

    def request(
        self, url: str, method: str, *args: ty.Any, **kwargs: ty.Any,
    ) -> requests.Response:
        """Send a request; refuse, before the wire, any that could harm.

        Allowed besides ``GET`` and ``HEAD``: ``DELETE`` of
        ``/v2/stores/{store_id}/{image_id}`` and of
        ``/v2/metadefs/namespaces/osc-image-store-locks/tags/{image_id}``;
        ``POST`` of ``/v2/images/{image_id}/import``,
        ``/v2/metadefs/namespaces``, a tag of that namespace named by an
        image ID, and its ``tags`` with ``X-Openstack-Append: True``.
        Never ``PATCH`` or ``PUT``: no request writes to an image (a save
        writes back the location list it read, which can bring back a
        removed copy).

        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            for any other request; nothing is sent.
        """
        verb = method.upper()
        if verb not in ('GET', 'HEAD') and not _allowed(verb, url, kwargs):
            raise exceptions.InvalidIdentifier(
                'Refusing %s %s: this proxy only removes image data from '
                'one store (and locks images with tags of namespace %s).'
                % (verb, url, LOCK_NAMESPACE))
        return super().request(url, method, *args, **kwargs)

    # ====== Stores ======

    def stores(  # type: ignore[override]
        self, details: bool = False, **query: ty.Any,
    ) -> list[resources.Store]:
        """List the cloud's stores (``GET /v2/info/stores[/detail]``).

        :param details: read ``/detail`` (adds ``type``, ``weight`` and
            ``properties``; admin only by default).
        :returns: :class:`~osc_image_store.sdk.resources.Store` list.
        :raises: :class:`~osc_image_store.sdk.exceptions.MultiStoreNotEnabled`
            on 404; ``openstack.exceptions.ForbiddenException`` (detail).
        """
        base_path = resources.Store.base_path + ('/detail' if details else '')
        try:
            return list(self._list(
                resources.Store, base_path=base_path, **query))
        except sdk_exc.NotFoundException as exc:
            raise exceptions.MultiStoreNotEnabled(
                'Multi-store is not enabled on this cloud: the Images API '
                'answered 404 to GET /v2/info/stores.',
                http_status=exc.status_code) from exc

    def find_store(
        self, store: str, stores: ty.Sequence[resources.Store] | None = None,
    ) -> resources.Store:
        """The store with that ID.

        :param store: a store ID; ``stores``: the cloud's stores, when
            already read (else ``GET /v2/info/stores``).
        :returns: :class:`~osc_image_store.sdk.resources.Store`.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`,
            :class:`~osc_image_store.sdk.exceptions.StoreNotFound`,
            :class:`~osc_image_store.sdk.exceptions.MultiStoreNotEnabled`.
        """
        identifiers.check_store_id(store)
        stores = stores if stores is not None else self.stores()
        for candidate in stores:
            if candidate.id == store:
                return candidate
        available = sorted(s.id for s in stores)
        raise exceptions.StoreNotFound(
            'Store %s does not exist on this cloud; its stores are: %s.'
            % (store, ', '.join(available) or '(none)'), available)

    # ====== Images ======

    def get_image(self, image: str | resources.Image) -> resources.Image:  # type: ignore[override]  # noqa: E501
        """Read an image (``GET /v2/images/{image_id}``), with its stores.

        :param image: an image ID (UUID) or an image resource.
        :returns: :class:`~osc_image_store.sdk.resources.Image`.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            for an ID that is not a UUID (nothing is sent);
            :class:`openstack.exceptions.NotFoundException` on 404.
        """
        image_id = _image_id(image)
        return self._get(resources.Image, image_id)

    def images_by_id(
        self, image_ids: ty.Sequence[str],
    ) -> dict[str, resources.Image]:
        """Read many images at once (``GET /v2/images?id=in:<id>,...``).

        One request per :data:`MAX_IDS_PER_LISTING` IDs; a second one with
        ``os_hidden=true`` only for IDs the first did not return (Glance
        leaves hidden images out of a plain listing).

        :param image_ids: image IDs (UUIDs).
        :returns: ``{image_id: Image}`` of the images found (visible).
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request; openstacksdk exceptions on errors.
        """
        wanted = [identifiers.check_image_id(i) for i in image_ids]
        found: dict[str, resources.Image] = {}
        for start in range(0, len(wanted), MAX_IDS_PER_LISTING):
            part = wanted[start:start + MAX_IDS_PER_LISTING]
            for hidden in (False, True):
                missing = [i for i in part if i not in found]
                if not missing:
                    break
                for image in self._list(
                        resources.Image, paginated=False, is_hidden=hidden,
                        id='in:' + ','.join(missing), limit=len(missing)):
                    found[image.id] = image
        return found

    def find_images_by_name(self, name: str) -> list[resources.Image]:
        """The images whose name is exactly ``name``.

        Sends ``GET /v2/images?name=eq:<name>`` (the ``eq:`` operator makes
        Glance compare the whole value, so names such as ``in:a,b`` or
        ``neq:"x"`` are not read as operators), and again with
        ``os_hidden=true`` when no visible image has the name.

        :param name: an image name (never put in a path).
        :returns: the matching images (possibly empty).
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`.
        """
        identifiers.check_image_name_or_id(name)
        matches: list[resources.Image] = []
        for hidden in (False, True):
            if not matches:
                matches = [image for image in self._list(
                    resources.Image, name='eq:' + name, is_hidden=hidden)
                    if image.name == name]
        return matches

    def resolve_image(self, name_or_id: str) -> resources.Image:
        """Find the one image with that ID or name.

        A UUID is read with ``GET /v2/images/{id}``; anything else (or an
        unknown UUID) goes to :meth:`find_images_by_name`.

        :param name_or_id: an image name or ID.
        :returns: :class:`~osc_image_store.sdk.resources.Image`.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`,
            ``ImageNotFound``, ``AmbiguousImage`` (with the matching IDs).
        """
        identifiers.check_image_name_or_id(name_or_id)
        if identifiers.is_uuid(name_or_id):
            try:
                return self.get_image(name_or_id)
            except sdk_exc.NotFoundException:
                pass
        matches = self.find_images_by_name(name_or_id)
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
        """Every image visible to the caller that lists a store.

        Streams the pages of ``GET /v2/images?limit=...``, for ordinary and
        hidden images (``os_hidden``), filtered here on ``stores`` (Glance
        has no store filter; a listing does not tag locations that lack a
        store ID, only a single-image read does).  Memory does not grow.

        :param store: a store ID; ``owner``: only images of this project
            ID; ``page_size``: images per page.
        :returns: an iterator of :class:`~osc_image_store.sdk.resources.Image`.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`.
        """
        identifiers.check_store_id(store)
        for image in self.all_images(owner=owner, page_size=page_size):
            if store in image.store_ids:
                yield image

    def all_images(
        self, *, owner: str | None = None, page_size: int = 200,
    ) -> ty.Iterator[resources.Image]:
        """Every image visible to the caller, hidden ones included.

        Streams ``GET /v2/images?limit=...`` pages, then the same with
        ``os_hidden=true``.

        :param owner: only images of this project ID.
        :param page_size: images per page.
        :returns: an iterator of :class:`~osc_image_store.sdk.resources.Image`.
        """
        scope: dict[str, ty.Any] = {'owner': owner} if owner else {}
        for hidden in (False, True):
            yield from self._list(resources.Image, is_hidden=hidden,
                                  limit=page_size, **scope)

    def copy_image_to_stores(
        self, image: str | resources.Image, stores: ty.Sequence[str],
    ) -> None:
        """Start a ``copy-image`` import into stores.

        ``POST /v2/images/{id}/import`` with method ``copy-image`` (admin
        only by default).  Glance takes the import lock before it answers
        202; the copy runs later through the staging store, and a staging
        quota refusal shows only in ``os_glance_failed_import``.

        :param image: an image ID or resource.
        :param stores: target store IDs.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`;
            ``HttpException`` subclasses: 400 (already in a target store,
            or a bad request), 403 (policy), 409 (another import holds the
            lock, or the image is not active).
        """
        image_id = _image_id(image)
        body = {'method': {'name': 'copy-image'},
                'stores': [identifiers.check_store_id(s) for s in stores]}
        response = self.post('/images/%s/import' % image_id, json=body,
                             headers={'Accept': 'application/json'})
        sdk_exc.raise_from_response(response)

    # ====== Metadata definitions tags ======

    def create_metadef_tag(
        self, namespace: str, name: str,
    ) -> resources.MetadefTag:
        """Create one tag (``POST /v2/metadefs/namespaces/{ns}/tags/{name}``).

        Atomic: tags are unique per namespace, so of two clients creating
        one name, one gets 201 and the other 409, on any API worker.  Sent
        once (no retry).

        :param namespace: the namespace name; ``name``: the tag name.
        :returns: :class:`~osc_image_store.sdk.resources.MetadefTag`.
        :raises: ``openstack.exceptions.ConflictException`` (409: it
            exists), ``NotFoundException`` (404: no such namespace, or a
            private one and the caller is not admin), ``HttpException``.
        """
        response = self.post(_tag_path(namespace, name),
                             headers={'Accept': 'application/json'},
                             **_ONCE)
        sdk_exc.raise_from_response(response)
        return resources.MetadefTag.existing(
            namespace_name=namespace, **_json(response, {'name': name}))

    def append_metadef_tags(
        self, namespace: str, names: ty.Sequence[str],
    ) -> list[resources.MetadefTag]:
        """Create many tags in one transaction, or none.

        ``POST /v2/metadefs/namespaces/{ns}/tags`` with ``X-Openstack-Append:
        True`` (without that header Glance would replace every tag of the
        namespace) and ``{"tags": [{"name": ...}, ...]}``.  Sent once.

        :param namespace: the namespace name; ``names``: tag names.
        :returns: the tags created (:class:`~osc_image_store.sdk.resources.
            MetadefTag`).
        :raises: ``openstack.exceptions.ConflictException`` (409: one of
            them exists; none was created), ``NotFoundException`` (404),
            ``HttpException``.
        """
        response = self.post(
            '/metadefs/namespaces/%s/tags' % _segment(namespace),
            json={'tags': [{'name': name} for name in names]},
            headers={'Accept': 'application/json',
                     'X-Openstack-Append': 'True'}, **_ONCE)
        sdk_exc.raise_from_response(response)
        body = _json(response, {'tags': [{'name': n} for n in names]})
        return [resources.MetadefTag.existing(namespace_name=namespace, **tag)
                for tag in body.get('tags') or []]

    def metadef_tags(self, namespace: str) -> list[resources.MetadefTag]:
        """The tags of a namespace (``GET /v2/metadefs/namespaces/{ns}/tags``).

        :param namespace: the namespace name.
        :returns: :class:`~osc_image_store.sdk.resources.MetadefTag` list
            (names only: Glance's listing leaves the times out).
        :raises: ``openstack.exceptions.NotFoundException`` (404: no such
            namespace, or not visible), ``HttpException``.
        """
        return list(self._list(resources.MetadefTag, paginated=False,
                               namespace_name=namespace))

    def get_metadef_tag(
        self, namespace: str, name: str,
    ) -> resources.MetadefTag:
        """Read one tag (``GET /v2/metadefs/namespaces/{ns}/tags/{name}``).

        Unlike the listing, this answer has ``created_at``.

        :param namespace: the namespace name; ``name``: the tag name.
        :returns: :class:`~osc_image_store.sdk.resources.MetadefTag`.
        :raises: ``openstack.exceptions.NotFoundException`` (404: no such
            tag or namespace), ``HttpException``.
        """
        return self._get(resources.MetadefTag, _segment(name),
                         namespace_name=_segment(namespace))

    def delete_metadef_tag(
        self, namespace: str, name: str, ignore_missing: bool = True,
    ) -> None:
        """Delete a tag (``DELETE /v2/metadefs/namespaces/{ns}/tags/{name}``).

        Sent once: after a timeout or a 5xx the caller cannot know whether
        it happened, and must not send it again (the name may belong to
        someone else by then).

        :param namespace: the namespace name; ``name``: the tag name.
        :param ignore_missing: a 404 (no such tag) is not an error.
        :raises: ``openstack.exceptions.NotFoundException`` (404, unless
            ignored), ``ForbiddenException`` (403: a protected namespace,
            or policy), ``HttpException``.
        """
        response = self.delete(_tag_path(namespace, name),
                               headers={'Accept': 'application/json'},
                               **_ONCE)
        if ignore_missing and response.status_code == 404:
            return
        sdk_exc.raise_from_response(response)

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
    ) -> None:
        """Send ``DELETE /v2/stores/{store}/{image_id}`` once.

        Each segment is checked and percent-encoded.  No retry: keystoneauth
        would otherwise resend it after a 503, a dropped connection or a
        401 (re-authenticating), and a second DELETE of a copy already gone
        answers 404 or 403, so the caller must read the image to learn what
        happened after any error.

        :param image: an image ID (UUID) or image resource.
        :param store: a store ID.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request; ``openstack.exceptions.HttpException`` for
            any status but 204; keystoneauth exceptions for timeouts and
            connection failures.
        """
        image_id = _image_id(image)
        response = self.delete(
            identifiers.store_image_path(store, image_id),
            headers={'Accept': 'application/json'}, allow_reauth=False,
            **_ONCE)
        sdk_exc.raise_from_response(response)

    def read_first_byte(self, image: str | resources.Image) -> int:
        """Read one byte of an image's data.

        ``GET /v2/images/{image_id}/file`` with ``Range: bytes=0-0``: 206
        (or 200) with data when a copy can be read, 204 without data, 416
        for an intact 0-byte image; 400 when the store cannot read a range
        (``http``): then a plain download, closed after the first byte.

        :param image: an image ID or resource.
        :returns: the HTTP status code, or 0 when a 200/206 answer carried
            no byte.
        :raises: keystoneauth exceptions for transport failures.
        """
        image_id = _image_id(image)
        response = self.get('/images/%s/file' % image_id,
                            headers={'Range': 'bytes=0-0'}, stream=True,
                            raise_exc=False)
        if response.status_code == 400:
            response.close()
            response = self.get('/images/%s/file' % image_id, stream=True,
                                raise_exc=False)
        try:
            status = response.status_code
            if status in (200, 206) and not next(
                    response.iter_content(1), b''):
                return 0
            return status
        finally:
            response.close()


def _allowed(verb: str, url: str, kwargs: dict[str, ty.Any]) -> bool:
    """Whether :meth:`Proxy.request` may send this ``DELETE`` or ``POST``."""
    if set(kwargs) & _ENDPOINT_ARGUMENTS:
        return False  # it could go to another endpoint
    path = url if url.startswith('/') else '/' + url
    if verb == 'DELETE':
        return any(p.fullmatch(path) for p in _DELETE_PATHS)
    if verb != 'POST':
        return False
    if _APPEND_PATH.fullmatch(path):
        headers = {k.lower(): v for k, v in
                   (kwargs.get('headers') or {}).items()}
        return str(headers.get('x-openstack-append')).lower() == 'true'
    return any(p.fullmatch(path) for p in _POST_PATHS)


def _segment(value: str) -> str:
    """One path segment, percent-encoded (a name never adds a segment)."""
    if not value or set(value) == {'.'}:
        raise exceptions.InvalidIdentifier(
            'Invalid path segment %s.' % ascii(value))
    return parse.quote(value, safe='')


def _tag_path(namespace: str, name: str) -> str:
    return '/metadefs/namespaces/%s/tags/%s' % (
        _segment(namespace), _segment(name))


def _json(response: requests.Response,
          default: dict[str, ty.Any]) -> dict[str, ty.Any]:
    """The JSON body of an answer, or ``default`` when it has none."""
    try:
        body = response.json()
    except ValueError:
        return default
    return body if isinstance(body, dict) else default


def _image_id(image: str | resources.Image) -> str:
    """The checked ID of an image given by ID or resource."""
    return identifiers.check_image_id(
        image if isinstance(image, str) else image.id)
