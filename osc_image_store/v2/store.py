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
import re
import threading
import typing as ty

from openstack import exceptions as sdk_exc
from osc_lib.command import command
from osc_lib import exceptions
from osc_lib import utils

from osc_image_store.engine import lock
from osc_image_store.engine import outcome
from osc_image_store.engine import remover
from osc_image_store.engine import results
from osc_image_store.i18n import _
from osc_image_store.sdk import exceptions as store_exc
from osc_image_store.v2 import advice
from osc_image_store.v2 import args
from osc_image_store.v2 import output

if ty.TYPE_CHECKING:
    from openstack.identity.v3 import _proxy as identity_v3

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
#: The extra column with --copy-to.
COPY_FIELDS = {'copied_to': 'Copied To'}

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
    'byte of it was read back), moved (--copy-to: the only copy was copied '
    'into the other store, proven, then removed), unlinked (removed from a '
    'read-only store: Glance dropped the location, the data stays), '
    'would-remove and would-move (--dry-run), absent (not in the store, with '
    '--ignore-missing), skipped (--all-images: the store holds the only '
    'copy), failed (nothing was removed, or the data proof failed), '
    'unverified (the Images API accepted the removal but the result could '
    'not be proven), unknown (no clear answer: it may or may not have '
    'happened), copying (--copy-to: interrupted while Glance was copying '
    'the image, as last read; nothing was removed). Exit codes: 0 when no '
    'image is failed, unverified, unknown or copying; 1 otherwise, or when '
    'the command could not run '
    '(unknown store, multi-store not enabled, authentication); 2 for usage '
    'errors; 130 when interrupted (Ctrl-C: nothing new is started, what is '
    'in flight finishes and is reported; a second Ctrl-C stops at once and '
    'reports in-flight removals as unknown). Two runs of this command never '
    'work on one image at once: each run locks an image (a tag named by the '
    'image ID in the private metadata definitions namespace '
    'osc-image-store-locks; admin only by default) from just before its last '
    'read until its outcome is known, and waits up to --lock-wait for an '
    'image another run has locked. An image whose removal had an unknown or '
    'unverified outcome keeps its lock until an operator has checked it and '
    'cleared it ("openstack image store lock delete <image-id>"); so does '
    'an image of a run that was killed. Other tools (openstack image delete '
    '--store) do not honour the locks. Re-running the same command after '
    'an interruption or a failure finishes the job. See where an image '
    'lives with "openstack image store list --image <image>".')


