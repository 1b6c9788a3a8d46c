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
"""The printed report, and the performance page's figures.

First the targets of issue 16 with ratios to OSC and verdicts, then the
details.

Targets (issue 16; all are upper limits, default options: every check
and the lock on): one image on loopback, wall time <= 1.10x OSC's; 100
images on loopback, <= 0.85x at the default ``--parallel`` (4) and
<= 1.20x at ``--parallel 1``; 100 images cloud-like, <= 0.35x at the
default ``--parallel``, <= 0.20x at ``--parallel 8`` and <= 1.05x at
``--parallel 1``; client CPU per image <= OSC's; ``--all-images`` over
2000 images, peak RSS <= 120 MiB and time per image <= its value at 200.
Requests are reported, not targeted.  A figure that was not measured
(its phase skipped) says so; no figure fails the run.
"""

import pathlib
import statistics

from benchlib import accesslog
from benchlib import cliprofile
from benchlib import servercost

#: name -> (limit, target text).
TARGETS = {
    'one_image': (1.10, '<= 1.10x OSC'),
    'loopback_default': (0.85, '<= 0.85x OSC'),
    'loopback_p1': (1.20, '<= 1.20x OSC'),
    'cloud_default': (0.35, '<= 0.35x OSC'),
    'cloud_p8': (0.20, '<= 0.20x OSC'),
    'cloud_p1': (1.05, '<= 1.05x OSC'),
    'cpu': (1.00, '<= 1.00x OSC'),
    'rss': (120.0, '<= 120 MiB'),
    'per_image': (1.00, '<= its value at the smallest size (1.00x)'),
    # issue 9's, still printed
    'startup': (1.00, '<= 1.00x OSC (issue 9)'),
    'import': (20.0, '< 20 ms (issue 9)'),
}
#: The variant of the default ``--parallel`` (osc_image_store's Options).
DEFAULT = 'p4'
#: The lines of the performance page between which --rst writes.
RST_BEGIN = '.. bench-results-begin'
RST_END = '.. bench-results-end'
_NOT = 'not measured'


def verdict(name: str, value: float, unit: str = '') -> str:
    """``met``, or ``missed by <how much><unit>``."""
    limit, _ = TARGETS[name]
    if value < limit or (value == limit and name != 'import'):
        return 'met'
    by = value - limit
    return f'missed by {by:.2f}{unit}' if by >= 0.005 else (
        f'missed by {by:.3f}{unit}')


def table(head: tuple, rows: list[tuple]) -> str:
    """Plain-text columns, left-aligned, with rules above and below."""
    cells = [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(r[i]) for r in [head, *cells])
              for i in range(len(head))]
    rule = '  '.join('-' * w for w in widths)

    def line(row: tuple) -> str:
        return '  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
    return '\n'.join([rule, line(head), rule, *map(line, cells), rule])


def _missing(label: str, target: str) -> tuple:
    return (label, '', _NOT, '', TARGETS[target][1], _NOT)


def _wall_row(label: str, osc: float, tool: float, target: str) -> tuple:
    ratio = tool / osc
    return (label, f'{osc:.2f} s', f'{tool:.2f} s', f'{ratio:.2f}x',
            TARGETS[target][1], verdict(target, ratio, 'x'))


def _variant(results: dict, profile: str, key: str) -> dict | None:
    b = (results.get('batch') or {}).get(profile)
    return b['summary'][key] if b else None


