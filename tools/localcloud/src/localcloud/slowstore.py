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

"""Slow store deletes inside Glance, as RBD or Swift removals are.

The filesystem store unlinks a file at once; a real backend can take
seconds, while Glance holds the image it read for that DELETE (its
location is still in the database). To reproduce that, each Glance
worker wraps ``glance_store._drivers.filesystem.Store.delete`` so that
every backend delete first sleeps the seconds the *delay file*
(:data:`FILE_NAME` in the run directory) gives for that store. The file
is read at each delete, so tests switch delays on and off without
restarting Glance.

The delay file is JSON: an object ``{"fast": 3, "*": 1}`` (a store id,
or ``"*"`` for the stores with no value of their own), or one number
for every store. Missing or empty: no delay. It applies to every Glance
of the cloud (the odd Glance's ``fast`` is ``fast`` too; the store of
the multi-store-off Glance only takes ``"*"``); Glance's own staging
and tasks stores (``os_glance_*``) are never slowed down.

Measured (2 cores, PostgreSQL, Glance of 2 workers x 8 threads): a
store DELETE answers in 0.02 s without a delay and in delay + 0.02 s
with one; six DELETEs of 3 s at once all end after 3.06 s while GETs
and undelayed DELETEs answer in 0.02-0.06 s; a whole-image DELETE
sleeps once per location, one after the other. More slow deletes at
once than threads (16) queue in gunicorn.

This module runs on both sides, so it imports only the standard
library: :meth:`localcloud.LocalCloud.set_store_delete_delay` calls
:func:`write`, and ``cloud_wsgi_glance.py`` imports a copy of it
(:data:`MODULE` in the run directory) and calls :func:`install`.
"""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import math
import os
import pathlib
import secrets
import time
import typing

#: The delay file, in the run directory.
FILE_NAME = 'store-delete-delay.json'
#: The module name of this file's copy in the run directory.
MODULE = 'cloud_slowstore'
#: The key of the default delay.
ANY = '*'
_RESERVED = 'os_glance_'

LOG = logging.getLogger('localcloud.slowstore')


def read(path: pathlib.Path) -> dict[str, float]:
    """Return the delays of the file ``path``, ``{store or '*': seconds}``.

    ``{}`` when the file is missing or empty.

    :raises ValueError: the file is not a number or an object of numbers.
    """
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    if not text.strip():
        return {}
    value = json.loads(text)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {ANY: float(value)}
    if not isinstance(value, dict):
        raise ValueError(f'{path}: neither a number nor an object')
    return {str(key): float(seconds) for key, seconds in value.items()}


def delay_for(path: pathlib.Path, store: str | None) -> float:
    """Return the seconds a delete from ``store`` waits now.

    :param store: the store id (None: a Glance with multi-store off).
    """
    if store and store.startswith(_RESERVED):
        return 0.0
    try:
        delays = read(path)
    except (OSError, ValueError) as exc:
        LOG.warning('localcloud: ignoring the delay file: %s', exc)
        return 0.0
    seconds = delays.get(store or ANY, delays.get(ANY, 0.0))
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def write(path: pathlib.Path, seconds: float,
          store: str | None = None) -> dict[str, float]:
    """Set a delay in the file ``path``; return the delays now in force.

    :param seconds: the delay (0: none).
    :param store: the store it is for; None: every store (the other
        values are dropped, and 0 removes the file); ``'*'``: the stores
        with no value of their own. A store's 0 is kept: it overrides
        ``'*'``.
    :raises ValueError: ``seconds`` is negative or not finite.
    """
    seconds = float(seconds)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f'seconds must be finite and >= 0: {seconds}')
    # Under a lock: processes attached to one cloud may write at once.
    with open(path.with_name(f'.{path.name}.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if store is None and not seconds:
            path.unlink(missing_ok=True)
            return {}
        delays = read(path) if store else {}
        delays[store or ANY] = seconds
        # Atomic: Glance workers read it at any time.
        tmp = path.with_name(f'.{path.name}.{secrets.token_hex(4)}.tmp')
        tmp.write_text(json.dumps(delays, sort_keys=True) + '\n')
        os.replace(tmp, path)
    return delays


def install(path: pathlib.Path) -> None:
    """Make the filesystem store's deletes wait what ``path`` says.

    Called in each Glance worker, before it serves; idempotent. The
    sleep happens in the thread serving the request, before the file is
    unlinked.
    """
    from glance_store._drivers import filesystem

    original = filesystem.Store.delete
    if getattr(original, '_localcloud_path', None) is not None:
        return

    @functools.wraps(original)
    def delete(store: typing.Any, location: typing.Any,
               *args: typing.Any, **kwargs: typing.Any) -> typing.Any:
        seconds = delay_for(path, store.backend_group)
        if seconds:
            LOG.info('localcloud: store %s: delete of %s waits %.2f s',
                     store.backend_group,
                     getattr(location.store_location, 'path', '?'), seconds)
            time.sleep(seconds)
        return original(store, location, *args, **kwargs)

    delete._localcloud_path = path  # type: ignore[attr-defined]
    filesystem.Store.delete = delete
