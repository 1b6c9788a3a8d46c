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

"""Image helpers of :class:`localcloud.LocalCloud` (fixture side).

Every request here goes through :meth:`LocalCloud.connection`, so it
carries the User-Agent prefix ``isd-fixture``: tests can tell it from the
CLI's requests in the access logs. ``cloud`` selects the Glance:
``isd-admin`` (the multi-store Glance, default), ``isd-odd`` or
``isd-nomulti``.

The odd Glance's http store, measured on Glance 33.0.0 / glance_store of
``tools/cloud-requirements.txt``:

* ``GET /v2/info/stores`` lists ``{"id": "web", "read-only": "true"}``
  besides ``fast`` (``"default": "true"``) and ``slow``.
* A location is added with JSON PATCH ``{"op": "add", "path":
  "/locations/-", "value": {"url": "http://127.0.0.1:<web>/<name>",
  "metadata": {"store": "web"}}}`` (admin; needs
  ``show_multiple_locations``). Glance sets ``metadata.store`` from the
  URL anyway (the http store claims every ``http`` URL), HEADs the URL for
  its size (a dead URL: 400 "Invalid location"), and refuses loopback
  hosts and ports other than 80/443 unless ``[import_filtering_opts]``
  allows them, which the odd Glance's configuration does.
* An image with locations in ``fast`` and ``web`` then shows
  ``"stores": "fast,web"``. ``DELETE /v2/stores/web/<id>`` answers 204
  and drops the location; the file stays in :attr:`web_dir` (Glance
  swallows the store's "delete not supported"). Same 204 when the URL is
  dead (:meth:`break_web_location`).
* An image whose only location is in ``web``: a full download answers 200
  with the bytes; ``Range: bytes=0-0`` answers **400** "Getting images
  randomly from this store is not supported"; once the URL is dead a
  full download answers **204** with no body.
* ``file://`` URLs are refused by the locations API whatever the
  settings (400 "Invalid location": ``file`` is a restricted scheme), so
  :meth:`add_location` writes a ``file://`` location straight into the
  Glance's database. With a second location in ``fast``
  (:meth:`add_second_file_location`) ``stores`` lists it twice
  (``"fast,slow,fast"``); one ``DELETE /v2/stores/fast/<id>`` (204)
  removes the first location and its file, and ``fast`` stays listed
  with the other one (on both Glances).
"""

from __future__ import annotations

import json
import pathlib
import shutil
import time
import typing
import urllib.parse

from localcloud import config
from localcloud.servers import CloudError
from localcloud.servers import run

if typing.TYPE_CHECKING:
    from openstack import connection as sdk_connection

_INSERT_LOCATION = '''
import datetime, sys
import sqlalchemy as sa
url, image_id, location, meta = sys.argv[1:5]
now = datetime.datetime.utcnow()
with sa.create_engine(url).begin() as db:
    db.execute(sa.text(
        "INSERT INTO image_locations (image_id, value, meta_data, status,"
        " created_at, updated_at, deleted) VALUES (:i, :v, :m, 'active',"
        " :n, :n, :d)"),
        dict(i=image_id, v=location, m=meta, n=now, d=False))
'''


