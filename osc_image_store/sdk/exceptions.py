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
"""Exceptions of the image store extension.

Every class derives from :class:`openstack.exceptions.SDKException`, and
each names one situation, so that a caller (the CLI included) can say
exactly what happened to an image.  The message of each is meant for an
operator: it names the image, the store and what to do.
"""

import re
import typing as ty

from openstack import exceptions


class ImageStoreException(exceptions.SDKException):
    """Base class: removing an image's data from a store did not happen.

    :param message: what happened, for an operator.
    :param http_status: the Images API status code behind it, if any.
    """

    def __init__(self, message: str, http_status: int | None = None):
        super().__init__(message)
        self.http_status = http_status


class InvalidIdentifier(ImageStoreException, ValueError):
    """A store or image identifier that cannot be sent safely.

    Raised before any request: identifiers are data and can never change
    which URL is called.
    """


class MultiStoreNotEnabled(ImageStoreException):
    """``GET /v2/info/stores`` answered 404: the cloud has one store."""


class StoreNotFound(ImageStoreException):
    """The store is not one that ``GET /v2/info/stores`` lists.

    :param message: what happened, for an operator.
    :param available: the store IDs the cloud lists.
    """

    def __init__(self, message: str, available: ty.Sequence[str]):
        super().__init__(message)
        self.available = list(available)


class ImageNotFound(ImageStoreException):
    """No image visible to the caller has that name or ID."""


class AmbiguousImage(ImageStoreException):
    """Several images have that name.

    :param message: what happened, for an operator.
    :param image_ids: the IDs of the matching images.
    """

    def __init__(self, message: str, image_ids: ty.Sequence[str]):
        super().__init__(message)
        self.image_ids = list(image_ids)


def clean_details(details: str, status: int | None) -> str:
    """Glance's explanation of an error as plain text.

    Drops HTML tags (even JSON messages end with ``<br /><br />``), folds
    white space, and drops the "404 Not Found: " heading of HTML pages.

    :param details: the error body or message.
    :param status: its HTTP status code.
    :returns: the text.
    """
    details = ' '.join(re.sub(r'<[^>]*>', ' ', details).split())
    head = re.match(r'%s [A-Za-z -]+: ' % status, details)
    return details[head.end():] if head else details