def target_rows(results: dict) -> list[tuple]:
    """The rows of issue 16's targets table."""
    rows: list[tuple] = []
    one = results.get('one_image')
    label = 'one image, loopback, wall'
    if one:
        s = one['summary']
        rows.append(_wall_row(f'{label} (median of {one["runs"]})',
                              s['osc']['wall'], s['tool']['wall'],
                              'one_image'))
    else:
        rows.append(_missing(label, 'one_image'))
    for profile, key, target, what in (
            ('loopback', DEFAULT, 'loopback_default', 'default --parallel'),
            ('loopback', 'p1', 'loopback_p1', '--parallel 1'),
            ('cloud-like', DEFAULT, 'cloud_default', 'default --parallel'),
            ('cloud-like', 'p8', 'cloud_p8', '--parallel 8'),
            ('cloud-like', 'p1', 'cloud_p1', '--parallel 1')):
        v = _variant(results, profile, key)
        b = (results.get('batch') or {}).get(profile)
        if v is None or b is None:
            rows.append(_missing(f'images, {profile}, {what}', target))
            continue
        osc = b['summary']['osc']
        rows.append(_wall_row(f'{b["n"]} images, {profile}, {what}',
                              osc['wall'], v['wall'], target))
    cpu_rows = []
    for profile in ('loopback', 'cloud-like'):
        b = (results.get('batch') or {}).get(profile)
        if not b:
            continue
        osc = b['summary']['osc']
        for key in ('p1', 'p4', 'p8'):
            v = b['summary'][key]
            cpu_rows.append((
                f'client CPU/image, {profile}, --parallel {v["parallel"]}',
                f'{osc["cpu_per_image_ms"]:.1f} ms',
                f'{v["cpu_per_image_ms"]:.1f} ms', f'{v["cpu_ratio"]:.2f}x',
                TARGETS['cpu'][1], verdict('cpu', v['cpu_ratio'], 'x')))
    if one:
        s = one['summary']
        cpu_rows.append((
            'client CPU/image, one image, loopback',
            f'{s["osc"]["cpu"] * 1000:.0f} ms',
            f'{s["tool"]["cpu"] * 1000:.0f} ms',
            f'{s["tool"]["cpu_ratio"]:.2f}x', TARGETS['cpu'][1],
            verdict('cpu', s['tool']['cpu_ratio'], 'x')))
    rows += cpu_rows or [_missing('client CPU per image', 'cpu')]
    sc = results.get('scale')
    sizes = {int(k): v for k, v in (sc or {}).get('sizes', {}).items()}
    if sizes:
        order = sorted(sizes)
        label = ' / '.join(str(k) for k in order)
        rss = sizes[order[-1]]['maxrss_mib']
        rows.append((f'--all-images, peak RSS, {label} images', '',
                     ' / '.join(f'{sizes[k]["maxrss_mib"]:.1f}'
                                for k in order) + ' MiB', '',
                     TARGETS['rss'][1], verdict('rss', rss, ' MiB')))
        per = [sizes[k]['wall_per_image_ms'] for k in order]
        growth = per[-1] / per[0]
        rows.append((f'--all-images, time/image, {label} images', '',
                     ' / '.join(f'{p:.1f}' for p in per) + ' ms',
                     f'{growth:.2f}x' if len(per) > 1 else '',
                     TARGETS['per_image'][1],
                     verdict('per_image', growth, 'x') if len(per) > 1
                     else 'one size only'))
    else:
        rows.append(_missing('--all-images, peak RSS', 'rss'))
        rows.append(_missing('--all-images, time/image', 'per_image'))
    return rows


def other_rows(results: dict) -> list[tuple]:
    """Figures without a target in issue 16."""
    rows: list[tuple] = []
    for profile in ('loopback', 'cloud-like'):
        b = (results.get('batch') or {}).get(profile)
        if not b:
            continue
        osc = b['summary']['osc']
        for key in ('p1', 'p4', 'p8'):
            v = b['summary'][key]
            rows.append((f'{b["n"]} images, {profile}, {v["label"]}',
                         f'{osc["wall"]:.2f} s', f'{v["wall"]:.2f} s',
                         f'{v["ratio"]:.2f}x', '', ''))
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
    return rows