class ImageHelpers:
    """Image helpers; mixed into :class:`localcloud.LocalCloud`."""

    run_dir: pathlib.Path
    store_dirs: dict[str, pathlib.Path]
    odd_store_dirs: dict[str, pathlib.Path]
    web_dir: pathlib.Path
    nomulti_store_dir: pathlib.Path

    @property
    def venv(self) -> pathlib.Path:
        raise NotImplementedError  # LocalCloud's

    def connection(self, cloud: str = config.ADMIN_CLOUD
                   ) -> sdk_connection.Connection:
        raise NotImplementedError  # LocalCloud's

    def url(self, service: str) -> str:
        raise NotImplementedError  # LocalCloud's

    def image_api(self, method: str, path: str, expect: tuple = (200,),
                  cloud: str = config.ADMIN_CLOUD, **kwargs: typing.Any):
        """Call ``method path`` (below ``/v2``) of a Glance.

        :param expect: the statuses that are fine.
        :param cloud: ``isd-admin`` (multi-store Glance, as admin),
            ``isd-member``, ``isd-odd`` or ``isd-nomulti``.
        :param kwargs: for keystoneauth (``json``, ``data``, ``headers``).
        :returns: the ``requests.Response``.
        :raises CloudError: its status is not in ``expect``.
        """
        if method in ('GET', 'HEAD'):
            # A kept-alive connection the server closes as it is reused
            # resets; a read is safe to send again.
            kwargs.setdefault('connect_retries', 3)
        response = self.connection(cloud).image.request(
            path, method, raise_exc=False, **kwargs)
        if response.status_code not in expect:
            raise CloudError(f'{method} {path} ({cloud}): '
                             f'{response.status_code} {response.text[:500]}')
        return response

    def datadirs(self, cloud: str = config.ADMIN_CLOUD
                 ) -> dict[str, pathlib.Path]:
        """Return ``{store: directory}`` of a cloud's Glance.

        ``isd-odd`` includes ``web`` (:attr:`web_dir`); ``isd-nomulti``
        has its one store as ``file``.
        """
        service = config.CLOUD_SERVICE[cloud]
        if service == 'odd':
            return {**self.odd_store_dirs, config.WEB_STORE: self.web_dir}
        if service == 'nomulti':
            return {'file': self.nomulti_store_dir}
        return dict(self.store_dirs)

    def create_image(self, name: str, data: bytes,
                     stores: typing.Sequence[str] | None = None,
                     cloud: str = config.ADMIN_CLOUD,
                     timeout: float = 60.0) -> str:
        """Create an image whose data is in each of ``stores``.

        Uploads into ``stores[0]`` (``X-Image-Meta-Store``), then copies
        into the others with a ``copy-image`` import and waits for them.

        :param stores: store ids (default: every file store of that
            Glance); empty leaves the image queued, no data. Ignored by
            ``isd-nomulti`` but for being empty.
        :param timeout: seconds to wait for the copies.
        :returns: the image id.
        :raises CloudError: Glance refused or the copies did not arrive.
        """
        service = config.CLOUD_SERVICE[cloud]
        if stores is None:
            stores = [s for s in self.datadirs(cloud)
                      if s != config.WEB_STORE]
        stores = list(stores)
        image_id = self.image_api('POST', '/images', (201,), cloud, json={
            'name': name, 'disk_format': 'raw',
            'container_format': 'bare'}).json()['id']
        if not stores:
            return image_id
        headers = {'Content-Type': 'application/octet-stream'}
        if service != 'nomulti':
            headers['X-Image-Meta-Store'] = stores[0]
        self.image_api('PUT', f'/images/{image_id}/file', (204,), cloud,
                       data=data, headers=headers)
        if service == 'nomulti':
            return image_id
        if len(stores) > 1:
            self.start_copy(image_id, stores[1:], cloud)
        self.wait_for_stores(image_id, stores, timeout, cloud)
        return image_id

    def start_import(self, name: str, data: bytes,
                     stores: typing.Sequence[str],
                     all_stores_must_succeed: bool = False,
                     cloud: str = config.ADMIN_CLOUD) -> str:
        """Create an image and import it into ``stores``; do not wait.

        ``glance-direct``: the data is staged (``PUT .../stage``), then
        imported into every store of ``stores`` by one task; with the
        cloud's ``max_parallel_stores`` > 1 they are written in parallel
        and, unless ``all_stores_must_succeed``, the image turns
        ``active`` after the first one.

        :returns: the image id.
        :raises CloudError: Glance refused a step.
        """
        image_id = self.image_api('POST', '/images', (201,), cloud, json={
            'name': name, 'disk_format': 'raw',
            'container_format': 'bare'}).json()['id']
        self.image_api('PUT', f'/images/{image_id}/stage', (204,), cloud,
                       data=data,
                       headers={'Content-Type': 'application/octet-stream'})
        self.image_api('POST', f'/images/{image_id}/import', (202,), cloud,
                       json={'method': {'name': 'glance-direct'},
                             'stores': list(stores),
                             'all_stores_must_succeed':
                                 all_stores_must_succeed})
        return image_id

    def start_copy(self, image_id: str, stores: typing.Sequence[str],
                   cloud: str = config.ADMIN_CLOUD) -> None:
        """Start a ``copy-image`` import into ``stores``; do not wait.

        :raises CloudError: Glance did not answer 202.
        """
        self.image_api('POST', f'/images/{image_id}/import', (202,), cloud,
                       json={'method': {'name': 'copy-image'},
                             'stores': list(stores)})

    def wait_for_stores(self, image_id: str, stores: typing.Sequence[str],
                        timeout: float = 60.0,
                        cloud: str = config.ADMIN_CLOUD) -> dict:
        """Wait until the image is active and lists each of ``stores``.

        :returns: the image (JSON of ``GET /v2/images/{id}``).
        :raises CloudError: an import failed (``os_glance_failed_import``)
            or ``timeout`` seconds passed.
        """
        deadline = time.monotonic() + timeout
        while True:
            image = self.image(image_id, cloud)
            have = set(filter(None, image.get('stores', '').split(',')))
            # Until the import lock is gone the task may still save the
            # image and write back what it read (an owner, os_hidden...).
            if (image['status'] == 'active' and have >= set(stores)
                    and not image.get('os_glance_import_task')):
                return image
            if image.get('os_glance_failed_import') or (
                    time.monotonic() > deadline):
                raise CloudError(f'image {image_id} never reached stores '
                                 f'{list(stores)}: {json.dumps(image)}')
            time.sleep(0.2)

    def image(self, image_id: str, cloud: str = config.ADMIN_CLOUD) -> dict:
        """Return the JSON of ``GET /v2/images/{image_id}`` (as admin)."""
        return self.image_api('GET', f'/images/{image_id}', (200,),
                              cloud).json()

    def image_stores(self, image_id: str,
                     cloud: str = config.ADMIN_CLOUD) -> list[str]:
        """Return the ``stores`` Glance lists for an image (admin view)."""
        stores = self.image(image_id, cloud).get('stores', '')
        return [s for s in stores.split(',') if s]

    def store_bytes(self, store: str, image_id: str,
                    cloud: str = config.ADMIN_CLOUD) -> bytes | None:
        """Return the bytes of file ``image_id`` in a store, or None.

        :param store: a store of :meth:`datadirs`.
        """
        try:
            return (self.datadirs(cloud)[store] / image_id).read_bytes()
        except FileNotFoundError:
            return None

    def files_in_stores(self, image_id: str,
                        cloud: str = config.ADMIN_CLOUD) -> set[str]:
        """Return the stores whose directory holds a file ``image_id``."""
        return {s for s, d in self.datadirs(cloud).items()
                if (d / image_id).exists()}

    def delete_image(self, image_id: str,
                     cloud: str = config.ADMIN_CLOUD) -> None:
        """Delete a whole image (fixture cleanup only); missing is fine."""
        self.image_api('DELETE', f'/images/{image_id}', (204, 404), cloud)

    # -- locations ----------------------------------------------------------

    def web_url(self, name: str) -> str:
        """Return the URL of file ``name`` of :attr:`web_dir`."""
        return f'{self.url("web")}/{urllib.parse.quote(name)}'

    def add_web_location(self, image_id: str, data: bytes,
                         name: str | None = None) -> str:
        """Give an image of the odd Glance a location in store ``web``.

        Writes ``data`` as :attr:`web_dir`/``name`` and adds its URL with
        a JSON PATCH ``add /locations/-`` (``metadata.store = web``).

        :param name: the file name (default the image id, so that
            :meth:`files_in_stores` with ``cloud='isd-odd'`` sees it).
        :returns: the location's URL.
        :raises CloudError: Glance refused the location.
        """
        name = name or image_id
        (self.web_dir / name).write_bytes(data)
        url = self.web_url(name)
        self.add_location(image_id, url, config.WEB_STORE, config.ODD_CLOUD)
        return url

    def break_web_location(self, name: str) -> None:
        """Make a ``web`` location's URL dead (404): delete its file.

        :param name: the name given to :meth:`add_web_location` (default
            there: the image id).
        """
        (self.web_dir / name).unlink(missing_ok=True)

    def add_location(self, image_id: str, url: str, store: str,
                     cloud: str = config.ADMIN_CLOUD) -> None:
        """Add a location (``url`` in ``store``) to an image.

        ``http(s)`` URLs go through the Images API (JSON PATCH, which
        needs ``show_multiple_locations``: the odd Glance). Other URLs,
        such as ``file://`` ones that the API always refuses, are written
        straight into that Glance's ``image_locations`` table.

        :raises CloudError: Glance or the database refused it.
        """
        if urllib.parse.urlsplit(url).scheme in ('http', 'https'):
            self.image_api(
                'PATCH', f'/images/{image_id}', (200,), cloud,
                json=[{'op': 'add', 'path': '/locations/-',
                       'value': {'url': url, 'metadata': {'store': store}}}],
                headers={'Content-Type':
                         'application/openstack-images-v2.1-json-patch'})
            return
        service = config.CLOUD_SERVICE[cloud]
        run([self.venv / 'bin' / 'python', '-c', _INSERT_LOCATION,
             config.database_url(typing.cast(typing.Any, self), service),
             image_id, url, json.dumps({'store': store})],
            self.run_dir / 'logs' / f'{service}-locations.log')

    def add_second_file_location(self, image_id: str, store: str,
                                 cloud: str = config.ADMIN_CLOUD
                                 ) -> pathlib.Path:
        """Give an image a second location in one file store.

        Copies the image's file in the store's directory under another
        name and adds that as a location in the same store.

        :returns: the copy's path (``<image id>.second`` in the store's
            directory).
        """
        directory = self.datadirs(cloud)[store]
        copy = directory / f'{image_id}.second'
        shutil.copyfile(directory / image_id, copy)
        self.add_location(image_id, copy.as_uri(), store, cloud)
        return copy
