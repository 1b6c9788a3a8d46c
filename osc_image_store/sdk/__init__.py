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
"""The part of osc-image-store meant for openstacksdk.

This package is shaped like ``openstack.image.v2`` and depends only on
openstacksdk and keystoneauth1 (no cliff, no osc-lib, no threads):

* :mod:`~osc_image_store.sdk.image`: images that know the stores holding
  their data, and their import markers;
* :mod:`~osc_image_store.sdk.service_info`: stores, and the store-scoped
  delete with checked, percent-encoded path segments, sent once (the fix
  for ``openstack.image.v2.service_info.Store.delete_image``);
* :mod:`~osc_image_store.sdk.metadef_tag`: metadata definitions tags;
* :mod:`~osc_image_store.sdk._proxy`: the Images API v2 proxy with these
  calls;
* :mod:`~osc_image_store.sdk.identifiers` and
  :mod:`~osc_image_store.sdk.exceptions`: the checks of what goes into a
  path, and the errors.

It can be used on its own::

    import openstack
    from osc_image_store.sdk import _proxy

    conn = openstack.connect(cloud='mycloud')
    image_store = conn.config.get_session_client(
        'image', constructor=_proxy.Proxy)
    image = image_store.resolve_image('my-image')
    print(image.store_ids)
    image_store.delete_image(image, store='cheap', ignore_missing=False)

The plugin itself goes through :class:`osc_image_store.guard.GuardedProxy`,
which adds its policy (which requests may leave at all) on top.
"""
