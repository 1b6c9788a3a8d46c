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
"""``openstack image store ...`` commands."""

import argparse
import logging
import threading
import typing as ty

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc
from osc_lib.command import command
from osc_lib import exceptions
from osc_lib import utils

from osc_image_store.engine import remover
from osc_image_store.engine import results
from osc_image_store.i18n import _
from osc_image_store import plugin
from osc_image_store.sdk import exceptions as store_exc
from osc_image_store.sdk import identifiers
from osc_image_store.v2 import output

if ty.TYPE_CHECKING:
    from openstack.identity.v3 import _proxy as identity_v3

    from osc_image_store.sdk import proxy

LOG = logging.getLogger(__name__)

#: Removal attribute -> column label, for every command that shows removals.
REMOVAL_FIELDS = {
    'image_id': 'ID',
    'image_name': 'Name',
    'store': 'Store',
    'result': 'Result',
    'remaining_stores': 'Remaining Stores',
    'reason': 'Reason',
}

#: Store attribute -> column label; the second part only with --long.
STORE_FIELDS = {
    'id': 'ID',
    'description': 'Description',
    'is_default': 'Default',
    'is_read_only': 'Read Only',
}
STORE_LONG_FIELDS = {'type': 'Type', 'weight': 'Weight'}

EXIT_CODES_HELP = _(
    'Results: removed (the copy left the store, another copy stays and one '
    'byte of it was read back), unlinked (removed from a read-only store: '
    'Glance dropped the location, the data stays), would-remove (--dry-run), '
    'absent (not in the store, with --ignore-missing), skipped (--all-images: '
    'the store holds the only copy), failed (nothing was removed, or the data '
    'proof failed), unverified (the Images API accepted the removal but the '
    'result could not be proven), unknown (no clear answer: it may or may '
    'not have happened). Exit codes: 0 when no image is failed, unverified '
    'or unknown; 1 otherwise, or when the command could not run (unknown '
    'store, multi-store not enabled, authentication); 2 for usage errors; '
    '130 when interrupted (Ctrl-C: nothing new is started, what is in '
    'flight finishes and is reported; a second Ctrl-C stops at once and '
    'reports in-flight removals as unknown). Runs of this command lock each '
    'image (property osc_image_store_lock) while they remove a copy, so two '
    'runs never remove two copies of one image at once; other tools do not '
    'honour that lock. See where an image lives with "openstack image store '
    'list --image <image>".')


def image_store_client(cmd: command.Command) -> 'proxy.Proxy':
    """This plugin's Images API proxy, as built by plugin.make_client.

    :param cmd: a command of this plugin.
    :returns: :class:`osc_image_store.sdk.proxy.Proxy`.
    """
    return ty.cast('proxy.Proxy',
                   getattr(cmd.app.client_manager, plugin.API_NAME))


def _argument_type(
    check: ty.Callable[[str], str],
) -> ty.Callable[[str], str]:
    """Turn an identifier check into an argparse type (exit code 2).

    :param check: a function of :mod:`osc_image_store.sdk.identifiers`.
    :returns: an argparse ``type`` that raises ArgumentTypeError with the
        check's message.
    """
    def convert(value: str) -> str:
        try:
            return check(value)
        except store_exc.InvalidIdentifier as exc:
            raise argparse.ArgumentTypeError(str(exc))
    convert.__name__ = check.__name__
    return convert


#: argparse type of a store ID.
store_id = _argument_type(identifiers.check_store_id)
#: argparse type of an image name or ID.
image_name_or_id = _argument_type(identifiers.check_image_name_or_id)


class ListStore(command.Lister):
    _description = _(
        'List the stores (backends) of the Images API '
        '(GET /v2/info/stores). With --image, also say which stores hold '
        'that image\'s data.')

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--long',
            action='store_true',
            help=_('Also list store type and weight (admin only by default: '
                   'GET /v2/info/stores/detail)'),
        )
        parser.add_argument(
            '--image',
            metavar='<image>',
            type=image_name_or_id,
            help=_('Add an "Image Data" column saying whether each store '
                   'holds the data of this image (name or ID)'),
        )
        return parser

    def take_action(
        self, parsed_args: argparse.Namespace,
    ) -> tuple[tuple[str, ...], list[tuple[ty.Any, ...]]]:
        client = image_store_client(self)
        fields = dict(STORE_FIELDS)
        try:
            stores = None
            if parsed_args.long:
                try:
                    stores = client.stores(details=True)
                    fields.update(STORE_LONG_FIELDS)
                except sdk_exc.ForbiddenException:
                    LOG.warning(_('The cloud does not let you read store '
                                  'details (type, weight): listing the basic '
                                  'columns only.'))
            if stores is None:
                stores = client.stores()
            image = (client.resolve_image(parsed_args.image)
                     if parsed_args.image else None)
        except (store_exc.MultiStoreNotEnabled, store_exc.ImageNotFound,
                store_exc.AmbiguousImage) as exc:
            raise exceptions.CommandError(str(exc))
        rows = [utils.get_item_properties(s, tuple(fields)) for s in stores]
        labels = tuple(fields.values())
        if image is not None:
            labels += ('Image Data',)
            rows = [row + (store.id in image.store_ids,)
                    for row, store in zip(rows, stores)]
        return labels, [tuple(output.cell(v, parsed_args.formatter)
                              for v in row) for row in rows]


