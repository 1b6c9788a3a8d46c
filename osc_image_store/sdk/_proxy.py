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
"""openstacksdk's Images API v2 proxy, with the calls of a store removal.

Typed store listings, exact image reads and listings, the store-scoped
delete of an image's data (checked, percent-encoded segments; sent once),
a one-byte data read, and the tags of a metadata definitions namespace.
"""

import dataclasses
import typing as ty

from openstack import exceptions as sdk_exceptions
from openstack.image.v2 import _proxy
from openstack.image.v2 import image as _image
from openstack.image.v2 import service_info as _service_info
import requests

from osc_image_store.sdk import exceptions
from osc_image_store.sdk import identifiers
from osc_image_store.sdk import image as image_
from osc_image_store.sdk import metadef_tag as metadef_tag_
from osc_image_store.sdk import service_info

#: Longest ``id=in:`` list sent in one listing (keeps URLs short).
MAX_IDS_PER_LISTING = 50


@dataclasses.dataclass(frozen=True)
class FirstByte:
    """What a one-byte read of an image's data (``GET .../file``) got."""

    #: The HTTP status code of the answer.
    status_code: int
    #: Whether a 200 or 206 answer carried at least one byte of data.
    has_byte: bool


class Proxy(_proxy.Proxy):
    """openstacksdk's Images API v2 proxy plus store-scoped data removal."""

    # ====== Stores ======

    def stores(  # type: ignore[override]
        self,
        details: bool = False,
        **query: ty.Any,
    ) -> list[service_info.Store]:
        """List the cloud's stores.

        Sends ``GET /v2/info/stores`` (any user), or
        ``GET /v2/info/stores/detail`` (admin by default).

        :param details: When set to ``True``, read the detail listing,
            which adds ``type``, ``weight`` and ``properties``.
        :param query: Optional query parameters to be sent.

        :returns: A list of :class:`~osc_image_store.sdk.service_info.Store`
        :raises: :class:`~osc_image_store.sdk.exceptions.MultiStoreNotEnabled`
            when the Images API answers 404 (multi-store is off);
            :class:`~openstack.exceptions.ForbiddenException` on 403 (the
            detail listing, by policy).
        """
        base_path = service_info.Store.base_path + (
            '/detail' if details else '')
        try:
            return list(self._list(
                service_info.Store, base_path=base_path, **query))
        except sdk_exceptions.NotFoundException as exc:
            raise exceptions.MultiStoreNotEnabled(
                'Multi-store is not enabled on this cloud: the Images API '
                'answered 404 to GET /v2/info/stores.',
                http_status=exc.status_code) from exc

    def find_store(
        self,
        store: str,
        stores: ty.Sequence[service_info.Store] | None = None,
    ) -> service_info.Store:
        """Find the store with that ID.

        :param store: A store ID.
        :param stores: The cloud's stores, when already read; when
            ``None``, they are read with :meth:`stores`.

        :returns: One :class:`~osc_image_store.sdk.service_info.Store`
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request when the store ID is not one Glance can
            have.
        :raises: :class:`~osc_image_store.sdk.exceptions.StoreNotFound`
            when no store has that ID.
        :raises: :class:`~osc_image_store.sdk.exceptions.MultiStoreNotEnabled`
            when ``GET /v2/info/stores`` answers 404.
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

    def get_image(self, image: str | _image.Image) -> image_.Image:
        """Get a single image, with the stores holding its data.

        Sends ``GET /v2/images/{image_id}``.

        :param image: The value can be the ID of an image or a
            :class:`~openstack.image.v2.image.Image` instance.

        :returns: One :class:`~osc_image_store.sdk.image.Image`
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request when the image ID is not a UUID.
        :raises: :class:`~openstack.exceptions.NotFoundException` on 404.
        """
        return self._get(image_.Image, _image_id(image))

    def images_by_id(
        self,
        image_ids: ty.Sequence[str],
    ) -> dict[str, image_.Image]:
        """Read many images at once.

        Sends ``GET /v2/images?id=in:<id>,...`` once per
        :data:`MAX_IDS_PER_LISTING` IDs, and again with ``os_hidden=true``
        only for the IDs the first did not return (Glance leaves hidden
        images out of a plain listing).

        :param image_ids: Image IDs (UUIDs).

        :returns: ``{image_id: image}`` of the images found, each an
            :class:`~osc_image_store.sdk.image.Image`; an image that does
            not exist or is not visible is left out.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request when an ID is not a UUID.
        :raises: :class:`~openstack.exceptions.HttpException` when a
            listing answers an error.
        """
        wanted = [identifiers.check_image_id(i) for i in image_ids]
        found: dict[str, image_.Image] = {}
        for start in range(0, len(wanted), MAX_IDS_PER_LISTING):
            part = wanted[start:start + MAX_IDS_PER_LISTING]
            for hidden in (False, True):
                missing = [i for i in part if i not in found]
                if not missing:
                    break
                for image in self._list(
                        image_.Image, paginated=False, is_hidden=hidden,
                        id='in:' + ','.join(missing), limit=len(missing)):
                    found[image.id] = image
        return found

    def find_images_by_name(self, name: str) -> list[image_.Image]:
        """Find the images whose name is exactly ``name``.

        Sends ``GET /v2/images?name=eq:<name>`` (the ``eq:`` operator makes
        Glance compare the whole value, so names such as ``in:a,b`` or
        ``neq:"x"`` are not read as operators), and again with
        ``os_hidden=true`` when no visible image has the name.

        :param name: An image name (only ever sent in the query string).

        :returns: A list of :class:`~osc_image_store.sdk.image.Image`,
            possibly empty.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request when the name is empty, too long or holds
            control characters.
        :raises: :class:`~openstack.exceptions.HttpException` when a
            listing answers an error.
        """
        identifiers.check_image_name_or_id(name)
        matches: list[image_.Image] = []
        for hidden in (False, True):
            if not matches:
                matches = [image for image in self._list(
                    image_.Image, name='eq:' + name, is_hidden=hidden)
                    if image.name == name]
        return matches

    def resolve_image(self, name_or_id: str) -> image_.Image:
        """Find the one image with that ID or name.

        A UUID is read with ``GET /v2/images/{image_id}``; anything else
        (or a UUID that answers 404) goes to :meth:`find_images_by_name`.

        :param name_or_id: An image name or ID.

        :returns: One :class:`~osc_image_store.sdk.image.Image`
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request when the value cannot be a name or ID.
        :raises: :class:`~osc_image_store.sdk.exceptions.ImageNotFound`
            when no image has that ID or name.
        :raises: :class:`~osc_image_store.sdk.exceptions.AmbiguousImage`
            when several images have that name (with their IDs).
        """
        identifiers.check_image_name_or_id(name_or_id)
        if identifiers.is_uuid(name_or_id):
            try:
                return self.get_image(name_or_id)
            except sdk_exceptions.NotFoundException:
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
        self,
        store: str,
        *,
        owner: str | None = None,
        page_size: int = 200,
    ) -> ty.Iterator[image_.Image]:
        """Iterate over every image visible to the caller in a store.

        Streams the pages of :meth:`all_images`, filtered here on
        ``stores`` (Glance has no store filter; a listing does not tag
        locations that lack a store ID, only a single-image read does).
        Memory does not grow with the number of images.

        :param store: A store ID.
        :param owner: Only images of this project ID.
        :param page_size: Images per page.

        :returns: A generator of :class:`~osc_image_store.sdk.image.Image`
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request when the store ID is not one Glance can
            have.
        :raises: :class:`~openstack.exceptions.HttpException` when a page
            answers an error.
        """
        identifiers.check_store_id(store)
        for image in self.all_images(owner=owner, page_size=page_size):
            if store in image.store_ids:
                yield image

    def all_images(
        self,
        *,
        owner: str | None = None,
        page_size: int = 200,
    ) -> ty.Iterator[image_.Image]:
        """Iterate over every image visible to the caller, hidden included.

        Streams the pages of ``GET /v2/images?limit=...``, then the same
        with ``os_hidden=true``.

        :param owner: Only images of this project ID.
        :param page_size: Images per page.

        :returns: A generator of :class:`~osc_image_store.sdk.image.Image`
        :raises: :class:`~openstack.exceptions.HttpException` when a page
            answers an error.
        """
        scope: dict[str, ty.Any] = {'owner': owner} if owner else {}
        for hidden in (False, True):
            yield from self._list(image_.Image, is_hidden=hidden,
                                  limit=page_size, **scope)

    def delete_image(
        self,
        image: str | _image.Image,
        *,
        store: str | _service_info.Store | None = None,
        ignore_missing: bool = True,
    ) -> None:
        """Delete an image, or only its data in one store.

        With a store, sends ``DELETE /v2/stores/{store_id}/{image_id}``
        once, each segment checked and percent-encoded (see
        :meth:`osc_image_store.sdk.service_info.Store.delete_image`);
        without one, ``DELETE /v2/images/{image_id}`` as openstacksdk does.

        :param image: The value can be either the ID of an image or a
            :class:`~openstack.image.v2.image.Image` instance.
        :param store: The value can be either the ID of a store or a
            :class:`~openstack.image.v2.service_info.Store` instance. If
            specified, the image data is deleted from this store only.
        :param ignore_missing: When set to ``False``
            :class:`~openstack.exceptions.NotFoundException` will be
            raised when the image does not exist (or, with a store, is not
            in that store). When set to ``True``, no exception will be set
            when attempting to delete a nonexistent image.

        :returns: ``None``
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request when the store ID or the image ID cannot be
            sent as a path segment (an empty store ID included).
        :raises: :class:`~openstack.exceptions.HttpException` for any
            other answer than 204 (and 404 when ignored).
        """
        if store is None:
            super().delete_image(image, ignore_missing=ignore_missing)
            return
        target = service_info.Store.new(id=identifiers.store_id_of(store))
        target.delete_image(self, image, ignore_missing=ignore_missing)

    def read_first_byte(self, image: str | _image.Image) -> FirstByte:
        """Read one byte of an image's data.

        Sends ``GET /v2/images/{image_id}/file`` with ``Range: bytes=0-0``:
        206 (or 200) with data when a copy can be read, 204 without data,
        416 for an intact 0-byte image.  When that answers 400 (a store
        that cannot read a range, such as ``http``), sends a plain
        download and closes it after the first byte.

        :param image: The value can be the ID of an image or a
            :class:`~openstack.image.v2.image.Image` instance.

        :returns: One :class:`FirstByte`: the status code, and whether a
            200 or 206 answer carried a byte.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request when the image ID is not a UUID.
        :raises: :class:`keystoneauth1.exceptions.ClientException`
            subclasses for transport failures; no status code raises.
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
            has_byte = status in (200, 206) and bool(
                next(response.iter_content(1), b''))
            return FirstByte(status, has_byte)
        finally:
            response.close()

    # ====== Metadata definitions tags ======

    def create_metadef_tag(
        self,
        namespace: str,
        name: str,
    ) -> metadef_tag_.MetadefTag:
        """Create one tag.

        Sends ``POST /v2/metadefs/namespaces/{namespace}/tags/{name}``
        once (no retry).  Atomic: tags are unique per namespace, so of two
        clients creating one name, one gets 201 and the other 409, on any
        API worker.

        :param namespace: The namespace name.
        :param name: The tag name.

        :returns: One :class:`~osc_image_store.sdk.metadef_tag.MetadefTag`
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request when a name is empty or a dot segment.
        :raises: :class:`~openstack.exceptions.ConflictException` on 409
            (the tag exists).
        :raises: :class:`~openstack.exceptions.NotFoundException` on 404
            (no such namespace, or a private one of another project).
        :raises: :class:`~openstack.exceptions.HttpException` on any other
            error.
        """
        response = self.post(_tag_path(namespace, name),
                             headers={'Accept': 'application/json'},
                             **service_info.SEND_ONCE)
        sdk_exceptions.raise_from_response(response)
        return metadef_tag_.MetadefTag.existing(
            namespace_name=namespace, **_json(response, {'name': name}))

    def append_metadef_tags(
        self,
        namespace: str,
        names: ty.Sequence[str],
    ) -> list[metadef_tag_.MetadefTag]:
        """Create many tags in one transaction, or none.

        Sends ``POST /v2/metadefs/namespaces/{namespace}/tags`` once, with
        ``X-Openstack-Append: True`` (without that header Glance would
        replace every tag of the namespace) and
        ``{"tags": [{"name": ...}, ...]}``.

        :param namespace: The namespace name.
        :param names: The tag names.

        :returns: A list of the tags created, each a
            :class:`~osc_image_store.sdk.metadef_tag.MetadefTag`
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request when the namespace name is empty or a dot
            segment.
        :raises: :class:`~openstack.exceptions.ConflictException` on 409
            (one of them exists; none was created).
        :raises: :class:`~openstack.exceptions.NotFoundException` on 404.
        :raises: :class:`~openstack.exceptions.HttpException` on any other
            error.
        """
        response = self.post(
            '/metadefs/namespaces/%s/tags' % identifiers.path_segment(
                namespace),
            json={'tags': [{'name': name} for name in names]},
            headers={'Accept': 'application/json',
                     'X-Openstack-Append': 'True'},
            **service_info.SEND_ONCE)
        sdk_exceptions.raise_from_response(response)
        body = _json(response, {'tags': [{'name': n} for n in names]})
        return [metadef_tag_.MetadefTag.existing(
            namespace_name=namespace, **tag) for tag in body.get('tags') or []]

    def metadef_tags(self, namespace: str) -> list[metadef_tag_.MetadefTag]:
        """List the tags of a namespace.

        Sends ``GET /v2/metadefs/namespaces/{namespace}/tags``.

        :param namespace: The namespace name.

        :returns: A list of
            :class:`~osc_image_store.sdk.metadef_tag.MetadefTag`, names
            only (Glance's listing leaves the times out).
        :raises: :class:`~openstack.exceptions.NotFoundException` on 404
            (no such namespace, or not visible).
        :raises: :class:`~openstack.exceptions.HttpException` on any other
            error.
        """
        return list(self._list(metadef_tag_.MetadefTag, paginated=False,
                               namespace_name=namespace))

    def get_metadef_tag(
        self,
        namespace: str,
        name: str,
    ) -> metadef_tag_.MetadefTag:
        """Get one tag, with its ``created_at`` (the listing has none).

        Sends ``GET /v2/metadefs/namespaces/{namespace}/tags/{name}``.

        :param namespace: The namespace name.
        :param name: The tag name.

        :returns: One :class:`~osc_image_store.sdk.metadef_tag.MetadefTag`
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request when a name is empty or a dot segment.
        :raises: :class:`~openstack.exceptions.NotFoundException` on 404
            (no such tag or namespace).
        :raises: :class:`~openstack.exceptions.HttpException` on any other
            error.
        """
        return self._get(metadef_tag_.MetadefTag,
                         identifiers.path_segment(name),
                         namespace_name=identifiers.path_segment(namespace))

    def delete_metadef_tag(
        self,
        namespace: str,
        name: str,
        ignore_missing: bool = True,
    ) -> None:
        """Delete one tag.

        Sends ``DELETE /v2/metadefs/namespaces/{namespace}/tags/{name}``
        once: after a timeout or a 5xx the caller cannot know whether it
        happened, and must not send it again (the name may belong to
        someone else by then).

        :param namespace: The namespace name.
        :param name: The tag name.
        :param ignore_missing: When set to ``False``
            :class:`~openstack.exceptions.NotFoundException` will be
            raised when the tag does not exist. When set to ``True``, no
            exception will be set when attempting to delete a nonexistent
            tag.

        :returns: ``None``
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request when a name is empty or a dot segment.
        :raises: :class:`~openstack.exceptions.ForbiddenException` on 403
            (a protected namespace, or policy).
        :raises: :class:`~openstack.exceptions.HttpException` on any other
            error.
        """
        response = self.delete(_tag_path(namespace, name),
                               headers={'Accept': 'application/json'},
                               **service_info.SEND_ONCE)
        if ignore_missing and response.status_code == 404:
            return
        sdk_exceptions.raise_from_response(response)


def _tag_path(namespace: str, name: str) -> str:
    return '/metadefs/namespaces/%s/tags/%s' % (
        identifiers.path_segment(namespace), identifiers.path_segment(name))


def _json(response: requests.Response,
          default: dict[str, ty.Any]) -> dict[str, ty.Any]:
    """The JSON body of an answer, or ``default`` when it has none."""
    try:
        body = response.json()
    except ValueError:
        return default
    return body if isinstance(body, dict) else default


def _image_id(image: str | _image.Image) -> str:
    """The checked ID of an image given by ID or resource."""
    return identifiers.check_image_id(
        image if isinstance(image, str) else image.id)
