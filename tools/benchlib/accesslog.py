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
"""The requests a CLI run sent, from the servers' access logs.

gunicorn's access lines (``h l u [t] "request line" status bytes
"referer" "user agent"``) of :meth:`localcloud.LocalCloud.access_log`.
The fixture's requests carry the User-Agent prefix
:data:`localcloud.FIXTURE_AGENT` and are left out; so are Glance's
validations of the CLI's token in Keystone's log (User-Agent
``python-keystoneclient``, from keystonemiddleware), counted apart.

Kinds (:data:`KINDS`): ``GET listing`` (``GET /v2/images?...``), ``GET
image``, ``PATCH``, ``DELETE`` (of a store's copy: ``/v2/stores/...``),
``GET file`` (the one-byte data proof), ``lock`` (the image locks: the
tags of the namespace :data:`LOCK_NAMESPACE`, POST, GET and DELETE; the
GET of that namespace and the POST that makes it) and ``other``
(version discovery, the store list, ...).
"""

import collections
import pathlib
import re
import time

import localcloud

#: Kinds of Glance requests, in table order.
KINDS = ('GET listing', 'GET image', 'PATCH', 'DELETE', 'GET file',
         'lock', 'other')

_ACCESS = re.compile(
    r'^\S+ \S+ \S+ \[[^\]]*\] "(?P<method>[A-Z]+) (?P<path>\S+)[^"]*" '
    r'(?P<status>\d{3}) \S+ "[^"]*" "(?P<agent>[^"]*)"\s*$')
_ID = r'[0-9a-fA-F-]{36}'
#: The metadata definitions namespace of the image locks
#: (``osc_image_store.guard.LOCK_NAMESPACE``).
LOCK_NAMESPACE = 'osc-image-store-locks'
_TAGS = rf'^/v2/metadefs/namespaces/{re.escape(LOCK_NAMESPACE)}/tags'
_PATTERNS = (
    ('GET', re.compile(r'^/v2/images/?(\?.*)?$'), 'GET listing'),
    ('GET', re.compile(rf'^/v2/images/{_ID}$'), 'GET image'),
    ('GET', re.compile(rf'^/v2/images/{_ID}/file$'), 'GET file'),
    ('PATCH', re.compile(rf'^/v2/images/{_ID}$'), 'PATCH'),
    ('DELETE', re.compile(rf'^/v2/stores/[^/?]+/{_ID}$'), 'DELETE'),
    # The image locks (engine/lock.py): tags of the lock namespace (the
    # bulk POST of a chunk, a single POST, GET of the list or of one tag,
    # the DELETE of each), and the namespace's creation on first use.
    ('POST', re.compile(rf'{_TAGS}(/{_ID})?/?$'), 'lock'),
    ('GET', re.compile(rf'{_TAGS}(/{_ID})?/?(\?.*)?$'), 'lock'),
    ('DELETE', re.compile(rf'{_TAGS}/{_ID}$'), 'lock'),
    ('POST', re.compile(r'^/v2/metadefs/namespaces/?$'), 'lock'),
    ('GET', re.compile(rf'^/v2/metadefs/namespaces/'
                       rf'{re.escape(LOCK_NAMESPACE)}/?(\?.*)?$'), 'lock'),
)
#: Shapes (see :func:`shape`) of the lock's requests, for the lock note.
LOCK_SHAPES = {
    f'POST /v2/metadefs/namespaces/{LOCK_NAMESPACE}/tags': 'bulk POST',
    f'POST /v2/metadefs/namespaces/{LOCK_NAMESPACE}/tags/{{id}}':
        'single POST',
    f'GET /v2/metadefs/namespaces/{LOCK_NAMESPACE}/tags': 'GET list',
    f'GET /v2/metadefs/namespaces/{LOCK_NAMESPACE}/tags/{{id}}': 'GET tag',
    f'DELETE /v2/metadefs/namespaces/{LOCK_NAMESPACE}/tags/{{id}}':
        'DELETE tag',
    'POST /v2/metadefs/namespaces': 'namespace POST',
    f'GET /v2/metadefs/namespaces/{LOCK_NAMESPACE}': 'namespace GET',
}


def kind(method: str, path: str) -> str:
    """The kind of a Glance request (one of :data:`KINDS`)."""
    for want, pattern, name in _PATTERNS:
        if method == want and pattern.match(path):
            return name
    return 'other'


