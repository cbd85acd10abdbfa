"""Helpers shared by the test packages (importable as `support`: pytest puts tests/ on the path)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nobody listens on right now (tests run in parallel: never a fixed port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
