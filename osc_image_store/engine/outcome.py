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
"""What a store delete did, told from the image read after it.

A removal's result never rests on the answer to the DELETE alone: a 204
can hide a lost copy (two concurrent deletes) and a timeout, a dropped
connection or a 5xx can hide a removal that happened, or that Glance
still carries out.  :func:`classify` decides from the answer, the read
made after it, and the read made before it.
"""

import dataclasses
import re
import typing as ty

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc

from osc_image_store.engine import advice as advice_mod
from osc_image_store.engine import results
from osc_image_store.sdk import exceptions as sdk_exceptions
from osc_image_store.sdk import image as sdk_image
from osc_image_store.sdk import service_info

#: Errors of one request that fail one image, not the batch.
REQUEST_ERRORS = (sdk_exc.SDKException, ks_exc.ClientException)


@dataclasses.dataclass
class Verdict:
    """The classification of one store delete.

    :ivar result: a value of :mod:`osc_image_store.engine.results`, or
        None when the copy left the store and the data proof decides.
    :ivar reason: for an operator, or None.
    :ivar remaining: the stores as read after the delete (None if unread).
    :ivar again: the store still holds another location of the image:
        send the delete once more.
    :ivar keep_lock: the delete may still be carried out by Glance, or
        the image may list a copy with no data (a ghost): the image's lock
        (:mod:`~osc_image_store.engine.lock`) stays for an operator.
    """

    result: str | None
    reason: str | None
    remaining: tuple[str, ...] | None
    again: bool = False
    keep_lock: bool = False


def is_clear(
    error: Exception | None,
) -> ty.TypeGuard[sdk_exc.HttpException]:
    """Whether an error answer says the DELETE was not carried out.

    4xx answers are refusals; timeouts, dropped connections and 5xx are
    not (Glance may have done, or may still do, the work).

    :param error: the DELETE's error, or None (a 204).
    :returns: True for an :class:`~openstack.exceptions.HttpException`
        with a status code below 500; False for None, a 5xx and an error
        with no status code.
    """
    if not isinstance(error, sdk_exc.HttpException):
        return False
    status = error.status_code
    return status is not None and 0 < status < 500


def explain(error: Exception, image_id: str, store: str) -> str:
    """An operator's sentence for a failed store delete.

    Maps Glance's answers (``DELETE /v2/stores/{store}/{image}``, checked
    in this order: 409 store not on node, 404 image, 403 policy, 409 not
    active, 403 only location, 404 not in store, 409 in use or has
    snapshots, 500 other backend errors) to what they mean for this
    image; other statuses (401, 5xx) get a generic sentence.

    :param error: the DELETE's error: an answer, or no answer (timeout,
        dropped connection).
    :param image_id: the image ID.
    :param store: the store ID.
    :returns: the sentence, with no final full stop: it ends with
        ``(HTTP <status>: <Glance's message>)``, or with the error when
        there was no answer.
    """
    if not isinstance(error, sdk_exc.HttpException) or not error.status_code:
        return ('No answer from the Images API to the removal of image %s '
                'from store %s (%s)' % (image_id, store, error))
    status = error.status_code
    details = sdk_exceptions.clean_details(error.details or '', status)
    text = ('The Images API failed to remove image %s from store %s'
            % (image_id, store))
    if status == 403 and 'only store' in details:
        text = ('Store %s now holds the only copy of image %s; nothing was '
                'removed' % (store, image_id))
    elif status == 403:
        rule = re.search(r'complete (\w+) action', details)
        text = ('Not authorized to remove image %s from store %s (policy '
                '"%s", admin-only by default)'
                % (image_id, store,
                   rule[1] if rule else 'delete_image_location'))
    elif status == 404 and 'not stored in store' in details:
        text = 'Image %s is no longer in store %s' % (image_id, store)
    elif status == 404:
        text = ('Image %s was not found when removing it from store %s '
                '(deleted meanwhile, or not visible to you)'
                % (image_id, store))
    elif status == 409 and 'not available on this node' in details:
        text = ('Store %s is not enabled on the Images API node that '
                'answered' % store)
    elif status == 409 and "status is not 'active'" in details:
        text = 'Image %s is no longer active' % image_id
    elif status == 409:
        text = ('Store %s refused to remove the data of image %s because '
                'it is in use' % (store, image_id))
    return '%s (HTTP %s: %s)' % (text, status, details or '-')


