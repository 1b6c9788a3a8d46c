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
import threading
import time
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
from osc_image_store.engine import runlock
from osc_image_store.sdk import proxy
from osc_image_store.sdk import resources

ENDPOINT = 'https://image.example.com'
V2 = ENDPOINT + '/v2'
IDENTITY = ENDPOINT + '/identity/v3'
_FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
#: The hold token of every run in these tests (uuid4 is patched).
TOKEN = uuid.UUID(int=0xfeed).hex
#: The run's token in the register of the lock between runs.
RUN_TOKEN = TOKEN[:12]
#: The lock's settle time (on the test clock: no real wait).
SETTLE = runlock.SETTLE
#: The register of the lock between runs.
REGISTER = V2 + '/metadefs/namespaces/' + runlock.NAMESPACE


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


def locked(body, token=TOKEN, since=None):
    """A copy of an image body carrying a lock value of ``token``."""
    return dict(copy.deepcopy(body), **{lock.PROPERTY: lock_value(
        token, since)})


def lock_value(token=TOKEN, since=None):
    return '%s host 42 %d' % (token, time.time() if since is None else since)


def locations(*pairs):
    """A ``locations`` list from (store, url) pairs."""
    return [{'url': url, 'metadata': {'store': store}}
            for store, url in pairs]


def image_resource(body):
    """Build an Image resource from a body (``self`` dropped)."""
    return resources.Image.existing(
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

    The path is kept as sent (percent-encoding included); a JSON patch
    adds its operations (``PATCH /v2/images/<id> add /name``).
    """
    url = parse.urlsplit(request.url)
    query = sorted(parse.parse_qsl(url.query, keep_blank_values=True))
    text = '%s %s%s' % (request.method, url.path, '?' + '&'.join(
        '%s=%s' % pair for pair in query) if query else '')
    if request.method == 'PATCH':
        text += ''.join(' %(op)s %(path)s' % op for op in request.json())
    return text


class TestCase(testtools.TestCase):
    """Base class: ``self.proxy`` (a real Proxy), ``self.http`` (mock).

    stderr is captured in ``self.stderr``: argparse usage lines and other
    noise never reach the test output.
    """

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.NestedTempfile())
        self.stderr = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', self.stderr))
        for module in ('lock', 'runlock'):
            self.useFixture(fixtures.MockPatch(
                'osc_image_store.engine.%s.uuid.uuid4' % module,
                return_value=uuid.UUID(TOKEN)))
        self.clock = Clock()
        for module in ('lock', 'runlock', 'steps', 'remover'):
            self.useFixture(fixtures.MonkeyPatch(
                'osc_image_store.engine.%s.time' % module, self.clock))
        self.http = self.useFixture(rm_fixture.Fixture())
        # The one version discovery request (recorded from Glance 33).
        self.http.get(V2, json=load('versions.json'))
        self.conn = openstack.connection.Connection(
            session=ks_session.Session(auth=noauth.NoAuth(endpoint=ENDPOINT)),
            image_endpoint_override=V2, image_api_version='2',
            identity_endpoint_override=IDENTITY, identity_api_version='3')
        self.proxy = proxy.Proxy.from_connection(self.conn)
        # Requests before this point (discovery) are not the test's.
        self._first = len(self.http.request_history)

    # -- answers ---------------------------------------------------------

    def mock_register(self, state=None):
        """The lock between runs: a namespace whose description is kept.

        ``self.register`` holds the description (a ``runlock.State`` dump);
        PUTs store theirs, GETs answer it.
        """
        self.register = (state or runlock.State()).dump()

        def answer(request, context):
            if request.method == 'PUT':
                self.register = request.json()['description']
            return {'namespace': runlock.NAMESPACE, 'visibility': 'public',
                    'protected': True, 'description': self.register}

        self.http.get(REGISTER, json=answer)
        self.http.put(REGISTER, json=answer)

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

    def mock_patch(self, body, *answers):
        """PATCH /v2/images/{id} answers (default: 200 with ``body``)."""
        return self.http.patch(V2 + '/images/' + body['id'],
                               [self._answer(a) for a in answers or (body,)])

    def mock_store_delete(self, store, image_id, *answers):
        """DELETE /v2/stores/{store}/{image_id} answers (default 204).

        Each answer is a status (204), a response dict, or an exception
        class to raise (a transport failure).
        """
        url = '%s/stores/%s/%s' % (V2, store, image_id)
        return self.http.delete(url, [self._answer(a)
                                      for a in answers or (204,)])

    def set_register(self, state):
        """What the lock's register holds from now on (a State)."""
        self.register = state.dump()

    def mock_slow_delete(self, image_id, seconds, then=None,
                         store='cheap'):
        """A store DELETE answered 204 after ``seconds`` (test clock).

        :param then: called just before the answer (e.g. another run
            takes the lock meanwhile).
        """
        def answer(request, context):
            self.clock.sleep(seconds)
            if then is not None:
                then()
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

    def patches(self, image_id=None):
        """The JSON bodies of the PATCHes sent (of one image)."""
        return [r.json() for r in self.requests() if r.method == 'PATCH'
                and (image_id is None or r.url.endswith(image_id))]

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
        return remover.Remover(self.proxy, store, remover.Options(**options),
                               stop=stop)

    def run_engine(self, images, store='cheap', **options):
        return list(self.remover(store, **options).run(images))


class EngineCase(TestCase):
    """An engine test, with the store list answered.

    ``self.body``: image ``cirros`` in three stores; ``self.iid``: its ID;
    ``self.held``: the body with a hold of this run; the lock between
    runs is answered (:meth:`mock_register`).
    """

    def setUp(self):
        super().setUp()
        self.mock_stores()
        self.mock_register()
        self.body = image_body()
        self.iid = self.body['id']
        self.held = locked(self.body)


def removal(image_id, store='cheap'):
    """What the engine sends to remove one image, after the store list."""
    return (LOCK + [listing_of(image_id), store_delete(image_id, store),
                    listing_of(image_id), read_byte(image_id)] + UNLOCK)


#: describe() strings of the requests the engine sends.
def listing_of(*image_ids, hidden=False):
    return 'GET /v2/images?id=in:%s&limit=%d&os_hidden=%s' % (
        ','.join(image_ids), len(image_ids), hidden)


def add_lock(image_id):
    return 'PATCH /v2/images/%s add /%s' % (image_id, lock.PROPERTY)


def remove_lock(image_id):
    return 'PATCH /v2/images/%s remove /%s' % (image_id, lock.PROPERTY)


def store_delete(image_id, store='cheap'):
    return 'DELETE /v2/stores/%s/%s' % (store, image_id)


def read_byte(image_id):
    return 'GET /v2/images/%s/file' % image_id


def get_image(image_id):
    return 'GET /v2/images/' + image_id


STORES = 'GET /v2/info/stores'
#: The register of the lock between runs, as describe() shows it.
_NS = '/v2/metadefs/namespaces/' + runlock.NAMESPACE
#: Taking the lock between runs: read, write, read after the settle.
LOCK = ['GET ' + _NS, 'PUT ' + _NS, 'GET ' + _NS]
#: Releasing it: read, write.
UNLOCK = ['GET ' + _NS, 'PUT ' + _NS]
