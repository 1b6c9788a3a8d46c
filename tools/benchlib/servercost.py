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
"""The servers' CPU per request, by kind of request.

A CLI run's server CPU (:class:`benchlib.procs.ServerCPU`) is a sum over
its requests; to split it by kind, this phase sends ``count`` requests of
each kind itself, one at a time (the fixture's connection: one token,
which Glance checks once), to fresh images (1 KiB, ``fast`` and
``cheap``) on loopback, and reads the CPU of Glance, PostgreSQL and
Keystone (``utime + stime`` of their processes) around each kind:

* ``GET image``: ``GET /v2/images/{id}`` (OSC's ``find_image``);
* ``GET listing``: ``GET /v2/images?id=in:<20 IDs>`` (this tool reads a
  chunk with one), per listing;
* ``GET file``: ``GET /v2/images/{id}/file`` with ``Range: bytes=0-0``
  (the one-byte data proof);
* ``lock bulk POST``: ``POST .../tags`` with 20 tags
  (``X-Openstack-Append: True``), per request (``count / 5`` of them);
  ``lock single POST``: ``POST .../tags/{name}``; ``lock DELETE``:
  ``DELETE .../tags/{name}`` (in a namespace of this phase's, deleted at
  the end);
* ``GET stores``: ``GET /v2/info/stores``;
* ``DELETE``: ``DELETE /v2/stores/cheap/{id}`` (no backend delay).

With these, :func:`estimate` splits a variant's Glance + PostgreSQL CPU
per image by kind from its requests per image.
"""

import statistics
import time
import uuid

import localcloud

from benchlib import fixture
from benchlib import procs

STORE = 'cheap'
KEPT = 'fast'
CHUNK = 20
_NAMESPACE = 'bench-cost-tags'
#: The kinds measured, in table order; each maps to an access-log kind.
KINDS = {
    'GET image': 'GET image',
    'GET listing': 'GET listing',
    'GET file': 'GET file',
    'DELETE': 'DELETE',
    'lock bulk POST': 'lock',
    'lock single POST': 'lock',
    'lock DELETE': 'lock',
    'GET stores': 'other',
}


class _Meter:
    """Accumulates server CPU and wall time of requests, by kind."""

    def __init__(self, cloud: localcloud.LocalCloud):
        self.cpu = procs.ServerCPU(cloud)
        self.used: dict[str, dict[str, float]] = {}
        self.walls: dict[str, list[float]] = {}
        self.count: dict[str, int] = {}

    def run(self, kind: str, calls: list) -> None:
        """Send ``calls`` (callables) one after the other as ``kind``."""
        walls = self.walls.setdefault(kind, [])
        self.cpu.mark()
        for call in calls:
            started = time.monotonic()
            call()
            walls.append(time.monotonic() - started)
        used = self.cpu.read(0.0)
        into = self.used.setdefault(kind, {})
        for name in ('glance', 'postgres', 'keystone'):
            into[name] = into.get(name, 0.0) + used.get(name, 0.0)
        self.count[kind] = self.count.get(kind, 0) + len(calls)


