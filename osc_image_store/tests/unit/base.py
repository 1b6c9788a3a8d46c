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
"""Unit test base: a real keystoneauth session and a real proxy, with
requests-mock at the HTTP boundary."""

import copy
import http
import io
import json
import os
import re
import threading
import time
import types
from urllib import parse
import uuid

import fixtures
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import openstack.connection
from requests_mock.contrib import fixture as rm_fixture
import testtools

from osc_image_store.engine import lock
from osc_image_store.engine import remover
from osc_image_store import guard
from osc_image_store.sdk import image as sdk_image
from osc_image_store.v2 import advice

ENDPOINT = 'https://image.example.com'
V2 = ENDPOINT + '/v2'
IDENTITY = ENDPOINT + '/identity/v3'
_FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
#: The namespace of the image locks (the one LockTags emulates), and its
#: tags (URLs).
NAMESPACE = lock.NAMESPACE
NAMESPACES = V2 + '/metadefs/namespaces'
LOCKS = NAMESPACES + '/' + lock.NAMESPACE
TAGS = LOCKS + '/tags'
#: When the tags of "another run" were made (Glance's clock, UTC).
OTHER_SINCE = '2026-12-06T17:58:03Z'


def load(name):
    """A recorded Glance response body from tests/unit/fixtures."""
    with open(os.path.join(_FIXTURES, name)) as f:
        return json.load(f)


class Clock:
    """The engine's monotonic clock in tests: it runs only by ``sleep``.

    Each reading adds a microsecond, so that time still passes between
    two readings, but a busy machine never makes a lock answer "late" and
    no test waits for real.  Everything else of :mod:`time` is the real
    one.
    """

    def __init__(self):
        self.now = 1000.0
        self._lock = threading.Lock()

    def monotonic(self):
        with self._lock:
            self.now += 1e-6
            return self.now

    def sleep(self, seconds):
        with self._lock:
            self.now += max(0.0, seconds)

    def __getattr__(self, name):
        return getattr(time, name)


class ClockEvent(threading.Event):
    """A stop event whose ``wait`` passes on the test clock, not for real.

    The engine waits on its stop event between two tries of images that
    another run has locked; this one moves :class:`Clock` on by the
    timeout instead (and still wakes at once when set).
    """

    def __init__(self, clock):
        super().__init__()
        self.clock = clock
        self.waits = []

    def wait(self, timeout=None):
        if not self.is_set():
            self.waits.append(timeout)
            self.clock.sleep(timeout or 0.0)
        return self.is_set()


