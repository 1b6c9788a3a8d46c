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
"""Images API stores, and the store-scoped delete of an image's data."""

import typing as ty

from keystoneauth1 import adapter
from openstack import exceptions
from openstack import format as _format
from openstack.image.v2 import service_info as _service_info
from openstack import resource
import requests

from osc_image_store.sdk import identifiers

#: Request arguments of a write sent at most once: keystoneauth would
#: otherwise send it again after a dropped connection or a 503, when the
#: first may have been carried out.
SEND_ONCE: dict[str, ty.Any] = {
    'connect_retries': 0, 'status_code_retries': 0,
    'retriable_status_codes': []}


class Store(_service_info.Store):
    """A store (backend) of the Images API.

    Listed by ``GET /v2/info/stores`` (any user) and
    ``GET /v2/info/stores/detail`` (admin by default; adds ``type``,
    ``weight`` and ``properties``).  Both answer 404 when multi-store is
    not enabled on the cloud.  Glance sends the flags as the string
    ``"true"`` and omits them when false.
    """

    #: Store ID, as used in ``DELETE /v2/stores/{store_id}/{image_id}``.
    id = resource.Body('id', alternate_id=True)
    #: Whether new image data goes to this store by default.
    is_default = resource.Body('default', type=_format.BoolStr, default=False)
    #: Whether the store refuses writes.
    is_read_only = resource.Body(
        'read-only', type=_format.BoolStr, default=False)
    #: Backend type such as ``file`` or ``rbd`` (detail listing only).
    type = resource.Body('type')
    #: Weight used to order locations (detail listing only).
    weight = resource.Body('weight', type=int)

    def delete_image(
        self,
        session: adapter.Adapter,
        image: str | resource.Resource,
        *,
        ignore_missing: bool = False,
    ) -> requests.Response | None:
        """Delete an image's data from this store only.

        Sends ``DELETE /v2/stores/{store_id}/{image_id}`` once.  Both
        segments are checked and percent-encoded first: Glance normalises
        request paths, so a store ID ``..`` would otherwise turn the
        request into ``DELETE /v2/images/{image_id}``, a delete of the
        whole image.  No retry and no re-authentication: keystoneauth
        would otherwise send the request again after a 503, a dropped
        connection or a 401, and a second delete of a copy already gone
        answers 404 or 403, so the caller must read the image to learn
        what happened after any error.

        :param session: The session to use for making this request.
        :param image: The value can be either the ID of an image or a
            :class:`~openstack.image.v2.image.Image` instance.
        :param ignore_missing: When set to ``True``, a 404 (the image is
            not in this store, or does not exist) returns None.

        :returns: The response (204) if the data was deleted, else None.
        :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
            before any request when the store ID is not one Glance can
            have or the image ID is not a UUID.
        :raises: :class:`~openstack.exceptions.NotFoundException` on 404
            unless ``ignore_missing`` is ``True``; other
            :class:`~openstack.exceptions.HttpException` subclasses for
            any other status than 204 (400: multi-store is off; 403: the
            only copy, or policy; 409: the image is not active; 503).
        """
        image_id = identifiers.check_image_id(
            image if isinstance(image, str) else image.id)
        url = identifiers.store_image_path(self.id, image_id)
        try:
            response = session.delete(
                url, headers={'Accept': 'application/json'},
                allow_reauth=False, **SEND_ONCE)
            exceptions.raise_from_response(response)
        except exceptions.NotFoundException:
            if ignore_missing:
                return None
            raise
        return response
