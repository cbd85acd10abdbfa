"""Request bodies are capped per route before anything reads them whole (and so before
authentication): a declared Content-Length over the cap and a chunked body that grows past
it are both answered 413: a problem document to the API, a page to a form."""

from __future__ import annotations

import select
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from liaison.web.limits import DEFAULT_BODY_MAX_BYTES, SCREENING_UPLOAD_MAX_BYTES

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

MIB = 1024 * 1024


def _assert_too_large(response_status: int, content_type: str, detail: str) -> None:
    assert response_status == 413
    assert content_type == "application/problem+json"
    assert "request body is larger than" in detail


# The limit is the web layer's, whatever the database: SQLite only, to keep the suite fast.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@sqlite_only
def test_oversized_bodies_are_refused_before_authentication(client: TestClient) -> None:
    big_json = b'{"query": "' + b"C" * (DEFAULT_BODY_MAX_BYTES + 1) + b'"}'
    for path in ("/api/v1/substances/identify", "/api/v1/auth/token"):
        response = client.post(path, content=big_json, headers={"content-type": "application/json"})
        _assert_too_large(
            response.status_code, response.headers["content-type"], response.json()["detail"]
        )
        assert "content-security-policy" in response.headers
    # A form answers a page, never a problem document (the 413 is still refused unread).
    login = client.post("/login", content=big_json, headers={"content-type": "application/json"})
    assert login.status_code == 413
    assert login.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in login.headers
    upload = client.post(
        "/substances/screen",
        files={"upload": ("big.smi", b"C\n" * (SCREENING_UPLOAD_MAX_BYTES // 2 + 1))},
    )
    assert upload.status_code == 413
    assert upload.headers["content-type"].startswith("text/html")
    assert "the most this page accepts" in upload.text and "Back to the form" in upload.text


@sqlite_only
def test_too_much_sent_to_a_form_is_a_page_in_the_users_language(client: TestClient) -> None:
    upload = client.post(
        "/substances/screen",
        files={"upload": ("big.smi", b"C\n" * (SCREENING_UPLOAD_MAX_BYTES // 2 + 1))},
        headers={"accept-language": "zh-CN,zh;q=0.9"},
    )
    assert upload.status_code == 413
    assert '<html lang="zh-CN">' in upload.text
    assert "返回表单" in upload.text


@sqlite_only
def test_bodies_within_the_limit_still_work(client: TestClient, accounts: Accounts) -> None:
    headers = accounts.bearer(client, "olivia")
    queries = ["CCO"] * 50
    answer = client.post("/api/v1/substances/identify", json={"queries": queries}, headers=headers)
    assert answer.status_code == 200, answer.text
    # The screening form gets files up to its own 5 MiB limit and explains that limit itself.
    accounts.browser_login(client, "olivia")
    csrf = accounts.csrf_token_on(client, "/substances/screen")
    too_big_for_the_form = client.post(
        "/substances/screen",
        data={"csrf_token": csrf},
        files={"upload": ("big.smi", b"C\n" * (5 * MIB // 2 + 10))},
    )
    assert too_big_for_the_form.status_code == 422
    assert "big.smi: larger than 5 MB" in too_big_for_the_form.text


@sqlite_only
def test_a_chunked_body_is_cut_off_at_the_limit(served_node: str) -> None:
    """A real server: an anonymous chunked POST offering 300 MB is answered 413 after about
    the limit, and the server stops reading (the client could send only a bounded amount)."""
    address = urlsplit(served_node)
    chunk = b"C" * (64 * 1024)
    offered = 300 * MIB
    sent = 0
    answer = b""
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(
            b"POST /api/v1/substances/identify HTTP/1.1\r\nHost: node\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        try:
            while sent < offered:
                readable, writable, _ = select.select([connection], [connection], [], 30)
                if readable:
                    break
                if writable:
                    connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while True:
                data = connection.recv(65536)
                if not data:
                    break
                answer += data
        except (ConnectionResetError, TimeoutError):
            pass
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"application/problem+json" in answer
    # The socket buffers hold a few megabytes at most; the rest was never accepted.
    assert sent < 32 * MIB
