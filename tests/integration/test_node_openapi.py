"""Schemathesis against the served node's /openapi.json: for a bounded number of generated
requests per operation, no 5xx and every response matches the documented schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

if TYPE_CHECKING:
    from tests.integration.conftest import Accounts

EXAMPLES_PER_OPERATION = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Revoking the token would end the run's own authentication; test_node_api covers it.
SKIPPED = {("DELETE", "/api/v1/auth/token")}
# The node's own operations, by OpenAPI tag; other concerns fuzz theirs in their suites.
NODE_TAGS = {"health", "auth", "users", "substances", "audit"}


@pytest.mark.slow
def test_every_operation_matches_its_schema(served_node: str, accounts: Accounts) -> None:
    with httpx.Client(base_url=served_node) as client:
        headers = accounts.bearer(client, "admin")
    schema = schemathesis.openapi.from_url(f"{served_node}/openapi.json", headers=headers)
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        if not NODE_TAGS & set(operation.definition.raw.get("tags", [])):
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=served_node, headers=headers, checks=CHECKS)

        conforms()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /api/v1/substances/identify" in tested
    assert "GET /api/v1/audit" in tested
    assert len(tested) >= 10
