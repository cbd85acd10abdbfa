"""What a request handler reaches of the running node: its runtime, built by the app."""

from __future__ import annotations

from fastapi import Request

from liaison.federation.context import LocalNode
from liaison.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def local_node(request: Request) -> LocalNode:
    """The node's identity with its signing key."""
    return runtime_of(request).node
