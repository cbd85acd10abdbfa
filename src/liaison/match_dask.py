"""`liaison identity match --engine dask`: the requests matched on a Dask cluster.

The model is trained once, by the caller, as the local engine does; the requests are cut into
partitions and each partition is scored against the registry on a Dask worker. Each worker
reads the registry file itself (the same path: a shared filesystem) and keeps it, loaded into
its database, for every partition it scores; what travels with a partition is the requests and
the trained model's settings (JSON). The partitions are written in request order through
bulk_dask's partition manifest, so the MATCHES file is the local engine's, byte for byte, and a
rerun after a crash skips the partitions already written.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liaison.bulk_dask import Outcome, Output, Runner, run_partitions

if TYPE_CHECKING:
    import pandas as pd

    from liaison.identity.matching import Scorer

PARTITION = 2000  # requests per partition: Matcher.match's chunk


@dataclass(frozen=True)
class MatchSettings:
    """What a worker needs besides the partition: the registry file (its resolved path, size
    and modification time, which the worker checks) and the trained model as JSON."""

    registry: tuple[str, int, int]
    model: str
    threshold: float
    candidates: int | None


def _file(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


# Per worker process: the last registry loaded, and one lock (a worker may run several
# threads; the scorer's database connection is not shared between them).
_LOCK = threading.Lock()
_SCORERS: dict[tuple[tuple[str, int, int], str], Scorer] = {}


def _scorer(settings: MatchSettings) -> Scorer:
    from liaison.identity.matching import Matcher
    from liaison.identity.people import read_people

    key = (settings.registry, hashlib.sha256(settings.model.encode()).hexdigest())
    if key not in _SCORERS:
        path, size, modified = settings.registry
        if _file(Path(path))[1:] != (size, modified):
            raise RuntimeError(f"{path}: not the client's registry file on this worker")
        people, _problems = read_people(Path(path), "person_id")  # reported by the client
        _SCORERS.clear()  # one registry in memory at a time
        _SCORERS[key] = Matcher(json.loads(settings.model), people, "person_id").scorer()
    return _SCORERS[key]


def _match_partition(settings: MatchSettings, requests: pd.DataFrame) -> list[str]:
    """On a Dask worker: the MATCHES lines of one partition of requests, in order."""
    from liaison.identity.matching import matches_rows

    with _LOCK:
        scorer = _scorer(settings)
        found = scorer.score(requests, settings.candidates or 1)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        matches_rows(requests, found, settings.threshold, settings.candidates)
    )
    return buffer.getvalue().splitlines(keepends=True)


def match(
    registry: Path,
    requests_file: Path,
    requests: pd.DataFrame,
    model: dict[str, Any],
    output: Path,
    threshold: float,
    candidates: int | None,
    *,
    partition_size: int = PARTITION,
    runner: Runner | None = None,
) -> Outcome:
    """Match `requests` (read from `requests_file`) against the registry file with the
    trained `model` on Dask and write the MATCHES csv `output`."""
    from liaison.identity.matching import matches_header

    settings = MatchSettings(_file(registry), json.dumps(model, sort_keys=True), threshold,
                             candidates)  # fmt: skip
    fingerprint = {
        "registry": list(settings.registry),
        "requests": list(_file(requests_file)),
        "model": hashlib.sha256(settings.model.encode()).hexdigest(),
        "threshold": threshold,
        "candidates": candidates,
        "partition_size": partition_size,
    }

    def partitions(skipped: int) -> Iterator[pd.DataFrame]:
        for start in range(skipped, len(requests), partition_size):
            yield requests.iloc[start : start + partition_size]

    return run_partitions(
        Output(output, "csv", matches_header(candidates)),
        fingerprint,
        partitions,
        functools.partial(_match_partition, settings),
        runner,
    )