def classify(before: sdk_image.Image, store: str, error: Exception | None,
             after: sdk_image.Image | None, *,
             ignore_missing: bool = False,
             advice: advice_mod.Advice = advice_mod.API) -> Verdict:
    """Decide what one store delete did.

    :param before: the image as read just before the delete.
    :param store: the store ID.
    :param error: the delete's error, or None for a 204.
    :param after: the image as read after the delete, or None when that
        read failed.
    :param ignore_missing: a 404 for an image no longer in the store is
        ``absent``.
    :param advice: how the reason names the actions it advises.
    :returns: a :class:`Verdict`.
    """
    image_id = before.id
    check = 'check it with "%s"' % advice.where(image_id)
    if after is None:
        if error is None:
            return Verdict(results.UNVERIFIED, (
                'The Images API accepted the removal of image %s from store '
                '%s (HTTP 204), but the image could not be read back; %s.'
                % (image_id, store, check)), None, keep_lock=True)
        if is_clear(error):
            return Verdict(results.FAILED, '%s; the image could not be read '
                           'back.' % explain(error, image_id, store), None)
        return Verdict(results.UNKNOWN, (
            '%s, and the image could not be read back: the removal may or '
            'may not have happened (or may still happen); %s in a few '
            'minutes.' % (explain(error, image_id, store), check)), None,
            keep_lock=True)
    left = tuple(sorted(after.store_ids))
    if store not in left:
        if not left:
            return Verdict(results.FAILED, (
                'Image %s lists no store at all after the removal from %s: '
                'its data may be lost; check it before anything else.'
                % (image_id, store)), left, keep_lock=True)
        if after.import_task or after.importing_to_stores:
            return Verdict(results.UNVERIFIED, (
                'The copy of image %s left store %s, but an import (task '
                '%s) started meanwhile and may write back the old location '
                'list (a ghost copy: store listed, no data); %s when the '
                'import has ended.'
                % (image_id, store, after.import_task or '?', check)), left,
                keep_lock=True)
        if is_clear(error):
            gone = isinstance(error, sdk_exc.NotFoundException)
            if gone and ignore_missing:
                return Verdict(results.ABSENT, None, left)
            return Verdict(results.FAILED, '%s.' % explain(
                error, image_id, store), left)
        reason = None
        if error is not None:  # e.g. a 503, yet the copy is gone
            reason = ('%s; the image no longer lists store %s, so the '
                      'removal happened.' % (explain(error, image_id, store),
                                             store))
        return Verdict(None, reason, left)
    if error is None:
        count, now = before.locations_in(store), after.locations_in(store)
        if 0 < now < count:
            return Verdict(None, None, left, again=True)
        return Verdict(results.UNVERIFIED, (
            'The Images API accepted the removal of image %s from store %s '
            '(HTTP 204), but the image still lists that store: it may hold '
            'another location of the image, or a save that overlapped (an '
            'import, another client) wrote the location back with no data '
            'behind it (a ghost). Before removing any other copy, check '
            'which stores really hold its data; then clear the lock (below) '
            'and run this command again with the same %s (and %s): the '
            'ghost may be the only copy listed besides the real ones.'
            % (image_id, store, advice.option('store'),
               advice.option('ignore_missing'))), left,
            keep_lock=True)
    if is_clear(error):
        return Verdict(results.FAILED,
                       '%s.' % explain(error, image_id, store), left)
    return Verdict(results.UNKNOWN, (
        '%s; the image still lists store %s: the removal may or may not '
        'have happened, and Glance may still carry it out; %s in a few '
        'minutes.' % (explain(error, image_id, store), store, check)), left,
        keep_lock=True)


def dry_run_note(image: sdk_image.Image, store: str,
                 target: service_info.Store) -> str | None:
    """What a dry run should add to ``would-remove``, if anything.

    :param image: the image as just read.
    :param store: the store ID the copy would leave.
    :param target: that store, as the Images API describes it.
    :returns: a sentence (the store is read-only, so the data would stay;
        the store holds several locations of the image), or None.
    """
    notes = []
    if target.is_read_only:
        notes.append('store %s is read-only: Glance would drop the location '
                     'but leave the data' % store)
    count = image.locations_in(store)
    if count and count > 1:
        notes.append('store %s holds %d locations of the image; each is '
                     'removed' % (store, count))
    if not notes:
        return None
    text = '; '.join(notes)
    return text[0].upper() + text[1:] + '.'
