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
"""The local cloud's fault proxy (tools/localcloud) against a tiny server.

Loopback only: a threaded HTTP server in the test process stands for
Glance, and records what reached it.
"""

from concurrent import futures
import http.server
import threading
import time

from localcloud import faults
import requests
import testtools

BLOB = bytes(range(256)) * 4096  # 1 MiB


class _Upstream(http.server.BaseHTTPRequestHandler):
    """GET /blob (Range aware), GET /chunked, PUT /echo, DELETE /thing."""

    protocol_version = 'HTTP/1.1'
    server: '_Server'

    def log_message(self, format, *args):
        pass

    def _send(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def do_GET(self):
        self.server.log.append((self.command, self.path))
        if self.path == '/chunked':
            self.send_response(200)
            self.send_header('Transfer-Encoding', 'chunked')
            self.end_headers()
            for piece in (b'abc', b'defgh', b''):
                self.wfile.write(b'%x\r\n%s\r\n' % (len(piece), piece))
            return
        ranged = self.headers.get('Range')
        if ranged:
            first, last = map(int, ranged.split('=')[1].split('-'))
            self._send(206, BLOB[first:last + 1], [
                ('Content-Range', 'bytes %d-%d/%d' % (first, last,
                                                      len(BLOB)))])
        else:
            self._send(200, BLOB)

    do_HEAD = do_GET

    def do_PUT(self):
        if 'chunked' in self.headers.get('Transfer-Encoding', ''):
            body = b''
            while True:
                size = int(self.rfile.readline(), 16)
                body += self.rfile.read(size)
                self.rfile.readline()
                if not size:
                    break
        else:
            body = self.rfile.read(int(self.headers['Content-Length']))
        self.server.log.append((self.command, self.path))
        self._send(200, body, [('X-Seen-Length', str(len(body)))])

    def do_DELETE(self):
        self.server.log.append((self.command, self.path))
        self._send(204, b'')


class _Server(faults.QuietServer):

    def __init__(self):
        super().__init__(('127.0.0.1', 0), _Upstream)
        self.log = []


class TestFaultProxy(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.upstream = _Server()
        threading.Thread(target=self.upstream.serve_forever,
                         kwargs={'poll_interval': 0.05}, daemon=True).start()
        self.addCleanup(self.upstream.server_close)
        self.addCleanup(self.upstream.shutdown)
        self.proxy = self.useFixture(faults.FaultProxy(
            'http://127.0.0.1:%d' % self.upstream.server_address[1]))
        self.session = requests.Session()
        self.addCleanup(self.session.close)

    def get(self, path, **kwargs):
        return self.session.get(self.proxy.url + path, timeout=10, **kwargs)

    def test_streams_bodies_both_ways(self):
        response = self.get('/blob', stream=True)
        self.assertEqual(200, response.status_code)
        self.assertEqual(BLOB, b''.join(response.iter_content(65536)))
        ranged = self.get('/blob', headers={'Range': 'bytes=10-19'})
        self.assertEqual(206, ranged.status_code)
        self.assertEqual(BLOB[10:20], ranged.content)
        self.assertEqual('bytes 10-19/%d' % len(BLOB),
                         ranged.headers['Content-Range'])
        self.assertEqual(b'abcdefgh', self.get('/chunked').content)
        head = self.session.head(self.proxy.url + '/blob', timeout=10)
        self.assertEqual(str(len(BLOB)), head.headers['Content-Length'])
        put = self.session.put(self.proxy.url + '/echo', data=BLOB,
                               timeout=10)
        self.assertEqual(BLOB, put.content)
        chunked = self.session.put(self.proxy.url + '/echo', timeout=10,
                                   data=iter([b'x' * 70000, b'yz']))
        self.assertEqual(b'x' * 70000 + b'yz', chunked.content)
        self.assertEqual(
            [('GET', '/blob', 'forward', 200),
             ('GET', '/blob', 'forward', 206),
             ('GET', '/chunked', 'forward', 200),
             ('HEAD', '/blob', 'forward', 200),
             ('PUT', '/echo', 'forward', 200),
             ('PUT', '/echo', 'forward', 200)],
            [(s.method, s.path, s.action, s.status)
             for s in self.proxy.seen])

    def test_status_without_forwarding_once(self):
        rule = self.proxy.status(503, 'busy', 'DELETE', r'^/thing')
        response = self.session.delete(self.proxy.url + '/thing',
                                       timeout=10)
        self.assertEqual((503, b'busy'), (response.status_code,
                                          response.content))
        self.assertEqual([], self.upstream.log)
        # Used up: the next one goes through.
        self.assertEqual(204, self.session.delete(
            self.proxy.url + '/thing', timeout=10).status_code)
        self.assertEqual([('DELETE', '/thing')], self.upstream.log)
        self.assertEqual(1, rule.hits)

    def test_rules_match_method_and_path(self):
        self.proxy.status(500, method='DELETE', path='^/other', count=None)
        self.proxy.status(502, method='GET', path='^/blob', count=2)
        self.assertEqual(200, self.get('/chunked').status_code)
        self.assertEqual(204, self.session.delete(
            self.proxy.url + '/thing', timeout=10).status_code)
        self.assertEqual([502, 502, 200], [self.get('/blob').status_code
                                           for _ in range(3)])

    def test_status_after_forward(self):
        self.proxy.status_after_forward(502, method='DELETE')
        response = self.session.delete(self.proxy.url + '/thing',
                                       timeout=10)
        self.assertEqual(502, response.status_code)
        self.assertEqual([('DELETE', '/thing')], self.upstream.log)

    def test_drop_after_forward(self):
        self.proxy.drop_after_forward('DELETE', '/thing')
        self.assertRaises(requests.ConnectionError, self.session.delete,
                          self.proxy.url + '/thing', timeout=10)
        self.assertEqual([('DELETE', '/thing')], self.upstream.log)

    def test_delay_response_server_acts_client_times_out(self):
        self.proxy.delay_response(2, 'DELETE')
        started = time.monotonic()
        self.assertRaises(requests.ReadTimeout, self.session.delete,
                          self.proxy.url + '/thing', timeout=0.5)
        self.assertLess(time.monotonic() - started, 1.5)
        self.assertEqual([('DELETE', '/thing')], self.upstream.log)

    def test_delay_request(self):
        self.proxy.delay_request(0.5, 'GET', '^/blob$')
        started = time.monotonic()
        self.assertEqual(BLOB, self.get('/blob').content)
        self.assertGreaterEqual(time.monotonic() - started, 0.5)

    def test_delay_request_client_gives_up_first(self):
        self.proxy.delay_request(1, 'DELETE')
        self.assertRaises(requests.ReadTimeout, self.session.delete,
                          self.proxy.url + '/thing', timeout=0.3)
        self.assertEqual([], self.upstream.log)
        time.sleep(1.2)  # then the proxy forwards it anyway
        self.assertEqual([('DELETE', '/thing')], self.upstream.log)

    def test_pair_deletes_holds_the_first_until_the_second(self):
        self.proxy.pair_deletes(30)
        url = self.proxy.url + '/v2/stores/%s/img'
        with futures.ThreadPoolExecutor(2) as pool:
            first = pool.submit(self.session.delete, url % 'a', timeout=60)
            time.sleep(0.3)
            self.assertEqual([], self.upstream.log)  # held
            second = pool.submit(self.session.delete, url % 'b', timeout=60)
            self.assertEqual((204, 204), (first.result().status_code,
                                          second.result().status_code))
        self.assertEqual({('DELETE', '/v2/stores/a/img'),
                          ('DELETE', '/v2/stores/b/img')},
                         set(self.upstream.log))

    def test_pair_deletes_alone_goes_after_the_wait(self):
        self.proxy.pair_deletes(0.2)
        self.session.delete(self.proxy.url + '/v2/stores/a/img', timeout=10)
        self.assertEqual([('DELETE', '/v2/stores/a/img')], self.upstream.log)

    def test_stop_ends_delays(self):
        self.proxy.delay_response(30)
        errors = []

        def call():
            try:
                self.get('/blob')
            except requests.RequestException as exc:
                errors.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.3)
        started = time.monotonic()
        self.proxy.stop()
        caller.join(5)
        self.assertFalse(caller.is_alive())
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(1, len(errors))
