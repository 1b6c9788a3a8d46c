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
"""A per-image hold left after a removal whose outcome is unknown.

A store DELETE that timed out, dropped its connection or got a 5xx may
still be carried out by Glance later, and a 204 that leaves the store
listed may hide a ghost copy.  Until the image shows what happened, no
run may remove another copy of it on a read that predates that late
effect.  So the run writes the image property ``osc_image_store_lock =
<token> <host> <pid> <epoch>`` (``PATCH`` op ``add``) and leaves it:
every run refuses an image that carries a hold younger than
:data:`STALE_AFTER`, and removes an older one after removing a copy.
Runs themselves are kept apart by :mod:`~osc_image_store.engine.runlock`.
"""

import dataclasses
import os
import re
import socket
import time
import typing as ty
import uuid

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc

from osc_image_store.sdk import resources

if ty.TYPE_CHECKING:
    from osc_image_store.sdk import proxy as sdk_proxy

#: The image property that carries a hold.
PROPERTY = 'osc_image_store_lock'
#: Errors of one request (openstacksdk and keystoneauth).
_ERRORS = (sdk_exc.SDKException, ks_exc.ClientException)
#: Seconds after which a hold no longer stops a removal.
STALE_AFTER = 15 * 60


@dataclasses.dataclass(frozen=True)
class Holder:
    """Who wrote an image's hold, from the property's value.

    :ivar token: the holding run's random token (None if unparsable).
    :ivar owner: ``host:pid`` of the holder, for messages.
    :ivar since: when it was written, seconds since the epoch (or None).
    """

    token: str | None
    owner: str
    since: float | None

    @classmethod
    def parse(cls, value: str) -> 'Holder':
        """Read a hold value written by :meth:`Lock.value`.

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
        """Whether the hold is older than :data:`STALE_AFTER`."""
        if self.since is None:
            return False
        return (now or time.time()) - self.since > STALE_AFTER

    def describe(self) -> str:
        """``host:pid since <UTC time>``, for messages."""
        if self.since is None:
            return self.owner
        return '%s since %s UTC' % (self.owner, time.strftime(
            '%Y-%m-%d %H:%M:%S', time.gmtime(self.since)))


def host_name() -> str:
    """This machine's short host name, plain ASCII, 30 characters at most.

    Shown in holds and in the register of
    :mod:`~osc_image_store.engine.runlock`.
    """
    name = socket.gethostname().split('.')[0]
    return re.sub(r'[^A-Za-z0-9-]', '-', name)[:30] or 'host'


class Lock:
    """This run's identity in the holds it writes.

    :param token: a unique token (default: a random one).
    """

    def __init__(self, token: str | None = None):
        self.token = token or uuid.uuid4().hex
        self.owner = '%s %d' % (host_name(), os.getpid())

    def value(self, now: float | None = None) -> str:
        """The property value to write now."""
        return '%s %s %d' % (self.token, self.owner, now or time.time())

    def holder(self, image: resources.Image) -> Holder | None:
        """Who wrote the image's hold, or None when it has none."""
        value = image.get_property(PROPERTY)
        return Holder.parse(value) if value else None

    def blocks(self, image: resources.Image,
               now: float | None = None) -> Holder | None:
        """Another run's live hold on the image, if any."""
        holder = self.holder(image)
        if holder is None or holder.token == self.token:
            return None
        return None if holder.is_stale(now) else holder

    @staticmethod
    def unset_command(image_id: str) -> str:
        """The command that removes a hold."""
        return 'openstack image unset --property %s %s' % (PROPERTY,
                                                           image_id)


def mark(proxy: 'sdk_proxy.Proxy', lock: Lock, image_id: str) -> str | None:
    """Write this run's hold on an image (``PATCH`` op ``add``).

    :returns: None when written, else the error for an operator.
    """
    try:
        proxy.add_image_property(image_id, PROPERTY, lock.value())
    except _ERRORS as exc:
        return str(exc)
    return None


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
