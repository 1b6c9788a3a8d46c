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
"""The printed report: targets and ratios to OSC, then the details.

Targets (issue 9; all are upper limits): wall time at ``--parallel 1``
<= 0.85x OSC's and at ``--parallel 4`` <= 0.45x; Glance requests per
image besides the one-byte data proof <= 1.3; client CPU per image <=
OSC's; ``--help`` start-up <= OSC's; the plugin's import < 20 ms; peak
RSS of ``--all-images`` <= 120 MiB; time per image "flat" from 200 to
2000 images, read here as at most 1.10x.
"""

from benchlib import accesslog

#: name -> (limit, target text).
TARGETS = {
    'ratio_p1': (0.85, '<= 0.85x OSC'),
    'ratio_p4': (0.45, '<= 0.45x OSC'),
    'requests': (1.3, '<= 1.3'),
    'cpu': (1.0, '<= 1.00x OSC'),
    'startup': (1.0, '<= 1.00x OSC'),
    'import': (20.0, '< 20 ms'),
    'rss': (120.0, '<= 120 MiB'),
    'flat': (1.10, 'flat (<= 1.10x)'),
}


def verdict(name: str, value: float, unit: str = '') -> str:
    limit, _ = TARGETS[name]
    if value <= limit and not (name == 'import' and value == limit):
        return 'met'
    return f'missed by {value - limit:.2f}{unit}'


def table(head: tuple, rows: list[tuple]) -> str:
    """Plain-text columns, left-aligned, with rules above and below."""
    cells = [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(r[i]) for r in [head, *cells])
              for i in range(len(head))]
    rule = '  '.join('-' * w for w in widths)

    def line(row: tuple) -> str:
        return '  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
    return '\n'.join([rule, line(head), rule, *map(line, cells), rule])


def _main_rows(results: dict) -> list[tuple]:
    rows: list[tuple] = []
    b = results.get('batch')
    if b:
        s = b['summary']
        osc = s['osc']
        n = b['n']
        for key, target in (('p1', 'ratio_p1'), ('p4', 'ratio_p4'),
                            ('p8', None)):
            v = s[key]
            rows.append((
                f'wall time, {v["label"]} ({n} images)',
                f'{osc["wall"]:.2f} s', f'{v["wall"]:.2f} s',
                f'{v["ratio"]:.2f}x', TARGETS[target][1] if target else '',
                verdict(target, v['ratio'], 'x') if target else ''))
        base = osc['requests_per_image_no_proof']
        for key in ('p1', 'p4', 'p8'):
            v = s[key]
            value = v['requests_per_image_no_proof']
            rows.append((
                'Glance requests/image besides the proof, --parallel '
                f'{v["parallel"]}', f'{base:.2f}', f'{value:.2f}',
                f'{value / base:.2f}x', TARGETS['requests'][1],
                verdict('requests', value)))
        for key in ('p1', 'p4', 'p8'):
            v = s[key]
            rows.append((
                f'client CPU/image, --parallel {v["parallel"]}',
                f'{osc["cpu_per_image_ms"]:.1f} ms',
                f'{v["cpu_per_image_ms"]:.1f} ms', f'{v["cpu_ratio"]:.2f}x',
                TARGETS['cpu'][1], verdict('cpu', v['cpu_ratio'], 'x')))
    st = results.get('startup')
    if st:
        rows.append((f'start-up, --help (median of {st["runs"]})',
                     f'{st["osc"]["wall_ms"]:.0f} ms',
                     f'{st["plugin"]["wall_ms"]:.0f} ms',
                     f'{st["ratio"]:.2f}x', TARGETS['startup'][1],
                     verdict('startup', st['ratio'], 'x')))
        rows.append(('import osc_image_store.plugin (alone; after OSC\'s)',
                     '', f'{st["import_ms"]:.1f} ms; '
                     f'{st["import_after_osc_ms"]:.1f} ms', '',
                     TARGETS['import'][1],
                     verdict('import', st['import_ms'], ' ms')))
    sc = results.get('scale')
    if sc and sc['sizes']:
        sizes = sorted(sc['sizes'])
        figures = [sc['sizes'][k] for k in sizes]
        label = ' / '.join(str(k) for k in sizes)
        rss = max(f['maxrss_mib'] for f in figures)
        rows.append((f'peak RSS, --all-images, {label} images', '',
                     ' / '.join(f'{f["maxrss_mib"]:.1f}' for f in figures)
                     + ' MiB', '', TARGETS['rss'][1],
                     verdict('rss', rss, ' MiB')))
        per = [f['wall_per_image_ms'] for f in figures]
        growth = per[-1] / per[0]
        rows.append((f'time/image, --all-images, {label} images', '',
                     ' / '.join(f'{p:.1f}' for p in per) + ' ms',
                     f'{growth:.2f}x' if len(per) > 1 else '',
                     TARGETS['flat'][1],
                     verdict('flat', growth, 'x') if len(per) > 1 else ''))
    return rows


