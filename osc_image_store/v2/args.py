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
"""Arguments of the ``openstack image store`` commands.

argparse types that turn the SDK's identifier checks into usage errors
(exit code 2), and the options of ``image store delete``.
"""

import argparse
import typing as ty

from osc_lib.command import command

from osc_image_store.engine import options
from osc_image_store.i18n import _
from osc_image_store import plugin
from osc_image_store.sdk import exceptions as store_exc
from osc_image_store.sdk import identifiers

if ty.TYPE_CHECKING:
    from osc_image_store import guard

#: The options' defaults are the engine's (one definition:
#: :class:`osc_image_store.engine.options.Options`), in whole seconds.
_ENGINE = options.Options()
DEFAULT_PARALLEL = _ENGINE.parallel
DEFAULT_MAX_COPIES = _ENGINE.max_copies
DEFAULT_LOCK_WAIT = int(_ENGINE.lock_wait)
DEFAULT_COPY_TIMEOUT = int(_ENGINE.copy_timeout)
DEFAULT_COPY_STALL_TIMEOUT = int(_ENGINE.stall_after)
#: At most as many as the HTTP connection pool of a keystoneauth session
#: holds (requests' default, 10): more would only queue for connections.
MAX_PARALLEL = 10
#: At most this many copies stream through Glance's staging store at once.
MAX_COPIES = 10
#: The default of the image arguments (see add_delete_arguments).
NO_IMAGES: tuple[str, ...] = ()


def image_store_client(cmd: command.Command) -> 'guard.GuardedProxy':
    """This plugin's Images API proxy, as built by plugin.make_client.

    :param cmd: a command of this plugin.
    :returns: :class:`osc_image_store.guard.GuardedProxy`.
    """
    return ty.cast('guard.GuardedProxy',
                   getattr(cmd.app.client_manager, plugin.API_NAME))


def epilog(cmd: command.Command) -> str:
    """A command's help epilog, as cliff's ``Command.get_epilog`` makes it.

    cliff finds the plugin's distribution by scanning every installed
    distribution (``importlib.metadata.packages_distributions``), which
    costs 20 to 40 ms on each run of any command; the answer is known.

    :param cmd: the command.
    :returns: its epilog, the hooks' epilogs, and the plugin line.
    """
    parts = [getattr(cmd, '_epilog', None) or '']
    for hook in getattr(cmd, '_hooks', ()):
        text = hook.obj.get_epilog() if hook.obj is not None else None
        if text is not None:
            parts.append(text)
    parts.append(_('This command is provided by the osc-image-store '
                   'plugin.'))
    return '\n\n'.join(parts)


def argument_type(
    check: ty.Callable[[str], str],
) -> ty.Callable[[str], str]:
    """Turn an identifier check into an argparse type (exit code 2).

    :param check: a function of :mod:`osc_image_store.sdk.identifiers`.
    :returns: an argparse ``type`` that raises ArgumentTypeError with the
        check's message.
    """
    def convert(value: str) -> str:
        """argparse type: a value the identifier check accepts.

        :param value: the value as typed.
        :returns: the same value.
        :raises: :class:`argparse.ArgumentTypeError` with the check's
            message when it raises
            :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`.
        """
        try:
            return check(value)
        except store_exc.InvalidIdentifier as exc:
            raise argparse.ArgumentTypeError(str(exc))
    convert.__name__ = check.__name__
    return convert


#: argparse type of a store ID.
#:
#: :param value: the store ID as typed.
#: :returns: the same value.
#: :raises: :class:`argparse.ArgumentTypeError` for one that
#:     :func:`~osc_image_store.sdk.identifiers.check_store_id` refuses.
store_id = argument_type(identifiers.check_store_id)
#: argparse type of an image name or ID.
#:
#: :param value: the image name or ID as typed.
#: :returns: the same value.
#: :raises: :class:`argparse.ArgumentTypeError` for one that
#:     :func:`~osc_image_store.sdk.identifiers.check_image_name_or_id`
#:     refuses.
image_name_or_id = argument_type(identifiers.check_image_name_or_id)


def non_empty(value: str) -> str:
    """argparse type: a value that is not empty or blank.

    :param value: the value as typed.
    :returns: the same value (not stripped).
    :raises: :class:`argparse.ArgumentTypeError` when it is empty or only
        whitespace.
    """
    if not value.strip():
        raise argparse.ArgumentTypeError(_('must not be empty'))
    return value


