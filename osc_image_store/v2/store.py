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
import signal
import sys
import threading
import time
import typing as ty

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc
from osc_lib.cli import format_columns
from osc_lib.command import command
from osc_lib import exceptions
from osc_lib import utils

from osc_image_store.i18n import _
from osc_image_store import plugin
from osc_image_store.sdk import exceptions as store_exc
from osc_image_store.sdk import identifiers

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
_FORMATTERS = {'remaining_stores': format_columns.ListColumn}

#: Store attribute -> column label; the second part only with --long.
STORE_FIELDS = {
    'id': 'ID',
    'description': 'Description',
    'is_default': 'Default',
    'is_read_only': 'Read Only',
}
STORE_LONG_FIELDS = {'type': 'Type', 'weight': 'Weight'}

EXIT_CODES_HELP = _(
    'Exit codes: 0 when every image was removed from the store (or would '
    'be, with --dry-run, or is absent, with --ignore-missing, or was '
    'skipped as a sole copy, with --all-images); 1 when any '
    'image failed or the command could not run (unknown store, multi-store '
    'not enabled, authentication); 2 for usage errors; 130 when interrupted '
    '(Ctrl-C: no new removal is started, those in flight finish and are '
    'reported). See where an image lives before and after with '
    '"openstack image store list --image <image>".')


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
        return labels, rows