def _one_image_tables(one: dict) -> list[str]:
    s = one['summary']
    osc, tool = s['osc'], s['tool']
    out = [f'The one-image path, loopback ({one["runs"]} runs of each, '
           'interleaved; medians): `' + osc['command'] + '` against `'
           + tool['command'] + '` (default output):']
    rows = []
    for v in (osc, tool):
        walls = v['walls']
        servers = v['servers_ms']
        rows.append((
            v['label'], f'{v["wall"]:.2f} s ({min(walls):.2f}-'
            f'{max(walls):.2f})', f'{v["cpu"] * 1000:.0f} ms',
            f'{v["maxrss_mib"]:.0f} MiB', f'{v["total"]:.0f}',
            f'{v["keystone"]:.0f}', f'{v["validations"]:.0f}',
            f'{servers["glance"]:.0f} / {servers["postgres"]:.0f} / '
            f'{servers["keystone"]:.0f}'))
    out.append(table(('command', 'wall (min-max)', 'CLI CPU', 'peak RSS',
                      'Glance requests', 'Keystone', 'token checks',
                      'CPU ms: Glance / PostgreSQL / Keystone'), rows))

    def kind(name: str) -> str:
        return accesslog.kind(*accesslog.unshape(name))

    shapes = sorted(set(osc['shapes']) | set(tool['shapes']),
                    key=lambda x: (kind(x), x))
    out.append('Its Glance requests (medians per run), by kind and shape:')
    out.append(table(('kind', 'request', 'OSC', 'this tool'), [
        (kind(x), x, f'{osc["shapes"].get(x, 0):g}',
         f'{tool["shapes"].get(x, 0):g}') for x in shapes]))
    return out


def _batch_tables(name: str, b: dict) -> list[str]:
    s = b['summary']
    out = [f'Batch, {name} ({b["describe"]}): {b["n"]} images per variant '
           f'and round, {b["rounds"]} round(s). Glance requests per image '
           'by kind (the CLI\'s only, medians); Keystone: the CLI\'s '
           'requests per run, and Glance\'s checks of its token; proxied: '
           'the requests the proxy handled per run:']
    out.append(table(
        ('variant', *accesslog.KINDS, 'total', 'Keystone', 'token checks',
         'proxied'),
        [(v['label'], *(f'{v["kinds_per_image"][k]:.2f}'
                        for k in accesslog.KINDS),
          f'{v["requests_per_image"]:.2f}', f'{v["keystone"]:.0f}',
          f'{v["validations"]:.0f}', _proxied(b, key))
         for key, v in s.items()]))
    out.append('Time and CPU (medians; "rounds": wall time ratio to OSC in '
               'each round; CPU in ms per image: the CLI process, Glance, '
               'PostgreSQL, Keystone, and the benchmark\'s own process '
               '(the proxy\'s threads, cloud-like); others\': CPU-s other '
               'jobs used during the run):')
    rows: list[tuple] = []
    for v in s.values():
        walls = v['walls']
        rows.append((
            v['label'], f'{v["wall"]:.2f} s ({min(walls):.2f}-'
            f'{max(walls):.2f})', f'{v["wall_per_image_ms"]:.1f}',
            ' '.join(f'{r:.2f}' for r in v['round_ratios']),
            f'{v["cpu_per_image_ms"]:.1f}',
            f'{v.get("glance_cpu_per_image_ms", 0):.1f}',
            f'{v.get("postgres_cpu_per_image_ms", 0):.1f}',
            f'{v.get("keystone_cpu_per_image_ms", 0):.1f}',
            f'{v.get("proxy_cpu_per_image_ms", 0):.1f}',
            f'{v["others_cpu_s"]:.1f}', f'{v["maxrss_mib"]:.0f} MiB'))
    out.append(table(('variant', 'wall (min-max)', 'ms/image', 'rounds',
                      'CLI', 'Glance', 'PostgreSQL', 'Keystone', 'bench',
                      'others\'', 'peak RSS'), rows))
    return out


def _proxied(b: dict, key: str) -> str:
    counts = [x.get('proxied') for x in b['samples'][key]]
    counts = [c for c in counts if c is not None]
    return f'{statistics.median(counts):.0f}' if counts else '-'


