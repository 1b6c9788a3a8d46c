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

"""A fault-injecting reverse proxy to put in front of a Glance.

Usage from a functional test (the real ``openstack`` CLI talks to the
proxy because the extra clouds.yaml of :meth:`LocalCloud.env` overrides
the image endpoint)::

    proxy = self.useFixture(faults.FaultProxy(self.cloud.url('glance')))
    proxy.delay_response(9, 'DELETE', r'^/v2/stores/')
    env = self.cloud.env('isd-admin', image_endpoint=proxy.url,
                         api_timeout=3)
    # ... run openstack with env: it times out after 3 s while Glance
    # carries the DELETE out.

Rules are matched in the order they were added, on the method (None:
any) and a regular expression searched in the path (query included);
each applies ``count`` times (None: always), then is used up. A request
no rule matches is forwarded untouched. Bodies are streamed both ways
(uploads, downloads, ``Range`` requests); every answer closes the client
connection (``Connection: close``).
"""

from __future__ import annotations

import dataclasses
import http.client
import http.server
import re
import socket
import sys
import threading
import typing
import urllib.parse

#: Hop-by-hop headers, never forwarded.
_HOP = {'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer',
        'transfer-encoding', 'upgrade', 'proxy-authorization',
        'proxy-authenticate'}
_CHUNK = 64 * 1024


