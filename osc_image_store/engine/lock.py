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
"""A per-image lock between runs, on an image property, without CAS.

Glance has no compare-and-set: a ``PATCH`` ``add`` of a property that
exists answers 200 and overwrites it, and every save writes back what it
read.  Two runs that remove different stores of one image at the same
time can both pass Glance's "only location" check and leave it without
data.  So each run takes a lock before any store delete, with Fischer's
timed mutual exclusion:

1. read the image (one listing for a chunk) and see no live lock;
2. write ``osc_image_store_lock = <token> <host> <pid> <epoch>``
   (``PATCH`` op ``add``) and get the answer within :data:`SETTLE`
   seconds of the read (a later answer is not trusted);
3. wait :data:`SETTLE` seconds, read again: the lock is held only if the
   value is still this run's.  A run that read the image free before our
   write has written by then, and the last writer wins.

The read in step 3 is also the fresh state the removal is decided on.
The holder removes the property when done (``PATCH`` op ``remove``).  A
lock older than :data:`STALE_AFTER` belongs to a run that died and may be
taken over.  Correct while the Images API answers a ``PATCH`` within
:data:`SETTLE` seconds; a slower answer is detected and that image is
retried, never removed on it.
"""

from concurrent import futures
import dataclasses
import os
import socket
import time
import typing as ty
import uuid

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc

from osc_image_store.sdk import resources

if ty.TYPE_CHECKING:
    from osc_image_store.sdk import proxy as sdk_proxy

#: The image property that holds the lock.
PROPERTY = 'osc_image_store_lock'
#: Seconds: the longest time from a read to the answer of the lock write
#: that is trusted, and the wait before the confirming read.
SETTLE = 1.0
#: Errors of one request (openstacksdk and keystoneauth).
_ERRORS = (sdk_exc.SDKException, ks_exc.ClientException)
#: Seconds after which a lock is taken to belong to a run that died.
STALE_AFTER = 15 * 60


@dataclasses.dataclass(frozen=True)
class Holder:
    """Who holds an image's lock, from the property's value.

    :ivar token: the holding run's random token (None if unparsable).
    :ivar owner: ``host:pid`` of the holder, for messages.
    :ivar since: when it was taken, seconds since the epoch (or None).
    """

    token: str | None
    owner: str
    since: float | None

    @classmethod
    def parse(cls, value: str) -> 'Holder':
        """Read a lock value written by :meth:`Lock.value`.

        :param value: the property value.
        :returns: the holder; an unreadable value gives token None.
        """
        parts = value.split()
        try:
            token, host, pid, since = parts
            return cls(token, '%s:%s' % (host, pid), float(since))
        except ValueError:
            return cls(None, value[:60], None)

    def is_stale(self, now: float | None = None) -> bool:
        """Whether the lock is older than :data:`STALE_AFTER`."""
        if self.since is None:
            return False
        return (now or time.time()) - self.since > STALE_AFTER

    def describe(self) -> str:
        """``host:pid since <UTC time>``, for messages."""
        if self.since is None:
            return self.owner
        return '%s since %s UTC' % (self.owner, time.strftime(
            '%Y-%m-%d %H:%M:%S', time.gmtime(self.since)))


class Lock:
    """This run's lock identity.

    :param token: a unique token (default: a random one).
    """

    def __init__(self, token: str | None = None):
        self.token = token or uuid.uuid4().hex
        self.owner = '%s %d' % (socket.gethostname().split()[0] or 'host',
                                os.getpid())

    def value(self, now: float | None = None) -> str:
        """The property value to write now."""
        return '%s %s %d' % (self.token, self.owner, now or time.time())

    def holder(self, image: resources.Image) -> Holder | None:
        """The image's lock holder, or None when it has no lock."""
        value = image.get_property(PROPERTY)
        return Holder.parse(value) if value else None

    def is_mine(self, image: resources.Image) -> bool:
        """Whether the image's lock value carries this run's token."""
        holder = self.holder(image)
        return holder is not None and holder.token == self.token

    def blocks(self, image: resources.Image,
               now: float | None = None) -> Holder | None:
        """Another run's live lock on the image, if any."""
        holder = self.holder(image)
        if holder is None or holder.token == self.token:
            return None
        return None if holder.is_stale(now) else holder

    @staticmethod
    def unset_command(image_id: str) -> str:
        """The command that clears a lock left behind."""
        return 'openstack image unset --property %s %s' % (PROPERTY,
                                                           image_id)