class LockTags:
    """Glance's metadata definitions namespace of the image locks.

    Emulated as Glance 33 answers it (tags unique per namespace):

    * ``POST /v2/metadefs/namespaces``: 201, or 409 when it exists;
    * ``GET /v2/metadefs/namespaces/{ns}``: the namespace (private and
      unprotected unless :attr:`namespace` says otherwise), or 404;
    * ``POST .../tags`` with ``X-Openstack-Append: True``: 201 creating
      every tag of the body in one transaction, or 409 and none created
      when one exists (or is named twice); without that header, every
      tag of the namespace is replaced (Glance does that);
    * ``POST .../tags/{name}``: 201, or 409 when it exists;
    * ``GET .../tags``: the names only; ``GET .../tags/{name}``: the tag
      with ``created_at``; ``DELETE .../tags/{name}``: 204, or 404;
    * every tag request answers 404 while the namespace does not exist.

    :ivar tags: ``{name: created_at}`` of the tags that exist now.
    :ivar exists: whether the namespace exists.
    :ivar namespace: the body of the namespace create, once made; a test
        sets it (e.g. ``{'visibility': 'public'}``) for the namespace read.
    :ivar before: None, or called with ``(method, name)`` (name None for
        the namespace and the tag list) before each request is answered:
        a test changes the state there (another run locks or unlocks).
    :ivar faults: ``{(method, name): [answer, ...]}``: the next request
        of that kind gets the first answer instead (a requests-mock
        response dict, a status, or an exception class to raise).
    """

    def __init__(self, exists=True):
        self.tags = {}
        self.exists = exists
        self.namespace = None
        self.before = None
        self.faults = {}
        self.made = 0  # tags created (for their created_at)

    def add(self, *names, since=OTHER_SINCE):
        """Tags made by another run (or left by an earlier one)."""
        self.exists = True
        for name in names:
            self.tags[name] = since

    def names(self):
        return sorted(self.tags)

    def fail(self, method, name, *answers):
        """The next requests ``method`` of tag ``name`` get ``answers``."""
        self.faults.setdefault((method, name), []).extend(answers)

    def register(self, http):
        path = re.escape(NAMESPACES) + r'(/%s(/tags(/[^/?#]+)?)?)?$' % (
            re.escape(lock.NAMESPACE))
        for method in ('GET', 'POST', 'DELETE'):
            http.register_uri(method, re.compile(path), text=self._answer)

    # -- Glance ----------------------------------------------------------

    def _answer(self, request, context):
        path = parse.urlsplit(request.url).path
        rest = path[len(parse.urlsplit(NAMESPACES).path):]
        name = None
        if rest.startswith('/%s/tags/' % lock.NAMESPACE):
            name = parse.unquote(rest.rsplit('/', 1)[1])
        if self.before is not None:
            self.before(request.method, name)
        planned = self.faults.get((request.method, name))
        if planned:
            answer = TestCase._answer(planned.pop(0))
            if 'exc' in answer:
                raise answer['exc']
            context.status_code = answer.get('status_code', 200)
            context.headers.update(answer.get('headers', {}))
            if 'json' in answer:
                return json.dumps(answer['json'])
            return answer.get('text', '')
        context.headers['Content-Type'] = 'application/json'
        if not rest:
            return self._namespace(request, context)
        if rest == '/' + lock.NAMESPACE:
            return self._read_namespace(request, context)
        if not self.exists:
            return self._error(context, 404, 'Metadata definition '
                               'namespace=%s was not found.' % lock.NAMESPACE)
        if name is None:
            return self._all(request, context)
        return self._one(request, context, name)

    def _read_namespace(self, request, context):
        if request.method != 'GET':
            return self._error(context, 405, 'Method not allowed.')
        if not self.exists:
            return self._error(context, 404, 'Metadata definition '
                               'namespace=%s was not found.' % lock.NAMESPACE)
        body = dict(self.namespace or {}, namespace=lock.NAMESPACE)
        body.setdefault('visibility', 'private')
        body.setdefault('protected', False)
        return json.dumps(body)

    def _namespace(self, request, context):
        if request.method != 'POST':
            return self._error(context, 405, 'Method not allowed.')
        body = request.json()
        if self.exists:
            return self._error(context, 409, 'Metadata definition namespace='
                               '%s already exists.' % body.get('namespace'))
        self.exists, self.namespace = True, body
        context.status_code = 201
        return json.dumps(dict(body, created_at=self._now(),
                               updated_at=self._now()))

    def _all(self, request, context):
        if request.method == 'GET':
            return json.dumps({'tags': [{'name': n} for n in self.tags]})
        if request.method != 'POST':
            return self._error(context, 405, 'Method not allowed.')
        names = [t['name'] for t in request.json()['tags']]
        append = request.headers.get('X-Openstack-Append', '')
        if append.lower() != 'true':
            self.tags = {}  # Glance replaces every tag of the namespace
        taken = [n for n in names if n in self.tags]
        if taken or len(set(names)) < len(names):
            return self._error(context, 409, 'A metadata tag with name=%s '
                               'already exists in namespace=%s.' % (
                                   (taken or names)[0], lock.NAMESPACE))
        for name in names:
            self.tags[name] = self._now()
        context.status_code = 201
        return json.dumps({'tags': [{'name': n} for n in names]})

    def _one(self, request, context, name):
        if request.method == 'POST':
            if name in self.tags:
                return self._error(context, 409, 'A metadata tag with name='
                                   '%s already exists in namespace=%s.'
                                   % (name, lock.NAMESPACE))
            self.tags[name] = self._now()
            context.status_code = 201
            return json.dumps(self._tag(name))
        if name not in self.tags:
            return self._error(context, 404, 'Metadata definition tag=%s was '
                               'not found in namespace=%s.'
                               % (name, lock.NAMESPACE))
        if request.method == 'DELETE':
            del self.tags[name]
            context.status_code = 204
            context.headers.pop('Content-Type', None)
            return ''
        return json.dumps(self._tag(name))

    def _tag(self, name):
        return {'name': name, 'created_at': self.tags[name],
                'updated_at': self.tags[name]}

    def _now(self):
        self.made += 1
        return '2026-12-06T18:%02d:%02dZ' % divmod(self.made % 3600, 60)

    @staticmethod
    def _error(context, status, text):
        answer = glance_error(status, text)
        context.status_code = status
        return json.dumps(answer['json'])


