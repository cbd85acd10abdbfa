"""Attachments over the API, as the hotline, the notifications and the incidents take and
serve them: uploaded as base64 in JSON, downloaded with a safe Content-Disposition."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote

from pydantic import BaseModel, Field

from liaison.errors import InvalidInput
from liaison.messages import T
from liaison.services import hotline


class AttachmentIn(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=100)
    content_base64: str = Field(min_length=1)

    def upload(self) -> hotline.AttachmentUpload:
        try:
            content = base64.b64decode(self.content_base64, validate=True)
        except (binascii.Error, ValueError) as error:
            raise InvalidInput(
                T(
                    "attachment %(filename)s: content_base64 is not base64",
                    filename=repr(self.filename),
                )
            ) from error
        return hotline.AttachmentUpload(self.filename, self.content_type, content)


def attachment_disposition(filename: str) -> str:
    """The Content-Disposition of a download: an ASCII `filename` for old clients and the
    exact name in RFC 5987 `filename*`. Names come from users and from the peer, so control
    and format characters and lone surrogates are dropped first (display_filename)."""
    name = hotline.display_filename(filename)
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
