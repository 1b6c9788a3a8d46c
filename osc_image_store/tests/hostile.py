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
"""A corpus of hostile identifiers, shared by unit and functional tests.

Each would, if pasted into a URL path, change which request is sent
(``DELETE /v2/stores/../images/<id>`` deletes a whole image), or is
otherwise no valid store ID.
"""

#: --store values that must be rejected before any request.
STORES = [
    '', ' ', '\t', '.', '..', '../images', '..%2Fimages', '%2e%2e',
    'cheap/..', 'cheap/../../images', '/cheap', 'cheap/', 'cheap?x=1',
    'cheap#frag', 'cheap;x', 'ch eap', 'cheap\n', '\u2024\u2024',
    'ch\u00e9ap', 'x' * 256, 'os_glance_staging_store',
    'os_glance_tasks_store', '%00', '\\..\\images', '~', '*',
    'cheap,fast', '%2e%2e%2fimages', 'cheap%2F..%2F..%2Fimages',
]

#: Image arguments that must never reach a path.  The first ones are
#: rejected outright; the others are looked up by name (query string) and
#: not found.
IMAGES_REJECTED = ['', '   ', 'a\x01b', 'x' * 256]
IMAGES_NOT_FOUND = [
    '..', '.', '../images', '%2e%2e', '?', '#', '/', '..;/', '*',
    '\u2024\u2024', 'caf\u00e9/../..', 'images?limit=1',
]
