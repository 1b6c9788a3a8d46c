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
"""What the stages of a run share: :class:`Run`, :class:`Chunk`, :class:`Work`.

The stages (:mod:`~osc_image_store.engine.resolve`,
:mod:`~osc_image_store.engine.acquire`,
:mod:`~osc_image_store.engine.reads`,
:mod:`~osc_image_store.engine.checks`,
:mod:`~osc_image_store.engine.delete`,
:mod:`~osc_image_store.engine.prove`,
:mod:`~osc_image_store.engine.release`) take these as inputs and fill
them in; :class:`~osc_image_store.engine.remover.Remover` runs them.
"""

import dataclasses
import threading

from osc_image_store.engine import outcome
from osc_image_store.engine import results
from osc_image_store.sdk import image as sdk_image


@dataclasses.dataclass
class Run:
    """The flags of a run that every stage reads.

    :ivar stop: set (e.g. by a first Ctrl-C): nothing more is started;
        what is in flight finishes and is reported.
    :ivar halted: why the run stopped removing (image locks could not be
        taken any more), or None.
    :ivar not_started: some images were not started (``stop``, or a
        halt).
    """

    stop: threading.Event = dataclasses.field(
        default_factory=threading.Event)
    halted: str | None = None
    not_started: bool = False

    @property
    def ending(self) -> bool:
        """Whether no new request that changes an image may start."""
        return self.stop.is_set() or self.halted is not None


@dataclasses.dataclass
class Work:
    """One image's removal within a chunk.

    Filled in by :class:`~osc_image_store.engine.delete.Deleter`.

    :ivar before: the image as last read before its DELETE.
    :ivar error: the DELETE's error, or None (204, or not sent).
    :ivar sent: the DELETE was (or may have been) sent.
    :ivar row: the image's row when a re-read refused it before its
        DELETE, else None.
    :ivar verdict: :func:`~osc_image_store.engine.outcome.classify`'s
        verdict on the read-back, once sent.
    :ivar after: the image as read back, or None.
    :ivar read_at: when ``before`` was read (:func:`time.monotonic`, s).
    :ivar removed_before: locations of the image in the store that
        earlier rounds removed (a store may hold two).
    """

    before: sdk_image.Image
    error: Exception | None = None
    sent: bool = False
    row: results.Removal | None = None
    verdict: outcome.Verdict | None = None
    after: sdk_image.Image | None = None
    read_at: float = 0.0
    removed_before: int = 0


class Chunk:
    """Rows and in-flight state of the chunk being handled.

    :ivar order: ``(label, image ID or None)`` in input order.
    :ivar failed: ``{label: row}`` of arguments that resolved to no image.
    :ivar rows: ``{image ID: row}`` of the images settled.
    :ivar names: ``{image ID: name}`` as read.
    :ivar sent: IDs of the images whose DELETE may be in flight.
    :ivar read_at: when the chunk's listing was read (monotonic s).
    :ivar mutex: held while a DELETE is decided and marked sent, and
        while the chunk is read again: one re-read at once.
    """

    def __init__(self) -> None:
        self.order: list[tuple[str, str | None]] = []
        self.failed: dict[str, results.Removal] = {}
        self.rows: dict[str, results.Removal] = {}
        self.names: dict[str, str | None] = {}
        self.sent: set[str] = set()
        self.read_at = 0.0
        self.mutex = threading.Lock()
