"""Fixtures of the chemistry tests."""

from __future__ import annotations

import pytest

from liaison.chem.rulebook import RULES_DIR
from liaison.chem.rulecheck import CheckResult, check_rules


@pytest.fixture(scope="session")
def shipped() -> CheckResult:
    """`liaison rules check` of the shipped rule book, run once (seconds of standardising):
    the tests of the whole book read this result instead of checking the book again."""
    return check_rules(RULES_DIR)
