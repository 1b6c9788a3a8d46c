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
"""The exceptions of the sdk, and Glance's error details as text."""

import testtools

from osc_image_store.sdk import exceptions


class TestExceptions(testtools.TestCase):

    def test_base_class(self):
        exc = exceptions.ImageStoreException('gone', http_status=404)
        self.assertEqual(('gone', 404), (str(exc), exc.http_status))
        self.assertIsNone(exceptions.ImageStoreException('x').http_status)

    def test_invalid_identifier_is_a_value_error(self):
        self.assertTrue(issubclass(exceptions.InvalidIdentifier, ValueError))

    def test_details(self):
        self.assertEqual(['a', 'b'], exceptions.StoreNotFound(
            'x', ('a', 'b')).available)
        self.assertEqual(['i', 'j'], exceptions.AmbiguousImage(
            'x', ('i', 'j')).image_ids)


class TestCleanDetails(testtools.TestCase):

    def test_webob_heading_dropped(self):
        self.assertEqual(
            'Image x is not stored in store cheap.',
            exceptions.clean_details(
                '404 Not Found: Image x is not stored in store cheap.', 404))

    def test_json_message_tags_dropped(self):
        self.assertEqual('busy now', exceptions.clean_details(
            'busy<br /><br />\n\n now', 503))
