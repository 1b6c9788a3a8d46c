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

    python tools/benchlib/cliprofile.py OUT.prof image store delete ...

:func:`summary` reads such a file: CPU by package, the top functions.
"""

import collections
import cProfile
import os
import pstats
import re
import sys
import threading
import time

#: (label, file name ending, function): cumulative CPU of known hot spots.
HOT_SPOTS = (
    ('openstacksdk resources built (Resource.existing)', 'openstack/'
     'resource.py', 'existing'),
    ('  of which Resource.to_dict', 'openstack/resource.py', 'to_dict'),
    ('keystoneauth Session.request (the request path)', 'keystoneauth1/'
     'session.py', 'request'),
    ('  of which Session.get_endpoint', 'keystoneauth1/session.py',
     'get_endpoint'),
    ('imports (start-up)', '<frozen importlib._bootstrap>', '_find_and_load'),
    ('json.loads', 'json/__init__.py', 'loads'),
)

_SITE = re.compile(r'[/\\](?:site|dist)-packages[/\\]([^/\\]+)')
_STDLIB = re.compile(r'[/\\]python3\.\d+[/\\]([^/\\]+?)(?:\.py)?(?:[/\\]|$)')


def profile_cli(out: str, args: list[str]) -> int:
    """Run ``openstack ARGS`` under a profiler per thread; write ``out``."""
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()
    original = threading.Thread.run

    def run(thread: threading.Thread) -> None:
        profile = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profile)
        profile.enable()
        try:
            original(thread)
        finally:
            profile.disable()

    threading.Thread.run = run      # type: ignore[method-assign,assignment]
    main = cProfile.Profile(time.thread_time)
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


def summary(path: str, cpu_s: float, top: int = 15) -> str:
    """Text: CPU by area, top functions by own and cumulative time.

    :param cpu_s: the CLI process's CPU time (rusage), for comparison with
        the profiled total (the profiler's own overhead included).
    """
    stats = pstats.Stats(path)
    raw = stats.stats       # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values()) or 1e-9
    areas: collections.Counter = collections.Counter()
    for key, value in raw.items():
        areas[area(key[0])] += value[2]
    lines = [f'profiled CPU {total:.2f} s over all threads (process: '
             f'{cpu_s:.2f} s of CPU under the profiler)', '',
             'cumulative CPU of hot spots (calls):']
    for label, ending, func in HOT_SPOTS:
        found = [v for k, v in raw.items()
                 if k[0].endswith(ending) and k[2] == func]
        cum = sum(v[3] for v in found)
        lines.append(f'  {cum:7.3f} s {cum / total:6.1%}  {label} '
                     f'({sum(v[1] for v in found)})')
    lines += ['', 'own CPU by package:']
    for name, seconds in areas.most_common(top):
        lines.append(f'  {seconds:7.3f} s {seconds / total:6.1%}  {name}')
    lines += ['', f'top {top} functions by own CPU (calls, own s, cum s):']
    for key, value in sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]:
        lines.append(f'  {value[1]:8d} {value[2]:7.3f} {value[3]:7.3f}  '
                     f'{_name(key)}')
    ours = [(k, v) for k, v in raw.items() if 'osc_image_store' in k[0]]
    lines += ['', f'top {top} osc_image_store functions by cumulative CPU '
              '(calls, own s, cum s):']
    for key, value in sorted(ours, key=lambda kv: -kv[1][3])[:top]:
        lines.append(f'  {value[1]:8d} {value[2]:7.3f} {value[3]:7.3f}  '
                     f'{_name(key)}')
    return '\n'.join(lines)


if __name__ == '__main__':
    del sys.path[0]     # this directory: its modules must not shadow OSC's
    if len(sys.argv) < 3:
        sys.exit('usage: cliprofile.py OUT.prof <openstack arguments>')
    sys.exit(profile_cli(sys.argv[1], sys.argv[2:]))
