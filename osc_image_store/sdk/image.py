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
"""An Images API image that knows the stores holding its data.

Glance answers ``GET /v2/images/{image_id}`` and ``GET /v2/images`` with a
``stores`` field (comma-separated store IDs) whenever multi-store is on and
some location has a store, and with the import markers
``os_glance_import_task``, ``os_glance_importing_to_stores`` and
``os_glance_failed_import`` while or after an import.
:class:`openstack.image.v2.image.Image` files all of them under
``properties``; :class:`Image` reads them.
"""

import typing as ty

from keystoneauth1 import adapter
from openstack import format as _format
from openstack.image.v2 import image as _image
from openstack import resource
import requests


class StoreList(_format.Formatter[list[str]]):
    """Glance's comma-separated ``stores`` string as a list of store IDs."""

    @classmethod
    def deserialize(cls, value: ty.Any) -> list[str]:
        """Split ``"fast,cheap"`` into ``['fast', 'cheap']``.

        :param value: the ``stores`` field of an Images API image (a
            string), or a list of store IDs.
        :returns: store IDs in the order Glance gives them, without blanks.
        """
        if isinstance(value, (list, tuple)):
            items = [str(v) for v in value]
        else:
            items = str(value).split(',')
        return [item.strip() for item in items if item.strip()]


class Image(_image.Image):
    """An Images API image that also knows the stores holding its data.

    Same requests and fields as :class:`openstack.image.v2.image.Image`,
    plus :attr:`stores` read as a list instead of a property.
    """

    #: Store IDs holding the image's data, or None when Glance sent none.
    stores = resource.Body('stores', type=StoreList)

    @property
    def store_ids(self) -> list[str]:
        """The stores holding the image's data, each once.

        Glance lists a store once per location, so a store that holds two
        locations of the image appears twice in :attr:`stores`.

        :returns: store IDs (possibly empty), in Glance's order.
        """
        return list(dict.fromkeys(self.stores or []))

    def locations_in(self, store: str) -> int:
        """How many locations of the image a store holds.

        Read from :attr:`stores` (one entry per location) and, on clouds
        that show them, from ``locations``.

        :param store: a store ID.
        :returns: the number of locations (0 when the store holds none).
        """
        return max(list(self.stores or []).count(store),
                   len(self.store_locations.get(store, [])))

    @property
    def store_locations(self) -> dict[str, list[str]]:
        """The image's location URLs by store.

        Only clouds with ``show_multiple_locations = True`` (deprecated,
        off by default) send locations; elsewhere this is empty.

        :returns: ``{store_id: [url, ...]}`` (a store may hold two).
        """
        found: dict[str, list[str]] = {}
        for location in self.locations or []:
            store = (location.get('metadata') or {}).get('store')
            if store:
                found.setdefault(store, []).append(location.get('url'))
        return found

    def _property(self, name: str) -> ty.Any:
        return (self.properties or {}).get(name)

    @property
    def import_task(self) -> str | None:
        """``os_glance_import_task``: the import lock (a task ID) or None.

        The import API sets it atomically before answering 202.  Glance
        lets another import replace it once its task has not been
        updated for 60 minutes (120 while the task is pending), even
        when the task has ended, or at once when the task no longer
        exists.

        :returns: the task ID, or None when no import holds the image.
        """
        return self._property('os_glance_import_task') or None

    @property
    def importing_to_stores(self) -> list[str]:
        """``os_glance_importing_to_stores``: stores an import is filling.

        :returns: store IDs (possibly empty).
        """
        return StoreList.deserialize(
            self._property('os_glance_importing_to_stores') or '')

    @property
    def failed_import_stores(self) -> list[str]:
        """``os_glance_failed_import``: stores an import failed to fill.

        :returns: store IDs (possibly empty).
        """
        return StoreList.deserialize(
            self._property('os_glance_failed_import') or '')

    def import_image(
        self,
        session: adapter.Adapter,
        method: str = 'glance-direct',
        **kwargs: ty.Any,
    ) -> requests.Response:
        """Import data into the image, asking for a JSON answer.

        Sends ``POST /v2/images/{image_id}/import`` as
        :meth:`openstack.image.v2.image.Image.import_image` does, with
        ``Accept: application/json`` (openstacksdk 4.22 sends none, and
        Glance then writes its errors as HTML pages).

        :param session: The session to use for making this request.
        :param method: The import method, such as ``copy-image``.
        :param kwargs: The other arguments of
            :meth:`openstack.image.v2.image.Image.import_image`.

        :returns: The response, not checked: 202 when Glance took the
            import (``copy-image``: 400 when the data is already in a
            target store, 403 by policy, 409 while another import holds
            the image or when it is not active).
        """
        return super().import_image(
            ty.cast(adapter.Adapter, _AcceptJson(session)), method, **kwargs)

    def get_property(self, name: str) -> str | None:
        """An image property (one Glance does not define) or None.

        :param name: the property name.
        :returns: its value as a string, or None when the image has none.
        """
        value = self._property(name)
        return None if value is None else str(value)


class _AcceptJson:
    """A session whose POSTs ask for a JSON answer unless told otherwise."""

    def __init__(self, session: adapter.Adapter):
        self._session = session

    def post(self, url: str, **kwargs: ty.Any) -> requests.Response:
        headers = dict(kwargs.pop('headers', None) or {})
        headers.setdefault('Accept', 'application/json')
        return self._session.post(url, headers=headers, **kwargs)

    def __getattr__(self, name: str) -> ty.Any:
        return getattr(self._session, name)
