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
"""A CPU profile of every thread of the ``openstack`` CLI.

``python -m cProfile $(which openstack) ...`` profiles the main thread
only, and the engine sends its requests from a thread pool (even with
``--parallel 1``).  Run as a script, this module profiles each thread
with its own :class:`cProfile.Profile` on :func:`time.thread_time` (CPU
time, not wall time: waiting for Glance costs nothing), from before the
CLI's imports to its exit, and writes the merged statistics::

    python tools/benchlib/cliprofile.py [--wall] OUT.prof image store ...

With ``--wall``: the main thread only, on wall time
(:func:`time.perf_counter`): where a run waits (authentication,
discovery, each request, the engine's steps; the engine's pool threads
are left out, the main thread waits for them).

:func:`summary` reads such a file: the hot spots, time by package, the
top functions by own and by cumulative time, and this plugin's.
"""

import collections
import cProfile
import os
import pstats
import re
import sys
import threading
import time

#: (label, file name ending, function): cumulative time of known hot spots.
HOT_SPOTS = (
    ('imports (start-up)', '<frozen importlib._bootstrap>', '_find_and_load'),
    ('OSC shell: initialize_app (plugins, options)', 'osc_lib/shell.py',
     'initialize_app'),
    ('keystoneauth Session.request (every request)', 'keystoneauth1/'
     'session.py', 'request'),
    ('  of which the token (get_auth_ref)', 'keystoneauth1/identity/v3/'
     'base.py', 'get_auth_ref'),
    ('  of which version discovery (get_discovery)', 'keystoneauth1/'
     'discover.py', 'get_discovery'),
    ('  of which Session.get_endpoint', 'keystoneauth1/session.py',
     'get_endpoint'),
    ('openstacksdk resources built (Resource.existing)', 'openstack/'
     'resource.py', 'existing'),
    ('OSC image delete: take_action', 'openstackclient/image/v2/image.py',
     'take_action'),
    ('store delete: take_action', 'osc_image_store/v2/store.py',
     'take_action'),
    ('  the store list (Proxy.stores)', 'osc_image_store/sdk/_proxy.py',
     'stores'),
    ('  chunks (Remover._handle)', 'osc_image_store/engine/remover.py',
     '_handle'),
    ('  locks taken (ImageLocks.take)', 'osc_image_store/engine/lock.py',
     'take'),
    ('  reads (reads.read_fresh)', 'osc_image_store/engine/reads.py',
     'read_fresh'),
    ('  store DELETEs and read-backs (Deleter.remove)',
     'osc_image_store/engine/delete.py', 'remove'),
    ('  reads again before a DELETE (Deleter._refresh)',
     'osc_image_store/engine/delete.py', '_refresh'),
    ('  read-back (reads.read_back)', 'osc_image_store/engine/reads.py',
     'read_back'),
    ('  data proofs (prove.prove_data)', 'osc_image_store/engine/'
     'prove.py', 'prove_data'),
    ('  unlocks (Releaser.unlock)', 'osc_image_store/engine/release.py',
     'unlock'),
    ('json.loads', 'json/__init__.py', 'loads'),
)

_SITE = re.compile(r'[/\\](?:site|dist)-packages[/\\]([^/\\]+)')
_STDLIB = re.compile(r'[/\\]python3\.\d+[/\\]([^/\\]+?)(?:\.py)?(?:[/\\]|$)')


def profile_cli(out: str, args: list[str], wall: bool = False) -> int:
    """Run ``openstack ARGS`` under a profiler per thread; write ``out``.

    :param wall: the main thread only, on wall time.
    """
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()
    original = threading.Thread.run
    timer = time.perf_counter if wall else time.thread_time

    def run(thread: threading.Thread) -> None:
        profile = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profile)
        profile.enable()
        try:
            original(thread)
        finally:
            profile.disable()

    if not wall:
        threading.Thread.run = run  # type: ignore[method-assign,assignment]
    main = cProfile.Profile(timer)
    main.enable()
    try:
        from openstackclient import shell
        code = shell.main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        main.disable()
    # The engine's pools were shut down: their threads end (and stop their
    # profilers) once idle.
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(timeout=10)
    stats = pstats.Stats(main)
    with lock:
        for profile in profiles:
            stats.add(profile)
    stats.dump_stats(out)
    return code or 0


