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

"""HTTP plumbing of :mod:`localcloud.faults`: a quiet threaded server
and a request handler that forwards a request and relays the answer,
streaming bodies both ways, with a ``Date`` moved on request."""

from __future__ import annotations

import datetime
import email.utils
import http.client
import http.server
import sys
import typing

#: Hop-by-hop headers, never forwarded.
_HOP = {'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer',
        'transfer-encoding', 'upgrade', 'proxy-authorization',
        'proxy-authenticate'}
_CHUNK = 64 * 1024


class QuietServer(http.server.ThreadingHTTPServer):
    """A threaded HTTP server that does not print dropped connections.

    Hanging up on a client or a client that gives up (a timeout) are
    what a fault proxy is for, not errors.
    """

    daemon_threads = True

    def handle_error(self, request: typing.Any,
                     client_address: typing.Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def shifted_date(value: str | None, seconds: float) -> str:
    """Return HTTP date ``value`` moved by ``seconds``.

    ``value`` None or unreadable stands for now. The result is an RFC
    7231 ``IMF-fixdate`` (``Sun, 06 Nov 1994 08:49:37 GMT``).
    """
    utc = datetime.timezone.utc
    try:
        when = email.utils.parsedate_to_datetime(value or '')
    except (TypeError, ValueError):
        when = datetime.datetime.now(utc)
    if when.tzinfo is None:  # "-0000": UTC, says RFC 5322
        when = when.replace(tzinfo=utc)
    when = (when + datetime.timedelta(seconds=seconds)).astimezone(utc)
    return email.utils.format_datetime(when, usegmt=True)


class RelayHandler(http.server.BaseHTTPRequestHandler):
    """Request handler base: read, forward, answer, relay.

    Every answer says ``Connection: close``; the subclass sets
    ``self.close_connection``.
    """

    protocol_version = 'HTTP/1.1'

    def log_message(self, format: str, *args: typing.Any) -> None:
        """Quiet: the proxy records requests its own way."""

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

    def _forward(self, upstream: http.client.HTTPConnection, path: str
                 ) -> http.client.HTTPResponse:
        """Send the request upstream to ``path``, streaming its body."""
        chunked = 'chunked' in self.headers.get('Transfer-Encoding',
                                                '').lower()
        has_body = chunked or 'Content-Length' in self.headers
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in _HOP}
        upstream.request(self.command, path,
                         body=self._request_body() if has_body else None,
                         headers=headers, encode_chunked=chunked)
        return upstream.getresponse()

    def _answer(self, code: int, body: bytes,
                date_shift: float | None = None) -> int:
        """Send an answer of our own; return its status.

        :param date_shift: send a ``Date`` that far from now (None: none).
        """
        self.send_response_only(code)
        if date_shift is not None:
            self.send_header('Date', shifted_date(None, date_shift))
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Connection', 'close')
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)
        return code

    def _relay(self, response: http.client.HTTPResponse,
               date_shift: float | None = None) -> None:
        """Send the upstream answer on, streaming its body.

        :param date_shift: move its ``Date`` that far (None: as it is).
        """
        self.send_response_only(response.status, response.reason)
        dropped = _HOP | ({'date'} if date_shift is not None else set())
        for name, value in response.getheaders():
            if name.lower() not in dropped:
                self.send_header(name, value)
        if date_shift is not None:
            self.send_header('Date', shifted_date(
                response.getheader('Date'), date_shift))
        self.send_header('Connection', 'close')
        self.end_headers()
        # http.client knows a HEAD answer has no body.
        while chunk := response.read1(_CHUNK):
            self.wfile.write(chunk)
        self.wfile.flush()
