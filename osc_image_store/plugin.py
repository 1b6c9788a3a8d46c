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

"""The OpenStackClient plugin contract of osc-image-store.

OSC loads this module through the ``openstack.cli.extension`` entry point
``image_store``.  Commands live in the entry-point group
``openstack.image_store.v2`` and reach the Images API through
``client_manager.image_store``, an
:class:`osc_image_store.guard.GuardedProxy` built by :func:`make_client`.
"""

import argparse
import logging
import typing as ty

from osc_image_store.i18n import _

if ty.TYPE_CHECKING:
    from osc_image_store import guard

LOG = logging.getLogger(__name__)

#: The name of this plugin's client on OSC's client manager.  It must not be
#: a core API name such as ``image``: OSC silently drops such extensions.
API_NAME = 'image_store'
#: The option and environment variable that select the API version.
API_VERSION_OPTION = 'os_image_store_api_version'
DEFAULT_API_VERSION = '2'
#: Images API major version -> module of the proxy class.
API_VERSIONS = {'2': 'osc_image_store.guard.GuardedProxy'}


def make_client(instance: ty.Any) -> 'guard.GuardedProxy':
    """Build this plugin's Images API proxy for an OSC client manager.

    The proxy is built for this one connection with the connection's own
    keystoneauth session (so authentication and version discovery are
    shared with OSC's other commands); the ``openstack.connection
    .Connection`` class is not modified.

    :param instance: OSC's ``ClientManager``.
    :returns: an :class:`osc_image_store.guard.GuardedProxy` for the cloud's
        image service.
    """
    from osc_image_store import guard

    LOG.debug('Instantiating image store proxy')
    return guard.GuardedProxy.from_connection(instance.sdk_connection)


def build_option_parser(
    parser: argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    """Add this plugin's global options to OSC's parser.

    :param parser: OSC's top-level argument parser.
    :returns: the same parser.
    """
    parser.add_argument(
        '--os-image-store-api-version',
        metavar='<image-store-api-version>',
        default=DEFAULT_API_VERSION,
        choices=sorted(API_VERSIONS),
        help=_('Images API version for image store commands, default=%s '
               '(the only one)') % DEFAULT_API_VERSION,
    )
    return parser