def _detail_tables(results: dict) -> list[str]:
    out = []
    b = results.get('batch')
    if b:
        s = b['summary']
        out.append(f'Glance requests per image by kind (the CLI\'s only, '
                   f'median of {b["rounds"]} rounds); Keystone: the CLI\'s '
                   'requests per run, and Glance\'s checks of its token:')
        out.append(table(
            ('variant', *accesslog.KINDS, 'total', 'w/o GET file',
             'Keystone', 'token checks'),
            [(v['label'], *(f'{v["kinds_per_image"][k]:.2f}'
                            for k in accesslog.KINDS),
              f'{v["requests_per_image"]:.2f}',
              f'{v["requests_per_image_no_proof"]:.2f}',
              f'{v["keystone"]:.0f}', f'{v["validations"]:.0f}')
             for v in s.values()]))
        out.append('Time and CPU (medians; "rounds": wall time ratio to '
                   'OSC in each round; CPU in ms per image: the CLI '
                   'process, and the servers Glance + Keystone + '
                   'PostgreSQL; others\': CPU-s other jobs used during '
                   'the run; settle: the lock\'s waits, see below):')
        rows: list[tuple] = []
        for v in s.values():
            walls = v['walls']
            settle = (f'>= {v["lock"]["settle_min_s"]:.0f} s' if v['lock']
                      else '')
            rows.append((
                v['label'], f'{v["wall"]:.2f} s ({min(walls):.2f}-'
                f'{max(walls):.2f})', f'{v["wall_per_image_ms"]:.1f}',
                ' '.join(f'{r:.2f}' for r in v['round_ratios']),
                f'{v["cpu_per_image_ms"]:.1f}',
                f'{v["server_cpu_per_image_ms"]:.1f}',
                f'{v["others_cpu_s"]:.1f}', f'{v["maxrss_mib"]:.0f} MiB',
                settle))
        out.append(table(('variant', 'wall (min-max)', 'ms/image', 'rounds',
                          'CLI CPU', 'servers CPU', 'others\'', 'peak RSS',
                          'settle'), rows))
    sc = results.get('scale')
    if sc and sc['sizes']:
        out.append('--all-images --store archive, real removals, default '
                   'options and table output (one run per size; requests '
                   'per image by kind):')
        sized: list[tuple] = []
        for size, f in sorted(sc['sizes'].items()):
            kinds = f['requests']['kinds']
            sized.append((
                str(size), f'{f["wall"]:.1f} s',
                f'{f["wall_per_image_ms"]:.1f}',
                f'{f["cpu_per_image_ms"]:.1f}', f'{f["maxrss_mib"]:.1f} MiB',
                f'{f["servers"]["servers"] / size * 1000:.1f}',
                ', '.join(f'{k} {kinds[k] / size:.2f}'
                          for k in accesslog.KINDS if kinds[k]),
                f'{f["created_s"]:.0f} s'))
        out.append(table(('images', 'wall', 'ms/image', 'CLI CPU ms/image',
                          'peak RSS', 'servers CPU ms/image',
                          'requests/image', 'creating them'), sized))
    return out


def render(results: dict) -> str:
    """The whole report."""
    m = results['machine']
    dirty = (f' + uncommitted changes in {", ".join(m["dirty"])}'
             if m['dirty'] else '')
    head = [
        f'osc-image-store benchmark, {m["date"]}, commit {m["commit"]}'
        f'{dirty}',
        f'{m["cpus"]} CPUs ({m["cpu_model"]}), {m["memory_gib"]} GiB, '
        f'Linux {m["kernel"]}, Python {m["python"]}; '
        + ', '.join(f'{k} {v}' for k, v in m['versions'].items()),
        f'load average (1 min): {m["loadavg_start"]:.1f} at start, '
        f'{m.get("loadavg_end", 0):.1f} at the end; whole run '
        f'{results.get("total_s", 0):.0f} s',
    ]
    b = results.get('batch')
    if b:
        loads = [x for v in b['summary'].values() for x in v['loads']]
        head.append(
            f'batch: {b["n"]} fresh images per variant and round, '
            f'{b["rounds"]} rounds, order rotated; OSC: one '
            '`openstack image delete --store cheap <ids>` (it takes many '
            'images per call); load before the timed runs '
            f'{min(loads):.1f} to {max(loads):.1f}')
    parts = ['\n'.join(head), table(
        ('figure', 'OSC', 'this tool', 'ratio', 'target', 'verdict'),
        _main_rows(results))]
    parts += _detail_tables(results)
    if b:
        parts.append(_lock_note(b))
    p = results.get('profile')
    if p:
        parts.append(
            f'CPU profile of store delete --parallel 4 over {p["images"]} '
            f'images (every thread, CPU time; {p["wall"]:.0f} s under the '
            'profiler, which slows pure-Python code most: compare shares, '
            'not seconds):\n' + p['summary'])
    warnings = results.get('warnings', [])
    parts.append('\n'.join(f'WARNING: {w}' for w in warnings)
                 or 'every run did what it should (all images left the '
                 'store, kept the other copy and no hold was left)')
    return '\n\n'.join(parts)


def _lock_note(b: dict) -> str:
    """What the lock between runs costs, from the requests and chunks."""
    osc = b['summary']['osc']['wall']
    lines = ['What the lock between runs (engine/runlock.py) costs, '
             'measured ("lock": its namespace register: GET, PUT, GET to '
             'take it, a GET before each later chunk, GET, PUT to release '
             'it; one 1 s settle wait per run, and one more per minute):']
    for key in ('p1', 'p4', 'p8'):
        v = b['summary'][key]
        lock = v['lock']
        kinds = v['kinds_per_image']
        text = (f'  {v["label"]}: {kinds["lock"]:.2f} lock requests and '
                f'{kinds["GET listing"]:.2f} listings per image, of '
                f'{v["requests_per_image_no_proof"]:.2f} requests/image '
                'besides the proof')
        if lock:
            rest = v['wall'] - lock['settle_min_s']
            text += (f'; {lock["chunks"]} chunk(s) of up to '
                     f'{lock["chunk_size"]} images; at least '
                     f'{lock["settle_min_s"]:.0f} s of {v["wall"]:.1f} s in '
                     'the settle wait '
                     f'({lock["settle_min_s"] / v["wall"]:.0%})'
                     f'; less that {rest:.1f} s = {rest / osc:.2f}x OSC')
        lines.append(text)
    return '\n'.join(lines)
