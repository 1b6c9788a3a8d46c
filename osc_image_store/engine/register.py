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
"""The value of the lock's register (:mod:`~osc_image_store.engine.runlock`).

``{"store": <store id>, "runs": {<token>: [<host>, <pid>, <beat>]}}``, as
JSON in the description of a metadata definitions namespace.
"""

import dataclasses
import json
import time
import typing as ty

#: Seconds after its beat when another run drops a run from the register.
STALE_AFTER = 300.0


@dataclasses.dataclass
class State:
    """The register's value.

    :ivar store: the store the holding runs free, or None (free).
    :ivar runs: ``{token: [host, pid, beat]}``.
    """

    store: str | None = None
    runs: dict[str, list[ty.Any]] = dataclasses.field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None) -> 'State':
        """Read a register value; an empty one is a free lock.

        :raises: ValueError for a value this command did not write (e.g.
            edited by hand): nobody can tell who holds the lock then.
        """
        if not text:
            return cls()
        try:
            value = json.loads(text)
            runs = {str(k): list(v) for k, v in value['runs'].items()}
            if any(len(v) != 3 or not isinstance(v[2], (int, float))
                   for v in runs.values()):
                raise ValueError(text)
            return cls(value.get('store') if runs else None, runs)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValueError('not a register of this command: %r'
                             % text[:80]) from exc

    def live(self, now: float) -> 'State':
        """This state without the runs whose beat is stale at ``now``."""
        runs = {k: v for k, v in self.runs.items()
                if now - v[2] <= STALE_AFTER}
        return State(self.store if runs else None, runs)

    def dump(self) -> str:
        return json.dumps({'store': self.store, 'runs': self.runs},
                          sort_keys=True, separators=(',', ':'))

    def describe(self) -> str:
        """``host:pid (beat HH:MM:SS UTC)`` of each run, for messages."""
        return ', '.join('%s:%s (last seen %s UTC)' % (
            v[0], v[1], time.strftime('%Y-%m-%d %H:%M:%S',
                                      time.gmtime(v[2])))
            for v in self.runs.values())
