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
"""One lock per run, shared by the runs that free the same store.

Two runs that free *different* stores of one image at once can both pass
Glance's "another copy is left" check and leave it with no data; runs
that free the *same* store cannot.  So a run holds, while it removes, a
lock that runs of its store share and runs of other stores wait for.
Glance has no compare-and-set: the lock is Fischer's timed mutual
exclusion on the ``description`` of the metadata definitions namespace
:data:`NAMESPACE` (public, protected, made on first use; admin only by
default), ``{"store": <id>, "runs": {<token>: [<host>, <pid>, <beat>]}}``
(beat: the Images API's clock, its ``Date`` header):

1. read it (``GET /v2/metadefs/namespaces/{ns}``), dropping runs whose
   beat is :data:`STALE_AFTER` old; wait while runs of another store are
   left;
2. write it with this run added (``PUT``), answered within :data:`SETTLE`
   seconds of the read (a later answer is not trusted);
3. wait :data:`SETTLE` seconds and read it again: held if it still names
   this store and this run.

The beat is written the same way every :data:`BEAT` seconds; the register
is read again right before a DELETE (at most once per :data:`SETTLE`),
and no DELETE is sent once the last confirmed beat is :data:`LEASE` old.
Release: write it without this run.  Correct while Glance answers a
``PUT`` within :data:`SETTLE` and a process is not paused for
``STALE_AFTER - LEASE`` between its check and its DELETE reaching Glance.
"""

import email.utils
import os
import random
import threading
import time
import typing as ty
import uuid

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc

from osc_image_store.engine import lock
from osc_image_store.engine import register

if ty.TYPE_CHECKING:
    from osc_image_store.sdk import proxy as sdk_proxy

#: The metadata definitions namespace whose description is the register.
NAMESPACE = 'osc-image-store-removals'
#: Seconds: the longest trusted time from a read to the answer of the
#: write, and the wait before the confirming read.
SETTLE = 1.0
#: Seconds between two writes of a run's beat.
BEAT = 60.0
#: Seconds after its last confirmed beat when a run stops removing.
LEASE = 240.0
#: Seconds after its beat when another run drops a run from the register.
STALE_AFTER = register.STALE_AFTER
#: Characters of a namespace description that Glance keeps: runs that
#: would make the register longer wait (5 runs fit, whatever the host).
MAX_LENGTH = 500
_ERRORS = (sdk_exc.SDKException, ks_exc.ClientException)
_DISPLAY = 'osc-image-store: runs removing image data from a store'
#: The register's value (re-exported).
State = register.State
_PATH = '/metadefs/namespaces/' + NAMESPACE


class LockError(Exception):
    """The lock between runs could not be taken or kept; see the text."""


class LockLost(LockError):
    """The register no longer names this run: another run took the lock."""


