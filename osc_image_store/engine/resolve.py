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
"""The first stage: image arguments to image IDs, in order, once each.

An argument that is a UUID is taken as the image ID (the read that
follows tells whether it exists); any other is resolved by name with
:meth:`~osc_image_store.sdk._proxy.Proxy.resolve_image`.
"""

from concurrent import futures
import dataclasses
import typing as ty

from osc_image_store.engine import outcome
from osc_image_store.engine import results
from osc_image_store import guard
from osc_image_store.sdk import exceptions
from osc_image_store.sdk import identifiers
from osc_image_store.sdk import image as sdk_image

#: Errors of an image argument that did not resolve to one image.
NOT_RESOLVED = (exceptions.ImageNotFound, exceptions.AmbiguousImage,
                exceptions.InvalidIdentifier)


@dataclasses.dataclass
class Resolved:
    """What :meth:`Resolver.resolve` made of a chunk's arguments.

    :ivar order: ``(label, image ID or None)`` in input order; the label
        is the argument (a UUID in lower case), None: not resolved.
    :ivar failed: ``{label: row}``: a ``failed`` row per argument that
        did not resolve, with the reason.
    :ivar names: ``{image ID: name}`` of the images found by name.
    :ivar ids: the image IDs, in order.
    """

    order: list[tuple[str, str | None]] = dataclasses.field(
        default_factory=list)
    failed: dict[str, results.Removal] = dataclasses.field(
        default_factory=dict)
    names: dict[str, str | None] = dataclasses.field(default_factory=dict)
    ids: list[str] = dataclasses.field(default_factory=list)


class Resolver:
    """Resolves image arguments, skipping those met in earlier chunks.

    :param proxy: :class:`~osc_image_store.guard.GuardedProxy`.
    :param store: the store ID (for the rows of unresolved arguments).
    """

    def __init__(self, proxy: guard.GuardedProxy, store: str):
        self.proxy, self.store = proxy, store
        self._seen: set[str] = set()
        self._seen_ids: set[str] = set()

    def resolve(self, items: ty.Iterable[str | sdk_image.Image],
                pool: futures.Executor, dedupe: bool = True) -> Resolved:
        """Resolve a chunk's arguments; names are looked up on ``pool``.

        :param items: image names, IDs or resources.
        :param pool: the executor of the lookups by name (one
            ``GET /v2/images?name=eq:...`` each, see
            :meth:`~osc_image_store.sdk._proxy.Proxy.resolve_image`).
        :param dedupe: skip arguments (and images) met before; False for a
            second pass over images already handled.
        :returns: :class:`Resolved`.
        """
        jobs: list[tuple[str, futures.Future[sdk_image.Image] | None]] = []
        for item in items:
            label = item if isinstance(item, str) else item.id
            if identifiers.is_uuid(label):
                label = label.lower()  # Glance's IDs are lower case
            if dedupe and label in self._seen:
                continue
            self._seen.add(label)
            if isinstance(item, str) and not identifiers.is_uuid(item):
                jobs.append((label, pool.submit(self.proxy.resolve_image,
                                                item)))
            else:
                jobs.append((label, None))
        resolved = Resolved()
        for label, job in jobs:
            image_id: str | None = label
            if job is not None:
                try:
                    image = job.result()
                    image_id = image.id
                    resolved.names[image.id] = image.name
                except NOT_RESOLVED + outcome.REQUEST_ERRORS as exc:
                    image_id = None
                    resolved.failed[label] = results.row(
                        self.store, None, label, results.FAILED, None,
                        str(exc))
            if dedupe and image_id is not None:
                if image_id in self._seen_ids:
                    continue
                self._seen_ids.add(image_id)
            resolved.order.append((label, image_id))
            if image_id is not None:
                resolved.ids.append(image_id)
        return resolved
