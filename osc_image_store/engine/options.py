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
"""How a batch of removals runs: :class:`Options`."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Options:
    """How a batch runs.

    :ivar dry_run: check everything, change nothing (``would-remove``).
    :ivar ignore_missing: an image not in the store is ``absent``.
    :ivar verify_data: prove a remaining copy readable after each removal.
    :ivar skip_only_copy: a sole copy is ``skipped`` (not ``failed``).
    :ivar allow_read_only_copies: remove even when every other copy is
        on a read-only store.
    :ivar parallel: requests in flight at once (>= 1); 4 by default, a
        mild load on the Images API.
    :ivar chunk_size: images per chunk (one listing, and at most this
        many images locked at once); None: 20, or ``parallel`` if more.
    :ivar lock_wait: seconds to wait for an image locked by another run
        before reporting it ``failed``.
    :ivar fresh_for: seconds a read may age before a DELETE rests on it.
    :ivar copy_to: a store to copy sole copies into before their removal
        (None: sole copies stay).
    :ivar max_copies: copies in flight at once (each goes through Glance's
        staging store and counts against its quotas); plain removals do
        not wait for them.
    :ivar copy_timeout: seconds to wait for one copy.
    :ivar stall_after: seconds a copy may go without any change of its
        import task (status, ``updated_at``, message) or of the image's
        import markers before it is reported as stalled, with its task
        (a processing task that has shown no update yet also gets time to
        stage the image; see
        :func:`~osc_image_store.engine.copy.quiet_allowed`).  300 s by
        default: Glance updates a running copy's task about once a
        minute, so five updates were missed.
    """

    dry_run: bool = False
    ignore_missing: bool = False
    verify_data: bool = True
    skip_only_copy: bool = False
    allow_read_only_copies: bool = False
    parallel: int = 4
    chunk_size: int | None = None
    lock_wait: float = 30.0
    fresh_for: float = 1.0
    copy_to: str | None = None
    max_copies: int = 2
    copy_timeout: float = 3600.0
    stall_after: float = 300.0