@dataclasses.dataclass
class Rule:
    """One fault: what to do with matching requests.

    :ivar action: ``delay_request``, ``delay_response``,
        ``drop_after_forward``, ``status``, ``status_after_forward`` or
        ``pair``.
    :ivar hits: how many requests it has applied to.
    """

    action: str
    method: str | None = None
    path: str = ''
    count: int | None = 1
    seconds: float = 0.0
    code: int = 0
    body: bytes = b''
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Tell if the rule applies to ``method path`` (not used up)."""
        return ((self.count is None or self.hits < self.count)
                and self.method in (None, method)
                and re.search(self.path, path) is not None)


@dataclasses.dataclass
class Seen:
    """A request the proxy handled.

    Its method, path, the rule's action (``forward`` when none applied)
    and the status sent (None: none).
    """

    method: str
    path: str
    action: str
    status: int | None = None


class QuietServer(http.server.ThreadingHTTPServer):
    """A threaded HTTP server that does not print dropped connections.

    Hanging up on a client (``drop_after_forward``) or a client that gives
    up (a timeout) are what this proxy is for, not errors.
    """

    daemon_threads = True

    def handle_error(self, request: typing.Any,
                     client_address: typing.Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class FaultProxy:
    """A threaded reverse proxy on 127.0.0.1 in front of ``upstream``.

    Also a context manager and a fixture (``setUp``/``cleanUp``, for
    ``testtools.TestCase.useFixture``).

    :ivar seen: list of :class:`Seen`, in arrival order.
    """

    def __init__(self, upstream: str, port: int = 0,
                 timeout: float = 300.0) -> None:
        """:param upstream: ``http://host:port[/prefix]`` of the server.

        :param port: the port to listen on (default any free one).
        :param timeout: seconds to wait for the upstream server.
        """
        parts = urllib.parse.urlsplit(upstream)
        if parts.scheme != 'http' or not parts.hostname:
            raise ValueError(f'upstream must be http://host:port: {upstream}')
        self.upstream = (parts.hostname, parts.port or 80)
        self.prefix = parts.path.rstrip('/')
        self.timeout, self.port = timeout, port
        self.rules: list[Rule] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._pairs: dict[str, threading.Event] = {}
        self._stopping = threading.Event()
        self._server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` of the proxy (once started)."""
        return f'http://127.0.0.1:{self.port}'

    def start(self) -> FaultProxy:
        """Start serving in a daemon thread; return self."""
        self._stopping.clear()
        handler = type('Handler', (_Handler,), {'proxy': self})
        self._server = QuietServer(('127.0.0.1', self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        # A short poll interval: stop() waits for one.
        threading.Thread(target=self._server.serve_forever,
                         kwargs={'poll_interval': 0.05},
                         name=f'fault-proxy-{self.port}', daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed requests give up at once. Idempotent."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def setUp(self) -> None:
        """Fixture protocol: start."""
        self.start()

    def cleanUp(self) -> None:
        """Fixture protocol: stop."""
        self.stop()

    def getDetails(self) -> dict:
        """Fixture protocol: no details."""
        return {}

    # -- rules --------------------------------------------------------------

    def _add(self, action: str, method: str | None, path: str,
             count: int | None, **values: typing.Any) -> Rule:
        rule = Rule(action, method and method.upper(), path, count, **values)
        with self._lock:
            self.rules.append(rule)
        return rule

    def delay_request(self, seconds: float, method: str | None = None,
                      path: str = '', count: int | None = 1) -> Rule:
        """Wait ``seconds``, then forward the request."""
        return self._add('delay_request', method, path, count,
                         seconds=seconds)

    def delay_response(self, seconds: float, method: str | None = None,
                       path: str = '', count: int | None = 1) -> Rule:
        """Forward at once; hold the answer back ``seconds``.

        The server carries the request out while the client may time out.
        """
        return self._add('delay_response', method, path, count,
                         seconds=seconds)

    def drop_after_forward(self, method: str | None = None, path: str = '',
                           count: int | None = 1) -> Rule:
        """Forward, wait for the answer, then hang up on the client."""
        return self._add('drop_after_forward', method, path, count)

    def status(self, code: int, body: bytes | str = b'',
               method: str | None = None, path: str = '',
               count: int | None = 1) -> Rule:
        """Answer ``code`` with ``body`` without forwarding."""
        return self._add('status', method, path, count, code=code,
                         body=_bytes(body))

    def status_after_forward(self, code: int, body: bytes | str = b'',
                             method: str | None = None, path: str = '',
                             count: int | None = 1) -> Rule:
        """Forward, then answer ``code`` and ``body`` instead."""
        return self._add('status_after_forward', method, path, count,
                         code=code, body=_bytes(body))

    def pair_deletes(self, seconds: float, count: int | None = None) -> Rule:
        """Hold store DELETEs of one image until another one comes.

        Each ``DELETE /v2/stores/<store>/<image>`` waits until a DELETE of
        the same image comes through this proxy, or ``seconds`` pass; then
        both are forwarded together.  Makes two clients' removals of one
        image meet on the server (a race that timing alone rarely hits).
        """
        return self._add('pair', 'DELETE', r'^/v2/stores/[^/]+/[^/?]+$',
                         count, seconds=seconds)

    def clear(self) -> None:
        """Drop every rule."""
        with self._lock:
            self.rules.clear()

    def _claim(self, method: str, path: str) -> Rule | None:
        """Return the first rule for the request, counting the hit."""
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    return rule
        return None

    def _meet(self, key: str, seconds: float) -> None:
        """Wait for another request with ``key`` (``seconds`` at most)."""
        with self._lock:
            other = self._pairs.pop(key, None)
            if other is None:
                mine = self._pairs[key] = threading.Event()
        if other is not None:
            other.set()
            return
        mine.wait(seconds)
        with self._lock:
            if self._pairs.get(key) is mine:
                del self._pairs[key]

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)


def _bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


class _Handler(http.server.BaseHTTPRequestHandler):
    """One request: apply the proxy's rule, forward, relay."""

    protocol_version = 'HTTP/1.1'
    proxy: FaultProxy

    def log_message(self, format: str, *args: typing.Any) -> None:
        """Quiet: :attr:`FaultProxy.seen` records the requests."""

    def _handle(self) -> None:
        self.close_connection = True
        method, path = self.command, self.path
        rule = self.proxy._claim(method, path) or Rule('forward')
        action = rule.action
        seen = Seen(method, path, action)
        self.proxy._record(seen)
        if action == 'status':
            for _ in self._request_body():  # read it before answering
                pass
            seen.status = self._answer(rule.code, rule.body)
            return
        if action == 'delay_request' and self.proxy._stopping.wait(
                rule.seconds):
            return
        if action == 'pair':
            self.proxy._meet(path.rsplit('/', 1)[1], rule.seconds)
        upstream = http.client.HTTPConnection(*self.proxy.upstream,
                                              timeout=self.proxy.timeout)
        try:
            response = self._forward(upstream)
            if action == 'drop_after_forward':
                response.read()
                self.connection.shutdown(socket.SHUT_RDWR)
            elif action == 'status_after_forward':
                response.read()
                seen.status = self._answer(rule.code, rule.body)
            else:
                if action == 'delay_response' and self.proxy._stopping.wait(
                        rule.seconds):
                    return
                seen.status = response.status
                self._relay(response)
        except OSError:
            pass  # the client or the server went away
        finally:
            upstream.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle
    do_OPTIONS = _handle

    def _request_body(self) -> typing.Iterator[bytes]:
        """Yield the request body (Content-Length or chunked)."""
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            while True:
                size = int(self.rfile.readline().split(b';')[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b'\r\n', b'\n', b''):
                        pass  # trailers
                    return
                yield self.rfile.read(size)
                self.rfile.readline()
        left = int(self.headers.get('Content-Length') or 0)
        while left > 0:
            chunk = self.rfile.read(min(left, _CHUNK))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk

    def _forward(self, upstream: http.client.HTTPConnection
                 ) -> http.client.HTTPResponse:
        """Send the request upstream, streaming its body."""
        chunked = 'chunked' in self.headers.get('Transfer-Encoding',
                                                '').lower()
        has_body = chunked or 'Content-Length' in self.headers
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in _HOP}
        upstream.request(self.command, self.proxy.prefix + self.path,
                         body=self._request_body() if has_body else None,
                         headers=headers, encode_chunked=chunked)
        return upstream.getresponse()

    def _answer(self, code: int, body: bytes) -> int:
        """Send an answer of our own; return its status."""
        self.send_response_only(code)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Connection', 'close')
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)
        return code

    def _relay(self, response: http.client.HTTPResponse) -> None:
        """Send the upstream answer on, streaming its body."""
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in _HOP:
                self.send_header(name, value)
        self.send_header('Connection', 'close')
        self.end_headers()
        # http.client knows a HEAD answer has no body.
        while chunk := response.read1(_CHUNK):
            self.wfile.write(chunk)
        self.wfile.flush()
