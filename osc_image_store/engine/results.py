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
"""What happened to each image: :class:`Removal` and its result values."""

import dataclasses
import typing as ty

#: The store's copy is gone, another copy stays and was read (one byte).
REMOVED = 'removed'
#: Removed from a read-only store: Glance dropped the location, but the
#: bytes stay where they were (e.g. at an ``http`` URL).
UNLINKED = 'unlinked'
#: Dry run: every check passed; a removal would be attempted.
WOULD_REMOVE = 'would-remove'
#: The store held the only copy: it was copied to another store (proven
#: by a read), then removed from the store (``Options.copy_to``).
MOVED = 'moved'
#: Dry run: the sole copy would be copied, then removed (``Options.copy_to``).
WOULD_MOVE = 'would-move'
#: Interrupted while its copy ran (its import task was pending or
#: processing, and moving, when last read): Glance may go on with it;
#: nothing was removed.  Run the command again to finish (``Options.copy_to``).
COPYING = 'copying'
#: Not in the store (with ``ignore_missing``).
ABSENT = 'absent'
#: Not attempted: the store holds the only copy (``--all-images``).
SKIPPED = 'skipped'
#: Not done: refused by a check or by the Images API; nothing changed.
FAILED = 'failed'
#: The Images API accepted the removal, but the read-back cannot prove
#: the result (the image could not be read, the store is still listed, an
#: import started meanwhile, or the data proof could not be made).
UNVERIFIED = 'unverified'
#: The removal request got no clear answer and the read-back cannot say
#: whether it happened: it may or may not have (or may still) happen.
UNKNOWN = 'unknown'

#: Results that make the command exit with 1.
FAILURES = frozenset({FAILED, UNVERIFIED, UNKNOWN, COPYING})
#: Every result value, for documentation and checks.
ALL = (REMOVED, MOVED, UNLINKED, WOULD_REMOVE, WOULD_MOVE, ABSENT, SKIPPED,
       FAILED, UNVERIFIED, UNKNOWN, COPYING)


@dataclasses.dataclass(frozen=True)
class Removal:
    """What happened to one image.

    :ivar image_id: the image ID, or None when the argument did not
        resolve to one image.
    :ivar image_name: the image name (or the argument that did not
        resolve).
    :ivar store: the store ID the data was to leave.
    :ivar result: one of :data:`ALL`.
    :ivar remaining_stores: the stores holding the image's data as read
        from the Images API after the last request that could change it
        (planned, for a dry run), sorted; None when that read failed.
    :ivar reason: why, for an operator; None when there is nothing to add.
    :ivar copied_to: the store the sole copy was copied to, when the
        image as last read lists a copy there (a dry run: would be copied
        to) (``Options.copy_to``), else None.
    :ivar size: the image size in bytes, when read (for plans).
    """

    image_id: str | None
    image_name: str | None
    store: str
    result: str
    remaining_stores: tuple[str, ...] | None = ()
    reason: str | None = None
    copied_to: str | None = None
    size: int | None = None

    @property
    def failed(self) -> bool:
        """Whether this image counts as a failure (exit code 1)."""
        return self.result in FAILURES


def row(store: str, image_id: str | None, name: str | None, result: str,
        remaining: ty.Iterable[str] | None, reason: str | None,
        copied_to: str | None = None, size: int | None = None) -> Removal:
    """Build the :class:`Removal` of one image.

    :param store: the store ID the data was to leave.
    :param image_id: the image ID, or None.
    :param name: the image name (or the argument that did not resolve).
    :param result: one of :data:`ALL`.
    :param remaining: store IDs in any order (sorted here), or None when
        the image could not be read.
    :param reason: for an operator, or None.
    :param copied_to: the store copied to (see :class:`Removal`), or
        None.
    :param size: the image size in bytes, or None.
    :returns: :class:`Removal`.
    """
    return Removal(image_id, name, store, result,
                   None if remaining is None else tuple(sorted(remaining)),
                   reason, copied_to, size)