class DeleteImageFromStore(command.Lister):
    _description = _(
        'Remove the data of image(s) from one store, keeping the copies in '
        'the other stores (DELETE /v2/stores/<store>/<image>). Never '
        'deletes an image: an image whose only copy is in the store is '
        'refused (or, with --all-images, skipped).')

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        self._parser = parser
        parser.epilog = EXIT_CODES_HELP
        parser.add_argument(
            '--store',
            metavar='<store>',
            required=True,
            type=store_id,
            help=_('Store (backend) to remove the image data from (ID, '
                   'as listed by "openstack image store list")'),
        )
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument(
            'images',
            metavar='<image>',
            nargs='*',
            type=image_name_or_id,
            # argparse counts a positional as given unless its value IS the
            # default: a constant makes "no image, no --all-images" an error.
            default=_NO_IMAGES,
            help=_('Image(s) to remove from the store (name or ID)'),
        )
        which.add_argument(
            '--all-images',
            action='store_true',
            help=_('Remove the store\'s copy of every image you can see '
                   'that has data in the store (hidden images included); '
                   'images whose only copy is in the store are listed as '
                   '"skipped", never deleted'),
        )
        parser.add_argument(
            '--project',
            metavar='<project>',
            type=_non_empty,
            help=_('With --all-images: only images owned by this project '
                   '(name or ID)'),
        )
        parser.add_argument(
            '--parallel',
            metavar='<count>',
            type=_positive_int,
            default=DEFAULT_PARALLEL,
            help=_('Handle this many images at once (default %d); one image '
                   'never has two removals in flight, and the output keeps '
                   'the input order') % DEFAULT_PARALLEL,
        )
        parser.add_argument(
            '--dry-run',
            action='store_true',
            help=_('Do every check, send no delete; Result is '
                   '"would remove"'),
        )
        parser.add_argument(
            '--ignore-missing',
            action='store_true',
            help=_('Count an image that is not in the store as a success '
                   '(Result "absent"), so that a runbook can be re-run'),
        )
        parser.add_argument(
            '--verify-data',
            action='store_true',
            help=_('After each removal, read one byte of the image data to '
                   'prove a remaining copy is readable; report the image '
                   'as failed otherwise'),
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
        progress = _Progress.for_command(self.app.stderr, parsed_args)
        removals: list[proxy.Removal] = []
        self._aborted: str | None = None
        try:
            stores = client.stores()
            images: ty.Iterable[ty.Any] = parsed_args.images
            if parsed_args.all_images:
                images = client.images_in_store(
                    parsed_args.store, owner=self._project_id(parsed_args))
            batch = client.remove_images_from_store(
                images, parsed_args.store, stores=stores,
                parallel=parsed_args.parallel,
                skip_only_copy=parsed_args.all_images, stop=stop,
                dry_run=parsed_args.dry_run,
                ignore_missing=parsed_args.ignore_missing,
                verify_data=parsed_args.verify_data)
            with _stop_on_sigint(stop):
                for removal in batch:
                    if removal.failed:
                        # The reason names the image already.
                        progress.clear()
                        LOG.error(removal.reason)
                    removals.append(removal)
                    progress.update(removals)
        except (store_exc.MultiStoreNotEnabled, store_exc.StoreNotFound,
                store_exc.InvalidIdentifier) as exc:
            raise exceptions.CommandError(str(exc))
        except _BATCH_ERRORS as exc:
            if not removals:
                raise
            # E.g. the image listing failed part-way: report what was done.
            self._aborted = str(exc)
        finally:
            progress.clear()
        self._failed = sum(r.failed for r in removals)
        self._interrupted = stop.is_set()
        self._summary = {'failed': self._failed, 'total': len(removals),
                         'store': parsed_args.store}
        columns = tuple(REMOVAL_FIELDS)
        return (
            tuple(REMOVAL_FIELDS.values()),
            [utils.get_item_properties(ty.cast(ty.Any, r), columns,
                                       formatters=_FORMATTERS)
             for r in removals],
        )

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
            LOG.error(_('Interrupted: %(total)d image(s) handled and '
                        'reported above; no further image was changed.'),
                      self._summary)
            return 130
        if self._failed and parsed_args.dry_run:
            raise exceptions.CommandError(
                _('Dry run: %(failed)d of %(total)d images could not be '
                  'removed from store %(store)s') % self._summary)
        if self._failed:
            raise exceptions.CommandError(
                _('Failed to remove %(failed)d of %(total)d images from '
                  'store %(store)s') % self._summary)
        return result


_NO_IMAGES: tuple[str, ...] = ()

#: Errors that end a batch before its end (the rows so far are shown).
_BATCH_ERRORS = (sdk_exc.SDKException, ks_exc.ClientException)


def _non_empty(value: str) -> str:
    """argparse type: a value that is not empty or blank."""
    if not value.strip():
        raise argparse.ArgumentTypeError(_('must not be empty'))
    return value


#: Images handled at once by default: a mild load on the Images API that
#: still divides the wall time of a large batch.
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


class _Progress:
    """A one-line progress report on a terminal's stderr.

    Shown only when stdout and stderr are terminals and the output is a
    table; redrawn at most every 0.2 s.
    """

    def __init__(self, stream: ty.TextIO | None):
        self.stream = stream
        self.shown = False
        self.last = 0.0

    @classmethod
    def for_command(cls, stderr: ty.TextIO,
                    parsed_args: argparse.Namespace) -> '_Progress':
        wanted = (parsed_args.formatter == 'table'
                  and sys.stdout.isatty() and stderr.isatty())
        return cls(stderr if wanted else None)

    def update(self, removals: list['proxy.Removal']) -> None:
        now = time.monotonic()
        if self.stream is None or now - self.last < 0.2:
            return
        self.last = now
        failed = sum(r.failed for r in removals)
        self.stream.write('\r' + _('%(done)d image(s) handled, %(failed)d '
                                   'failed') % {'done': len(removals),
                                                'failed': failed})
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown and self.stream is not None:
            self.stream.write('\r\033[K')
            self.stream.flush()
            self.shown = False


class _stop_on_sigint:
    """Context manager: while active, SIGINT sets an event instead of raising.

    A second SIGINT raises KeyboardInterrupt as usual.
    """

    def __init__(self, event: threading.Event):
        self.event = event
        self.previous: ty.Any = None

    def _handle(self, signum: int, frame: ty.Any) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()

    def __enter__(self) -> '_stop_on_sigint':
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info: ty.Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
