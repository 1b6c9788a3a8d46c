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

"""Keystone's set-up (keys, bootstrap, users, catalog) and openstacksdk
connections of the local cloud."""

from __future__ import annotations

import concurrent.futures
import grp
import os
import pathlib
import pwd
import typing

from openstack.config import loader as sdk_loader
from openstack import connection as sdk_connection
from openstack.identity.v3 import _proxy as identity_v3

from localcloud import config
from localcloud.servers import run
from localcloud.servers import say

if typing.TYPE_CHECKING:
    from localcloud.cloud import LocalCloud

#: User-Agent prefix of the fixture's own requests (see the access logs).
FIXTURE_AGENT = 'isd-fixture'


def setup_keystone(cloud: LocalCloud, env: dict) -> None:
    """``db_sync``, fernet and credential keys, ``bootstrap``."""
    ks = cloud.run_dir / 'keystone'
    log = cloud.run_dir / 'logs' / 'keystone-manage.log'
    manage = [cloud.venv / 'bin' / 'keystone-manage',
              '--config-file', ks / 'keystone.conf']
    owner = ['--keystone-user', pwd.getpwuid(os.getuid()).pw_name,
             '--keystone-group', grp.getgrgid(os.getgid()).gr_name]
    say('keystone: db_sync, fernet/credential keys, bootstrap')
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        for job in [pool.submit(run, manage + args, log, env) for args in
                    (['db_sync'], ['fernet_setup'] + owner,
                     ['credential_setup'] + owner)]:
            job.result()
    # A random password may start with '-': not on the command line.
    run(manage + ['bootstrap', '--bootstrap-region-id', config.REGION,
                  '--bootstrap-admin-url', cloud.url('keystone'),
                  '--bootstrap-public-url', cloud.url('keystone')], log,
        {**env, 'OS_BOOTSTRAP_PASSWORD': cloud.passwords['admin']})


def bootstrap(cloud: LocalCloud) -> None:
    """Create service/glance, the image endpoint and demo/member."""
    # Not a cached connection: its token's catalog has no image yet.
    with new_connection(cloud.clouds_yaml, config.ADMIN_CLOUD) as conn:
        identity = typing.cast(identity_v3.Proxy, conn.identity)
        roles = {n: identity.find_role(n, ignore_missing=False)
                 for n in ('admin', 'member', 'reader')}
        service = identity.create_project(name='service',
                                          domain_id='default')
        glance = identity.create_user(
            name='glance', password=cloud.passwords['glance'],
            domain_id='default', default_project_id=service.id)
        identity.assign_project_role_to_user(service, glance,
                                             roles['admin'])
        image = identity.create_service(type='image', name='glance')
        identity.create_endpoint(service_id=image.id, interface='public',
                                 region_id=config.REGION,
                                 url=cloud.url('glance'))
        demo = identity.create_project(name='demo', domain_id='default')
        member = identity.create_user(
            name='member', password=cloud.passwords['member'],
            domain_id='default', default_project_id=demo.id)
        for role in ('member', 'reader'):
            identity.assign_project_role_to_user(demo, member, roles[role])
    say('keystone: created service/glance, image endpoint, demo/member')


def new_connection(clouds_yaml: pathlib.Path,
                   cloud: str) -> sdk_connection.Connection:
    """Return a new openstacksdk connection to ``cloud`` of a clouds.yaml.

    Environment variables are ignored; the User-Agent starts with
    :data:`FIXTURE_AGENT`, so that the servers' access logs tell the
    fixture's requests from the CLI's under test.
    """
    conf = sdk_loader.OpenStackConfig(
        config_files=[str(clouds_yaml)], vendor_files=[],
        secure_files=[], load_envvars=False, app_name=FIXTURE_AGENT)
    return sdk_connection.Connection(config=conf.get_one(cloud=cloud))
