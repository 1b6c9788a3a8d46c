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
gets the first rule that matches it, plus the first matching
:meth:`~FaultProxy.shift_date` rule, which rewrites the ``Date`` of the
answer whatever else happens (a server whose clock is off, slow or
not). A request no rule matches is forwarded untouched. Delays are
fixed or drawn per request from a range (``seconds=(0.5, 3.0)``; pass
``seed`` to the proxy to draw the same ones again). Bodies are streamed
both ways (uploads, downloads, ``Range`` requests); every answer closes
the client connection (``Connection: close``).
"""

from __future__ import annotations

import dataclasses
import http.client
import http.server
import math
import random
import re
import socket
import threading
import typing
import urllib.parse

from localcloud import relay
from localcloud.relay import QuietServer

#: Seconds, or a ``(low, high)`` range to draw them from.
Seconds = float | tuple[float, float]


@dataclasses.dataclass
class Rule:
    """One fault: what to do with matching requests.

    :ivar action: ``delay_request``, ``delay_response``,
        ``drop_after_forward``, ``status``, ``status_after_forward``,
        ``pair`` or ``shift_date``.
    :ivar seconds: a delay, wait or shift; delays can be a ``(low,
        high)`` range.
    :ivar hits: how many requests it has applied to.
    """

    action: str
    method: str | None = None
    path: str = ''
    count: int | None = 1
    seconds: Seconds = 0.0
    code: int = 0
    body: bytes = b''
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Tell if the rule applies to ``method path`` (not used up)."""
        return ((self.count is None or self.hits < self.count)
                and self.method in (None, method)
                and re.search(self.path, path) is not None)

    def draw(self, rng: random.Random) -> float:
        """Return the seconds of one hit (uniform in a range)."""
        if isinstance(self.seconds, tuple):
            return rng.uniform(*self.seconds)
        return self.seconds


@dataclasses.dataclass
class Seen:
    """A request the proxy handled.

    Its method, path, the rule's action (``forward`` when none applied),
    the status sent (None: none), the seconds of its delay (drawn for
    it; None: no delay rule) and the shift of its ``Date`` (None: none).
    """

    method: str
    path: str
    action: str
    status: int | None = None
    delay: float | None = None
    date_shift: float | None = None