class RunLock:
    """This run's lock against runs that free another store.

    :param proxy: the SDK proxy (its metadef namespace calls are used).
    :param store: the store this run frees.
    :param settle: seconds; see :data:`SETTLE`.
    :param wait: seconds :meth:`acquire` waits for other runs.
    :param stop: when set, :meth:`acquire` stops waiting.
    :param on_wait: called once with the holders when a wait begins.
    """

    def __init__(self, proxy: 'sdk_proxy.Proxy', store: str,
                 settle: float = SETTLE, wait: float = 30.0,
                 stop: threading.Event | None = None,
                 on_wait: ty.Callable[[str], None] | None = None):
        self.proxy, self.store = proxy, store
        self.settle, self.wait = settle, wait
        self.stop = stop or threading.Event()
        self.on_wait = on_wait
        self.token = uuid.uuid4().hex[:12]
        self.host = lock.host_name()  # plain ASCII: 5 runs fit
        self.held = False
        self._written = False  # this run's entry may be in the register
        # Monotonic times of the last confirmed beat and the last read that
        # showed this run; the Images API's clock at the last read.
        self._beat_at = self._seen_at = self._server_now = 0.0
        self._mutex = threading.RLock()

    def acquire(self) -> None:
        """Take the lock, waiting up to ``wait`` seconds for other runs.

        Requests: ``GET``, ``PUT``, ``GET`` on the namespace (a ``POST``
        the first time, 409 when another run made it first).

        :raises: :class:`LockError` when runs of another store still hold
            it after the wait, or when the namespace cannot be read or
            written (e.g. 403 for a non-admin).  On a stop it returns
            with :attr:`held` False.
        """
        with self._mutex:
            try:
                self._acquire()
            except LockError as exc:
                error = self.release()  # what this run may have written
                if error is None:
                    raise
                raise LockError('%s This run could not take itself out of '
                                'it either (%s): other runs ignore it %d '
                                'minutes after its last beat.' % (
                                    exc, error, STALE_AFTER // 60)) from exc

    def _acquire(self) -> None:
        deadline = time.monotonic() + self.wait
        told = False
        while True:
            state, read_at = self._read()
            live = state.live(self._server_now)
            others = dict(live.runs)
            others.pop(self.token, None)
            joined = State(self.store, dict(others, me=[self.host, 1e7, 1e10]))
            blocked = others and (live.store != self.store or len(
                joined.dump()) + len(self.token) > MAX_LENGTH)
            if not blocked and self._write_beat(live, read_at):
                self.held = True
                return
            if blocked and not told and self.wait > 0 and self.on_wait:
                told = True
                self.on_wait('Waiting up to %d s for other runs of this '
                             'command, which remove image data from store '
                             '%s%s: %s.' % (self.wait, live.store,
                                            self._full(live),
                                            live.describe()))
            if self.stop.is_set():
                return  # not held: the caller starts nothing
            if time.monotonic() > deadline:
                raise LockError(self._busy(live) if blocked else
                                'The lock between runs could not be '
                                'confirmed in %d s (other runs kept '
                                'writing it); nothing was removed. Run '
                                'this command again.' % self.wait)
            time.sleep(random.uniform(0.5, 1.5))

    def ensure(self) -> None:
        """Renew the beat when due (called through :meth:`check`).

        :raises: :class:`LockError` when the lock is not held, was taken
            by another run, or its beat could not be confirmed for
            :data:`LEASE` seconds: no DELETE may be sent.
        """
        with self._mutex:
            if not self.held:
                raise LockError('This run does not hold the lock between '
                                'runs; nothing more is removed.')
            age = time.monotonic() - self._beat_at
            if age < BEAT:
                return
            try:
                state, read_at = self._read()
                self._check(state)
                self._write_beat(state.live(self._server_now), read_at)
            except LockLost:
                self.held = False
                raise
            except _ERRORS + (LockError,) as exc:
                if age > LEASE:
                    self.held = False
                    raise LockError('The lock between runs could not be '
                                    'kept (%s); nothing more is removed. Run '
                                    'this command again.' % exc) from exc
            if time.monotonic() - self._beat_at > LEASE:
                self.held = False
                raise LockError('The lock between runs could not be renewed '
                                'for %d s; nothing more is removed. Run this '
                                'command again.' % LEASE)

    def check(self) -> None:
        """Read the register and see this run in it; once per chunk.

        A register that cannot be read is let pass: :meth:`ensure` stops
        the run once the beat could not be written for :data:`LEASE`.

        :raises: :class:`LockError` as :meth:`ensure` does, and
            :class:`LockLost` when the register names other runs only.
        """
        with self._mutex:
            self.ensure()
            if time.monotonic() - self._seen_at < self.settle:
                return
            try:
                state, read_at = self._read()
            except LockLost:
                self.held = False  # a value this command did not write
                raise
            except LockError:
                return  # not readable now: the beat's lease decides
            try:
                self._check(state)
            except LockLost:
                self.held = False
                raise
            self._seen_at = read_at

    def release(self) -> str | None:
        """Take this run out of the register (``GET``, then ``PUT``).

        Only when this run wrote its entry (an acquire interrupted after
        its write included), and only if the entry is still there.  When
        other runs were in it, another of them may have written at the
        same time (from a read that still had this run): the register is
        read again after :data:`SETTLE`, and the entry taken out again if
        it came back (three times at most).

        :returns: None when done or nothing to do, else the error: the
            entry then goes stale after :data:`STALE_AFTER` seconds.
        """
        with self._mutex:
            if not self._written:
                return None
            self.held = self._written = False
            try:
                for _attempt in range(3):
                    state, read_at = self._read()
                    if state.runs.pop(self.token, None) is None:
                        return None  # not in it (lost, or never confirmed)
                    live = state.live(self._server_now)
                    if not live.runs:
                        live.store = None
                    self._write(live)
                    if not live.runs:
                        return None
                    time.sleep(self.settle)
            except (_ERRORS + (LockError,)) as exc:
                return str(exc)
            return 'still listed after three writes'

    # -- register --------------------------------------------------------

    def _check(self, state: State) -> None:
        if state.store != self.store or self.token not in state.runs:
            raise LockLost('Another run took the lock between runs (%s); '
                           'nothing more is removed. Run this command '
                           'again.' % (state.describe() or 'now free'))

    def _write_beat(self, live: State, read_at: float) -> bool:
        """Write ``live`` with this run's new beat; True once confirmed."""
        started = time.monotonic()
        beat = int(self._server_now)
        runs = dict(live.runs)
        runs[self.token] = [self.host, os.getpid(), beat]
        self._written = True
        self._write(State(self.store, runs))
        answered = time.monotonic()
        if answered - read_at > self.settle:
            return False  # it may land later than others may wait for it
        time.sleep(max(0.0, answered + self.settle - time.monotonic()))
        state, _read_at = self._read()
        mine = state.runs.get(self.token)
        if state.store != self.store or not mine or mine[2] != beat:
            return False
        self._beat_at, self._seen_at = started, answered + self.settle
        return True

    def _read(self) -> tuple[State, float]:
        """The register and when its read was sent (monotonic).

        Also keeps the Images API's clock (its ``Date`` header) in
        :attr:`_server_now`: beats are written and judged on it, so that
        the clocks of the hosts that run this command do not matter.
        """
        for _attempt in range(2):
            read_at = time.monotonic()
            try:
                response = self.proxy.get(_PATH, raise_exc=False)
                sdk_exc.raise_from_response(response)
                self._server_now = _server_time(response)
                return State.parse(response.json().get('description')), \
                    read_at
            except sdk_exc.NotFoundException:
                self._create()
            except _ERRORS as exc:
                raise LockError(self._unusable('read', exc)) from exc
            except ValueError as exc:
                raise LockLost(
                    'The lock between runs holds a value this command did '
                    'not write (%s), so nobody can tell which runs hold '
                    'it; nothing more is removed. Once no run of this '
                    'command is active, reset it with "openstack image '
                    'metadef namespace set --public --protected '
                    '--description \'%s\' %s".'
                    % (exc, State().dump(), NAMESPACE)) from exc
        raise LockError(self._unusable('read', 'not found after creation'))

    def _create(self) -> None:
        try:
            self.proxy.create_metadef_namespace(
                namespace=NAMESPACE, display_name=_DISPLAY,
                description=State().dump(), visibility='public',
                is_protected=True)
        except sdk_exc.ConflictException:
            pass  # another run made it first
        except _ERRORS as exc:
            raise LockError(self._unusable('create', exc)) from exc

    def _write(self, state: State) -> None:
        try:
            self.proxy.update_metadef_namespace(
                NAMESPACE, namespace=NAMESPACE, display_name=_DISPLAY,
                description=state.dump(), visibility='public',
                is_protected=True)
        except _ERRORS as exc:
            raise LockError(self._unusable('write', exc)) from exc

    def _full(self, live: State) -> str:
        return (" (the lock's register has no room for one more run)"
                if live.store == self.store else '')

    def _busy(self, live: State) -> str:
        return ('Other runs of this command are removing image data from '
                'store %s%s: %s. %s waits for them (%d s at most, '
                '--lock-wait); nothing was removed. Run this command again '
                'when they have ended; a run that died is forgotten %d '
                'minutes after it was last seen.'
                % (live.store, self._full(live), live.describe(),
                   'This run' if self._full(live) else
                   'A run that frees another store', self.wait,
                   STALE_AFTER // 60))

    @staticmethod
    def _unusable(what: str, error: object) -> str:
        return ('The lock between runs could not be %s (metadata '
                'definitions namespace %s, admin only by default: %s); '
                'nothing was removed.' % (
                    'read' if what == 'read' else 'written', NAMESPACE,
                    error))


def _server_time(response: ty.Any) -> float:
    """Seconds since the epoch on the server's clock (``Date``).

    This host's clock when the answer has no ``Date``.
    """
    try:
        return email.utils.parsedate_to_datetime(
            response.headers['Date']).timestamp()
    except (KeyError, TypeError, ValueError, IndexError):
        return time.time()
