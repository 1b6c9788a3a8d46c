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
"""How the engine's messages tell an operator what to do next.

A row's reason names an action: see where an image's data is, clear a
lock, run again with an option, copy an image first.  The engine names
these in its own terms, Images API calls and
:class:`~osc_image_store.engine.options.Options` fields (:class:`Advice`);
a caller with commands of its own, such as the CLI, subclasses it to
name its commands and options instead
(:class:`osc_image_store.v2.advice.CommandAdvice`).
"""

import typing as ty

#: The metadata definitions namespace of the image locks (the name
#: :mod:`~osc_image_store.engine.lock` uses).
_TAGS = '/v2/metadefs/namespaces/%s/tags'


class Advice:
    """The actions the engine's messages point to, as Images API calls.

    Each method returns a phrase that the engine quotes in a sentence.
    """

    def option(self, name: str) -> str:
        """How to set an option of the engine.

        See :class:`~osc_image_store.engine.options.Options`.

        :param name: the field, e.g. ``copy_to`` or ``ignore_missing``;
            ``store``: the store the engine was given.
        :returns: e.g. ``Options.copy_to``.
        """
        return name if name == 'store' else 'Options.%s' % name

    def where(self, image_id: str) -> str:
        """How to see which stores hold an image's data.

        :param image_id: an image ID.
        :returns: e.g. ``GET /v2/images/<id>`` (its ``stores``).
        """
        return 'GET /v2/images/%s (its "stores")' % image_id

    def clear_locks(self, namespace: str,
                    image_ids: ty.Iterable[str]) -> str:
        """How to clear the locks of images.

        :param namespace: the lock namespace.
        :param image_ids: image IDs.
        :returns: one ``DELETE .../tags/<id>`` per image.
        """
        return '; '.join('DELETE %s/%s' % (_TAGS % namespace, image_id)
                         for image_id in image_ids)

    def list_locks(self, namespace: str) -> str:
        """How to list the image locks.

        :param namespace: the lock namespace.
        :returns: ``GET /v2/metadefs/namespaces/<ns>/tags``.
        """
        return 'GET ' + _TAGS % namespace

    def open_namespace(self, namespace: str) -> str:
        """How to make the lock namespace private and unprotected.

        :param namespace: the lock namespace.
        :returns: the namespace update.
        """
        return ('PUT /v2/metadefs/namespaces/%s with "visibility": '
                '"private", "protected": false' % namespace)

    def delete_image(self, image_id: str) -> str:
        """How to delete a whole image (never done by this package).

        :param image_id: an image ID.
        :returns: ``DELETE /v2/images/<id>``.
        """
        return 'DELETE /v2/images/%s' % image_id

    def copy_image(self, image_id: str, stores: str) -> str:
        """How to copy an image into stores.

        :param image_id: an image ID.
        :param stores: store IDs, space separated, or a placeholder.
        :returns: the copy-image import.
        """
        return ('POST /v2/images/%s/import with method copy-image into %s'
                % (image_id, stores))

    def show_task(self, task_id: str) -> str:
        """How to read an import task.

        :param task_id: a task ID.
        :returns: ``GET /v2/tasks/<id>``.
        """
        return 'GET /v2/tasks/%s' % task_id

    def read_data(self, image_id: str) -> str:
        """How to read an image's data.

        :param image_id: an image ID.
        :returns: ``GET /v2/images/<id>/file``.
        """
        return 'GET /v2/images/%s/file' % image_id


#: The engine's own terms, for callers that give no advice of theirs.
API = Advice()
