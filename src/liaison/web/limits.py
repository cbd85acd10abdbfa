"""Request body size limits, enforced before any route (and so before authentication) reads
a byte more than its route may need.

Without them Starlette reads a JSON or multipart body whole into memory: an anonymous
300 MB POST grew the server to 1.9 GB. The declared Content-Length is checked up front,
and the bytes actually received are counted (a chunked body declares no length).
Federation endpoints are left to their own limits (they read the envelope themselves).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import escape

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liaison.config import Settings
from liaison.federation.delivery import MAX_BATCH_BYTES
from liaison.services.hotline import MAX_ATTACHMENTS
from liaison.web.i18n import _, current_language
from liaison.web.problems import PROBLEM_MEDIA_TYPE

MIB = 1024 * 1024
# JSON API calls and plain forms: a batch of 100 identify queries is a few kilobytes.
DEFAULT_BODY_MAX_BYTES = 1 * MIB
# The screening upload: the file's own limit (5 MiB, which its form reports) plus room
# for the multipart envelope and the other fields.
SCREENING_UPLOAD_MAX_BYTES = 6 * MIB
SCREENING_UPLOAD_PATHS = ("/substances/screen", "/api/v1/substances/screen")
# Routes that carry hotline attachments, in the API (base64 in JSON) and the UI (multipart).
HOTLINE_ATTACHMENT_PATHS = re.compile(
    r"^(/api/v1/threads(/\d+/messages)?|/hotline/new|/hotline/threads/\d+/messages)$"
)
FEDERATION_PREFIX = "/federation/"
# A peering request, and an envelope whose sender does not name itself as an active peer
# in the X-Liaison-Sender header, is a few kilobytes.
MAX_UNKNOWN_SENDER_BYTES = 64 * 1024


def hotline_request_max_bytes(settings: Settings) -> int:
    """A hotline message with every attachment it may carry, as JSON."""
    # Base64 in JSON is the larger encoding: 4 bytes per 3, for every attachment allowed.
    return MAX_ATTACHMENTS * (settings.hotline_attachment_max_bytes * 4 // 3 + 4) + MIB


def max_batch_envelope_bytes(settings: Settings) -> int:
    """The largest batch envelope a peer can legitimately send: the delivery worker cuts
    batches at MAX_BATCH_BYTES of records, and a larger record (a message with its
    attachments) travels alone."""
    return max(MAX_BATCH_BYTES, hotline_request_max_bytes(settings)) + MAX_UNKNOWN_SENDER_BYTES


def body_limit_policy(settings: Settings) -> Callable[[str], int | None]:
    """The most bytes a request body to `path` may have; None leaves the route to itself."""
    hotline_max = hotline_request_max_bytes(settings)

    def limit_for(path: str) -> int | None:
        if path.startswith(FEDERATION_PREFIX):
            return None
        if path in SCREENING_UPLOAD_PATHS:
            return SCREENING_UPLOAD_MAX_BYTES
        if HOTLINE_ATTACHMENT_PATHS.match(path):
            return hotline_max
        return DEFAULT_BODY_MAX_BYTES

    return limit_for


class _BodyTooLarge(Exception):
    """Raised into the application by `receive` once the body passes its route's limit."""


class BodySizeLimit:
    """ASGI middleware answering 413 (problem+json) to a body larger than its route allows."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int | None]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, limit)
            return

        received = 0
        exceeded = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            # Whatever the application makes of a body cut short (FastAPI answers 400 to a
            # form it could not parse) is replaced by the 413 below.
            if exceeded and not response_started:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded or response_started:
                raise
        if exceeded and not response_started:
            await _refuse(scope, send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    if not scope["path"].startswith(("/api/", FEDERATION_PREFIX)):
        await _refuse_page(scope, send, limit)
        return
    detail = (
        f"the request body is larger than {limit} bytes ({limit / MIB:g} MiB), "
        f"the most {scope['path']} accepts"
    )
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Content Too Large",
            "status": 413,
            "detail": detail,
            "instance": scope["path"],
        }
    ).encode("utf-8")
    await _send_refusal(send, PROBLEM_MEDIA_TYPE, body)


async def _refuse_page(scope: Scope, send: Send, limit: int) -> None:
    """A page, in the user's language, for a form sent with too much: never problem+json.
    The body was not read, so nothing typed can be shown again; the browser's Back button
    returns to the form as it was (each form also states its limits before sending)."""
    title = _("Too much to send")
    detail = _(
        "The form sent more than %(size)s MB, the most this page accepts. Go back with your "
        "browser's Back button: the form still holds what you entered. Send a smaller file, "
        "or screen a large one with liaison screen.",
        size=f"{limit / MIB:g}",
    )
    back = _("Back to the form")
    page = (
        f'<!doctype html><html lang="{escape(current_language())}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(title)}</title><link rel="stylesheet" href="/static/liaison.css">'
        f'</head><body><main id="main"><section class="card narrow"><h1>{escape(title)}</h1>'
        f'<p>{escape(detail)}</p><p><a href="{escape(scope["path"])}">{escape(back)}</a></p>'
        "</section></main></body></html>"
    )
    await _send_refusal(send, "text/html; charset=utf-8", page.encode("utf-8"))


async def _send_refusal(send: Send, media_type: str, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", media_type.encode("ascii")),
                (b"content-length", str(len(body)).encode("ascii")),
                # The rest of the body is never read; the client should not reuse the connection.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
