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
"""Metadata definitions tags of the Images API."""

from openstack import resource


class MetadefTag(resource.Resource):
    """A metadata definitions tag (``/v2/metadefs/namespaces/{ns}/tags``).

    openstacksdk 4.22 reads and writes a namespace's tags through its
    namespace only; this resource is one tag.  The tag name is its ID.
    """

    resources_key = 'tags'
    base_path = '/metadefs/namespaces/%(namespace_name)s/tags'

    # capabilities
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
