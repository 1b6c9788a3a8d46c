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
"""Fresh images for the timed runs, their deletion, and the check of a run.

The check: every image left the store and kept the other copy, and no
image lock (a tag of the lock namespace) is left.

Everything goes through :class:`localcloud.LocalCloud`'s image helpers
(User-Agent ``isd-fixture``, so the access-log counts leave it out).
"""

from concurrent import futures
import time

import localcloud

from benchlib import accesslog
from benchlib import procs

#: The tags of the image locks (engine/lock.py), read as admin.
LOCK_TAGS = f'/metadefs/namespaces/{accesslog.LOCK_NAMESPACE}/tags'
_IDS_PER_LISTING = 50


class Images:
    """Creates, reads and deletes the benchmark's images.

    :param cloud: the started cloud.
    :param data: every image's bytes (the same for all: identical images).
    :param threads: requests in flight while creating or deleting.
    """

    def __init__(self, cloud: localcloud.LocalCloud, data: bytes,
                 threads: int = 8):
        self.cloud = cloud
        self.data = data
        self.threads = threads

    def create(self, prefix: str, count: int,
               stores: tuple[str, ...]) -> list[str]:
        """``count`` images with data in each of ``stores``; their IDs.

        Upload into the first store, ``copy-image`` into the others, wait
        until each lists every store (:meth:`LocalCloud.create_image`),
        ``threads`` images at a time.
        """
        started = time.monotonic()
        ids: list[str] = []
        step = 500 if count >= 1000 else count
        with futures.ThreadPoolExecutor(self.threads) as pool:
            jobs = [pool.submit(self._create_one, f'{prefix}-{i:05d}', stores)
                    for i in range(count)]
            for n, job in enumerate(jobs, 1):
                ids.append(job.result())
                if n % step == 0:
                    procs.say(f'  created {n}/{count} images in '
                              f'{"+".join(stores)} '
                              f'({time.monotonic() - started:.0f} s)')
        return ids

    def _create_one(self, name: str, stores: tuple[str, ...],
                    attempts: int = 3) -> str:
        """Create one image; on an error, delete what was made, again.

        An overloaded machine may make Glance drop a connection; creating
        images is not what is measured.
        """
        for attempt in range(1, attempts + 1):
            try:
                return self.cloud.create_image(name, self.data, stores=stores,
                                               timeout=900)
            except Exception as exc:
                if attempt == attempts:
                    raise
                procs.say(f'  creating {name} failed ({exc!s:.200}); '
                          'deleting what was made, trying again')
                time.sleep(2.0 * attempt)
                try:
                    for image in self.cloud.image_api(
                            'GET', f'/images?name={name}').json()['images']:
                        self.cloud.delete_image(image['id'])
                except Exception as again:
                    procs.say(f'  cleanup of {name} failed ({again!s:.200})')
        raise AssertionError('not reached')

    def delete(self, ids: list[str]) -> None:
        """Delete whole images (fixture cleanup), ``threads`` at a time."""
        if not ids:
            return
        started = time.monotonic()
        with futures.ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(self.cloud.delete_image, ids))
        procs.say(f'  deleted {len(ids)} images '
                  f'({time.monotonic() - started:.0f} s)')

    def all_ids(self) -> list[str]:
        """The IDs of every image of the cloud (hidden ones too)."""
        found: list[str] = []
        for hidden in ('false', 'true'):
            marker = ''
            while True:
                page = self.cloud.image_api(
                    'GET', f'/images?limit=1000&os_hidden={hidden}'
                    + (f'&marker={marker}' if marker else '')
                ).json()['images']
                if not page:
                    break
                found += [image['id'] for image in page]
                marker = page[-1]['id']
        return found

    def read(self, ids: list[str]) -> dict[str, dict]:
        """The images (JSON of a listing by ID), 50 per request."""
        images: dict[str, dict] = {}
        for start in range(0, len(ids), _IDS_PER_LISTING):
            part = ids[start:start + _IDS_PER_LISTING]
            for image in self.cloud.image_api(
                    'GET', f'/images?limit={len(part)}&id=in:'
                    + ','.join(part)).json()['images']:
                images[image['id']] = image
        return images

    def lock_tags(self) -> list[str]:
        """The names of the image locks now (tags; 404: no namespace)."""
        response = self.cloud.image_api('GET', LOCK_TAGS, expect=(200, 404))
        if response.status_code == 404:
            return []
        return [tag['name'] for tag in response.json().get('tags') or []]

    def check(self, ids: list[str], store: str, kept: str) -> str | None:
        """Check that a run did what it should.

        :returns: None when every image left ``store``, kept ``kept`` and
            no image lock (tag of the lock namespace) is left, of these
            images or any other; else what went wrong.
        """
        images = self.read(ids)
        missing = [i for i in ids if i not in images]
        stores = {i: set(filter(None, im.get('stores', '').split(',')))
                  for i, im in images.items()}
        still = [i for i in stores if store in stores[i]]
        lost = [i for i in stores if kept not in stores[i]]
        tags = self.lock_tags()
        ours = set(tags) & set(ids)
        if not (missing or still or lost or tags):
            return None
        return (f'{len(missing)} image(s) gone, {len(still)} still in '
                f'{store}, {len(lost)} without their {kept} copy, '
                f'{len(tags)} lock tag(s) left ({len(ours)} of these '
                'images)')
