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
"""The read stages: the fresh read a removal rests on, and the read-back.

Both read many images with one listing
(:meth:`~osc_image_store.sdk._proxy.Proxy.images_by_id`,
``GET /v2/images?id=in:...``).
"""

import typing as ty

from osc_image_store.engine import outcome
from osc_image_store.engine import results
from osc_image_store import guard
from osc_image_store.sdk import image as sdk_image


def read_fresh(
    proxy: guard.GuardedProxy, store: str, image_ids: list[str],
    names: ty.Mapping[str, str | None],
) -> tuple[dict[str, sdk_image.Image], dict[str, results.Removal]]:
    """Read locked images before their removal: one listing.

    :param proxy: :class:`~osc_image_store.guard.GuardedProxy`.
    :param store: the store ID (for the rows).
    :param image_ids: image IDs (UUIDs).
    :param names: ``{image ID: name}`` known so far (for the rows of
        images that cannot be read).
    :returns: ``(found, rows)``: ``{image ID: Image}`` of the images
        read, and a ``failed`` row for each image that was not: the
        listing failed (every image), or it did not return the image
        (deleted, or not visible).
    """
    try:
        found = proxy.images_by_id(image_ids)
    except outcome.REQUEST_ERRORS as exc:
        return {}, {image_id: results.row(
            store, image_id, names.get(image_id), results.FAILED, None,
            'Image %s could not be read (%s); nothing was removed.'
            % (image_id, exc)) for image_id in image_ids}
    return found, {image_id: results.row(
        store, image_id, None, results.FAILED, None,
        'No image with name or ID %s (deleted, or not visible to you).'
        % image_id) for image_id in image_ids if image_id not in found}


def read_back(proxy: guard.GuardedProxy,
              image_ids: list[str]) -> dict[str, sdk_image.Image]:
    """Read images after their DELETEs: a listing, else one by one.

    An image the listing misses (or all, when it fails) is read with
    ``GET /v2/images/{image_id}``; one that still cannot be read is left
    out, and its outcome is told without a read.

    :param proxy: :class:`~osc_image_store.guard.GuardedProxy`.
    :param image_ids: image IDs (UUIDs).
    :returns: ``{image ID: Image}`` of the images read.
    """
    if not image_ids:
        return {}
    try:
        found = proxy.images_by_id(image_ids)
    except outcome.REQUEST_ERRORS:
        found = {}
    for image_id in image_ids:
        if image_id not in found:
            try:
                found[image_id] = proxy.get_image(image_id)
            except outcome.REQUEST_ERRORS:
                pass
    return found
