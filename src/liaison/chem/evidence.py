"""What makes a screening result stand as evidence: the version of the rule data it was
judged by (a content hash of the rule files and the date of their newest entry)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from liaison.chem.rulebook import RULES_DIR, RuleBook

HASH_LENGTH = 16  # hex digits: 64 bits, ample to tell rule data versions apart


@dataclass(frozen=True)
class RulesVersion:
    hash: str  # sha256 of the rule files' names and bytes, first HASH_LENGTH hex digits
    newest_entry: date  # the latest in_force_from of any listing, family or class

    def to_dict(self) -> dict[str, str]:
        return {"hash": self.hash, "newest_entry": self.newest_entry.isoformat()}

    def __str__(self) -> str:
        return f"{self.hash} (newest entry {self.newest_entry.isoformat()})"


def rules_hash(directory: Path = RULES_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:HASH_LENGTH]


def version_of(book: RuleBook, directory: Path = RULES_DIR) -> RulesVersion:
    dates = [entry.in_force_from for entry in book.entries]
    dates += [family.in_force_from for family in book.families]
    dates += [klass.in_force_from for klass in book.classes]
    return RulesVersion(rules_hash(directory), max(dates))


@lru_cache(maxsize=1)
def rules_version() -> RulesVersion:
    """The version of the shipped rule data, computed once per process."""
    from liaison.chem.compiled import load_rulebook

    return version_of(load_rulebook())
