"""Which items of an incoming batch a receiver applies.

Per origin, items carry consecutive sequence numbers starting at 1. The receiver keeps the
last sequence it applied; it applies exactly the run of items that continues it, skips
what it has already applied (a retry after a lost acknowledgement), and stops at the
first gap (an item it cannot apply yet without breaking order). The acknowledgement is
the last applied sequence afterwards, which tells the sender where to resume.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class Sequenced(Protocol):
    @property
    def seq(self) -> int: ...


ItemT = TypeVar("ItemT", bound=Sequenced)


@dataclass(frozen=True)
class BatchPlan(Generic[ItemT]):
    to_apply: list[ItemT]
    duplicate_seqs: list[int]  # items already applied (a batch resent after a lost answer)
    gap_at: int | None  # the first missing sequence number, when the batch jumps ahead
    acknowledged: int  # the last applied sequence once `to_apply` is applied


def plan_batch(last_applied: int, items: Iterable[ItemT]) -> BatchPlan[ItemT]:
    """Decide what to apply from `items` given `last_applied` for their origin."""
    ordered: Sequence[ItemT] = sorted(items, key=lambda item: item.seq)
    to_apply: list[ItemT] = []
    duplicates: list[int] = []
    expected = last_applied + 1
    gap_at: int | None = None
    for item in ordered:
        if item.seq < expected:
            duplicates.append(item.seq)
            continue
        if item.seq > expected:
            gap_at = expected
            break
        to_apply.append(item)
        expected += 1
    return BatchPlan(
        to_apply=to_apply, duplicate_seqs=duplicates, gap_at=gap_at, acknowledged=expected - 1
    )
