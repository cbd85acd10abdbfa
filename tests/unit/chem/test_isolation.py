"""Worker isolation: a record that crashes its worker or runs past the time limit costs only
itself; the pool replaces the worker and the rest of the batch is answered, in order."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import date

import pytest

from liaison.chem.bulk import Record, screen_records
from liaison.chem.isolation import Failure, WorkerPool
from liaison.chem.limits import Limits
from liaison.chem.models import COMBINED

FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
AS_OF = date(2026, 1, 1)


def behave(item: str) -> str:
    """A stand-in for the engine: 'segv' crashes the process, 'hang' never returns."""
    if item == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    if item == "hang":
        time.sleep(60)
    if item == "raise":
        raise ValueError("bad item")
    if item.startswith("slow"):
        time.sleep(0.3)
    return f"{item}@{os.getpid()}"


def answer_failure(item: str, failure: Failure) -> str:
    return f"{item}: {failure.reason}"


@pytest.fixture
def pool() -> WorkerPool[str, str]:
    workers: WorkerPool[str, str] = WorkerPool(1, 1.0, answer_failure, start_method="fork")
    yield workers  # type: ignore[misc]
    workers.close()


def test_a_crash_costs_only_its_item_and_the_worker_is_replaced(pool: WorkerPool[str, str]) -> None:
    results = pool.run(behave, ["a", "segv", "b"])
    assert results[1] == "segv: identification failed: the worker was killed by SIGSEGV"
    first, third = (int(result.split("@")[1]) for result in (results[0], results[2]))
    assert first != third  # the rest of the batch went to a fresh worker
    assert pool.run(behave, ["c"])[0] == f"c@{third}"  # which stays in the pool


def test_a_stall_past_the_time_limit_is_answered_and_the_rest_goes_on(
    pool: WorkerPool[str, str],
) -> None:
    results = pool.run(behave, ["a", "hang", "b"])
    assert results[0].startswith("a@") and results[2].startswith("b@")
    assert results[1] == "hang: identification timed out after 1 s (limit seconds=1)"


def test_an_exception_is_the_item_s_answer_and_the_worker_lives_on(
    pool: WorkerPool[str, str],
) -> None:
    results = pool.run(behave, ["raise", "a"])
    assert results[0] == "raise: identification failed: ValueError: bad item"
    assert results[1].startswith("a@")


def test_a_worker_killed_while_idle_is_replaced_before_use(pool: WorkerPool[str, str]) -> None:
    pid = int(pool.run(behave, ["a"])[0].split("@")[1])
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert pool.run(behave, ["b"])[0].startswith("b@")


@pytest.mark.parametrize("jobs", [1, 2])
def test_bulk_a_record_past_the_time_limit_is_invalid_in_its_place(jobs: int) -> None:
    # Allowed here (atoms raised); drawing a 1,500-carbon acyl chain takes far over 1 s.
    slow = "C" * 1500 + "C(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
    texts = [FENTANYL, "CCO", slow, "O=C1CCNCC1", FENTANYL]
    records = [Record(str(index), text, text) for index, text in enumerate(texts)]
    results = list(
        screen_records(
            records,
            AS_OF,
            ("US",),
            jobs=jobs,
            depict=True,
            render="jsonl",
            keep="none",
            chunk_size=2,
            limits=Limits(atoms=100_000, seconds=1.0),
        )
    )
    lines = [json.loads(result.line) for result in results]
    assert [line["id"] for line in lines] == ["0", "1", "2", "3", "4"]
    assert [result.statuses[0] for result in results] == [
        "controlled",
        "no_match",
        "invalid",
        "precursor",
        "controlled",
    ]
    assert lines[2]["error"] == (
        "identification timed out after 1 s (limit seconds=1); nothing was judged"
    )
    assert results[4].svgs[COMBINED].startswith("<svg")  # the worker after the stall draws too


def test_answers_in_batches_pin_a_crash_on_its_own_item(pool: WorkerPool[str, str]) -> None:
    items = [f"item{i}" for i in range(5)] + ["segv"] + [f"item{i}" for i in range(6, 12)]
    results = pool.run(behave, items, batch=50)
    assert results[5] == "segv: identification failed: the worker was killed by SIGSEGV"
    assert [r.split("@")[0] for r in results[:5] + results[6:]] == items[:5] + items[6:]


def test_a_batch_longer_than_the_time_limit_is_not_a_stall(pool: WorkerPool[str, str]) -> None:
    # Answers come back in lists; each item, not each list, has the 1 s limit.
    pid = pool.run(behave, ["a"])[0].split("@")[1]
    items = [f"slow{i}" for i in range(5)]
    results = pool.run(behave, items, batch=50)
    assert results == [f"{item}@{pid}" for item in items]  # in the same worker, not replaced
