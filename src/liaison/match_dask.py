"""`liaison identity match --engine dask`: the requests matched on a Dask cluster.

The model is trained once, by the caller, as the local engine does; the requests are cut into
partitions and each partition is scored against the registry on a Dask worker. Each worker
reads the registry file itself (the same path: a shared filesystem) and keeps it, loaded into
its database, for every partition it scores; what travels with a partition is the requests and
the trained model's settings (JSON). A candidate's probability is a posterior that depends on
the whole batch (`matching.with_posteriors`), so the job has two steps: the workers' scored
candidates are written, partition by partition in request order, to a file beside the output
(`scored_path`) through bulk_dask's partition manifest, so a rerun after a crash skips the
partitions already scored; then the client turns them into the MATCHES file, the local
engine's byte for byte, and removes the scored file.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liaison.bulk_dask import Outcome, Output, Runner, manifest_path, run_partitions

if TYPE_CHECKING:
    import pandas as pd

    from liaison.identity.matching import Candidate, Scorer

PARTITION = 2000  # requests per partition: Matcher.match's chunk


@dataclass(frozen=True)
class MatchSettings:
    """What a worker needs besides the partition: the registry file (its resolved path, size
    and modification time, which the worker checks), the trained model as JSON and how many
    candidates to keep per request."""

    registry: tuple[str, int, int]
    model: str
    k: int


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


def _score_partition(settings: MatchSettings, requests: pd.DataFrame) -> list[str]:
    """On a Dask worker: the scored candidates of one partition of requests, a JSON line each
    (floats written exactly: the client computes the same posteriors as the local engine)."""
    with _LOCK:
        found = _scorer(settings).score(requests, settings.k)
    return [json.dumps(dataclasses.asdict(candidate)) + "\n" for candidate in found]


def scored_path(output: Path) -> Path:
    """Where the scored candidates wait for the whole batch, beside the MATCHES file."""
    return output.with_name(output.name + ".scored.jsonl")


def _read_scored(path: Path) -> list[Candidate]:
    from liaison.identity.matching import Candidate

    with path.open(encoding="utf-8") as handle:
        return [Candidate(**json.loads(line)) for line in handle]


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
    from liaison.identity.matching import matches_header, matches_rows, with_posteriors

    settings = MatchSettings(_file(registry), json.dumps(model, sort_keys=True), candidates or 1)
    fingerprint = {
        "registry": list(settings.registry),
        "requests": list(_file(requests_file)),
        "model": hashlib.sha256(settings.model.encode()).hexdigest(),
        "candidates": candidates,
        "partition_size": partition_size,
    }

    def partitions(skipped: int) -> Iterator[pd.DataFrame]:
        for start in range(skipped, len(requests), partition_size):
            yield requests.iloc[start : start + partition_size]

    scored = scored_path(output)
    outcome = run_partitions(
        Output(scored, "jsonl", []),
        fingerprint,
        partitions,
        functools.partial(_score_partition, settings),
        runner,
    )
    found = with_posteriors(requests, _read_scored(scored))
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(matches_header(candidates))
        writer.writerows(matches_rows(requests, found, threshold, candidates))
    scored.unlink()
    manifest_path(scored).unlink()
    return outcome
