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
"""The OSC plugin contract, as OSC loads it."""

import argparse
from importlib import metadata
from unittest import mock

from cliff import command
from openstackclient.common import clientmanager

from osc_image_store import guard
from osc_image_store import plugin
from osc_image_store.tests.unit import base
from osc_image_store.v2 import lock
from osc_image_store.v2 import store


class TestPlugin(base.TestCase):

    def test_osc_loads_it_as_an_extension(self):
        self.assertIn(plugin, clientmanager.PLUGIN_MODULES)
        # OSC drops an extension that reuses a core API name.
        core = {e.name for e in metadata.entry_points(
            group='openstack.cli.base')}
        self.assertIn('image', core)
        self.assertNotIn(plugin.API_NAME, core)

    def test_commands_reachable(self):
        commands = {e.name: e.load() for e in metadata.entry_points(
            group='openstack.%s.v2' % plugin.API_NAME)}
        self.assertEqual({'image_store_delete': store.DeleteImageFromStore,
                          'image_store_list': store.ListStore,
                          'image_store_lock_list': lock.ListLock,
                          'image_store_lock_delete': lock.DeleteLock},
                         commands)

    def test_make_client_uses_the_connection_session(self):
        instance = mock.Mock(sdk_connection=self.conn)
        client = plugin.make_client(instance)
        self.assertIsInstance(client, guard.GuardedProxy)
        self.assertIs(self.conn.session, client.session)
        self.assertIs(self.conn, client._connection)
        # The Connection class itself is left alone.
        self.assertFalse(hasattr(type(self.conn), plugin.API_NAME))
        self.mock_stores()
        self.assertEqual(3, len(client.stores()))
        self.assertEqual([base.STORES], self.sent())

    def test_api_version_option(self):
        parser = plugin.build_option_parser(argparse.ArgumentParser())
        self.assertEqual(
            '2', parser.parse_args([]).os_image_store_api_version)
        self.assertRaises(SystemExit, parser.parse_args,
                          ['--os-image-store-api-version', '1'])
        self.assertIn("invalid choice: '1'", self.stderr.getvalue())


class TestEpilog(base.TestCase):

    def test_plugin_line_without_scanning_distributions(self):
        # cliff's own get_epilog scans every installed distribution
        # (20-40 ms a run); the commands say the plugin without it.
        app = mock.Mock(stdout=None, stderr=None)
        with mock.patch.object(command, '_dists_by_mods', None), \
                mock.patch.object(command, 'packages_distributions',
                                  side_effect=AssertionError('scanned')):
            for cls in (lock.ListLock, lock.DeleteLock, store.ListStore,
                        store.DeleteImageFromStore):
                parser = cls(app, None).get_parser('openstack image store')
                self.assertTrue(parser.epilog.endswith(
                    'This command is provided by the osc-image-store '
                    'plugin.'), parser.epilog)
            parser = store.DeleteImageFromStore(app, None).get_parser('x')
            self.assertTrue(parser.epilog.startswith(
                store.EXIT_CODES_HELP + '\n\n'), parser.epilog)