def measure(cloud: localcloud.LocalCloud, images: fixture.Images,
            count: int) -> dict:
    """``count`` requests of each kind; CPU and wall per request."""
    procs.say(f'server CPU by request kind: creating {count} images')
    ids = images.create('bench-cost', count, (KEPT, STORE))
    time.sleep(2.0)
    api = cloud.image_api
    meter = _Meter(cloud)
    warnings: list[str] = []
    api('POST', '/metadefs/namespaces', expect=(201, 409),
        json={'namespace': _NAMESPACE, 'visibility': 'private',
              'protected': False})
    tags = f'/metadefs/namespaces/{_NAMESPACE}/tags'
    try:
        meter.run('GET stores', [lambda: api('GET', '/info/stores')] * count)
        meter.run('GET image', [
            lambda i=i: api('GET', f'/images/{i}') for i in ids])
        listings = [ids[(k * CHUNK) % count:][:CHUNK] or ids[:CHUNK]
                    for k in range(count)]
        meter.run('GET listing', [
            lambda part=part: api(
                'GET', f'/images?limit={len(part)}&id=in:' + ','.join(part))
            for part in listings])
        meter.run('GET file', [
            lambda i=i: api('GET', f'/images/{i}/file', expect=(200, 206),
                            headers={'Range': 'bytes=0-0'}) for i in ids])
        bulk = [[str(uuid.uuid4()) for _ in range(CHUNK)]
                for _ in range(max(2, count // 5))]
        meter.run('lock bulk POST', [lambda names=names: api(
            'POST', tags, expect=(201,),
            json={'tags': [{'name': n} for n in names]},
            headers={'X-Openstack-Append': 'True'}) for names in bulk])
        meter.run('lock DELETE', [
            lambda n=n: api('DELETE', f'{tags}/{n}', expect=(204,))
            for names in bulk for n in names])
        names = [str(uuid.uuid4()) for _ in range(count)]
        meter.run('lock single POST', [
            lambda n=n: api('POST', f'{tags}/{n}', expect=(201,))
            for n in names])
        meter.run('lock DELETE', [
            lambda n=n: api('DELETE', f'{tags}/{n}', expect=(204,))
            for n in names])
        meter.run('DELETE', [
            lambda i=i: api('DELETE', f'/stores/{STORE}/{i}', expect=(204,))
            for i in ids])
    except localcloud.CloudError as exc:
        warnings.append(f'server CPU by request kind: {exc!s:.300}')
    finally:
        api('DELETE', f'/metadefs/namespaces/{_NAMESPACE}',
            expect=(204, 404))
    kinds: dict[str, dict] = {}
    for kind in KINDS:
        n = meter.count.get(kind)
        if not n:
            continue
        used = meter.used[kind]
        kinds[kind] = {
            'count': n,
            'glance_ms': used['glance'] / n * 1000,
            'postgres_ms': used['postgres'] / n * 1000,
            'keystone_ms': used['keystone'] / n * 1000,
            'wall_ms': statistics.median(meter.walls[kind]) * 1000,
        }
    procs.say('server CPU by request kind (Glance + PostgreSQL ms): '
              + ', '.join(f'{k} {v["glance_ms"] + v["postgres_ms"]:.1f}'
                          for k, v in kinds.items()))
    return {'count': count, 'kinds': kinds, 'warnings': warnings,
            'created': ids}


def estimate(kinds: dict[str, dict], per_image: dict[str, float],
             lock: dict[str, float]) -> dict[str, float]:
    """Glance + PostgreSQL CPU per image (ms) of a variant, by kind.

    :param kinds: :func:`measure`'s ``kinds``.
    :param per_image: the variant's requests per image by access-log kind
        (:data:`benchlib.accesslog.KINDS`).
    :param lock: its lock requests per image by
        :data:`benchlib.accesslog.LOCK_SHAPES` name.
    :returns: ``{kind: ms}`` for the kinds measured (a listing of 20 IDs
        stands for every listing; the lock's tag listing and the others
        are left out), and ``total``.
    """
    def cost(kind: str) -> float:
        k = kinds.get(kind)
        return k['glance_ms'] + k['postgres_ms'] if k else 0.0

    out = {
        'GET image': per_image.get('GET image', 0.0) * cost('GET image'),
        'GET listing': per_image.get('GET listing', 0.0)
        * cost('GET listing'),
        'GET file': per_image.get('GET file', 0.0) * cost('GET file'),
        'DELETE': per_image.get('DELETE', 0.0) * cost('DELETE'),
        'lock': (lock.get('bulk POST', 0.0) * cost('lock bulk POST')
                 + lock.get('single POST', 0.0) * cost('lock single POST')
                 + lock.get('DELETE tag', 0.0) * cost('lock DELETE')),
    }
    out['total'] = sum(out.values())
    return out