def _cost_tables(results: dict) -> list[str]:
    cost = results.get('server_cost')
    if not cost or not cost['kinds']:
        return []
    kinds = cost['kinds']
    out = [f'The servers\' CPU per request, by kind ({cost["count"]} or '
           'more requests of each, sent one at a time by the benchmark on '
           'loopback, its token already checked; ms per request; wall: '
           'median as the benchmark saw it):']
    out.append(table(
        ('request', 'count', 'Glance', 'PostgreSQL', 'Keystone', 'wall'),
        [(k, str(v['count']), f'{v["glance_ms"]:.1f}',
          f'{v["postgres_ms"]:.1f}', f'{v["keystone_ms"]:.1f}',
          f'{v["wall_ms"]:.1f}') for k, v in kinds.items()]))
    rows = []
    variants = []
    one = results.get('one_image')
    if one:
        for key in ('osc', 'tool'):
            v = one['summary'][key]
            variants.append((
                f'one image: {v["label"]}',
                {k: float(x) for k, x in v['kinds'].items()},
                accesslog.lock_detail(
                    {x: float(c) for x, c in v['shapes'].items()}),
                v['servers_ms']['glance'] + v['servers_ms']['postgres']))
    for name, b in (results.get('batch') or {}).items():
        for v in b['summary'].values():
            variants.append((
                f'{name}: {v["label"]}', v['kinds_per_image'],
                v.get('lock_per_image', {}),
                v.get('glance_cpu_per_image_ms', 0.0)
                + v.get('postgres_cpu_per_image_ms', 0.0)))
    for label, per_image, lock, measured in variants:
        est = servercost.estimate(kinds, per_image, lock)
        rows.append((label, *(f'{est[k]:.1f}' for k in (
            'GET image', 'GET listing', 'GET file', 'DELETE', 'lock',
            'total')), f'{measured:.1f}'))
    out.append('Glance + PostgreSQL CPU per image (per run for one image) '
               'split by kind: requests per image x the CPU per request '
               'above, in ms; "measured": what the servers used in the '
               'run (also token checks, discovery, store list, the '
               'delete\'s own work and the tag listing):')
    out.append(table(('variant', 'GET image', 'GET listing', 'GET file',
                      'DELETE', 'lock', 'sum', 'measured'), rows))
    return out


def _lock_note(results: dict) -> str:
    """What the image locks cost, from the access logs."""
    lines = ['Image locks (engine/lock.py: one metadata definitions tag per '
             'image, in namespace osc-image-store-locks), requests per '
             'image from Glance\'s access log (bulk POST: one per chunk; '
             'DELETE tag: one per image; GET list, GET tag, single POST, '
             'namespace GET and POST: as the engine needs them):']
    cost = (results.get('server_cost') or {}).get('kinds', {})

    def cpu(detail: dict) -> str:
        if not cost:
            return ''
        est = servercost.estimate(cost, {}, detail)['lock']
        return (f'; Glance + PostgreSQL CPU of its POSTs and DELETEs '
                f'~{est:.1f} ms/image')

    one = results.get('one_image')
    if one:
        v = one['summary']['tool']
        detail = accesslog.lock_detail(
            {x: float(c) for x, c in v['shapes'].items()})
        lines.append(
            f'  one image: {v["kinds"]["lock"]:g} lock request(s) of '
            f'{v["total"]:g} per run (' + ', '.join(
                f'{k} {c:g}' for k, c in detail.items() if c) + ')'
            + cpu(detail))
    for name, b in (results.get('batch') or {}).items():
        for key in ('p1', 'p4', 'p8'):
            v = b['summary'][key]
            detail = v.get('lock_per_image', {})
            chunks = v.get('lock') or {}
            text = (f'  {name}, {v["label"]}: '
                    f'{v["kinds_per_image"]["lock"]:.2f} per image of '
                    f'{v["requests_per_image"]:.2f} (' + ', '.join(
                        f'{k} {c:.2f}' for k, c in detail.items() if c)
                    + ')')
            if chunks:
                text += (f'; {chunks["chunks"]} chunk(s) of up to '
                         f'{chunks["chunk_size"]} images: at least '
                         f'{chunks["lock_requests_min"] / b["n"]:.2f}')
            lines.append(text + cpu(detail))
    return '\n'.join(lines)


