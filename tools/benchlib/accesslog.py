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
_PATTERNS = (
    ('GET', re.compile(r'^/v2/images/?(\?.*)?$'), 'GET listing'),
    ('GET', re.compile(rf'^/v2/images/{_ID}$'), 'GET image'),
    ('GET', re.compile(rf'^/v2/images/{_ID}/file$'), 'GET file'),
    ('PATCH', re.compile(rf'^/v2/images/{_ID}$'), 'PATCH'),
    ('DELETE', re.compile(rf'^/v2/stores/[^/?]+/{_ID}$'), 'DELETE'),
    # The lock between runs (engine/runlock.py): its namespace register.
    ('GET', re.compile(r'^/v2/metadefs/namespaces/'), 'lock'),
    ('PUT', re.compile(r'^/v2/metadefs/namespaces/'), 'lock'),
    ('POST', re.compile(r'^/v2/metadefs/namespaces/?$'), 'lock'),
)


def kind(method: str, path: str) -> str:
    """The kind of a Glance request (one of :data:`KINDS`)."""
    for want, pattern, name in _PATTERNS:
        if method == want and pattern.match(path):
            return name
    return 'other'


def shape(method: str, path: str) -> str:
    """``METHOD /path`` with IDs and the query string masked."""
    path = re.sub(_ID, '{id}', path.split('?', 1)[0])
    path = re.sub(r'^/v2/stores/[^/]+/', '/v2/stores/{store}/', path)
    return f'{method} {path}'


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

        :returns: ``kinds``, ``shapes``, ``statuses``, ``total`` (Glance),
            ``keystone`` (the CLI's own requests to Keystone) and
            ``validations`` (Glance's token checks in Keystone).
        """
        glance = cli_only(self.glance.read())
        keystone = self.keystone.read()
        return {'kinds': by_kind(glance), 'shapes': by_shape(glance),
                'statuses': statuses(glance), 'total': len(glance),
                'keystone': len(cli_only(keystone)),
                'validations': sum(map(is_service, keystone))}