class FaultProxy:
    """A threaded reverse proxy on 127.0.0.1 in front of ``upstream``.

    Also a context manager and a fixture (``setUp``/``cleanUp``, for
    ``testtools.TestCase.useFixture``).

    :ivar seen: list of :class:`Seen`, in arrival order.
    """

    def __init__(self, upstream: str, port: int = 0,
                 timeout: float = 300.0,
                 seed: int | random.Random | None = None) -> None:
        """:param upstream: ``http://host:port[/prefix]`` of the server.

        :param port: the port to listen on (default any free one).
        :param timeout: seconds to wait for the upstream server.
        :param seed: where delays in a range are drawn from: a seed, or
            a ``random.Random`` (default an unseeded one). Requests draw
            in their order of arrival.
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
        self._rng = (seed if isinstance(seed, random.Random)
                     else random.Random(seed))
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

    def delay_request(self, seconds: Seconds, method: str | None = None,
                      path: str = '', count: int | None = 1) -> Rule:
        """Wait ``seconds``, then forward the request.

        :param seconds: the delay, or a ``(low, high)`` range: each
            request then waits ``random.uniform(low, high)``.
        :raises ValueError: a negative delay or an empty range.
        """
        return self._add('delay_request', method, path, count,
                         seconds=_delay(seconds))

    def delay_response(self, seconds: Seconds, method: str | None = None,
                       path: str = '', count: int | None = 1) -> Rule:
        """Forward at once; hold the answer back ``seconds``.

        The server carries the request out while the client may time out.

        :param seconds: as for :meth:`delay_request`.
        :raises ValueError: a negative delay or an empty range.
        """
        return self._add('delay_response', method, path, count,
                         seconds=_delay(seconds))

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

    def shift_date(self, seconds: float, method: str | None = None,
                   path: str = '', count: int | None = None) -> Rule:
        """Move the ``Date`` of answers by ``seconds`` (a clock off).

        The upstream ``Date`` (now when it has none) plus ``seconds``,
        written as RFC 7231 requires (``Sun, 06 Nov 1994 08:49:37
        GMT``); the proxy's own answers (:meth:`status`) get one too.
        Applies on top of the request's other rule; by default to every
        answer.

        :param seconds: ahead (positive) or behind (negative).
        :raises ValueError: ``seconds`` is not finite.
        """
        if not math.isfinite(seconds):
            raise ValueError(f'seconds must be finite: {seconds}')
        return self._add('shift_date', method, path, count,
                         seconds=float(seconds))

    def clear(self) -> None:
        """Drop every rule."""
        with self._lock:
            self.rules.clear()

    def _claim(self, method: str, path: str) -> tuple[Rule, Seen]:
        """Take the rules of a request, counting the hits; record it.

        :returns: its first matching rule but date shifts (``forward``
            when none) and its :class:`Seen`, which holds the delay drawn
            and the first matching date shift.
        """
        with self._lock:
            matching = [r for r in self.rules if r.matches(method, path)]
            rule = next((r for r in matching if r.action != 'shift_date'),
                        None)
            shift = next((r for r in matching if r.action == 'shift_date'),
                         None)
            for hit in (rule, shift):
                if hit is not None:
                    hit.hits += 1
            rule = rule or Rule('forward')
            seen = Seen(method, path, rule.action)
            if rule.action in ('delay_request', 'delay_response'):
                seen.delay = rule.draw(self._rng)
            if shift is not None:
                seen.date_shift = typing.cast(float, shift.seconds)
            self.seen.append(seen)
        return rule, seen

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


def _bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def _delay(seconds: Seconds) -> Seconds:
    """Check a delay: seconds >= 0, or a ``(low, high)`` range of them."""
    values = ((seconds,) if isinstance(seconds, (int, float))
              else tuple(seconds))
    if (len(values) not in (1, 2) or values[0] > values[-1]
            or not all(math.isfinite(v) and v >= 0 for v in values)):
        raise ValueError(f'a delay is seconds >= 0 or (low, high) with '
                         f'0 <= low <= high: {seconds!r}')
    if len(values) == 1:
        return float(values[0])
    return float(values[0]), float(values[1])


class _Handler(relay.RelayHandler):
    """One request: apply the proxy's rules, forward, relay."""

    proxy: FaultProxy

    def _handle(self) -> None:
        self.close_connection = True
        rule, seen = self.proxy._claim(self.command, self.path)
        action, shift = rule.action, seen.date_shift
        if action == 'status':
            for _ in self._request_body():  # read it before answering
                pass
            seen.status = self._answer(rule.code, rule.body, shift)
            return
        if action == 'delay_request' and self.proxy._stopping.wait(
                seen.delay):
            return
        if action == 'pair':
            self.proxy._meet(self.path.rsplit('/', 1)[1],
                             typing.cast(float, rule.seconds))
        upstream = http.client.HTTPConnection(*self.proxy.upstream,
                                              timeout=self.proxy.timeout)
        try:
            response = self._forward(upstream,
                                     self.proxy.prefix + self.path)
            if action == 'drop_after_forward':
                response.read()
                self.connection.shutdown(socket.SHUT_RDWR)
            elif action == 'status_after_forward':
                response.read()
                seen.status = self._answer(rule.code, rule.body, shift)
            else:
                if action == 'delay_response' and self.proxy._stopping.wait(
                        seen.delay):
                    return
                seen.status = response.status
                self._relay(response, shift)
        except OSError:
            pass  # the client or the server went away
        finally:
            upstream.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle
    do_OPTIONS = _handle