def image_body(name='cirros', stores=('fast', 'cheap', 'archive'),
               status='active', image_id=None, **fields):
    """A Glance image body based on the recorded one.

    :param stores: store IDs, or None to leave the field out (no location
        has a store, or multi-store is off).
    :param fields: other fields or properties to set (None removes one).
    """
    body = copy.deepcopy(load('image.json'))
    body['id'] = image_id or str(uuid.uuid5(uuid.NAMESPACE_URL, name))
    body['name'] = name
    body['status'] = status
    body['self'] = '/v2/images/' + body['id']
    body['file'] = body['self'] + '/file'
    if stores is None:
        del body['stores']
    else:
        body['stores'] = ','.join(stores)
    for key, value in fields.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def with_stores(body, *stores, **fields):
    """A copy of an image body that lists other stores (and fields)."""
    new = dict(copy.deepcopy(body), stores=','.join(stores), **fields)
    if not stores:
        del new['stores']
    return new


def locations(*pairs):
    """A ``locations`` list from (store, url) pairs."""
    return [{'url': url, 'metadata': {'store': store}}
            for store, url in pairs]


def image_resource(body):
    """Build an Image resource from a body (``self`` dropped)."""
    return sdk_image.Image.existing(
        **{k: v for k, v in body.items() if k != 'self'})


def listing(*bodies):
    """A ``GET /v2/images`` answer holding these images."""
    return {'images': list(bodies), 'first': '/v2/images',
            'schema': '/v2/schemas/images'}


def glance_error(status, text, html=False):
    """A requests-mock response of a Glance error (webob HTML or JSON)."""
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = 'Error'
    if html:
        title = '%s %s' % (status, phrase)
        return {'status_code': status,
                'headers': {'Content-Type': 'text/html; charset=UTF-8'},
                'text': '<html>\n <head>\n  <title>%s</title>\n </head>\n '
                        '<body>\n  <h1>%s</h1>\n  %s<br /><br />\n\n\n\n '
                        '</body>\n</html>' % (title, title, text)}
    return {'status_code': status,
            'headers': {'Content-Type': 'application/json'},
            'json': {'message': text + '<br /><br />\n\n\n',
                     'code': '%s %s' % (status, phrase), 'title': phrase}}


def describe(request):
    """``METHOD /path?query`` of a sent request, query decoded and sorted.

    The path is kept as sent (percent-encoding included); a POST of many
    tags adds their names (``POST .../tags <id>,<id>``).
    """
    url = parse.urlsplit(request.url)
    query = sorted(parse.parse_qsl(url.query, keep_blank_values=True))
    text = '%s %s%s' % (request.method, url.path, '?' + '&'.join(
        '%s=%s' % pair for pair in query) if query else '')
    if request.method == 'POST' and url.path.endswith('/tags'):
        text += ' ' + ','.join(t['name'] for t in request.json()['tags'])
    return text


