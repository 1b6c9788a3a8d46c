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
"""An openstacksdk extension for Glance multi-store image data removal.

This package depends only on openstacksdk and keystoneauth1 (no cliff or
osc-lib), so it can be used on its own::

    import openstack
    from osc_image_store.sdk import proxy

    conn = openstack.connect(cloud='mycloud')
    image_store = proxy.Proxy.from_connection(conn)
    removal = image_store.remove_image_from_store('my-image', 'cheap')
    print(removal.result, removal.remaining_stores)
"""
