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

"""Import tasks that do not start, and store writes held, inside Glance.

Two switches, each a file in the run directory read at each use (no
restart), patched into every Glance worker by ``cloud_wsgi_glance.py``:

* **Imports stalled** (:data:`STALL_FILE` exists): Glance 33 runs an
  import as ``TaskExecutor.begin_processing(task_id)``
  (``glance/async_/taskflow_executor.py``) on a thread of its
  ``tasks_pool``, spawned by the import API after it answered 202; the
  first thing that does is move the task from ``pending`` to
  ``processing``. The wrapper waits there while the file exists, so the
  task stays ``pending``, its import lock (``os_glance_import_task``) on
  the image, and nothing else happens: a task "that never starts", as
  when the executor's first database write fails. Once the file is gone
  the task runs as usual (at most :data:`MAX_WAIT` seconds later).
* **Store writes held** (:data:`HOLD_FILE`, JSON ``{"archive": 600}`` or
  one number for every store): each ``filesystem.Store.add`` of that
  store (an upload, an import into it) first waits while the seconds the
  file gives for it have not passed since the write began, reading the
  file again every 0.1 s, so that removing the value releases the write
  at once. With ``max_parallel_stores`` > 1, a held store keeps an import
  "still importing" into it while the other stores are written and the
  image turns ``active``. Glance's own ``os_glance_*`` stores are never
  held.

This module runs on both sides, so it imports only the standard library
(Glance's modules are imported inside :func:`install`).
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

#: Exists while import tasks must not start (in the run directory).
STALL_FILE = 'imports-stalled'
#: Held store writes (in the run directory).
HOLD_FILE = 'store-add-hold.json'
#: The module name of this file's copy in the run directory.
MODULE = 'cloud_slowimport'
#: Longest wait of one task or one write, whatever the files say.
MAX_WAIT = 3600.0
_ANY = '*'
_RESERVED = 'os_glance_'

LOG = logging.getLogger('localcloud.slowimport')


def read_holds(path: pathlib.Path) -> dict[str, float]:
    """Return the held stores of the file ``path``, ``{store or '*': s}``.

    ``{}`` when the file is missing, empty or unreadable.
    """
    try:
        value = json.loads(path.read_text() or '{}')
    except (OSError, ValueError):
        return {}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {_ANY: float(value)}
    if not isinstance(value, dict):
        return {}
    holds = {}
    for store, seconds in value.items():
        try:
            holds[str(store)] = float(seconds)
        except (TypeError, ValueError):
            continue
    return holds


def hold_for(path: pathlib.Path, store: str | None) -> float:
    """Return how long a write into ``store`` is held now (seconds)."""
    if not store or store.startswith(_RESERVED):
        return 0.0
    holds = read_holds(path)
    seconds = holds.get(store, holds.get(_ANY, 0.0))
    return min(seconds, MAX_WAIT) if math.isfinite(seconds) else 0.0


def write_hold(path: pathlib.Path, seconds: float,
               store: str | None = None) -> dict[str, float]:
    """Hold the writes into ``store`` for ``seconds``; the holds in force.

    :param store: a store id; None: every store (other values dropped;
        0 removes the file).
    :raises ValueError: ``seconds`` is negative or not finite.
    """
    seconds = float(seconds)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f'seconds must be finite and >= 0: {seconds}')
    with open(path.with_name(f'.{path.name}.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if store is None and not seconds:
            path.unlink(missing_ok=True)
            return {}
        holds = read_holds(path) if store else {}
        if seconds:
            holds[store or _ANY] = seconds
        else:
            holds.pop(store or _ANY, None)
        tmp = path.with_name(f'.{path.name}.{secrets.token_hex(4)}.tmp')
        tmp.write_text(json.dumps(holds, sort_keys=True) + '\n')
        os.replace(tmp, path)
    return holds


def install(run_dir: pathlib.Path) -> None:
    """Patch this Glance worker's task executor and filesystem store.

    Idempotent; called before the worker serves.
    """
    from glance.async_ import taskflow_executor
    from glance_store._drivers import filesystem

    executor = taskflow_executor.TaskExecutor
    begin = executor.begin_processing
    if getattr(begin, '_localcloud', False):
        return
    stall = run_dir / STALL_FILE
    hold = run_dir / HOLD_FILE

    @functools.wraps(begin)
    def begin_processing(self: typing.Any, task_id: typing.Any) -> typing.Any:
        start = time.monotonic()
        if stall.exists():
            LOG.info('localcloud: task %s stays pending while %s exists',
                     task_id, stall)
        while stall.exists() and time.monotonic() - start < MAX_WAIT:
            time.sleep(0.2)
        return begin(self, task_id)

    begin_processing._localcloud = True  # type: ignore[attr-defined]
    executor.begin_processing = begin_processing

    add = filesystem.Store.add

    @functools.wraps(add)
    def held_add(store: typing.Any, image_id: typing.Any,
                 *args: typing.Any, **kwargs: typing.Any) -> typing.Any:
        start = time.monotonic()
        said = False
        while time.monotonic() - start < hold_for(hold, store.backend_group):
            if not said:
                LOG.info('localcloud: store %s: write of %s held',
                         store.backend_group, image_id)
                said = True
            time.sleep(0.1)
        return add(store, image_id, *args, **kwargs)

    filesystem.Store.add = held_add
