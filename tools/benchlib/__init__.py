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
"""The benchmark of ``tools/bench.py`` (``tox -e bench``), one job a module.

* :mod:`benchlib.procs`: run the ``openstack`` CLI (wall time, CPU, RSS),
  CPU counters of the servers and of the machine, what was measured on;
* :mod:`benchlib.accesslog`: Glance's and Keystone's access lines, the
  CLI's requests by kind (the image locks' tag requests are ``lock``);
* :mod:`benchlib.fixture`: fresh images (fixture User-Agent), their
  deletion, the check that a run did what it should (no lock tag left);
* :mod:`benchlib.profiles`: ``loopback`` and ``cloud-like`` (a
  :class:`localcloud.FaultProxy` adding a round trip to every image API
  request, store deletes slow inside Glance);
* :mod:`benchlib.startup`: ``--help`` start-up, the plugin's import time;
* :mod:`benchlib.oneimage`: the one-image path of both tools;
* :mod:`benchlib.batch`: OSC against this tool, interleaved rounds, in a
  profile;
* :mod:`benchlib.servercost`: the servers' CPU per request kind;
* :mod:`benchlib.cliprofile`: a CPU (or wall-time) profile of the CLI;
* :mod:`benchlib.clientprofile`: the profiled runs;
* :mod:`benchlib.scale`: ``--all-images`` at 200 and 2000 images;
* :mod:`benchlib.report`: the targets, ratios to OSC, verdicts, details;
  the performance page's figures;
* :mod:`benchlib.main`: options and the order of the phases.

It uses only the public API of :mod:`localcloud`.
"""
