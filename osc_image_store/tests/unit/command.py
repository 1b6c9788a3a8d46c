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
"""Base of the command tests: a command of this plugin on a real proxy."""

import io
import logging

import fixtures
from osc_lib import exceptions
from osc_lib.test import base as osc_base

from osc_image_store.tests.unit import base
from osc_image_store.v2 import store


class CommandTestCase(base.TestCase, osc_base.TestCommand):
    """Run a command as cliff does and keep what it printed.

    ``self.stdout`` holds the formatted output, ``self.stderr`` what went
    to stderr (argparse usage lines included), ``self.logs`` the log.
    """

    command_class = None

    def setUp(self):
        super().setUp()
        self.stdout = io.StringIO()
        self.app.stdout = self.stdout
        self.app.stderr = self.stderr
        self.app.client_manager.image_store = self.proxy
        self.app.client_manager.sdk_connection = self.conn
        self.logs = self.useFixture(fixtures.FakeLogger(
            name='osc_image_store', level=logging.INFO,
            format='%(levelname)s %(message)s'))
        self.cmd = self.command_class(self.app, None)

    def parse(self, *args):
        return self.check_parser(self.cmd, list(args), [])

    def run_cmd(self, *args):
        """The exit code cliff would give for these arguments.

        2 for usage errors (argparse, or parser.error in the command), 1
        for a CommandError (kept in ``self.error``), else what ``run``
        returns.  Other exceptions fail the test.
        """
        try:
            parsed = self.parse(*args)
        except osc_base.ParserException:
            return 2
        try:
            return self.cmd.run(parsed)
        except SystemExit as exc:
            return exc.code
        except exceptions.CommandError as exc:
            self.error = str(exc)
            return 1


class DeleteCase(CommandTestCase):
    """``image store delete`` with the recorded stores and an image."""

    command_class = store.DeleteImageFromStore

    def setUp(self):
        super().setUp()
        self.mock_stores()
        self.body = base.image_body()
        self.iid = self.body['id']
