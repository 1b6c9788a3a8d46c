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
import datetime
import email.utils
import http.server
import random
import re
import threading
import time

from localcloud import faults
from localcloud import relay
import requests
import testtools

BLOB = bytes(range(256)) * 4096  # 1 MiB
#: RFC 7231 IMF-fixdate.
IMF_FIXDATE = re.compile(
    r'^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|'
    r'Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$')


class _Upstream(http.server.BaseHTTPRequestHandler):
    """GET /blob (Range aware), /chunked, /nodate; PUT /echo; DELETE."""

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
        if self.path == '/nodate':
            self.send_response_only(200)  # neither Date nor Server
            self.send_header('Content-Length', '2')
            self.end_headers()
            self.wfile.write(b'ok')
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

    # -- delays drawn from a range --------------------------------------

    def seeded_proxy(self, seed):
        return self.useFixture(faults.FaultProxy(
            'http://127.0.0.1:%d' % self.upstream.server_address[1],
            seed=seed))

    def test_delay_request_drawn_per_request_from_the_seed(self):
        proxy = self.seeded_proxy(7)
        rule = proxy.delay_request((0.0, 1.2), 'GET', '^/chunked$',
                                   count=None)
        draws = random.Random(7)
        expected = [draws.uniform(0.0, 1.2) for _ in range(3)]
        for delay in expected:
            started = time.monotonic()
            self.assertEqual(b'abcdefgh', self.session.get(
                proxy.url + '/chunked', timeout=10).content)
            took = time.monotonic() - started
            # It waited what it drew for this request, not the bounds.
            self.assertGreaterEqual(took, delay)
            self.assertLess(took, delay + 0.5)
        self.assertEqual(expected, [s.delay for s in proxy.seen])
        self.assertEqual(['delay_request'] * 3,
                         [s.action for s in proxy.seen])
        self.assertEqual((0.0, 1.2), rule.seconds)
        self.assertEqual(3, rule.hits)

    def test_delay_response_range_with_a_random_instance(self):
        proxy = self.seeded_proxy(random.Random(3))
        proxy.delay_response((0.4, 0.6), 'DELETE', count=None)
        # The server acts at once; the answer comes after the delay.
        self.assertRaises(requests.ReadTimeout, self.session.delete,
                          proxy.url + '/thing', timeout=0.2)
        self.assertEqual([('DELETE', '/thing')], self.upstream.log)
        started = time.monotonic()
        self.assertEqual(204, self.session.delete(
            proxy.url + '/thing', timeout=10).status_code)
        took = time.monotonic() - started
        draws = random.Random(3)
        expected = [draws.uniform(0.4, 0.6) for _ in range(2)]
        self.assertEqual(expected, [s.delay for s in proxy.seen])
        self.assertGreaterEqual(took, expected[1])
        self.assertEqual([('DELETE', '/thing')] * 2, self.upstream.log)

    def test_fixed_delays_stay_fixed(self):
        self.proxy.delay_request(0.2, 'GET')
        self.get('/chunked')
        self.assertEqual([0.2], [s.delay for s in self.proxy.seen])

    def test_bad_delays_are_refused(self):
        for seconds in (-1, (2, 1), (-1, 1), (1, 2, 3), (),
                        float('nan'), (0, float('inf'))):
            self.assertRaises(ValueError, self.proxy.delay_request, seconds)
            self.assertRaises(ValueError, self.proxy.delay_response, seconds)
        self.assertRaises(ValueError, self.proxy.shift_date, float('nan'))
        self.assertEqual([], self.proxy.rules)

    # -- Date shifted ---------------------------------------------------

    def assertDateNear(self, response, seconds):
        """The answer has one Date, ``seconds`` from now (RFC 7231)."""
        dates = response.raw.headers.getlist('Date')
        self.assertEqual(1, len(dates), dates)
        self.assertRegex(dates[0], IMF_FIXDATE)
        off = (email.utils.parsedate_to_datetime(dates[0])
               - datetime.datetime.now(datetime.timezone.utc))
        self.assertAlmostEqual(seconds, off.total_seconds(), delta=3)

    def test_shift_date_moves_the_upstream_date(self):
        ahead = self.proxy.shift_date(400, count=1)
        self.proxy.shift_date(-400, 'GET', '^/blob')
        self.assertDateNear(self.get('/blob'), 400)
        self.assertDateNear(self.get('/blob'), -400)
        self.assertDateNear(self.get('/chunked'), 0)  # no rule: as is
        self.assertEqual(1, ahead.hits)
        self.assertEqual([('forward', 400.0), ('forward', -400.0),
                          ('forward', None)],
                         [(s.action, s.date_shift) for s in self.proxy.seen])

    def test_shift_date_adds_a_missing_date(self):
        self.assertNotIn('Date', self.get('/nodate').headers)
        self.proxy.shift_date(-400)
        response = self.get('/nodate')
        self.assertEqual(b'ok', response.content)
        self.assertDateNear(response, -400)

    def test_shift_date_applies_with_the_other_rules(self):
        shift = self.proxy.shift_date(400)
        self.proxy.delay_request(0.3, 'GET', '^/blob$')
        self.proxy.status(503, 'busy', 'DELETE')
        self.proxy.status_after_forward(502, method='PUT')
        started = time.monotonic()
        response = self.get('/blob')
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual(BLOB, response.content)
        self.assertDateNear(response, 400)
        response = self.session.delete(self.proxy.url + '/thing', timeout=10)
        self.assertEqual(503, response.status_code)
        self.assertDateNear(response, 400)
        response = self.session.put(self.proxy.url + '/echo', data=b'x',
                                    timeout=10)
        self.assertEqual(502, response.status_code)
        self.assertDateNear(response, 400)
        self.assertDateNear(self.get('/chunked'), 400)
        self.assertEqual(
            [('GET', '/blob', 'delay_request', 200, 0.3, 400.0),
             ('DELETE', '/thing', 'status', 503, None, 400.0),
             ('PUT', '/echo', 'status_after_forward', 502, None, 400.0),
             ('GET', '/chunked', 'forward', 200, None, 400.0)],
            [(s.method, s.path, s.action, s.status, s.delay, s.date_shift)
             for s in self.proxy.seen])
        self.assertEqual(4, shift.hits)
        self.assertEqual([('GET', '/blob'), ('PUT', '/echo'),
                          ('GET', '/chunked')], self.upstream.log)

    def test_shifted_date(self):
        self.assertEqual('Sun, 06 Nov 1994 08:56:17 GMT', relay.shifted_date(
            'Sun, 06 Nov 1994 08:49:37 GMT', 400))
        self.assertEqual('Sat, 05 Nov 1994 08:49:37 GMT', relay.shifted_date(
            'Sun, 06 Nov 1994 08:49:37 GMT', -86400))
        self.assertEqual('Sun, 06 Nov 1994 07:49:37 GMT', relay.shifted_date(
            'Sun, 06 Nov 1994 08:49:37 +0100', 0))
        self.assertEqual('Sun, 06 Nov 1994 08:49:38 GMT', relay.shifted_date(
            'Sun, 06 Nov 1994 08:49:37 -0000', 1))
        now = email.utils.parsedate_to_datetime(
            relay.shifted_date('not a date', 0))
        self.assertAlmostEqual(
            0, (now - datetime.datetime.now(datetime.timezone.utc))
            .total_seconds(), delta=3)
