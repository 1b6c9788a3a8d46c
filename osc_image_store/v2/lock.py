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
"""``openstack image store lock ...``: see and clear image locks."""

import argparse
import logging
import typing as ty

from openstack import exceptions as sdk_exc
from osc_lib.command import command
from osc_lib import exceptions

from osc_image_store.engine import lock
from osc_image_store.engine import outcome
from osc_image_store.i18n import _
from osc_image_store.sdk import exceptions as store_exc
from osc_image_store.sdk import identifiers
from osc_image_store.v2 import args
from osc_image_store.v2 import output

LOG = logging.getLogger(__name__)


def _image_id(value: str) -> str:
    """argparse type: an image ID (a lock is named by one)."""
    try:
        return identifiers.check_image_id(value).lower()
    except store_exc.InvalidIdentifier as exc:
        raise argparse.ArgumentTypeError(str(exc))


#: What a 404 for the lock namespace means to someone who lists locks.
_INVISIBLE = ('No image lock is visible to you: the locks\' namespace '
              '%(namespace)s does not exist yet, or it is not visible to you '
              '(it is private: admin only by default, so a user without the '
              'admin role sees no lock even when images are locked).')


class ListLock(command.Lister):
    get_epilog = args.epilog
    _description = _(
        'List the images that runs of "openstack image store delete" have '
        'locked: tags of the metadata definitions namespace %s (admin only '
        'by default). A lock that stays after its run ended marks an '
        'outcome in doubt or a run that was killed.') % lock.NAMESPACE

    def take_action(
        self, parsed_args: argparse.Namespace,
    ) -> tuple[tuple[str, ...], list[tuple[ty.Any, ...]]]:
        client = args.image_store_client(self)
        try:
            tags = lock.current_locks(client)
            images = client.images_by_id(
                [t.name for t in tags or () if identifiers.is_uuid(t.name)])
        except outcome.REQUEST_ERRORS as exc:
            raise exceptions.CommandError(
                _('Could not read the image locks: %s') % exc)
        if tags is None:
            LOG.warning(_(_INVISIBLE), {'namespace': lock.NAMESPACE})
            tags = []
        elif not tags:
            LOG.warning(_('No image is locked.'))
        rows = []
        for tag in tags:
            image = images.get(tag.name)
            rows.append((tag.name, image.name if image else None,
                         sorted(image.store_ids) if image else None,
                         lock.since(tag)))
        return (('Image ID', 'Name', 'Stores', 'Locked Since'),
                [tuple(output.cell(v, parsed_args.formatter) for v in row)
                 for row in rows])


class DeleteLock(command.Command):
    get_epilog = args.epilog
    _description = _(
        'Clear the locks of images (tags of the metadata definitions '
        'namespace %s) left by runs of "openstack image store delete" that '
        'were killed, or kept after an outcome in doubt. Only once no run '
        'works on the images: check where their data is first ("openstack '
        'image store list --image <image>"). Changes nothing else.'
    ) % lock.NAMESPACE

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'images', metavar='<image-id>', nargs='+', type=_image_id,
            help=_('ID of an image whose lock to clear (repeat for more)'),
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> None:
        client = args.image_store_client(self)
        failed = 0
        for image_id in dict.fromkeys(parsed_args.images):
            try:
                lock.clear(client, image_id)
            except sdk_exc.NotFoundException:
                failed += 1
                LOG.error(_('Image %(image)s has no lock visible to you: '
                            'there is none, or the locks\' namespace '
                            '%(namespace)s is not visible to you (it is '
                            'private: admin only by default).'),
                          {'image': image_id, 'namespace': lock.NAMESPACE})
            except outcome.REQUEST_ERRORS as exc:
                failed += 1
                LOG.error(_('Could not clear the lock of image %(image)s: '
                            '%(error)s'), {'image': image_id, 'error': exc})
        if failed:
            raise exceptions.CommandError(
                _('%(failed)d of %(total)d locks were not cleared.')
                % {'failed': failed,
                   'total': len(set(parsed_args.images))})