class TestCase(testtools.TestCase):
    """Base class: ``self.proxy`` (a real guarded proxy), ``self.http``.

    stderr is captured in ``self.stderr``: argparse usage lines and other
    noise never reach the test output.
    """

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.NestedTempfile())
        self.stderr = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', self.stderr))
        self.clock = Clock()
        for module in ('acquire', 'delete', 'remover'):
            self.useFixture(fixtures.MonkeyPatch(
                'osc_image_store.engine.%s.time' % module, self.clock))
        # Tries of locked images at a fixed pace (every second).
        self.useFixture(fixtures.MonkeyPatch(
            'osc_image_store.engine.acquire.random',
            types.SimpleNamespace(uniform=lambda low, high: (low + high) / 2)))
        # The command's stop event waits on the test clock too.
        self.useFixture(fixtures.MonkeyPatch(
            'osc_image_store.v2.store.threading', types.SimpleNamespace(
                Event=lambda: ClockEvent(self.clock))))
        self.http = self.useFixture(rm_fixture.Fixture())
        # The one version discovery request (recorded from Glance 33).
        self.http.get(V2, json=load('versions.json'))
        self.conn = openstack.connection.Connection(
            session=ks_session.Session(auth=noauth.NoAuth(endpoint=ENDPOINT)),
            image_endpoint_override=V2, image_api_version='2',
            identity_endpoint_override=IDENTITY, identity_api_version='3')
        self.proxy = guard.GuardedProxy.from_connection(self.conn)
        # Requests before this point (discovery) are not the test's.
        self._first = len(self.http.request_history)
        self.lock_tags = None
        self.addCleanup(self.assert_no_write)

    def assert_no_write(self):
        """No PATCH or PUT ever reaches Glance, in any test."""
        self.assertEqual([], [describe(r) for r in self.http.request_history
                              if r.method in ('PATCH', 'PUT')])

    # -- answers ---------------------------------------------------------

    def mock_locks(self, exists=True):
        """The namespace of the image locks (:class:`LockTags`).

        :param exists: False: it is made on first use (404 until then).
        :returns: the emulation, also ``self.lock_tags``.
        """
        self.lock_tags = LockTags(exists)
        self.lock_tags.register(self.http)
        return self.lock_tags

    def mock_stores(self, body=None, status=200):
        return self.http.get(V2 + '/info/stores', status_code=status,
                             json=load('stores.json') if body is None
                             else body)

    def mock_image(self, body, *then):
        """GET /v2/images/{id} answers body, then each of ``then``."""
        return self.http.get(V2 + '/images/' + body['id'],
                             [self._answer(b) for b in (body,) + then])

    def mock_listing(self, *answers, hidden=False):
        """``GET /v2/images`` (visible or hidden pass) answers, in order.

        Each answer is a list of image bodies, or a requests-mock
        response dict (e.g. :func:`glance_error`).
        """
        return self.http.get(
            V2 + '/images?os_hidden=%s' % ('true' if hidden else 'false'),
            [a if isinstance(a, dict) else {'json': listing(*a)}
             for a in answers])

    def mock_name(self, name, *bodies):
        """``GET /v2/images?name=eq:<name>`` (visible images) answer."""
        return self.http.get(V2 + '/images?os_hidden=false&name=eq:'
                             + parse.quote(name), json=listing(*bodies))

    def mock_store_delete(self, store, image_id, *answers):
        """DELETE /v2/stores/{store}/{image_id} answers (default 204).

        Each answer is a status (204), a response dict, or an exception
        class to raise (a transport failure).
        """
        url = '%s/stores/%s/%s' % (V2, store, image_id)
        return self.http.delete(url, [self._answer(a)
                                      for a in answers or (204,)])

    def mock_slow_delete(self, image_id, seconds, store='cheap'):
        """A store DELETE answered 204 after ``seconds`` (test clock)."""
        def answer(request, context):
            self.clock.sleep(seconds)
            context.status_code = 204
            return ''

        return self.http.delete('%s/stores/%s/%s' % (V2, store, image_id),
                                text=answer)

    def mock_file(self, image_id, status=206, content=b'x'):
        """The one-byte read GET /v2/images/{id}/file."""
        return self.http.get('%s/images/%s/file' % (V2, image_id),
                             status_code=status, content=content)

    @staticmethod
    def _answer(answer):
        if isinstance(answer, int):
            return {'status_code': answer}
        if isinstance(answer, type) and issubclass(answer, Exception):
            return {'exc': answer}
        if isinstance(answer, dict) and (
                'status_code' in answer or 'exc' in answer
                or 'json' in answer or 'text' in answer):
            return answer
        return {'json': answer}

    # -- what was sent ---------------------------------------------------

    def requests(self):
        """The requests sent since the proxy was built."""
        return self.http.request_history[self._first:]

    def sent(self):
        """Every request sent, as :func:`describe` strings."""
        return [describe(r) for r in self.requests()]

    def deletes(self):
        return [r.url for r in self.requests() if r.method == 'DELETE']

    def lock_requests(self):
        """The requests sent to the namespace of the image locks."""
        return [s for s in self.sent() if '/metadefs/' in s]

    # -- the engine ------------------------------------------------------

    def mock_chunk(self, *bodies, left=('fast', 'archive'), store='cheap'):
        """Glance's answers to the removal of images from one store.

        The listing of these images (``id=in:...``, in this order)
        answers: the images, then the images in the stores ``left`` (the
        read-back).  Each image's DELETE (204) and one-byte read (206) are
        answered.

        :returns: the listing mock.
        """
        mock = self.http.get(
            V2 + '/images?os_hidden=false&id=in:' + ','.join(
                b['id'] for b in bodies),
            [{'json': listing(*answer)} for answer in (
                bodies, [with_stores(b, *left) for b in bodies])])
        for body in bodies:
            self.mock_store_delete(store, body['id'])
            self.mock_file(body['id'])
        return mock

    def remover(self, store='cheap', stop=None, **options):
        """An engine whose stop event waits on the test clock."""
        return remover.Remover(self.proxy, store, remover.Options(**options),
                               stop=stop or ClockEvent(self.clock),
                               advice=advice.ADVICE)

    def run_engine(self, images, store='cheap', **options):
        return list(self.remover(store, **options).run(images))


