"""Attachment checks and private storage.

A file is accepted by what it *is*, read from its first bytes, never by its name or the
browser's declared type: a renamed executable is refused. Its name follows what it is too:
the customer's stem is kept for display, the extension is that of the detected type
(`poly.html` holding a PDF is kept and downloaded as `poly.pdf`). Accepted files are stored under the
default storage (settings.STORAGES["default"], outside any served path) with random names, and
are only ever read back through `attachment_open`, which the download views call after
checking who is asking.
"""

import hashlib
import os
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import File
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from appeals.errors import AttachmentTooLarge, AttachmentTypeRefused, TooManyAttachments
from appeals.models import ATTACHMENT_EXTENSIONS, AttachmentKind

NAME_MAX = 150  # AppealAttachment.original_name
# Extensions that name a type as well as ATTACHMENT_EXTENSIONS' own (kept as the customer wrote).
SAME_TYPE_EXTENSIONS = {AttachmentKind.JPEG: {".jpeg", ".jpe"}}

# Leading bytes of each accepted format. JPEG: SOI + the next marker; PNG: its 8-byte header.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", AttachmentKind.PDF),
    (b"\xff\xd8\xff", AttachmentKind.JPEG),
    (b"\x89PNG\r\n\x1a\n", AttachmentKind.PNG),
)


@dataclass
class CheckedFile:
    upload: object  # a Django UploadedFile (or any File-like with name, size, read, seek)
    content_type: str
    size: int
    sha256: str
    original_name: str


def sniff(head: bytes) -> str | None:
    """The accepted kind these leading bytes begin, or None."""
    for signature, kind in SIGNATURES:
        if head.startswith(signature):
            return kind
    return None


def safe_display_name(name: str) -> str:
    """The customer's file name, for display only: no path, no control characters, ≤150."""
    base = os.path.basename((name or "").replace("\\", "/"))
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return (cleaned or "file")[:150]


def name_for_kind(name: str, kind: str) -> str:
    """The display name with the extension of the detected type: the customer's stem, then
    `.pdf` / `.jpg` / `.png` (an extension already naming that type is kept, any other is
    replaced). The one rule for the stored name and the download's filename."""
    stem, extension = os.path.splitext(name)
    expected = ATTACHMENT_EXTENSIONS[kind]
    if extension.lower() not in {expected, *SAME_TYPE_EXTENSIONS.get(kind, ())}:
        stem, extension = stem or "file", expected
    return stem[: NAME_MAX - len(extension)] + extension


def attachments_check(files, *, already: int) -> list[CheckedFile]:
    """Check every file before anything is written; refuse all if one is wrong."""
    files = [f for f in files or [] if f is not None]
    limit = settings.APPEALS_MAX_ATTACHMENTS
    if already + len(files) > limit:
        raise TooManyAttachments(
            ngettext(
                "An appeal can have at most %(limit)d file.",
                "An appeal can have at most %(limit)d files.",
                limit,
            )
            % {"limit": limit}
        )
    max_bytes = settings.APPEALS_MAX_ATTACHMENT_BYTES
    checked = []
    for upload in files:
        name = safe_display_name(getattr(upload, "name", ""))
        size = upload.size
        if size > max_bytes:
            raise AttachmentTooLarge(
                _("“%(name)s” is larger than %(mb)d MB.")
                % {"name": name, "mb": max_bytes // (1024 * 1024)}
            )
        upload.seek(0)
        head = upload.read(2048)
        kind = sniff(head) if size > 0 else None
        if kind is None:
            raise AttachmentTypeRefused(
                _("“%(name)s” is not a PDF, JPEG or PNG file.") % {"name": name}
            )
        digest = hashlib.sha256(head)
        for chunk in iter(lambda upload=upload: upload.read(64 * 1024), b""):
            digest.update(chunk)
        upload.seek(0)
        checked.append(
            CheckedFile(
                upload=upload,
                content_type=kind,
                size=size,
                sha256=digest.hexdigest(),
                original_name=name_for_kind(name, kind),
            )
        )
    return checked


def as_django_file(checked: CheckedFile) -> File:
    checked.upload.seek(0)
    return File(checked.upload, name=checked.original_name)
