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
"""openstacksdk's resource attribute maps, computed once per class.

Building a resource scans the class's MRO for its fields several times
and matches each key of the body against each field name; for an image
that is most of this client's CPU on a listing (profile of a 200-image
run).  The fields of a class never change, so :class:`CachedAttributes`
keeps the scans per class and matches with an index.

This is an adapter to openstacksdk's internals: it overrides the private
:class:`openstack.resource.Resource` methods ``_attributes_iterator``,
``_get_mapping`` and ``_consume_attrs`` (and :class:`CachedResources` the
private proxy methods ``_list`` and ``_get``).  Its unit tests compare its
results with openstacksdk's own code and pin the signatures of those
methods, so an openstacksdk release that changes them fails a test.
"""

import threading
import typing as ty

from openstack import proxy
from openstack import resource

#: The resource class a cached subclass is made of.
ResourceT = ty.TypeVar('ResourceT', bound=resource.Resource)

#: The Resource methods :class:`CachedAttributes` overrides.
OVERRIDDEN = ('_attributes_iterator', '_get_mapping', '_consume_attrs')


class CachedAttributes(resource.Resource):
    """openstacksdk's attribute maps, computed once per class.

    Same results as :class:`openstack.resource.Resource` (checked by unit
    tests against it).
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


_cached: dict[type, type] = {}
_cached_lock = threading.Lock()


def cached(resource_type: type[ResourceT]) -> type[ResourceT]:
    """The subclass of a resource class that builds with cached maps.

    One subclass per class (so its caches fill once), with the class's
    name and module.  A class that overrides one of :data:`OVERRIDDEN`
    itself is returned unchanged: the cached methods would bypass it.

    :param resource_type: A :class:`openstack.resource.Resource` subclass.
    :returns: A subclass of it (an instance of it is an instance of
        ``resource_type``), or ``resource_type`` itself.
    """
    found = _cached.get(resource_type)
    if found is not None:
        return found
    with _cached_lock:
        if resource_type not in _cached:
            _cached[resource_type] = _subclass(resource_type)
    return _cached[resource_type]


def _subclass(resource_type: type) -> type:
    below = resource_type.__mro__[:resource_type.__mro__.index(
        resource.Resource)]
    if any(name in vars(cls) for cls in below for name in OVERRIDDEN):
        return resource_type  # CachedAttributes itself included
    return type(resource_type.__name__, (CachedAttributes, resource_type),
                {'__module__': resource_type.__module__,
                 '__qualname__': resource_type.__qualname__,
                 '__doc__': resource_type.__doc__})


class CachedResources(proxy.Proxy):
    """A proxy mixin: resources it lists or gets build with cached maps.

    Overrides openstacksdk's private ``Proxy._list`` and ``Proxy._get`` to
    ask for :func:`cached` of the resource class given; a resource
    instance passed to ``_get`` keeps its own class.
    """

    def _list(self, resource_type, *args, **kwargs):
        return super()._list(cached(resource_type), *args, **kwargs)

    def _get(self, resource_type, value=None, *args, **kwargs):
        if not isinstance(value, resource.Resource):
            resource_type = cached(resource_type)
        return super()._get(resource_type, value, *args, **kwargs)