class EngineCase(TestCase):
    """An engine test, with the store list and the image locks answered.

    ``self.body``: image ``cirros`` in three stores; ``self.iid``: its ID;
    ``self.lock_tags``: the namespace of the image locks (it exists, no
    image is locked).
    """

    def setUp(self):
        super().setUp()
        self.mock_stores()
        self.mock_locks()
        self.body = image_body()
        self.iid = self.body['id']


def removal(image_id, store='cheap', first=True):
    """What the engine sends to remove one image, after the store list.

    The lock, the read, the DELETE, the read-back, one listing of the
    locks (was the lock held throughout?), the one-byte proof, the unlock.

    :param first: the run's first lock: the lock namespace is read before
        it (once per run).
    """
    return ([READ_NAMESPACE] if first else []) + [
        lock_one(image_id), listing_of(image_id),
        store_delete(image_id, store), listing_of(image_id), LIST_LOCKS,
        read_byte(image_id), unlock(image_id)]


#: describe() strings of the requests the engine sends.
def listing_of(*image_ids, hidden=False):
    return 'GET /v2/images?id=in:%s&limit=%d&os_hidden=%s' % (
        ','.join(image_ids), len(image_ids), hidden)


def store_delete(image_id, store='cheap'):
    return 'DELETE /v2/stores/%s/%s' % (store, image_id)


def read_byte(image_id):
    return 'GET /v2/images/%s/file' % image_id


def get_image(image_id):
    return 'GET /v2/images/' + image_id


STORES = 'GET /v2/info/stores'
#: The namespace of the image locks, as describe() shows it.
_TAGS = '/v2/metadefs/namespaces/%s/tags' % lock.NAMESPACE
#: Making that namespace.
CREATE_NAMESPACE = 'POST /v2/metadefs/namespaces'
#: The engine's one read of the lock namespace per run.
READ_NAMESPACE = 'GET /v2/metadefs/namespaces/' + lock.NAMESPACE
#: Reading its tags (names only).
LIST_LOCKS = 'GET ' + _TAGS


def lock_one(image_id):
    """Locking one image: ``POST .../tags/<id>``."""
    return 'POST %s/%s' % (_TAGS, image_id)


def lock_many(*image_ids):
    """Locking many: ``POST .../tags`` (appended), with their names."""
    return 'POST %s %s' % (_TAGS, ','.join(image_ids))


def read_lock(image_id):
    return 'GET %s/%s' % (_TAGS, image_id)


def unlock(image_id):
    return 'DELETE %s/%s' % (_TAGS, image_id)
