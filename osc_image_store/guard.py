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
"""The plugin's policy around the image proxy: what may leave it.

:class:`GuardedProxy` is the proxy the CLI and the engine use.  On top of
:class:`osc_image_store.sdk._proxy.Proxy` it:

* is built from a connection without changing the ``Connection`` class
  (:meth:`GuardedProxy.from_connection`), with a read that gets 503 sent
  again once, not for half a minute;
* refuses, before the wire, any ``PATCH`` or ``PUT`` (nothing here writes
  to an image), and any ``DELETE`` or ``POST`` but those listed in
  :meth:`GuardedProxy.request`: no request made through it can delete an
  image, a namespace, or a tag of another namespace than
  :data:`LOCK_NAMESPACE`;
* refuses whole-image deletes (:meth:`GuardedProxy.delete_image` without a
  store) and imports into a store ID that
  :mod:`osc_image_store.sdk.identifiers` refuses;
* builds resources with openstacksdk's attribute maps computed once per
  class (:mod:`osc_image_store.resource_cache`).
"""

import re
import typing as ty

import requests

from osc_image_store import resource_cache
from osc_image_store.sdk import _proxy
from osc_image_store.sdk import exceptions
from osc_image_store.sdk import identifiers

if ty.TYPE_CHECKING:
    from openstack import connection
    from openstack.image.v2 import image as _image
    from openstack.image.v2 import service_info as _service_info

#: The metadata definitions namespace whose tags lock images: one tag
#: named by the image ID per locked image (private, unprotected).
LOCK_NAMESPACE = 'osc-image-store-locks'
_TAGS = '/metadefs/namespaces/%s/tags' % LOCK_NAMESPACE
_UUID = identifiers.UUID_PATTERN
#: The DELETEs this proxy sends, relative to the image endpoint: a store's
#: copy of an image (a store ID as identifiers.check_store_id allows, no
#: dot segment), and one lock tag named by an image ID.
_DELETE_PATHS = (
    re.compile(r'/stores/(?!\.+/)' + identifiers.STORE_ID_PATTERN + '/'
               + _UUID),
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


class GuardedProxy(resource_cache.CachedResources, _proxy.Proxy):
    """The image proxy of the plugin: sends only what a removal needs.

    Build it with :meth:`from_connection`; it shares the connection's
    keystoneauth session (one authentication, one version discovery).
    Whole-image deletes are refused: see :meth:`request` and
    :meth:`delete_image`.
    """

    @classmethod
    def from_connection(
        cls, conn: 'connection.Connection',
    ) -> 'GuardedProxy':
        """Build a proxy for one connection's image service.

        The ``Connection`` class is left unchanged (unlike
        ``Connection.add_service``, which would give this proxy to every
        connection in the process).

        :param conn: An :class:`openstack.connection.Connection`.
        :returns: A :class:`GuardedProxy` on the cloud's image endpoint.
        """
        # Resolve the endpoint as openstacksdk's image proxy does, once:
        # each request then skips the catalog and version lookup.
        endpoint = conn.image.get_endpoint()
        proxy = conn.config.get_session_client('image', constructor=cls)
        proxy._connection = conn
        proxy.endpoint_override = endpoint
        # A read that gets 503 is retried once, not for half a minute
        # (the writes are never retried).
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

        :param url: The path, relative to the image endpoint.
        :param method: The HTTP method.
        :param args: Passed to :meth:`openstack.proxy.Proxy.request`.
        :param kwargs: Passed to :meth:`openstack.proxy.Proxy.request`.
        :returns: The response.
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

    def delete_image(
        self,
        *args: ty.Any,
        store: 'str | _service_info.Store | None' = None,
        **kwargs: ty.Any,
    ) -> None:
        """Delete an image's data from one store; never the whole image.

        :param args: Passed to
            :meth:`osc_image_store.sdk._proxy.Proxy.delete_image`.
        :param store: A store ID or store: required.
        :param kwargs: Passed to
            :meth:`osc_image_store.sdk._proxy.Proxy.delete_image`.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            without a store, or with one that is not a valid store ID or
            store (nothing is sent); as
            :meth:`osc_image_store.sdk._proxy.Proxy.delete_image` with one.
        """
        if store is None:
            raise exceptions.InvalidIdentifier(
                'This proxy never deletes a whole image; use '
                'delete_image(image, store=store).')
        # Any other value is a store ID or nothing is sent (a falsy one
        # such as '' or 0 must never reach a "whole image" branch).
        identifiers.store_id_of(store)
        super().delete_image(*args, store=store, **kwargs)

    def import_image(
        self,
        image: 'str | _image.Image',
        method: str = 'glance-direct',
        *,
        store: 'str | _service_info.Store | None' = None,
        stores: 'list[str | _service_info.Store] | None' = None,
        **kwargs: ty.Any,
    ) -> requests.Response:
        """Import data into an image, into checked store IDs only.

        :param image: Passed to
            :meth:`openstack.image.v2._proxy.Proxy.import_image`.
        :param method: Passed on likewise.
        :param store: Passed on likewise, once checked.
        :param stores: Passed on likewise, once checked.
        :param kwargs: Passed on likewise.
        :returns: The response, as openstacksdk returns it (not raised).
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request when a store ID is not one Glance can have.
        """
        for target in ([] if store is None else [store]) + list(stores or []):
            identifiers.store_id_of(target)
        return super().import_image(image, method, store=store,
                                    stores=stores, **kwargs)


def _allowed(verb: str, url: str, kwargs: dict[str, ty.Any]) -> bool:
    """Whether :meth:`GuardedProxy.request` may send this DELETE or POST."""
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
