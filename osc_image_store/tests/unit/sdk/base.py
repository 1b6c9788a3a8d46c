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
"""Base of the tests of :mod:`osc_image_store.sdk`: its proxy alone.

openstacksdk's own ``openstack.tests.unit.test_proxy_base.TestProxyBase``
cannot be imported with this project's test requirements (it needs
``oslotest``); these tests keep its shape (one test class per kind of
resource, ``test_<call>`` methods) with requests-mock at the HTTP boundary
instead, so that what is sent is checked as sent.
"""

from osc_image_store.sdk import _proxy
from osc_image_store.tests.unit import base


def sdk_proxy(conn):
    """The sdk's proxy alone (no guard) on a connection's image service.

    :param conn: An :class:`openstack.connection.Connection`.
    :returns: An :class:`osc_image_store.sdk._proxy.Proxy`.
    """
    proxy = conn.config.get_session_client('image', constructor=_proxy.Proxy)
    # As openstacksdk's ServiceDescription does for conn.image (a session
    # made by the connection would also lead to it).
    proxy._connection = conn
    return proxy


class TestImageProxy(base.TestCase):
    """``self.proxy``: :class:`osc_image_store.sdk._proxy.Proxy` alone.

    No guard (:mod:`osc_image_store.guard`) and no resource cache: what
    these tests see is what openstacksdk would do with the patch.
    """

    def setUp(self):
        super().setUp()
        self.proxy = sdk_proxy(self.conn)
        self._first = len(self.http.request_history)
