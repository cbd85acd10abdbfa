"""The hotline's rules: limits, deadlines, attachments, and which side a record is on.

Pure functions of a record and the settings; no database, no transport.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from liaison.config import Settings
from liaison.errors import InvalidInput
from liaison.messages import T
from liaison.store.base import utcnow
from liaison.store.hotline_tables import HotlineMessage, HotlineThread, Priority
from liaison.store.incident_tables import ACCURACIES, HANDLING_CODES, RELIABILITIES
from liaison.text import check_storable_text

MAX_SUBJECT = 300
MAX_BODY = 20_000
MAX_ATTACHMENTS = 5
# Content types an attachment may have, and the leading bytes each must start with.
ALLOWED_CONTENT_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "text/plain": (),
    "text/csv": (),
}


class HotlineNode(Protocol):
    """What the hotline needs of the local node (a NodeConfig or a LocalNode)."""

    @property
    def name(self) -> str: ...

    @property
    def settings(self) -> Settings: ...


@dataclass(frozen=True)
class AttachmentUpload:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Handling:
    """A message's handling code and 4x4 grading (source reliability A-D, information
    accuracy 1-4), as incidents carry them."""

    code: str = "none"
    source_reliability: str | None = None
    information_accuracy: str | None = None

    def checked(self) -> Handling:
        check_choice(self.code, HANDLING_CODES, "handling_code")
        if self.source_reliability is not None:
            check_choice(self.source_reliability, RELIABILITIES, "source_reliability")
        if self.information_accuracy is not None:
            check_choice(self.information_accuracy, ACCURACIES, "information_accuracy")
        return self


UNRESTRICTED = Handling()


def local_agency(thread: HotlineThread, node_name: str) -> str:
    """The agency of this node that the thread belongs to."""
    return thread.from_agency if thread.owner_node == node_name else thread.to_agency


def is_incoming(message: HotlineMessage, node_name: str) -> bool:
    return message.owner_node != node_name


def needs_ack(message: HotlineMessage) -> bool:
    return message.ack_due_at is not None and message.acked_at is None


def is_overdue(message: HotlineMessage, now: datetime | None = None) -> bool:
    return (
        needs_ack(message)
        and message.ack_due_at is not None
        and (message.ack_due_at < (now or utcnow()))
    )


def ack_deadline(settings: Settings, priority: str) -> timedelta | None:
    if priority == Priority.URGENT:
        return timedelta(minutes=settings.hotline_urgent_ack_minutes)
    if priority == Priority.FLASH:
        return timedelta(minutes=settings.hotline_flash_ack_minutes)
    return None


def check_choice(value: str, choices: Sequence[str], what: str) -> None:
    if value not in choices:
        raise InvalidInput(
            T(
                "%(what)s must be one of %(choices)s (got %(value)s)",
                what=what,
                choices=", ".join(choices),
                value=repr(value),
            )
        )


def check_text(value: str, what: str, limit: int) -> str:
    check_storable_text(value, what)
    value = value.strip()
    if not value:
        raise InvalidInput(T("%(what)s must not be empty", what=what))
    if len(value) > limit:
        raise InvalidInput(
            T(
                "%(what)s has %(count)s characters; the limit is %(limit)s",
                what=what,
                count=len(value),
                limit=limit,
            )
        )
    return value


def normalized_content_type(value: str) -> str:
    """The media type alone, lower case: `Text/Plain; charset=x` is `text/plain`."""
    return value.split(";")[0].strip().lower()


def display_filename(filename: str) -> str:
    """An attachment's name as pages and downloads show it: without control and format
    characters (a CR/LF would end a header; a right-to-left override makes
    `invoice\u202egpj.exe` read as `invoiceexe.jpg`)."""
    return "".join(c for c in filename if unicodedata.category(c)[0] != "C") or "attachment"


def check_attachment(upload: AttachmentUpload, settings: Settings) -> None:
    """Refuse an attachment that is too large, of a type not allowed, or not what it says."""
    name = upload.filename or "attachment"
    check_storable_text(name, "the attachment's file name")
    limit = settings.hotline_attachment_max_bytes
    if not upload.content:
        raise InvalidInput(T("attachment %(name)s is empty", name=repr(name)))
    if len(upload.content) > limit:
        raise InvalidInput(
            T(
                "attachment %(name)s has %(count)s bytes; the limit is %(limit)s",
                name=repr(name),
                count=len(upload.content),
                limit=limit,
            )
        )
    content_type = normalized_content_type(upload.content_type)
    if content_type not in ALLOWED_CONTENT_TYPES:
        raise InvalidInput(
            T(
                "attachment %(name)s has content type %(type)s; allowed: %(allowed)s",
                name=repr(name),
                type=repr(content_type),
                allowed=", ".join(ALLOWED_CONTENT_TYPES),
            )
        )
    signatures = ALLOWED_CONTENT_TYPES[content_type]
    if signatures and not upload.content.startswith(signatures):
        raise InvalidInput(
            T(
                "attachment %(name)s does not look like %(type)s",
                name=repr(name),
                type=content_type,
            )
        )
    if not signatures:
        try:
            upload.content.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidInput(
                T("attachment %(name)s is not UTF-8 text", name=repr(name))
            ) from error