def area(filename: str) -> str:
    """The package (or stdlib module) a profiled function belongs to."""
    if filename == '~':
        return 'built-ins (C)'
    if filename.startswith('<frozen importlib'):
        return 'imports (frozen importlib)'
    if filename.startswith('<frozen '):
        return 'stdlib ' + filename[len('<frozen '):].rstrip('>')
    found = _SITE.search(filename)
    if found:
        return found.group(1).split('.', 1)[0]
    if 'osc_image_store' in filename:
        return 'osc_image_store'
    found = _STDLIB.search(filename)
    if found:
        return 'stdlib ' + found.group(1)
    return os.path.basename(filename)


def _name(key: tuple) -> str:
    filename, line, func = key
    if filename == '~':
        return func
    where = _SITE.split(filename)[-1] if _SITE.search(filename) else (
        filename.split('osc_image_store', 1)[-1] if 'osc_image_store'
        in filename else os.path.basename(filename))
    return f'{where.lstrip("/")}:{line}({func})'


def hot_spots(path: str) -> dict[str, tuple[int, float]]:
    """``{label: (calls, cumulative s)}`` of :data:`HOT_SPOTS`."""
    raw = pstats.Stats(path).stats  # type: ignore[attr-defined]
    out = {}
    for label, ending, func in HOT_SPOTS:
        found = [v for k, v in raw.items()
                 if k[0].endswith(ending) and k[2] == func]
        out[label] = (sum(v[1] for v in found), sum(v[3] for v in found))
    return out


def summary(path: str, cpu_s: float, top: int = 15, wall: bool = False,
            process_wall: float | None = None) -> str:
    """Text: hot spots, time by area, top functions, this plugin's.

    :param cpu_s: the CLI process's CPU time (rusage), for comparison with
        the profiled total (the profiler's own overhead included).
    :param wall: a ``--wall`` profile (main thread, wall time).
    :param process_wall: the process's wall time, start to exit.
    """
    stats = pstats.Stats(path)
    raw = stats.stats       # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values()) or 1e-9
    what = 'wall' if wall else 'CPU'
    areas: collections.Counter = collections.Counter()
    for key, value in raw.items():
        areas[area(key[0])] += value[2]
    if wall:
        head = (f'profiled wall time {total:.3f} s in the main thread '
                f'(process: {process_wall or 0:.3f} s start to exit, '
                f'{cpu_s:.3f} s of CPU, under the profiler; the rest is '
                'the interpreter\'s start and exit)')
    else:
        head = (f'profiled CPU {total:.3f} s over all threads (process: '
                f'{cpu_s:.3f} s of CPU under the profiler)')
    lines = [head, '', f'cumulative {what} of hot spots (calls):']
    for label, (calls, cum) in hot_spots(path).items():
        lines.append(f'  {cum:7.3f} s {cum / total:6.1%}  {label} '
                     f'({calls})')
    lines += ['', f'own {what} by package:']
    for name, seconds in areas.most_common(top):
        lines.append(f'  {seconds:7.3f} s {seconds / total:6.1%}  {name}')
    lines += ['', f'top {top} functions by own {what} (calls, own s, '
              'cum s):']
    for key, value in sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]:
        lines.append(f'  {value[1]:8d} {value[2]:7.3f} {value[3]:7.3f}  '
                     f'{_name(key)}')
    if wall:
        lines += ['', f'top {top * 2} functions by cumulative wall (calls, '
                  'own s, cum s):']
        for key, value in sorted(raw.items(),
                                 key=lambda kv: -kv[1][3])[:top * 2]:
            lines.append(f'  {value[1]:8d} {value[2]:7.3f} {value[3]:7.3f}'
                         f'  {_name(key)}')
    ours = [(k, v) for k, v in raw.items() if 'osc_image_store' in k[0]]
    lines += ['', f'top {top} osc_image_store functions by cumulative '
              f'{what} (calls, own s, cum s):']
    for key, value in sorted(ours, key=lambda kv: -kv[1][3])[:top]:
        lines.append(f'  {value[1]:8d} {value[2]:7.3f} {value[3]:7.3f}  '
                     f'{_name(key)}')
    return '\n'.join(lines)


if __name__ == '__main__':
    del sys.path[0]     # this directory: its modules must not shadow OSC's
    argv = sys.argv[1:]
    wall_time = argv[:1] == ['--wall']
    argv = argv[int(wall_time):]
    if len(argv) < 2:
        sys.exit('usage: cliprofile.py [--wall] OUT.prof <openstack '
                 'arguments>')
    sys.exit(profile_cli(argv[0], argv[1:], wall_time))