class DeleteImageFromStore(command.Lister):
    _description = _(
        'Remove the data of image(s) from one store, keeping the copies in '
        'the other stores (DELETE /v2/stores/<store>/<image>). Never '
        'deletes an image: an image whose only copy is in the store is '
        'refused (or, with --all-images, skipped). Each image is read just '
        'before its removal and again after it, and one byte of a '
        'remaining copy is read to prove the data is still there.')

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        self._parser = parser
        parser.epilog = EXIT_CODES_HELP
        parser.add_argument(
            '--store', metavar='<store>', required=True, type=store_id,
            help=_('Store (backend) to remove the image data from (ID, '
                   'as listed by "openstack image store list")'),
        )
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument(
            'images', metavar='<image>', nargs='*', type=image_name_or_id,
            # argparse counts a positional as given unless its value IS the
            # default: a constant makes "no image, no --all-images" an error.
            default=_NO_IMAGES,
            help=_('Image(s) to remove from the store (name or ID)'),
        )
        which.add_argument(
            '--all-images', action='store_true',
            help=_('Remove the store\'s copy of every image you can see '
                   'that has data in the store (hidden images included); '
                   'images whose only copy is in the store are listed as '
                   '"skipped", never deleted'),
        )
        parser.add_argument(
            '--project', metavar='<project>', type=_non_empty,
            help=_('With --all-images: only images owned by this project '
                   '(name or ID)'),
        )
        parser.add_argument(
            '--parallel', metavar='<count>', type=_positive_int,
            default=DEFAULT_PARALLEL,
            help=_('Send this many requests at once (1 to %(max)d, default '
                   '%(default)d); one image never has two removals in '
                   'flight, and the output keeps the input order')
            % {'max': MAX_PARALLEL, 'default': DEFAULT_PARALLEL},
        )
        parser.add_argument(
            '--dry-run', action='store_true',
            help=_('Do every check on a fresh read, change nothing; Result '
                   'is "would-remove"'),
        )
        parser.add_argument(
            '--ignore-missing', action='store_true',
            help=_('Count an image that is not in the store as a success '
                   '(Result "absent"), so that a runbook can be re-run'),
        )
        verify = parser.add_mutually_exclusive_group()
        verify.add_argument(
            '--verify-data', dest='verify_data', action='store_true',
            default=True,
            help=_('After each removal, read one byte of the image data to '
                   'prove a remaining copy is readable (default)'),
        )
        verify.add_argument(
            '--no-verify-data', dest='verify_data', action='store_false',
            help=_('Skip that one-byte read: an image left without readable '
                   'data is then NOT detected, and "removed" only means the '
                   'store is no longer listed'),
        )
        parser.add_argument(
            '--allow-read-only-copies', action='store_true',
            help=_('Also remove a copy when every other copy of the image is '
                   'on a read-only store (such as http), whose data Glance '
                   'cannot check; refused by default'),
        )
        return parser

    def take_action(
        self, parsed_args: argparse.Namespace,
    ) -> tuple[tuple[str, ...], list[tuple[ty.Any, ...]]]:
        if parsed_args.project is not None and not parsed_args.all_images:
            self._parser.error(_('--project can only be used with '
                                 '--all-images'))
        unknown = set(parsed_args.columns) - set(REMOVAL_FIELDS.values())
        if unknown:
            # Checked before anything is removed (cliff checks it after).
            raise exceptions.CommandError(
                _('No column %(columns)s; columns are: %(all)s') % {
                    'columns': ', '.join(sorted(unknown)),
                    'all': ', '.join(REMOVAL_FIELDS.values())})
        client = image_store_client(self)
        stop = threading.Event()
        engine = remover.Remover(client, parsed_args.store, remover.Options(
            dry_run=parsed_args.dry_run,
            ignore_missing=parsed_args.ignore_missing,
            verify_data=parsed_args.verify_data,
            skip_only_copy=parsed_args.all_images,
            allow_read_only_copies=parsed_args.allow_read_only_copies,
            parallel=parsed_args.parallel), stop=stop)
        total = None if parsed_args.all_images else len(parsed_args.images)
        progress = output.Progress.for_command(
            self.app.stderr, parsed_args.formatter, total)
        rows: list[results.Removal] = []
        self._aborted: str | None = None
        self._interrupted = 0
        try:
            images: ty.Iterable[ty.Any] = parsed_args.images
            if parsed_args.all_images:
                images = client.images_in_store(
                    parsed_args.store, owner=self._project_id(parsed_args))
            with output.StopOnSigint(stop):
                for row in engine.run(images):
                    if row.failed:
                        progress.clear()
                        LOG.error(_('Image %(image)s: %(result)s'), {
                            'image': row.image_id or row.image_name,
                            'result': row.result})
                    rows.append(row)
                    progress.update(len(rows), sum(r.failed for r in rows))
        except (store_exc.MultiStoreNotEnabled, store_exc.StoreNotFound,
                store_exc.InvalidIdentifier) as exc:
            raise exceptions.CommandError(str(exc))
        except KeyboardInterrupt:
            rows.extend(engine.interrupted_rows())
            self._interrupted = 2
        except _BATCH_ERRORS as exc:
            if not rows:
                raise
            # E.g. the image listing failed part-way: report what was done.
            self._aborted = str(exc)
        finally:
            progress.clear()
        if stop.is_set() and not self._interrupted:
            self._interrupted = 1
        self._not_started = engine.not_started
        self._summary = {'failed': sum(r.failed for r in rows),
                         'total': len(rows), 'store': parsed_args.store}
        if not rows and not self._interrupted:
            LOG.warning(_('No image to remove from store %s.'),
                        parsed_args.store)
        fields = tuple(REMOVAL_FIELDS)
        return tuple(REMOVAL_FIELDS.values()), [
            tuple(output.cell(getattr(r, f), parsed_args.formatter)
                  for f in fields) for r in rows]

    def _project_id(self, parsed_args: argparse.Namespace) -> str | None:
        """The ID of --project (a name is looked up in the Identity API)."""
        if not parsed_args.project:
            return None
        identity = ty.cast(
            'identity_v3.Proxy',
            self.app.client_manager.sdk_connection.identity)
        try:
            project = identity.find_project(parsed_args.project,
                                            ignore_missing=False)
        except sdk_exc.ForbiddenException:
            # Not allowed to look projects up: take the value as an ID.
            return parsed_args.project
        except sdk_exc.NotFoundException:
            raise exceptions.CommandError(
                _('No project with name or ID %s') % parsed_args.project)
        return project.id

    def run(self, parsed_args: argparse.Namespace) -> int:
        result = super().run(parsed_args)
        if self._aborted:
            raise exceptions.CommandError(
                _('Stopped after %(total)d image(s), reported above: '
                  '%(error)s') % dict(self._summary, error=self._aborted))
        if self._interrupted:
            LOG.error(_('Interrupted: %(total)d image(s) reported above '
                        '(%(failed)d failed, unverified or unknown)%(rest)s.'),
                      dict(self._summary, rest=_(
                          '; the others were not started')
                          if self._not_started or self._interrupted == 2
                          else ''))
            return 130
        if self._summary['failed'] and parsed_args.dry_run:
            raise exceptions.CommandError(
                _('Dry run: %(failed)d of %(total)d images could not be '
                  'removed from store %(store)s') % self._summary)
        if self._summary['failed']:
            raise exceptions.CommandError(
                _('%(failed)d of %(total)d images were not removed from store '
                  '%(store)s, or their outcome is unverified or unknown (see '
                  'Result and Reason)') % self._summary)
        return result


_NO_IMAGES: tuple[str, ...] = ()

#: Errors that end a batch before its end (the rows so far are shown).
_BATCH_ERRORS = (sdk_exc.SDKException, ks_exc.ClientException)


def _non_empty(value: str) -> str:
    """argparse type: a value that is not empty or blank."""
    if not value.strip():
        raise argparse.ArgumentTypeError(_('must not be empty'))
    return value


#: Requests in flight at once by default: a mild load on the Images API.
DEFAULT_PARALLEL = 4
#: At most as many as the HTTP connection pool of a keystoneauth session
#: holds (requests' default, 10): more would only queue for connections.
MAX_PARALLEL = 10


def _positive_int(value: str) -> int:
    """argparse type: an integer from 1 to MAX_PARALLEL."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_PARALLEL:
        raise argparse.ArgumentTypeError(
            _('must be a whole number from 1 to %(max)d, not %(value)r')
            % {'max': MAX_PARALLEL, 'value': value})
    return number
