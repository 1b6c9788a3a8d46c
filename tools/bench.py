#!/usr/bin/env python3
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
"""Benchmark ``openstack image store delete`` on the local cloud.

Not a test: it prints figures next to the targets of issue 16 and never
fails on a figure.  Run it with ``tox -e bench`` (from a clone, one
command), or in an environment that has the plugin, python-openstackclient
and ``localcloud`` (``tools/localcloud``) installed::

    python tools/bench.py [--images 100] [--rounds 3]
                          [--profiles loopback,cloud-like]
                          [--one-way-ms 2] [--store-delete-ms 200]
                          [--one-image-runs 10] [--scale 200,2000]
                          [--json results.json] [--rst [PAGE]] ...
    python tools/bench.py --from-json results.json [--rst [PAGE]]

In one run, on one local cloud (PostgreSQL): start-up and import time;
the one-image path (``openstack image delete --store`` against this
tool, one image per run, interleaved); python-openstackclient's
``openstack image delete --store`` against this tool at ``--parallel
1``, 4 and 8 on fresh identical images, interleaved rounds, on loopback
and cloud-like (every image API request through a proxy that adds a
network round trip, each store delete slow inside Glance); the servers'
CPU per request kind; profiles of the client; then ``--all-images`` with
real removals at 200 and 2000 images (peak RSS, time per image).  The
code is in ``tools/benchlib/`` (one job a module, see its
``__init__``); ``doc/source/performance.rst`` has the figures
(``--rst`` writes them).
"""

import sys

from benchlib import main

if __name__ == '__main__':
    sys.exit(main.main())
