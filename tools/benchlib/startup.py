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
"""Start-up of both commands (``--help``) and the plugin's import time.

* ``openstack image store delete --help`` and ``openstack image delete
  --help``, one warm-up run each, then ``runs`` of each, interleaved:
  median wall and CPU time.
* ``python -X importtime -c "import osc_image_store.plugin"``: the
  module's cumulative import time, median of 5 after a warm-up run, alone
  and after ``import osc_lib.command.command, openstack.connection``
  (what OSC has loaded when it loads its plugins).

Bytecode caching is on in these subprocesses (see
:func:`benchlib.procs.child_env`).
"""

import statistics
import sys

from benchlib import procs

PLUGIN_HELP = ['image', 'store', 'delete', '--help']
OSC_HELP = ['image', 'delete', '--help']
MODULE = 'osc_image_store.plugin'
_PRELOAD = 'import osc_lib.command.command, openstack.connection; '


def import_time_ms(code: str, module: str, env: dict,
                   repeat: int = 5) -> list[float]:
    """Cumulative import time (ms) of ``module`` while running ``code``."""
    samples = []
    for _ in range(repeat + 1):     # the first run fills the bytecode cache
        done = procs.run([sys.executable, '-X', 'importtime', '-c', code],
                         env)
        found = 0
        for line in done.stderr.splitlines():
            parts = line.split('|')
            if len(parts) == 3 and parts[2].strip() == module:
                found = int(parts[1])
        samples.append(found / 1000)
    return samples[1:]


def measure(env: dict, runs: int = 10) -> dict:
    """Start-up and import figures."""
    for args in (PLUGIN_HELP, OSC_HELP):
        procs.openstack(args, env)          # warm the caches
    samples: dict[str, list] = {'plugin': [], 'osc': []}
    warnings = []
    for _ in range(runs):
        for key, args in (('plugin', PLUGIN_HELP), ('osc', OSC_HELP)):
            done = procs.openstack(args, env)
            if done.rc != 0:
                warnings.append(f'openstack {" ".join(args)} exited '
                                f'{done.rc}')
            samples[key].append((done.wall, done.cpu))
    out: dict = {'runs': runs, 'warnings': warnings}
    for key in samples:
        out[key] = {
            'wall_ms': statistics.median(w for w, _ in samples[key]) * 1000,
            'cpu_ms': statistics.median(c for _, c in samples[key]) * 1000,
            'walls_ms': [w * 1000 for w, _ in samples[key]]}
    out['ratio'] = out['plugin']['wall_ms'] / out['osc']['wall_ms']
    alone = import_time_ms(f'import {MODULE}', MODULE, env)
    after = import_time_ms(f'{_PRELOAD}import {MODULE}', MODULE, env)
    out['import_ms'] = statistics.median(alone)
    out['import_after_osc_ms'] = statistics.median(after)
    out['import_samples_ms'] = {'alone': alone, 'after_osc': after}
    procs.say(f'start-up: store delete --help {out["plugin"]["wall_ms"]:.0f}'
              f' ms, image delete --help {out["osc"]["wall_ms"]:.0f} ms; '
              f'import {MODULE} {out["import_ms"]:.1f} ms alone, '
              f'{out["import_after_osc_ms"]:.1f} ms after OSC\'s imports')
    return out