def whole_number(low: int, high: int) -> ty.Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``.

    :param low: the smallest number allowed.
    :param high: the largest number allowed.
    :returns: the type: it takes the value as typed and returns it as an
        :class:`int`, or raises :class:`argparse.ArgumentTypeError` when
        ``int()`` refuses it or the number is out of range.
    """
    def convert(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(
                _('must be a whole number from %(low)d to %(high)d, not '
                  '%(value)r') % {'low': low, 'high': high, 'value': value})
        return number
    return convert


def add_delete_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``openstack image store delete``.

    ``--store`` is required, and so is one of the images or
    ``--all-images``; the checks between options that argparse cannot
    make (``--project`` only with ``--all-images``, ...) are the
    command's.

    :param parser: the command's parser, which gets the options.
    """
    parser.add_argument(
        '--store', metavar='<store>', required=True, type=store_id,
        help=_('Store (backend) to remove the image data from (ID, as '
               'listed by "openstack image store list")'),
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        'images', metavar='<image>', nargs='*', type=image_name_or_id,
        # argparse counts a positional as given unless its value IS the
        # default: a constant makes "no image, no --all-images" an error.
        default=NO_IMAGES,
        help=_('Image(s) to remove from the store (name or ID)'),
    )
    which.add_argument(
        '--all-images', action='store_true',
        help=_('Remove the store\'s copy of every image you can see that '
               'has data in the store (hidden images included); images '
               'whose only copy is in the store are "skipped" (or, with '
               '--copy-to, copied first), never deleted'),
    )
    parser.add_argument(
        '--project', metavar='<project>', type=non_empty,
        help=_('With --all-images: only images owned by this project (name '
               'or ID)'),
    )
    parser.add_argument(
        '--copy-to', metavar='<store>', type=store_id,
        help=_('Before removing an image whose only copy is in the store, '
               'copy it into this store (copy-image import), wait until the '
               'copy is listed, released by Glance and readable, then '
               'remove it ("moved"); if the copy fails, nothing is removed. '
               'Re-running finishes an interrupted run without copying '
               'anything twice'),
    )
    parser.add_argument(
        '--max-copies', metavar='<count>',
        type=whole_number(1, MAX_COPIES), default=DEFAULT_MAX_COPIES,
        help=_('With --copy-to: copies in flight at once (1 to %(max)d, '
               'default %(default)d; each streams through Glance\'s staging '
               'store); plain removals do not wait for them')
        % {'max': MAX_COPIES, 'default': DEFAULT_MAX_COPIES},
    )
    parser.add_argument(
        '--copy-timeout', metavar='<seconds>',
        type=whole_number(1, 7 * 24 * 3600), default=DEFAULT_COPY_TIMEOUT,
        help=_('With --copy-to: how long to wait for one copy (default '
               '%d); then the image is "failed" and its copy in the store '
               'stays') % DEFAULT_COPY_TIMEOUT,
    )
    parser.add_argument(
        '--copy-stall-timeout', metavar='<seconds>',
        type=whole_number(1, 7 * 24 * 3600),
        default=DEFAULT_COPY_STALL_TIMEOUT,
        help=_('With --copy-to: report a copy as stalled ("failed", with '
               'its import task, its state and its last update; the copy in '
               'the store stays) when neither its import task nor the '
               'image\'s import markers have changed for this long '
               '(default %d). A task still "pending" has not started; Glance '
               'updates a running copy\'s task about once a minute, but not '
               'while it first copies the image into its staging store, so '
               'until a first update is seen a running task also gets 1 s '
               'per MiB of the image') % DEFAULT_COPY_STALL_TIMEOUT,
    )
    parser.add_argument(
        '--lock-wait', metavar='<seconds>',
        type=whole_number(0, 7 * 24 * 3600), default=DEFAULT_LOCK_WAIT,
        help=_('How long to wait for an image locked by another run of '
               'this command (default %d; 0: do not wait); the other '
               'images go on meanwhile, and a run never waits while it '
               'holds locks it is not using. Each run locks an image (a tag '
               'named by the image ID in the metadata definitions namespace '
               'osc-image-store-locks) from just before its last read until '
               'its outcome is known; after that wait the image is "failed" '
               'with the time it was locked since and the command that '
               'clears the lock. --dry-run takes no lock') % DEFAULT_LOCK_WAIT,
    )
    parser.add_argument(
        '--parallel', metavar='<count>',
        type=whole_number(1, MAX_PARALLEL), default=DEFAULT_PARALLEL,
        help=_('Send this many requests at once (1 to %(max)d, default '
               '%(default)d); one image never has two removals in flight, '
               'and the output keeps the input order')
        % {'max': MAX_PARALLEL, 'default': DEFAULT_PARALLEL},
    )
    parser.add_argument(
        '--dry-run', action='store_true',
        help=_('Do every check on a fresh read, change nothing; Result is '
               '"would-remove" (or "would-move"), and a summary line says '
               'how many images and bytes would be removed and copied'),
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
        help=_('Also remove a copy when every other copy of the image is on '
               'a read-only store (such as http), whose data Glance cannot '
               'check; refused by default'),
    )
    parser.add_argument(
        '--check-untagged', action='store_true',
        help=_('With --all-images: after the run, read every visible image '
               'one by one (one request per image) to find data in the '
               'store that the image listing does not show (locations '
               'without a store ID, from before multi-store)'),
    )
