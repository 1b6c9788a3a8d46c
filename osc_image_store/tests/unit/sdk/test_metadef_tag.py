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
"""Metadata definitions tags."""

import testtools

from osc_image_store.sdk import metadef_tag

EXAMPLE = {
    'namespace_name': 'OS::Compute::Libvirt',
    'name': 'tag-1',
    'created_at': '2026-12-06T10:00:00Z',
    'updated_at': '2026-12-06T10:05:00Z',
}


class TestMetadefTag(testtools.TestCase):

    def test_basic(self):
        sot = metadef_tag.MetadefTag()
        self.assertIsNone(sot.resource_key)
        self.assertEqual('tags', sot.resources_key)
        self.assertEqual('/metadefs/namespaces/%(namespace_name)s/tags',
                         sot.base_path)
        self.assertTrue(sot.allow_create)
        self.assertTrue(sot.allow_fetch)
        self.assertFalse(sot.allow_commit)
        self.assertTrue(sot.allow_delete)
        self.assertTrue(sot.allow_list)

    def test_make_it(self):
        sot = metadef_tag.MetadefTag(**EXAMPLE)
        self.assertEqual(EXAMPLE['name'], sot.id)
        self.assertEqual(EXAMPLE['name'], sot.name)
        self.assertEqual(EXAMPLE['namespace_name'], sot.namespace_name)
        self.assertEqual(EXAMPLE['created_at'], sot.created_at)
        self.assertEqual(EXAMPLE['updated_at'], sot.updated_at)

    def test_name_is_the_id(self):
        tag = metadef_tag.MetadefTag.existing(
            namespace_name='ns', name='t', created_at='2026-12-06T10:00:00Z',
            updated_at='2026-12-06T10:00:00Z')
        self.assertEqual(('t', 't', 'ns', '2026-12-06T10:00:00Z'),
                         (tag.id, tag.name, tag.namespace_name,
                          tag.created_at))
        self.assertEqual('/metadefs/namespaces/ns/tags',
                         tag.base_path % {'namespace_name': 'ns'})
        self.assertEqual('tags', metadef_tag.MetadefTag.resources_key)

    def test_listed_names_only(self):
        tag = metadef_tag.MetadefTag.existing(name='t')
        self.assertEqual((None, None), (tag.created_at, tag.updated_at))
