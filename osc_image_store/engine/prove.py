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
"""The prove stage: a remaining copy is readable; the row of a removal.

After a removal the image must still have its data somewhere: a
one-byte read (:func:`prove_data`) proves it, and :func:`settle` turns
a removal's verdict and proof into the image's row.
"""

from concurrent import futures

from osc_image_store.engine import advice as advice_mod
from osc_image_store.engine import chunk as chunk_mod
from osc_image_store.engine import outcome
from osc_image_store.engine import results
from osc_image_store import guard
from osc_image_store.sdk import image as sdk_image


def prove_data(proxy: guard.GuardedProxy,
               image: sdk_image.Image) -> tuple[bool | None, str]:
    """Prove that a remaining copy of the image can be read.

    A one-byte ranged read (``GET /v2/images/{id}/file``, ``Range:
    bytes=0-0``; a plain download after a 400, see
    :meth:`~osc_image_store.sdk._proxy.Proxy.read_first_byte`): 206/200
    with a byte proves it; any other answer below 500 (204, 200/206
    without data, 403, 404, 416) means the data cannot be read; a 5xx or
    no answer proves nothing.  An image of size 0 is intact without
    bytes (Glance answers 416 to its ranged read): nothing is sent.

    :param proxy: :class:`~osc_image_store.guard.GuardedProxy`.
    :param image: the image as read (its ``id`` and ``size``).
    :returns: ``(True, '')`` proven, ``(False, why)`` the data cannot be
        read, ``(None, why)`` the read itself failed; ``why`` is a clause
        for a row's reason.
    """
    if image.size == 0:
        return True, ''
    try:
        read = proxy.read_first_byte(image)
    except outcome.REQUEST_ERRORS as exc:
        return None, 'the one-byte read of its data failed (%s)' % exc
    if read.has_byte:
        return True, ''
    status = read.status_code
    if status >= 500:
        return None, ('the one-byte read of its data answered %s, which says '
                      'nothing about the data' % status)
    return False, ('GET /v2/images/%s/file answered %s%s' % (
        image.id, '200 with no data' if status in (200, 206) else status,
        ' (no data)' if status == 204 else ''))


def settle(item: chunk_mod.Work,
           proof: futures.Future[tuple[bool | None, str]] | None,
           store: str, read_only: bool,
           advice: advice_mod.Advice = advice_mod.API) -> results.Removal:
    """The row of a sent removal, from its verdict and data proof.

    :param item: the image's :class:`~osc_image_store.engine.chunk.Work`,
        with a verdict.
    :param proof: the pending :func:`prove_data` of the image, or None
        (no proof asked, or the verdict already decides).
    :param store: the store ID.
    :param read_only: the store is read-only: a removal only drops the
        location (``unlinked``).
    :param advice: how the reason names the check it advises.
    :returns: :class:`~osc_image_store.engine.results.Removal`: the
        verdict's result, else ``removed`` (``unlinked``), turned
        ``failed`` when the data cannot be read and ``unverified`` when
        the proof itself failed.
    """
    verdict = item.verdict
    assert verdict is not None
    image = item.after or item.before
    if verdict.result is not None:
        return results.row(store, image.id, image.name, verdict.result,
                           verdict.remaining, verdict.reason)
    result = results.UNLINKED if read_only else results.REMOVED
    notes = [verdict.reason] if verdict.reason else []
    if result == results.UNLINKED:
        notes.append('Store %s is read-only: Glance dropped the '
                     'location, but the data there was not deleted.'
                     % store)
    if proof is not None:
        proven, why = proof.result()
        if proven is False:
            result = results.FAILED
            notes.append('The copy in store %s was removed, but the '
                         'image\'s data cannot be read now (%s): it may '
                         'have lost its data; check it before anything '
                         'else.' % (store, why))
        elif proven is None:
            result = results.UNVERIFIED
            notes.append('The copy in store %s was removed, but %s; '
                         'check the image with "%s".'
                         % (store, why, advice.read_data(image.id)))
    return results.row(store, image.id, image.name, result,
                       verdict.remaining, ' '.join(notes) or None)
