"""The cap on federation requests read and checked at once is the node's: a node on
several processes (`serve --workers N`) gives each its share, so together they never
read more than the cap."""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack

import pytest
from starlette.requests import Request

from liaison.config import NodeConfig, Settings
from liaison.web.api.federation import FederationBusy, _unverified_requests
from liaison.web.app import create_app


# The cap is counted in memory, whatever the database.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_process_admits_its_share_of_the_nodes_unverified_requests(node: NodeConfig) -> None:
    node = dataclasses.replace(node, settings=Settings(federation_unverified_concurrency=5))
    for processes, share in ((1, 5), (2, 2), (5, 1), (8, 1)):
        app = create_app(node, processes=processes)
        slots = _unverified_requests(Request({"type": "http", "app": app}))
        try:
            with ExitStack() as held:
                for _ in range(share):
                    held.enter_context(slots.slot())
                with pytest.raises(FederationBusy), slots.slot():
                    pass
            with slots.slot():  # free again once they end
                pass
        finally:
            app.state.runtime.database.dispose()
