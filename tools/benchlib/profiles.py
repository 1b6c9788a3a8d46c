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
"""The profiles of the batch comparison: ``loopback`` and ``cloud-like``.

``loopback``
   The CLI talks to Glance on 127.0.0.1 directly; a store DELETE of a
   1 KiB file costs Glance about 20 ms.

``cloud-like``
   Every request the CLI sends to the image API (both tools, every
   request: discovery, reads, DELETEs, lock tags) goes through a
   :class:`localcloud.FaultProxy` in this process that holds it back for
   one network round trip before forwarding it (``--one-way-ms``, 2 ms
   each way by default: one ``delay_request`` of 4 ms on every request;
   the proxy applies only the first matching delay rule to a request, so
   the two directions are one rule); and each store DELETE takes a
   backend time inside Glance (``--store-delete-ms``, 200 ms by default:
   :meth:`localcloud.LocalCloud.set_store_delete_delay`, the thread
   serving the DELETE sleeps before the file goes, as an RBD or Swift
   removal keeps it).  The delay is on only during the timed runs.
   Keystone is not behind the proxy: the CLI's token request (about two
   requests per run) and Glance's checks of the token go direct.

Where the defaults come from: a round trip on a data-centre LAN is
about 1 to 2 ms between an operator's host and the API (so 2 ms each
way is on the slow side of a LAN, well below a WAN); removing a
multi-GB image from RBD or Swift (or a file on NFS) takes from about
100 ms to seconds, so 200 ms is the fast end of a real backend.
"""

from __future__ import annotations

import contextlib
import typing as ty

import localcloud

from benchlib import procs

LOOPBACK = 'loopback'
CLOUD_LIKE = 'cloud-like'
NAMES = (LOOPBACK, CLOUD_LIKE)
#: Defaults of the cloud-like profile (milliseconds).
ONE_WAY_MS = 2.0
STORE_DELETE_MS = 200.0


class Profile:
    """One profile on the started cloud: the CLI's environment and more.

    What surrounds each timed run (:meth:`timed`), the proxy.

    :param name: :data:`LOOPBACK` or :data:`CLOUD_LIKE`.
    :param one_way_ms: network latency each way (cloud-like only).
    :param store_delete_ms: backend time of each store delete (cloud-like
        only).
    """

    def __init__(self, name: str, cloud: localcloud.LocalCloud,
                 one_way_ms: float = ONE_WAY_MS,
                 store_delete_ms: float = STORE_DELETE_MS):
        if name not in NAMES:
            raise ValueError(f'unknown profile {name!r}')
        self.name = name
        self.cloud = cloud
        cloudy = name == CLOUD_LIKE
        self.one_way_ms = one_way_ms if cloudy else 0.0
        self.store_delete_ms = store_delete_ms if cloudy else 0.0
        self.proxy: localcloud.FaultProxy | None = None
        self.env = procs.child_env(cloud)
        self._seen = 0

    def start(self) -> Profile:
        """Start the fault proxy (cloud-like); return self."""
        if self.name == CLOUD_LIKE and self.proxy is None:
            self.proxy = localcloud.FaultProxy(self.cloud.url('glance'))
            self.proxy.start()
            if self.one_way_ms:
                # One rule: FaultProxy applies the first matching delay
                # rule of a request only.
                self.proxy.delay_request(2 * self.one_way_ms / 1000,
                                         count=None)
            self.env = procs.child_env(self.cloud, self.proxy.url)
        return self

    def stop(self) -> None:
        """Stop the fault proxy; clear the store delete delay."""
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
        if self.store_delete_ms:
            self.cloud.set_store_delete_delay(0)

    def __enter__(self) -> Profile:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @contextlib.contextmanager
    def timed(self) -> ty.Iterator[None]:
        """Around one timed run: the store deletes' backend time is on."""
        if self.proxy is not None:
            self._seen = len(self.proxy.seen)
        if self.store_delete_ms:
            self.cloud.set_store_delete_delay(self.store_delete_ms / 1000)
        try:
            yield
        finally:
            if self.store_delete_ms:
                self.cloud.set_store_delete_delay(0)

    def proxied(self) -> int | None:
        """Requests the proxy handled in the last timed run (None: none)."""
        if self.proxy is None:
            return None
        return len(self.proxy.seen) - self._seen

    def describe(self) -> str:
        """One line for the report."""
        if self.name == LOOPBACK:
            return ('loopback: the CLI talks to Glance on 127.0.0.1, a '
                    'store DELETE of a 1 KiB file')
        return (f'cloud-like: every image API request of the CLI through a '
                f'proxy adding {self.one_way_ms:g} ms each way '
                f'({2 * self.one_way_ms:g} ms per request), each store '
                f'DELETE held {self.store_delete_ms:g} ms inside Glance; '
                'Keystone direct')

    def params(self) -> dict:
        """What the JSON records of the profile."""
        return {'name': self.name, 'one_way_ms': self.one_way_ms,
                'store_delete_ms': self.store_delete_ms}