def take(proxy: 'sdk_proxy.Proxy', lock: Lock,
         images: ty.Sequence[resources.Image], read_at: float,
         pool: futures.Executor, written: set[str], settle: float = SETTLE,
         width: int = 4,
         ) -> tuple[dict[str, resources.Image], list[str],
                    dict[str, Exception]]:
    """Take this run's lock on images read free at ``read_at``.

    Sends one ``PATCH`` per image (on ``pool``), ``width`` at a time; a
    group is read again just before its PATCHes (one listing) once the
    last read is ``settle / 2`` old, so that every lock write is answered
    within ``settle`` seconds of the read that saw the image free, however
    many images there are.  Then waits ``settle`` seconds after the last
    answer and reads the images again with one listing.

    :param proxy: the SDK proxy.
    :param lock: this run's :class:`Lock`.
    :param images: images seen without a live lock.
    :param read_at: ``time.monotonic()`` when that read was sent.
    :param pool: an executor for the PATCHes.
    :param written: the caller's set of image IDs whose lock value may be
        this run's; updated as soon as each PATCH answers (or fails without
        a clear refusal), so that the caller can release them whatever
        happens next.
    :param settle: seconds; see :data:`SETTLE`.
    :param width: PATCHes in flight at once (the pool's size).
    :returns: ``(held, contended, errors)``: the images now held, as read
        by the confirming listing (``{id: Image}``); IDs to try again
        (another run won, an answer came late or not at all, or a read
        failed); and ``{id: error}`` for PATCHes that Glance refused (4xx).
    """
    held: dict[str, resources.Image] = {}
    contended: list[str] = []
    errors: dict[str, Exception] = {}
    claimed: list[str] = []
    late: list[str] = []
    last = read_at
    value = lock.value()
    for start in range(0, len(images), max(1, width)):
        group = [image.id for image in images[start:start + width]]
        if start and time.monotonic() - read_at > settle / 2:
            read_at = time.monotonic()
            try:
                fresh = proxy.images_by_id(group)
            except _ERRORS:
                contended.extend(group)
                continue
            contended.extend(i for i in group if i in fresh
                             and lock.blocks(fresh[i]) is not None)
            group = [i for i in group if i in fresh
                     and lock.blocks(fresh[i]) is None]
        jobs = {image_id: pool.submit(_claim, proxy, image_id, value)
                for image_id in group}
        for image_id, job in jobs.items():
            try:
                answered = job.result()
            except _ERRORS as exc:
                if _refused(exc):
                    errors[image_id] = exc
                else:
                    # It may have been saved (two writes at once can also
                    # make Glance answer 500): try again; release it if
                    # it is ours.
                    written.add(image_id)
                    contended.append(image_id)
                continue
            written.add(image_id)
            last = max(last, answered)
            (late if answered - read_at > settle else claimed).append(
                image_id)
    if not claimed and not late:
        return held, contended, errors
    time.sleep(max(0.0, last + settle - time.monotonic()))
    try:
        now = proxy.images_by_id(claimed + late)
    except _ERRORS:
        return held, contended + claimed + late, errors
    for image_id in claimed + late:
        image = now.get(image_id)
        if image_id in claimed and image is not None and lock.is_mine(image):
            held[image_id] = image
        else:
            contended.append(image_id)
            if image is not None and lock.is_mine(image):
                release(proxy, image_id)
            written.discard(image_id)
    return held, contended, errors


def _refused(error: Exception) -> bool:
    """Whether a PATCH error says the image was not saved (a 4xx)."""
    status = getattr(error, 'status_code', None)
    return status is not None and 400 <= status < 500


def release(proxy: 'sdk_proxy.Proxy', image_id: str) -> str | None:
    """Remove the lock property (``PATCH`` op ``remove``).

    :returns: None when done (or the property was already gone: 409), else
        the error for an operator.
    """
    error: Exception | None = None
    for _attempt in range(2):  # removing a property is safe to repeat
        try:
            proxy.remove_image_property(image_id, PROPERTY)
        except sdk_exc.ConflictException:
            return None  # already gone
        except sdk_exc.HttpException as exc:
            if (exc.status_code or 500) < 500:
                return str(exc)
            error = exc
        except _ERRORS as exc:
            error = exc
        else:
            return None
    return str(error)


def _claim(proxy: 'sdk_proxy.Proxy', image_id: str, value: str) -> float:
    proxy.add_image_property(image_id, PROPERTY, value)
    return time.monotonic()
