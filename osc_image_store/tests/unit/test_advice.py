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
"""The engine names the actions it advises in its own terms; the commands
translate them (engine/advice.py, v2/advice.py)."""

import inspect
import io
import pathlib
import re
import tokenize

import testtools

from osc_image_store.engine import advice as engine_advice
from osc_image_store.engine import lock
from osc_image_store.engine import remover
from osc_image_store.engine import results
from osc_image_store.tests.unit import base
from osc_image_store.v2 import advice

IMAGE = '1afc9ec3-d976-5170-a79f-b079ae721a5d'
OTHER = '00000000-0000-4000-8000-000000000001'
#: What only a command line says: an OSC command, or an option.
_CLI_WORDS = re.compile(r'openstack (image|server)|(^|[\s"(])--[a-z]')


def _actions():
    """The public methods of :class:`Advice`, by name."""
    return [name for name, _ in inspect.getmembers(
        engine_advice.Advice, inspect.isfunction) if not name.startswith('_')]


def _calls(adv):
    """Each action of ``adv``, called with sample arguments."""
    ns = lock.NAMESPACE
    return {
        'option': adv.option('copy_to'),
        'where': adv.where(IMAGE),
        'clear_locks': adv.clear_locks(ns, [IMAGE, OTHER]),
        'list_locks': adv.list_locks(ns),
        'open_namespace': adv.open_namespace(ns),
        'delete_image': adv.delete_image(IMAGE),
        'copy_image': adv.copy_image(IMAGE, 'fast'),
        'show_task': adv.show_task(OTHER),
        'read_data': adv.read_data(IMAGE),
    }


class TestEngineTerms(testtools.TestCase):

    def test_every_action_is_sampled(self):
        self.assertEqual(sorted(_actions()), sorted(_calls(
            engine_advice.API)))

    def test_engine_names_api_calls_and_options(self):
        self.assertEqual({
            'option': 'Options.copy_to',
            'where': 'GET /v2/images/%s (its "stores")' % IMAGE,
            'clear_locks': 'DELETE /v2/metadefs/namespaces/'
                           'osc-image-store-locks/tags/%s; DELETE '
                           '/v2/metadefs/namespaces/osc-image-store-locks/'
                           'tags/%s' % (IMAGE, OTHER),
            'list_locks': 'GET /v2/metadefs/namespaces/'
                          'osc-image-store-locks/tags',
            'open_namespace': 'PUT /v2/metadefs/namespaces/'
                              'osc-image-store-locks with "visibility": '
                              '"private", "protected": false',
            'delete_image': 'DELETE /v2/images/%s' % IMAGE,
            'copy_image': 'POST /v2/images/%s/import with method copy-image '
                          'into fast' % IMAGE,
            'show_task': 'GET /v2/tasks/%s' % OTHER,
            'read_data': 'GET /v2/images/%s/file' % IMAGE,
        }, _calls(engine_advice.API))
        self.assertEqual('store', engine_advice.API.option('store'))

    def test_no_engine_source_holds_command_words(self):
        # Every string of the engine: its messages are built from Advice.
        engine = pathlib.Path(engine_advice.__file__).parent
        found = []
        for path in sorted(engine.glob('*.py')):
            source = path.read_text()
            for token in tokenize.generate_tokens(
                    io.StringIO(source).readline):
                if token.type == tokenize.STRING and _CLI_WORDS.search(
                        token.string):
                    found.append('%s:%d %s' % (path.name, token.start[0],
                                               token.string[:60]))
        self.assertEqual([], found)


class TestCommandWords(testtools.TestCase):

    def test_every_action_has_command_words(self):
        for name in _actions():
            self.assertIn(name, vars(advice.CommandAdvice), name)

    def test_command_words(self):
        self.assertEqual({
            'option': '--copy-to <another store>',
            'where': 'openstack image store list --image %s' % IMAGE,
            'clear_locks': 'openstack image store lock delete %s %s'
                           % (IMAGE, OTHER),
            'list_locks': 'openstack image store lock list',
            'open_namespace': 'openstack image metadef namespace set '
                              '--private --unprotected osc-image-store-locks',
            'delete_image': 'openstack image delete %s' % IMAGE,
            'copy_image': 'openstack image import %s --method copy-image '
                          '--store fast' % IMAGE,
            'show_task': 'openstack image task show %s' % OTHER,
            'read_data': 'openstack image save',
        }, _calls(advice.ADVICE))
        self.assertEqual(
            ['--store', '--ignore-missing', '--allow-read-only-copies'],
            [advice.ADVICE.option(name) for name in (
                'store', 'ignore_missing', 'allow_read_only_copies')])


class TestEngineRows(base.EngineCase):
    """A Remover given no advice words its rows in its own terms."""

    def test_only_copy_refused_in_engine_terms(self):
        body = base.image_body(stores=('cheap',))
        self.mock_listing([body])
        engine = remover.Remover(self.proxy, 'cheap',
                                 stop=base.ClockEvent(self.clock))
        row, = list(engine.run([body['id']]))
        self.assertEqual(results.FAILED, row.result)
        self.assertIn('run the command again with Options.copy_to; to '
                      'delete the image itself, use "DELETE /v2/images/%s"'
                      % body['id'], row.reason)
        self.assertIsNone(_CLI_WORDS.search(row.reason))
