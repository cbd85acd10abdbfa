"""Fixtures of the browser tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from liaison.node import add_node_user, create_node, node_server
from support import free_port


@pytest.fixture
def node_url(tmp_path: Path) -> Iterator[str]:
    """A node (US, with officer olivia of US CBP) served in this process on a free port."""
    directory = tmp_path / "node"
    create_node(directory, "US", "admin", "admin password 1")
    add_node_user(directory, "olivia", "officer password", "officer", "US CBP")
    port = free_port()
    server = node_server(directory, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the node server did not start"
        time.sleep(0.05)
    assert httpx.get(f"{url}/healthz").status_code == 200
    yield url
    server.should_exit = True
    thread.join(timeout=10)
