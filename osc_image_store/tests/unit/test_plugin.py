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

import argparse
from unittest import mock

from osc_image_store import plugin
from osc_image_store.sdk import proxy
from osc_image_store.tests.unit import base


class TestPlugin(base.TestCase):

    def test_contract(self):
        self.assertEqual('image_store', plugin.API_NAME)
        self.assertEqual('os_image_store_api_version',
                         plugin.API_VERSION_OPTION)
        self.assertEqual({'2': 'osc_image_store.sdk.proxy.Proxy'},
                         plugin.API_VERSIONS)
        self.assertEqual('2', plugin.DEFAULT_API_VERSION)

    def test_make_client_uses_the_connection_session(self):
        instance = mock.Mock(sdk_connection=self.conn)
        client = plugin.make_client(instance)
        self.assertIsInstance(client, proxy.Proxy)
        self.assertIs(self.conn.session, client.session)
        self.assertIs(self.conn, client._connection)
        self.mock_stores()
        self.assertEqual(3, len(client.stores()))

    def test_build_option_parser(self):
        parser = plugin.build_option_parser(argparse.ArgumentParser())
        self.assertEqual(
            '2', parser.parse_args([]).os_image_store_api_version)
        self.assertRaises(SystemExit, parser.parse_args,
                          ['--os-image-store-api-version', '1'])
