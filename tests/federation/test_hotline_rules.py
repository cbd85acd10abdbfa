"""Hotline rules that need no database: deadlines and what an attachment may be."""

from __future__ import annotations

from datetime import timedelta

import pytest

from liaison.config import Settings
from liaison.errors import InvalidInput
from liaison.services.hotline import AttachmentUpload, ack_deadline, check_attachment


def test_default_deadlines_are_four_hours_for_urgent_and_thirty_minutes_for_flash() -> None:
    settings = Settings()
    assert ack_deadline(settings, "urgent") == timedelta(hours=4)
    assert ack_deadline(settings, "flash") == timedelta(minutes=30)
    assert ack_deadline(settings, "routine") is None


def test_deadlines_follow_the_settings() -> None:
    settings = Settings(hotline_urgent_ack_minutes=60, hotline_flash_ack_minutes=5)
    assert ack_deadline(settings, "urgent") == timedelta(hours=1)
    assert ack_deadline(settings, "flash") == timedelta(minutes=5)


@pytest.mark.parametrize(
    ("upload", "complaint"),
    [
        (AttachmentUpload("big.txt", "text/plain", b"x" * 11), "has 11 bytes; the limit is 10"),
        (AttachmentUpload("empty.txt", "text/plain", b""), "is empty"),
        (AttachmentUpload("a.zip", "application/zip", b"PK\x03\x04"), "content type"),
        (AttachmentUpload("a.jpg", "image/jpeg", b"\x89PNG\r\n\x1a\n"), "does not look like"),
    ],
)
def test_attachments_are_refused_with_the_reason(upload: AttachmentUpload, complaint: str) -> None:
    with pytest.raises(InvalidInput, match=complaint):
        check_attachment(upload, Settings(hotline_attachment_max_bytes=10))


@pytest.mark.parametrize(
    "upload",
    [
        AttachmentUpload("r.pdf", "application/pdf", b"%PDF-1.7"),
        AttachmentUpload("p.png", "image/png", b"\x89PNG\r\n\x1a\n"),
        AttachmentUpload("list.csv", "text/csv; charset=utf-8", "名称,数量\n".encode()),
    ],
)
def test_allowed_attachments_pass(upload: AttachmentUpload) -> None:
    check_attachment(upload, Settings(hotline_attachment_max_bytes=100))
