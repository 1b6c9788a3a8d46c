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
"""The commands' words for the actions the engine advises.

The engine (:mod:`osc_image_store.engine.advice`) names an action by its
Images API call or its option; the commands name their own commands and
options instead, through :data:`ADVICE`.
"""

import typing as ty

from osc_image_store.engine import advice

#: The command options of the fields of the engine's
#: :class:`~osc_image_store.engine.options.Options` (and of its store).
_OPTIONS = {
    'store': '--store',
    'copy_to': '--copy-to <another store>',
    'ignore_missing': '--ignore-missing',
    'allow_read_only_copies': '--allow-read-only-copies',
}


class CommandAdvice(advice.Advice):
    """The engine's advice, in the words of ``openstack`` commands."""

    def option(self, name: str) -> str:
        """The command option of an engine option.

        :param name: an :class:`~osc_image_store.engine.options.Options`
            field, or ``store``.
        :returns: e.g. ``--copy-to <another store>``.
        :raises KeyError: for a field without an option.
        """
        return _OPTIONS[name]

    def where(self, image_id: str) -> str:
        """``openstack image store list --image <id>``.

        :param image_id: an image ID.
        """
        return 'openstack image store list --image %s' % image_id

    def clear_locks(self, namespace: str,
                    image_ids: ty.Iterable[str]) -> str:
        """``openstack image store lock delete <id> [<id> ...]``.

        :param namespace: the lock namespace (the command knows it).
        :param image_ids: image IDs.
        """
        return 'openstack image store lock delete ' + ' '.join(image_ids)

    def list_locks(self, namespace: str) -> str:
        """``openstack image store lock list``.

        :param namespace: the lock namespace (the command knows it).
        """
        return 'openstack image store lock list'

    def open_namespace(self, namespace: str) -> str:
        """``openstack image metadef namespace set --private ...``.

        :param namespace: the lock namespace.
        """
        return ('openstack image metadef namespace set --private '
                '--unprotected %s' % namespace)

    def delete_image(self, image_id: str) -> str:
        """``openstack image delete <id>``.

        :param image_id: an image ID.
        """
        return 'openstack image delete %s' % image_id

    def copy_image(self, image_id: str, stores: str) -> str:
        """``openstack image import <id> --method copy-image --store ...``.

        :param image_id: an image ID.
        :param stores: store IDs, space separated, or a placeholder.
        """
        return ('openstack image import %s --method copy-image --store %s'
                % (image_id, stores))

    def show_task(self, task_id: str) -> str:
        """``openstack image task show <id>``.

        :param task_id: a task ID.
        """
        return 'openstack image task show %s' % task_id

    def read_data(self, image_id: str) -> str:
        """``openstack image save``.

        :param image_id: an image ID.
        """
        return 'openstack image save'


#: The advice of every command of this plugin.
ADVICE = CommandAdvice()