class ListStore(command.Lister):
    get_epilog = args.epilog
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
            type=args.image_name_or_id,
            help=_('Add an "Image Data" column saying whether each store '
                   'holds the data of this image (name or ID)'),
        )
        return parser

    def take_action(
        self, parsed_args: argparse.Namespace,
    ) -> tuple[tuple[str, ...], list[tuple[ty.Any, ...]]]:
        client = args.image_store_client(self)
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
    get_epilog = args.epilog
    _description = _(
        'Remove the data of image(s) from one store, keeping the copies in '
        'the other stores (DELETE /v2/stores/<store>/<image>). Never '
        'deletes an image: an image whose only copy is in the store is '
        'refused (with --all-images, skipped), or, with --copy-to, copied '
        'into another store first. Each image is read just before its '
        'removal and again after it, and one byte of a remaining copy is '
        'read to prove the data is still there.')

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        self._parser = parser
        # The exit codes, then cliff's epilog (the plugin line).
        parser.epilog = '\n\n'.join(
            filter(None, (EXIT_CODES_HELP, parser.epilog)))
        args.add_delete_arguments(parser)
        return parser

    def take_action(
        self, parsed_args: argparse.Namespace,
    ) -> tuple[tuple[str, ...], list[tuple[ty.Any, ...]]]:
        self._check_usage(parsed_args)
        fields = dict(REMOVAL_FIELDS)
        if parsed_args.copy_to:
            fields.update(COPY_FIELDS)
        unknown = set(parsed_args.columns) - set(fields.values())
        if unknown:
            # Checked before anything is removed (cliff checks it after).
            raise exceptions.CommandError(
                _('No column %(columns)s; columns are: %(all)s') % {
                    'columns': ', '.join(sorted(unknown)),
                    'all': ', '.join(fields.values())})
        client = args.image_store_client(self)
        stop = threading.Event()
        engine = remover.Remover(client, parsed_args.store, remover.Options(
            dry_run=parsed_args.dry_run,
            ignore_missing=parsed_args.ignore_missing,
            verify_data=parsed_args.verify_data,
            skip_only_copy=parsed_args.all_images,
            allow_read_only_copies=parsed_args.allow_read_only_copies,
            parallel=parsed_args.parallel, copy_to=parsed_args.copy_to,
            max_copies=parsed_args.max_copies,
            copy_timeout=parsed_args.copy_timeout,
            stall_after=parsed_args.copy_stall_timeout,
            lock_wait=parsed_args.lock_wait), stop=stop,
            on_wait=self._say, advice=advice.ADVICE)
        total = None if parsed_args.all_images else len(parsed_args.images)
        progress = output.Progress.for_command(
            self.app.stderr, parsed_args.formatter, total)
        progress.copies = lambda: engine.copies_pending
        rows: list[results.Removal] = []
        self._aborted: str | None = None
        self._interrupted = 0
        owner = None
        try:
            images: ty.Iterable[ty.Any] = parsed_args.images
            if parsed_args.all_images:
                owner = self._project_id(parsed_args)
                images = client.images_in_store(parsed_args.store,
                                                owner=owner)
            with output.StopOnSigint(stop):
                for row in engine.run(images):
                    if row.failed:
                        with progress.paused():
                            LOG.error(_('Image %(image)s: %(result)s'), {
                                'image': row.image_id or row.image_name,
                                'result': row.result})
                    rows.append(row)
                    progress.update(len(rows), sum(r.failed for r in rows),
                                    engine.copies_pending,
                                    engine.bytes_copied)
        except (store_exc.MultiStoreNotEnabled, store_exc.StoreNotFound,
                store_exc.InvalidIdentifier, lock.LockError) as exc:
            raise exceptions.CommandError(str(exc))
        except KeyboardInterrupt:
            rows.extend(engine.interrupted_rows())
            self._interrupted = 2
        except outcome.REQUEST_ERRORS as exc:
            if not rows:
                raise
            # E.g. the image listing failed part-way: report what was done.
            self._aborted = str(exc)
        finally:
            progress.clear()
        if stop.is_set() and not self._interrupted:
            self._interrupted = 1
        if engine.halted and not (self._interrupted or self._aborted):
            # The image locks could not be taken any more.
            self._aborted = engine.halted + (
                _(' The others were not started.') if engine.not_started
                else '')
        self._not_started = engine.not_started
        self._report_locks(engine)
        self._summary = {'failed': sum(r.failed for r in rows),
                         'total': len(rows), 'store': parsed_args.store,
                         'counts': output.failure_counts(rows)
                         or _('none failed'),
                         'line': output.batch_summary(rows,
                                                      parsed_args.store)}
        self._report(parsed_args, engine, rows, owner)
        keys = tuple(fields)
        return tuple(fields.values()), [
            tuple(output.cell(getattr(r, f), parsed_args.formatter)
                  for f in keys) for r in rows]

    def _check_usage(self, parsed_args: argparse.Namespace) -> None:
        """Usage errors (exit 2) that argparse cannot see."""
        if parsed_args.project is not None and not parsed_args.all_images:
            self._parser.error(_('--project can only be used with '
                                 '--all-images'))
        if parsed_args.check_untagged and not parsed_args.all_images:
            self._parser.error(_('--check-untagged can only be used with '
                                 '--all-images'))
        if parsed_args.copy_to == parsed_args.store:
            self._parser.error(_('--copy-to must name another store than '
                                 '--store'))

    def _report(self, parsed_args: argparse.Namespace,
                engine: remover.Remover, rows: list[results.Removal],
                owner: str | None) -> None:
        """The lines on stderr after the rows: plan, or what is left."""
        if not rows and not self._interrupted:
            LOG.warning(_('No image to remove from store %s.'),
                        parsed_args.store)
        read_only = bool(engine.target and engine.target.is_read_only)
        if parsed_args.dry_run:
            if rows:
                LOG.warning(output.plan_summary(rows, parsed_args.store,
                                                parsed_args.copy_to,
                                                read_only))
            return
        if (not parsed_args.all_images or self._interrupted
                or self._aborted):
            return
        try:
            left, read = engine.left_in_store(owner,
                                              parsed_args.check_untagged)
        except outcome.REQUEST_ERRORS as exc:
            LOG.warning(_('Could not check what is left in store %(store)s: '
                          '%(error)s'), {'store': parsed_args.store,
                                         'error': exc})
            return
        LOG.warning(output.left_summary(left, read, parsed_args.store,
                                        parsed_args.check_untagged,
                                        parsed_args.project, read_only))

    @staticmethod
    def _report_locks(engine: remover.Remover) -> None:
        """Name the locks an operator has to look at, with the command."""
        def clear(image_ids: list[str]) -> str:
            return advice.ADVICE.clear_locks(lock.NAMESPACE, image_ids)

        if engine.kept_locks:
            LOG.warning(_(
                '%(count)d image(s) keep their lock after an outcome in '
                'doubt; no run of this command touches them until it is '
                'cleared. Check where their data is ("openstack image store '
                'list --image <image>"), then run: %(command)s'), {
                    'count': len(engine.kept_locks),
                    'command': clear(engine.kept_locks)})
        if engine.unreleased or engine.lock_unsure:
            images = list(dict.fromkeys(engine.unreleased
                                        + engine.lock_unsure))
            LOG.warning(_(
                '%(count)d image(s) may keep a lock of this run that it could '
                'not remove, or whose lock request got no answer (see their '
                'rows and "openstack image store lock list"); once no request '
                'of this run can still reach Glance, run: %(command)s'), {
                    'count': len(images),
                    'command': clear(images)})
        if engine.locked_out:
            LOG.warning(_(
                '%(count)d image(s) stayed locked by another run; if no run '
                'of this command works on them any more (see "openstack '
                'image store lock list"), check them and run: %(command)s'), {
                    'count': len(engine.locked_out),
                    'command': clear(engine.locked_out)})

    @staticmethod
    def _say(text: str) -> None:
        """Tell the operator about a wait for locked images (stderr)."""
        LOG.warning(text)

    def _project_id(self, parsed_args: argparse.Namespace) -> str | None:
        """The ID of --project (a name is looked up in the Identity API)."""
        if not parsed_args.project:
            return None
        identity = ty.cast(
            'identity_v3.Proxy',
            self.app.client_manager.sdk_connection.identity)
        value = parsed_args.project
        missing = exceptions.CommandError(
            _('No project with name or ID %s') % value)
        try:
            project = identity.find_project(value, ignore_missing=False)
        except sdk_exc.ForbiddenException:
            # Not allowed to look projects up: take the value as an ID.
            if not re.fullmatch(r'[A-Za-z0-9_-]+', value):
                raise missing
            return value
        except sdk_exc.NotFoundException:
            raise missing
        # A value such as ".." can make the Identity API answer for
        # another path: only an exact match counts.
        if value not in (project.id, project.name):
            raise missing
        return project.id

    def run(self, parsed_args: argparse.Namespace) -> int:
        result = super().run(parsed_args)
        if self._aborted:
            raise exceptions.CommandError(
                _('Stopped after %(total)d image(s), reported above: '
                  '%(error)s') % dict(self._summary, error=self._aborted))
        if self._interrupted:
            LOG.error(_('Interrupted: %(total)d image(s) reported above '
                        '(%(counts)s)%(rest)s.'),
                      dict(self._summary, rest=_(
                          '; the others were not started')
                          if self._not_started or self._interrupted == 2
                          else ''))
            return 130
        if self._summary['failed'] and parsed_args.dry_run:
            raise exceptions.CommandError(
                _('Dry run: %(failed)d of %(total)d images could not be '
                  'removed from store %(store)s (%(counts)s)')
                % self._summary)
        if self._summary['failed']:
            # Counts what the rows say, each by its Result (an unverified
            # removal was accepted, a "failed" one may have removed the copy
            # before its data proof failed): never "not removed".
            raise exceptions.CommandError(self._summary['line'])
        return result
