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
"""openstacksdk resources for Glance stores and images with their stores."""

import typing as ty

from openstack import format as _format
from openstack.image.v2 import image as _image
from openstack import resource


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


class Store(resource.Resource):
    """A store (backend) of the Images API.

    Listed by ``GET /v2/info/stores`` (any user) and
    ``GET /v2/info/stores/detail`` (admin by default; adds ``type``,
    ``weight`` and ``properties``).  Both answer 404 when multi-store is
    not enabled on the cloud.  Glance sends the flags as the string
    ``"true"`` and omits them when false.
    """

    resources_key = 'stores'
    base_path = '/info/stores'

    allow_list = True

    #: Store ID, as used in ``DELETE /v2/stores/{store_id}/{image_id}``.
    id = resource.Body('id', alternate_id=True)
    #: Free-text description set by the operator, or None.
    description = resource.Body('description')
    #: Whether new image data goes to this store by default.
    is_default = resource.Body('default', type=_format.BoolStr, default=False)
    #: Whether the store refuses writes.
    is_read_only = resource.Body(
        'read-only', type=_format.BoolStr, default=False)
    #: Backend type such as ``file`` or ``rbd`` (detail listing only).
    type = resource.Body('type')
    #: Weight used to order locations (detail listing only).
    weight = resource.Body('weight', type=int)
    #: Backend properties (detail listing only).
    properties = resource.Body('properties', type=dict)


class CachedAttributes(resource.Resource):
    """openstacksdk's attribute maps, computed once per class.

    Building a resource scans the class's MRO for its fields several times
    and matches each key of the body against each field name; for an
    image that is most of this client's CPU on a listing (profile of a
    200-image run).  The fields of a class never change, so the scans are
    kept per class and the matching uses an index.  Same results as
    :class:`openstack.resource.Resource` (checked by unit tests against
    it).
    """

    _scans: ty.ClassVar[dict[ty.Any, tuple]] = {}
    _maps: ty.ClassVar[dict[ty.Any, ty.Any]] = {}
    _indexes: ty.ClassVar[dict[int, tuple]] = {}

    @classmethod
    def _attributes_iterator(cls, components=(
            resource.fields.Body, resource.fields.Header)):
        key = (cls, components)
        if key not in cls._scans:
            cls._scans[key] = tuple(super()._attributes_iterator(components))
        return iter(cls._scans[key])

    @classmethod
    def _get_mapping(cls, component):
        key = (cls, component)
        if key not in cls._maps:
            cls._maps[key] = super()._get_mapping(component)
        return cls._maps[key]

    def _consume_attrs(self, mapping, attrs):
        index = self._indexes.get(id(mapping))
        if index is None or index[0] is not mapping:
            lowered: dict[str, list[str]] = {}
            for map_key, map_value in mapping.items():
                for name in dict.fromkeys((map_key.lower(),
                                           map_value.lower())):
                    lowered.setdefault(name, []).append(map_key)
            index = (mapping, set(mapping.values()), lowered)
            self._indexes[id(mapping)] = index
        _mapping, values, lowered = index
        relevant, consumed = {}, []
        for key, value in attrs.items():
            if key in values or mapping.get(key):
                for map_key in lowered.get(key.lower(), ()):
                    relevant[map_key] = value
                    consumed.append(key)
        for key in consumed:
            attrs.pop(key, None)
        return relevant


class Image(CachedAttributes, _image.Image):
    """An Images API image that also knows the stores holding its data.

    ``GET /v2/images/{image_id}`` carries a ``stores`` field (comma-separated
    store IDs) whenever multi-store is on and some location has a store.
    openstacksdk's own :class:`openstack.image.v2.image.Image` files it
    under ``properties``; this class reads it as a list.
    """

    #: Store IDs holding the image's data, or None when Glance sent none.
    stores = resource.Body('stores', type=StoreList)

    @property
    def store_ids(self) -> list[str]:
        """The stores holding the image's data, each once.

        Glance lists a store once per location, so a store that holds two
        locations of the image appears twice in ``stores``.

        :returns: store IDs (possibly empty), in Glance's order.
        """
        return list(dict.fromkeys(self.stores or []))

    def locations_in(self, store: str) -> int:
        """How many locations of the image a store holds.

        Read from ``stores`` (one entry per location) and, on clouds that
        show them, from ``locations``.

        :param store: a store ID.
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

        The import API sets it atomically before answering 202; Glance
        treats it as stale when its task ended or after 60 minutes (120
        while the task is pending).
        """
        return self._property('os_glance_import_task') or None

    @property
    def importing_to_stores(self) -> list[str]:
        """``os_glance_importing_to_stores``: stores an import is filling."""
        return StoreList.deserialize(
            self._property('os_glance_importing_to_stores') or '')

    @property
    def failed_import_stores(self) -> list[str]:
        """``os_glance_failed_import``: stores an import failed to fill."""
        return StoreList.deserialize(
            self._property('os_glance_failed_import') or '')

    def get_property(self, name: str) -> str | None:
        """An image property (one Glance does not define) or None.

        :param name: the property name.
        """
        value = self._property(name)
        return None if value is None else str(value)


class MetadefTag(resource.Resource):
    """A metadata definitions tag (``/v2/metadefs/namespaces/{ns}/tags``).

    openstacksdk has no resource for these yet.  The tag name is its ID.
    """

    resources_key = 'tags'
    base_path = '/metadefs/namespaces/%(namespace_name)s/tags'

    allow_create = True
    allow_fetch = True
    allow_delete = True
    allow_list = True

    #: The namespace the tag belongs to.
    namespace_name = resource.URI('namespace_name')
    #: The tag name (unique in its namespace).
    name = resource.Body('name', alternate_id=True)
    #: When the tag was created (ISO 8601, the Images API's clock).
    created_at = resource.Body('created_at')
    #: When the tag was last updated.
    updated_at = resource.Body('updated_at')
