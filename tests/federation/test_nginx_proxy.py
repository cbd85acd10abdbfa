"""The TLS reverse proxy of docs/deployment.md (deploy/nginx-liaison.conf), run with Debian's
nginx (`make nginx`) on free ports with a self-signed certificate: US behind it serves
HTTPS, its event stream arrives unbuffered, and federation with CN works through it (CN
peers with US's https address and its replies travel through nginx)."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from federation.nodes import OFFICER_PASSWORD, NodeProcess, make_node, peer, wait_until
from liaison.config import NODE_FILE, write_node_file
from support import free_port

pytestmark = pytest.mark.slow
TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx-liaison.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _start_nginx(
    directory: Path, port: int, upstream: int, cert: Path, key: Path
) -> subprocess.Popen[bytes]:
    site = TEMPLATE.read_text(encoding="utf-8")
    for placeholder, value in {
        "@SERVER_NAME@": "127.0.0.1",
        "@LISTEN@": f"127.0.0.1:{port}",
        "@CERTIFICATE@": str(cert),
        "@CERTIFICATE_KEY@": str(key),
        "@UPSTREAM@": f"127.0.0.1:{upstream}",
    }.items():
        site = site.replace(placeholder, value)
    (directory / "site.conf").write_text(site, encoding="utf-8")
    temp = directory / "temp"
    temp.mkdir()
    # A main configuration around the repository's site, everything in the temp folder.
    main = f"""
{"user root;" if os.geteuid() == 0 else ""}
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{}}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {directory}/site.conf;
}}
"""
    (directory / "nginx.conf").write_text(main, encoding="utf-8")
    checked = subprocess.run(
        [NGINX, "-t", "-c", str(directory / "nginx.conf"), "-p", str(directory)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    return subprocess.Popen([NGINX, "-c", str(directory / "nginx.conf"), "-p", str(directory)])


def _behind(node: NodeProcess, url: str) -> None:
    """node.toml names the proxy's https address: what the peer is given when peering."""
    with (node.directory / NODE_FILE).open("rb") as handle:
        written = tomllib.load(handle)["node"]
    write_node_file(node.directory, **{**written, "base_url": url})


@pytest.fixture
def proxied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[NodeProcess, NodeProcess, str]]:
    cert, key = _certificate(tmp_path)
    # Every client here (CN's server, this test's httpx) trusts the self-signed certificate.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    us = make_node(tmp_path, "US")
    cn = make_node(tmp_path, "CN", env={"SSL_CERT_FILE": str(cert)})
    proxy_port = free_port()
    url = f"https://127.0.0.1:{proxy_port}"
    _behind(us, url)
    nginx_dir = tmp_path / "nginx"
    nginx_dir.mkdir()
    nginx = _start_nginx(nginx_dir, proxy_port, us.port, cert, key)
    try:
        for node in (us, cn):
            node.spawn()
        for node in (us, cn):
            node.wait_healthy()
        peer(us, cn)  # CN completes the handshake at US's https address
        yield us, cn, url
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        us.close()
        cn.close()


def _token(url: str, username: str = "officer") -> str:
    response = httpx.post(
        f"{url}/api/v1/auth/token", json={"username": username, "password": OFFICER_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_a_node_behind_nginx_serves_https_streams_events_and_federates(
    proxied: tuple[NodeProcess, NodeProcess, str],
) -> None:
    us, cn, url = proxied
    assert httpx.get(f"{url}/healthz").status_code == 200  # TLS, verified against the cert
    headers = {"Authorization": f"Bearer {_token(url)}"}
    cn_client = cn.client()
    with (
        httpx.Client(base_url=url, headers=headers, timeout=30) as client,
        client.stream("GET", "/api/v1/events") as stream,
    ):
        lines = stream.iter_lines()
        assert next(lines).startswith("retry:")
        opened = client.post(
            "/api/v1/threads",
            json={
                "peer": "CN",
                "subject": "Through the proxy",
                "priority": "routine",
                "kind": "note",
                "body": "from US",
            },
        )
        assert opened.status_code == 201, opened.text
        thread = opened.json()
        # A reply from CN, delivered through nginx, shows on US's open stream at once:
        # buffered, it would wait for kilobytes more.
        global_id = thread["global_id"]
        cn_thread = wait_until(
            lambda: next(
                (
                    t["id"]
                    for t in cn_client.get("/api/v1/threads").json()
                    if t["global_id"] == global_id
                ),
                None,
            ),
            "the thread on CN",
        )
        reply = cn_client.post(f"/api/v1/threads/{cn_thread}/messages", json={"body": "from CN"})
        assert reply.status_code == 201, reply.text
        deadline = time.monotonic() + 60  # heartbeats keep the loop turning
        for line in lines:
            assert time.monotonic() < deadline, "CN's reply never reached the stream"
            if line.startswith("data:") and '"incoming": true' in line:
                assert json.loads(line.removeprefix("data:"))["thread"] == thread["id"]
                break
    cn_client.close()
    with us.database().engine.connect() as connection:
        bodies = connection.execute(
            sa.text("select body from hotline_messages where owner_node = 'CN'")
        ).scalars()
        assert list(bodies) == ["from CN"]
    # CN reached US through nginx (the peer's address is the proxy's).
    assert cn.scalar("select base_url from peers where name = 'US'") == url
    # nginx logs a request once US has answered it, which can be after the stream showed it.
    access_log = us.directory.parent / "nginx" / "access.log"
    wait_until(
        lambda: "POST /federation/v1/inbox" in access_log.read_text(),
        "CN's delivery in nginx's access log",
    )
