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

"""A real Keystone + multi-store Glance on 127.0.0.1, for the functional
tests, the demo and the benchmark of osc-image-store.

The servers (keystone, glance, gunicorn) run from their own virtualenv,
installed from the clone's ``tools/cloud-requirements.txt``; this package
only drives them. Public API:

* :class:`LocalCloud` (start/stop/attach, client configuration, image
  helpers, faults, slow store deletes, stalled import tasks, held store
  writes) and :func:`get_cloud` (the test process's cloud);
* :func:`postgres_unavailable`: why PostgreSQL cannot be had here, if so;
* :class:`FaultProxy` (:mod:`localcloud.faults`), a reverse proxy that
  injects delays (fixed or random), dropped connections, error answers
  and shifted ``Date`` headers;
* the cloud names :data:`ADMIN_CLOUD` (``isd-admin``),
  :data:`MEMBER_CLOUD` (``isd-member``), :data:`NOMULTI_CLOUD`
  (``isd-nomulti``), :data:`ODD_CLOUD` (``isd-odd``); the store ids
  :data:`STORES` and :data:`ODD_FILE_STORES`, :data:`WEB_STORE`;
  :data:`FIXTURE_AGENT`, the User-Agent prefix of the fixture's requests.

Command line: ``python -m localcloud start|stop|run`` (see
``python -m localcloud --help``).
"""

from localcloud.cloud import get_cloud
from localcloud.cloud import LocalCloud
from localcloud.cloud import STATE_ENV
from localcloud.config import ADMIN_CLOUD
from localcloud.config import MEMBER_CLOUD
from localcloud.config import NOMULTI_CLOUD
from localcloud.config import ODD_CLOUD
from localcloud.config import ODD_FILE_STORES
from localcloud.config import STORES
from localcloud.config import WEB_STORE
from localcloud.faults import FaultProxy
from localcloud.identity import FIXTURE_AGENT
from localcloud.postgres import postgres_unavailable
from localcloud.servers import CloudError
from localcloud.servers import repo_root
from localcloud.servers import VENV_ENV

__all__ = ['ADMIN_CLOUD', 'CloudError', 'FaultProxy', 'FIXTURE_AGENT',
           'get_cloud', 'LocalCloud', 'MEMBER_CLOUD', 'NOMULTI_CLOUD',
           'ODD_CLOUD', 'ODD_FILE_STORES', 'postgres_unavailable',
           'repo_root', 'STATE_ENV', 'STORES', 'VENV_ENV', 'WEB_STORE']
