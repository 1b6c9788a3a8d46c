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
import json
import os
import uuid

import fixtures
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import openstack.connection
from requests_mock.contrib import fixture as rm_fixture
import testtools

from osc_image_store.sdk import proxy
from osc_image_store.sdk import resources

ENDPOINT = 'https://image.example.com'
V2 = ENDPOINT + '/v2'
_FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')


def load(name: str) -> dict:
    """A recorded Glance response body from tests/unit/fixtures."""
    with open(os.path.join(_FIXTURES, name)) as f:
        return json.load(f)


def image_body(name='cirros', stores=('fast', 'cheap', 'archive'),
               status='active', image_id=None):
    """A Glance image body based on the recorded one.

    :param stores: store IDs, or None to leave the field out (no location
        has a store, or multi-store is off).
    """
    body = copy.deepcopy(load('image.json'))
    body['id'] = image_id or str(uuid.uuid5(uuid.NAMESPACE_URL, name))
    body['name'] = name
    body['status'] = status
    if stores is None:
        del body['stores']
    else:
        body['stores'] = ','.join(stores)
    return body


def image_resource(body):
    """Build an Image resource from a body.

    The body's ``self`` link is dropped: it clashes with the constructor's
    own argument.
    """
    return resources.Image.existing(
        **{k: v for k, v in body.items() if k != 'self'})


class TestCase(testtools.TestCase):
    """Base class: ``self.proxy`` (a real Proxy), ``self.http`` (mock)."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.NestedTempfile())
        self.http = self.useFixture(rm_fixture.Fixture())
        # The one version discovery request (recorded from Glance 33).
        self.http.get(V2, json=load('versions.json'))
        self.conn = openstack.connection.Connection(
            session=ks_session.Session(auth=noauth.NoAuth(endpoint=ENDPOINT)),
            image_endpoint_override=V2, image_api_version='2')
        self.proxy = proxy.Proxy.from_connection(self.conn)
        # Requests before this point (discovery) are not the test's.
        self._first = len(self.http.request_history)

    def mock_stores(self, body=None, status=200):
        return self.http.get(V2 + '/info/stores', status_code=status,
                             json=load('stores.json') if body is None
                             else body)

    def mock_image(self, body, *then):
        """GET /v2/images/{id} answers body, then each of ``then``."""
        responses = [{'json': body}] + [{'json': b} for b in then]
        return self.http.get(V2 + '/images/' + body['id'], responses)

    def mock_store_delete(self, store, image_id, status=204, text=None,
                          html=False):
        """Make DELETE /v2/stores/{store}/{image_id} answer as Glance does.

        204, or an error with an HTML (webob) or JSON body.
        """
        url = '%s/stores/%s/%s' % (V2, store, image_id)
        if status == 204:
            return self.http.delete(url, status_code=204)
        phrase = http.HTTPStatus(status).phrase
        if html:
            title = '%s %s' % (status, phrase)
            return self.http.delete(
                url, status_code=status,
                headers={'Content-Type': 'text/html; charset=UTF-8'},
                text='<html>\n <head>\n  <title>%s</title>\n </head>\n '
                     '<body>\n  <h1>%s</h1>\n  %s<br /><br />\n\n\n\n '
                     '</body>\n</html>' % (title, title, text))
        return self.http.delete(
            url, status_code=status,
            headers={'Content-Type': 'application/json'},
            json={'message': text + '<br /><br />\n\n\n',
                  'code': '%s %s' % (status, phrase), 'title': phrase})

    def sent(self):
        """Every request sent, as (method, url) pairs."""
        return [(r.method, r.url) for r in self.requests()]

    def requests(self):
        """The requests sent since the proxy was built."""
        return self.http.request_history[self._first:]

    def deletes(self):
        return [r.url for r in self.requests() if r.method == 'DELETE']