def _scale_table(results: dict) -> list[str]:
    sc = results.get('scale')
    sizes = {int(k): v for k, v in (sc or {}).get('sizes', {}).items()}
    if not sizes:
        return []
    rows: list[tuple] = []
    for size, f in sorted(sizes.items()):
        kinds = f['requests']['kinds']
        rows.append((
            str(size), f'{f["wall"]:.1f} s', f'{f["wall_per_image_ms"]:.1f}',
            f'{f["cpu_per_image_ms"]:.1f}', f'{f["maxrss_mib"]:.1f} MiB',
            f'{f["servers"]["servers"] / size * 1000:.1f}',
            ', '.join(f'{k} {kinds[k] / size:.2f}'
                      for k in accesslog.KINDS if kinds.get(k)),
            f'{f["created_s"]:.0f} s'))
    return ['--all-images --store archive, loopback, real removals, '
            'default options and table output (one run per size; requests '
            'per image by kind):',
            table(('images', 'wall', 'ms/image', 'CLI CPU ms/image',
                   'peak RSS', 'servers CPU ms/image', 'requests/image',
                   'creating them'), rows)]


def _profile_parts(results: dict) -> list[str]:
    p = results.get('profile')
    if not p:
        return []
    out = []
    one = p.get('one_image') or {}
    names = [('tool', 'wall'), ('osc', 'wall'), ('tool', 'cpu'),
             ('osc', 'cpu')]
    found = [one.get(f'one-image-{k}-{m}') for k, m in names]
    if all(found):
        rows = []
        for label, _, _ in cliprofile.HOT_SPOTS:
            values = []
            for f in found:
                calls, cum = f['hot_spots'].get(label, (0, 0.0))
                values.append(f'{cum * 1000:.0f}' if calls else '-')
            rows.append((label, *values))
        rows.append(('whole process (start to exit)',
                     *(f'{f["wall"] * 1000:.0f}' for f in found[:2]),
                     *(f'{f["cpu"] * 1000:.0f}' for f in found[2:])))
        out.append('Where the time of the one-image path goes (loopback, '
                   'one profiled run each, ms; wall: main thread, '
                   'cumulative; CPU: every thread; the profiler slows '
                   'pure-Python code, so compare shares, not seconds):')
        out.append(table(('hot spot', 'store delete wall', 'OSC wall',
                          'store delete CPU', 'OSC CPU'), rows))
        out.append('Wall-time profile of `openstack image store delete '
                   '--store cheap <id>` (main thread):\n'
                   + found[0]['summary'])
        out.append('CPU profile of `openstack image store delete --store '
                   'cheap <id>` (every thread):\n' + found[2]['summary'])
    c = p.get('cloudy_batch')
    if c:
        out.append(
            f'Wall-time profile of store delete --parallel 8 over '
            f'{c["images"]} images, cloud-like ({c["describe"]}; main '
            'thread: which steps of the chunks it waits for; the DELETEs, '
            'proofs and unlocks run in the pool\'s threads):\n'
            + c['summary'])
    b = p.get('batch')
    if b:
        out.append(
            f'CPU profile of store delete --parallel 4 over {b["images"]} '
            f'images (every thread, CPU time; {b["wall"]:.0f} s under the '
            'profiler, which slows pure-Python code most: compare shares, '
            'not seconds):\n' + b['summary'])
    return out