def shape(method: str, path: str) -> str:
    """``METHOD /path`` with IDs and the query string masked."""
    path = re.sub(_ID, '{id}', path.split('?', 1)[0]).rstrip('/') or '/'
    path = re.sub(r'^/v2/stores/[^/]+/', '/v2/stores/{store}/', path)
    return f'{method} {path}'


def unshape(name: str) -> tuple[str, str]:
    """A method and path of a :func:`shape`, for :func:`kind`."""
    method, path = name.split(' ', 1)
    return method, path.replace('{id}', '0' * 8 + '-0000-0000-0000-'
                                + '0' * 12).replace('{store}', 'store')


def kinds_of_shapes(shapes: dict[str, float]) -> dict[str, float]:
    """Counts by :data:`KINDS` of :func:`by_shape` counts."""
    counts = dict.fromkeys(KINDS, 0.0)
    for name, count in shapes.items():
        counts[kind(*unshape(name))] += count
    return counts


def lock_detail(shapes: dict[str, int]) -> dict[str, int]:
    """The lock's requests among :func:`by_shape` counts, by name.

    :returns: counts by :data:`LOCK_SHAPES` name, zeros included.
    """
    counts = dict.fromkeys(LOCK_SHAPES.values(), 0)
    for name, count in shapes.items():
        if name in LOCK_SHAPES:
            counts[LOCK_SHAPES[name]] += count
    return counts


class AccessLog:
    """The lines a server's access log gains between mark and read."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size

    def read(self) -> list[dict]:
        """The access lines added since :meth:`mark`.

        Read once the file stops growing (gunicorn writes a line when the
        answer is sent).
        """
        size = -1
        for _ in range(20):
            now = self.path.stat().st_size
            if now == size:
                break
            size = now
            time.sleep(0.2)
        with open(self.path, 'rb') as log:
            log.seek(self.offset)
            text = log.read().decode(errors='replace')
        return [m.groupdict() for m in map(_ACCESS.match, text.splitlines())
                if m]


_SERVICE_AGENTS = ('python-keystoneclient', 'keystonemiddleware')


def is_service(line: dict) -> bool:
    """Whether a Keystone line is a server's (Glance's token check)."""
    return line['agent'].startswith(_SERVICE_AGENTS)


def cli_only(lines: list[dict]) -> list[dict]:
    """The lines sent by neither the fixture nor a server."""
    return [x for x in lines
            if not x['agent'].startswith(localcloud.FIXTURE_AGENT)
            and not is_service(x)]


def by_kind(lines: list[dict]) -> dict[str, int]:
    """Counts by :data:`KINDS` (all of them, zeros included)."""
    counts = dict.fromkeys(KINDS, 0)
    for line in lines:
        counts[kind(line['method'], line['path'])] += 1
    return counts


def by_shape(lines: list[dict]) -> dict[str, int]:
    """Counts by :func:`shape`, most frequent first."""
    return dict(collections.Counter(
        shape(x['method'], x['path']) for x in lines).most_common())


def statuses(lines: list[dict]) -> dict[str, int]:
    """Counts by HTTP status."""
    return dict(sorted(collections.Counter(x['status'] for x in lines)
                       .items()))


class Requests:
    """The CLI's requests to Glance and Keystone during one run."""

    def __init__(self, cloud: localcloud.LocalCloud):
        self.glance = AccessLog(cloud.access_log('glance'))
        self.keystone = AccessLog(cloud.access_log('keystone'))

    def mark(self) -> None:
        self.glance.mark()
        self.keystone.mark()

    def read(self) -> dict:
        """The CLI's requests since :meth:`mark`.

        :returns: ``kinds``, ``shapes``, ``lock`` (the lock's requests,
            :func:`lock_detail`), ``statuses``, ``total`` (Glance),
            ``keystone`` (the CLI's own requests to Keystone) and
            ``validations`` (Glance's token checks in Keystone).
        """
        glance = cli_only(self.glance.read())
        keystone = self.keystone.read()
        shapes = by_shape(glance)
        return {'kinds': by_kind(glance), 'shapes': shapes,
                'lock': lock_detail(shapes),
                'statuses': statuses(glance), 'total': len(glance),
                'keystone': len(cli_only(keystone)),
                'validations': sum(map(is_service, keystone))}
