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
"""Validation of user-given identifiers before they reach a request.

Glance normalises request paths: a store-scoped delete with the store
``..`` becomes a delete of the whole image.  Store IDs and image IDs are
therefore checked here and then percent-encoded as one path segment;
image names never go into a path (only into a query string).
"""

import re
import typing as ty
import unicodedata
from urllib import parse

from osc_image_store.sdk import exceptions

#: Glance image IDs are UUIDs (the image schema enforces it): the one
#: pattern of an image ID, for a full match.
UUID_PATTERN = (r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
                r'[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')
#: Store IDs are option names in ``enabled_backends``: the characters
#: :func:`check_store_id` allows (it also refuses ``.`` and ``..``).
STORE_ID_PATTERN = r'[A-Za-z0-9_.-]+'
_UUID = re.compile(UUID_PATTERN)
_STORE_ID = re.compile(STORE_ID_PATTERN)
#: Prefix of Glance's internal stores (staging, tasks): never a target.
RESERVED_STORE_PREFIX = 'os_glance_'
#: Longest name or ID Glance accepts (image name maxLength is 255).
MAX_LENGTH = 255


def is_uuid(value: str) -> bool:
    """Tell whether a string is a UUID in its canonical 8-4-4-4-12 form.

    :param value: any string.
    :returns: True when it can be an Images API image ID.
    """
    return _UUID.fullmatch(value) is not None


def check_store_id(value: str) -> str:
    """Check a store ID before it is used as a path segment.

    :param value: a store ID as the user gave it.
    :returns: the same value.
    :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
        when it is empty, blank, longer than 255 characters, a dot
        segment, has characters other than ASCII letters, digits, ``_``,
        ``-`` and ``.``, or names one of Glance's internal stores.
    """
    if not isinstance(value, str):
        raise exceptions.InvalidIdentifier(
            'A store ID is a string, not %s.' % ascii(value))
    if not value.strip():
        raise exceptions.InvalidIdentifier('The store ID must not be empty.')
    shown = ascii(value)
    if len(value) > MAX_LENGTH:
        raise exceptions.InvalidIdentifier(
            'The store ID is longer than %d characters.' % MAX_LENGTH)
    if not _STORE_ID.fullmatch(value) or set(value) == {'.'}:
        raise exceptions.InvalidIdentifier(
            'Invalid store ID %s: a store ID is made of ASCII letters, '
            'digits, "_", "-" and "." and is not "." or "..".' % shown)
    if value.startswith(RESERVED_STORE_PREFIX):
        raise exceptions.InvalidIdentifier(
            'Store %s is one of Glance\'s internal stores, not an image '
            'store.' % value)
    return value


def store_id_of(store: ty.Any) -> str:
    """The checked ID of a store given by ID or as a resource.

    :param store: A store ID, or a resource with an ``id`` (e.g.
        :class:`~osc_image_store.sdk.service_info.Store`).
    :returns: The store ID.
    :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
        as :func:`check_store_id` (e.g. for ``b'..'``, ``0`` or a resource
        whose ID is ``..``).
    """
    return check_store_id(getattr(store, 'id', store))


def check_image_id(value: str) -> str:
    """Check an image ID before it is used as a path segment.

    :param value: an image ID.
    :returns: the same value.
    :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
        unless it is a UUID.
    """
    if not isinstance(value, str) or not is_uuid(value):
        raise exceptions.InvalidIdentifier(
            'Invalid image ID %s: Images API image IDs are UUIDs.'
            % ascii(value))
    return value


def check_image_name_or_id(value: str) -> str:
    """Check an image name or ID given by the user.

    Names may hold any printable Unicode (Glance allows it); they are only
    ever sent in a query string.

    :param value: an image name or ID.
    :returns: the same value.
    :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
        when it is empty or blank, longer than 255 characters, or holds
        control characters.
    """
    if not isinstance(value, str) or not value.strip():
        raise exceptions.InvalidIdentifier(
            'The image name or ID must not be empty.')
    if len(value) > MAX_LENGTH:
        raise exceptions.InvalidIdentifier(
            'The image name or ID is longer than %d characters.'
            % MAX_LENGTH)
    if any(unicodedata.category(c) in ('Cc', 'Cs') for c in value):
        raise exceptions.InvalidIdentifier(
            'Invalid image name or ID %s: it holds control characters.'
            % ascii(value))
    return value


def path_segment(value: str) -> str:
    """Percent-encode a name as one path segment.

    Used for names that Glance allows to hold any character (metadata
    definitions namespaces and tags): once encoded, a name never adds a
    segment.

    :param value: a name.
    :returns: the name, percent-encoded with no safe character.
    :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`
        when it is empty or a dot segment (``.``, ``..``, ...), which
        Glance's path normalisation would remove.
    """
    if not value or set(value) == {'.'}:
        raise exceptions.InvalidIdentifier(
            'Invalid path segment %s.' % ascii(value))
    return parse.quote(value, safe='')


def store_image_path(store: str, image_id: str) -> str:
    """Build the path of a store-scoped delete.

    :param store: a store ID.
    :param image_id: an image ID (UUID).
    :returns: ``/stores/{store}/{image_id}``, each segment checked and
        percent-encoded, relative to the Images API v2 endpoint.
    :raises: :class:`~osc_image_store.sdk.exceptions.InvalidIdentifier`.
    """
    return '/stores/%s/%s' % (
        parse.quote(check_store_id(store), safe=''),
        parse.quote(check_image_id(image_id), safe=''))