def others_load(results: dict) -> float | None:
    """CPUs other jobs kept busy during the timed batch runs, on average."""
    busy = wall = 0.0
    for b in (results.get('batch') or {}).values():
        for runs in b['samples'].values():
            for run in runs:
                busy += run['servers']['others']
                wall += run['wall']
    return busy / wall if wall else None


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
    others = others_load(results)
    if others is not None:
        head.append(f'other jobs kept {others:.2f} CPUs busy on average '
                    'during the timed batch runs'
                    + (' (a busy machine: the figures are noisy)'
                       if others > 0.1 else ''))
    for name, b in (results.get('batch') or {}).items():
        head.append(f'{b["describe"]}')
    parts = ['\n'.join(head),
             'Targets of issue 16 (default options: every check and the '
             'lock on; ratios of medians to OSC):\n' + table(
                 ('figure', 'OSC', 'this tool', 'ratio', 'target',
                  'verdict'), target_rows(results))]
    others_ = other_rows(results)
    if others_:
        parts.append('Other figures:\n' + table(
            ('figure', 'OSC', 'this tool', 'ratio', 'target', 'verdict'),
            others_))
    if results.get('one_image'):
        parts += _one_image_tables(results['one_image'])
    for name, b in (results.get('batch') or {}).items():
        parts += _batch_tables(name, b)
    if results.get('one_image') or results.get('batch'):
        parts.append(_lock_note(results))
    parts += _cost_tables(results)
    parts += _scale_table(results)
    parts += _profile_parts(results)
    warnings = results.get('warnings', [])
    parts.append('\n'.join(f'WARNING: {w}' for w in warnings)
                 or 'every run did what it should (all images left the '
                 'store and kept the other copy, no lock tag was left)')
    return '\n\n'.join(parts)


def rst_block(results: dict, text: str, note: str = '') -> str:
    """The performance page's figures: how they were measured, the report.

    :param text: :func:`render`'s report.
    :param note: a sentence printed first (e.g. a busy machine).
    """
    m = results['machine']
    dirty = (' with uncommitted changes in ' + ', '.join(
        f'``{d}``' for d in m['dirty'])) if m['dirty'] else ''
    others = others_load(results)
    lines = []
    if note:
        lines += [note, '']
    command = results.get('command', 'tools/bench.py')
    lines += [
        f'Measured {m["date"]} by ``{command}``'
        f' (``tox -e bench``) at commit {m["commit"]}{dirty}; whole run '
        f'{results.get("total_s", 0):.0f} s. Machine: {m["cpus"]} CPUs '
        f'({m["cpu_model"]}), {m["memory_gib"]} GiB, Linux {m["kernel"]}, '
        f'Python {m["python"]}; '
        + ', '.join(f'{k} {v}' for k, v in m['versions'].items())
        + '; the servers on the same CPUs'
        + (f'; other jobs kept {others:.2f} CPUs busy on average during '
           'the timed batch runs' if others is not None else '')
        + '. The report' + (
            ', printed again from the run\'s JSON by the benchmark\'s code '
            'of this page (``--from-json``; requests classified anew):'
            if results.get('rerendered') else ', as printed:'),
        '', '.. code-block:: text', '']
    lines += [('   ' + line).rstrip() for line in text.splitlines()]
    return '\n'.join(lines) + '\n'


def write_rst(path: pathlib.Path, results: dict, text: str,
              note: str = '') -> None:
    """Put :func:`rst_block` between the page's markers.

    :raises ValueError: the page lacks :data:`RST_BEGIN` or
        :data:`RST_END` lines.
    """
    page = path.read_text().splitlines(keepends=True)
    marks = [i for i, line in enumerate(page)
             if line.rstrip() in (RST_BEGIN, RST_END)]
    if (len(marks) != 2 or page[marks[0]].rstrip() != RST_BEGIN
            or page[marks[1]].rstrip() != RST_END):
        raise ValueError(f'{path} needs one "{RST_BEGIN}" line and one '
                         f'"{RST_END}" line after it')
    block = rst_block(results, text, note)
    path.write_text(''.join(page[:marks[0] + 1]) + '\n' + block + '\n'
                    + ''.join(page[marks[1]:]))
