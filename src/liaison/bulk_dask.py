"""`liaison screen --engine dask`: the bulk screening of liaison.chem.bulk on a Dask
distributed cluster (a LocalCluster when no scheduler address is given).

The input is cut into partitions of a fixed number of records; each partition is screened on
a Dask worker by bulk.screen_records in the worker's isolated engine processes (a record that
crashes RDKit or runs past the time limit is an invalid record there as it is locally), so
the results are the local engine's, line for line. A worker keeps its engine processes (one
per worker thread, the rules loaded in each) from one partition to the next for the job's
life, so a partition costs no process start; they are closed when the job ends. The client
writes the partitions in input order as they finish and records each one in a manifest
beside the output; a rerun of the same job after a crash skips the partitions the manifest
lists. A worker that dies has its partitions recomputed by Dask on another worker.

run_partitions is that machinery for any partitioned job (match_dask: identity matching).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from liaison.chem.limits import Limits

if TYPE_CHECKING:
    from liaison.chem.bulk import EnginePools, Record

OUTPUT_FORMATS = ("jsonl", "csv", "parquet")
PARTITION = 10_000  # records per partition: seconds of work, a small message, a small file
MANIFEST_SUFFIX = ".partitions.json"
PART_NAME = "part-{:06d}.parquet"  # zero-padded: a directory listing is the input order

log = logging.getLogger(__name__)

# A partition crosses the network as tuples: (id, input, query, problem, columns) per record.
Wire = tuple[str, str, str, str | None, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Job:
    """One screening run; its fingerprint decides whether a manifest belongs to it."""

    sources: tuple[str, ...]
    output: Path
    output_format: str  # jsonl | csv | parquet
    as_of: date
    codes: tuple[str, ...]
    limits: Limits
    partition_size: int = PARTITION
    rules: str = ""  # the rules version: new rules, new results

    def fingerprint(self) -> dict[str, Any]:
        files = []
        for source in self.sources:
            stat = Path(source).stat()
            files.append([str(Path(source).resolve()), stat.st_size, stat.st_mtime_ns])
        return {
            "sources": files,
            "format": self.output_format,
            "as_of": self.as_of.isoformat(),
            "codes": list(self.codes),
            "limits": asdict(self.limits),
            "partition_size": self.partition_size,
            "rules": self.rules,
        }


@dataclass(frozen=True)
class Outcome:
    screened: int  # records screened by this run
    skipped: int  # records of partitions a previous run had written
    partitions: int  # partitions screened by this run


def manifest_path(output: Path) -> Path:
    return output.with_name(output.name + MANIFEST_SUFFIX)


# On a Dask worker: the job's engine processes, kept between its partitions (see _close_engines).
_ENGINES: EnginePools = {}


def _worker_threads() -> int:
    """How many tasks this Dask worker runs at once (1 outside a worker)."""
    from distributed import get_worker

    try:
        return max(1, int(get_worker().state.nthreads))
    except ValueError:  # not on a worker
        return 1


def _screen_partition(
    settings: tuple[date, tuple[str, ...], str, Limits], wires: list[Wire]
) -> list[str]:
    """On a Dask worker: the rendered lines (jsonl or csv) of one partition, in order."""
    from liaison.chem.bulk import Record, screen_records  # RDKit: not for identity matching

    if multiprocessing.current_process().daemon:
        raise RuntimeError(
            "a Dask worker running as a daemon process cannot start the isolated engine "
            "process; start workers with DASK_DISTRIBUTED__WORKER__DAEMON=False"
        )
    as_of, codes, render, limits = settings
    records = [Record(w[0], w[1], w[2], w[3], w[4]) for w in wires]
    # One engine process per worker thread (the worker's threads are the parallelism),
    # kept for the job's next partitions on this worker (_ENGINES).
    results = screen_records(
        records,
        as_of,
        codes,
        jobs=_worker_threads(),
        render=render,
        keep="none",
        limits=limits,
        pools=_ENGINES,
    )
    return [result.line for result in results]


def _close_engines() -> int:
    """On each Dask worker when a job ends: close the engine processes it kept; how many."""
    pools = list(_ENGINES.values())
    _ENGINES.clear()
    for pool in pools:
        pool.close()
    return len(pools)


def _partitions(records: Iterable[Record], size: int) -> Iterator[list[Wire]]:
    partition: list[Wire] = []
    for r in records:
        partition.append((r.id, r.input, r.query, r.problem, r.columns))
        if len(partition) == size:
            yield partition
            partition = []
    if partition:
        yield partition


class _Manifest:
    """The finished partitions, rewritten atomically after each one is safely on disk."""

    def __init__(self, path: Path, job: dict[str, Any]) -> None:
        self.path = path
        self.data: dict[str, Any] = {"job": job, "start": 0, "partitions": [], "complete": False}

    @classmethod
    def resume(cls, path: Path, job: dict[str, Any]) -> _Manifest | None:
        """The manifest of an earlier run of this same job, or None."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("job") != job:
            return None
        manifest = cls(path, job)
        manifest.data = data
        return manifest

    @property
    def done(self) -> list[dict[str, Any]]:
        partitions: list[dict[str, Any]] = self.data["partitions"]
        return partitions

    def save(self) -> None:
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(self.data, indent=1), encoding="utf-8")
        os.replace(temporary, self.path)


class _TextWriter:
    """jsonl or csv: one file, appended partition by partition; a resumed run first cuts off
    whatever a crashed run wrote past its last recorded partition."""

    def __init__(self, output: Output, manifest: _Manifest) -> None:
        self.manifest = manifest
        self.handle: BinaryIO
        if manifest.done or manifest.data["start"]:
            end = manifest.done[-1]["end"] if manifest.done else manifest.data["start"]
            self.handle = output.path.open("r+b")
            self.handle.truncate(end)
            self.handle.seek(end)
        else:
            self.handle = output.path.open("wb")
            if output.format == "csv":
                buffer = io.StringIO()
                csv.writer(buffer).writerow(output.header)
                self.handle.write(buffer.getvalue().encode("utf-8"))
            self._sync()
            manifest.data["start"] = self.handle.tell()
            manifest.save()

    def _sync(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def write(self, index: int, records: int, lines: list[str]) -> None:
        self.handle.write("".join(lines).encode("utf-8"))
        self._sync()
        self.manifest.done.append({"index": index, "records": records, "end": self.handle.tell()})
        self.manifest.save()

    def close(self) -> None:
        self.handle.close()


class _ParquetWriter:
    """parquet: a directory of one file per partition (part-000000.parquet, ...), each the
    csv output's columns and cells as strings; files no manifest entry names are removed."""

    def __init__(self, output: Output, manifest: _Manifest) -> None:
        self.manifest = manifest
        self.directory = output.path
        self.header = output.header
        self.directory.mkdir(parents=True, exist_ok=True)
        kept = {entry["file"] for entry in manifest.done}
        for path in self.directory.glob("part-*.parquet*"):
            if path.name not in kept:
                path.unlink()
        manifest.save()

    def write(self, index: int, records: int, lines: list[str]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = list(csv.reader(io.StringIO("".join(lines))))
        columns = {name: [row[i] for row in rows] for i, name in enumerate(self.header)}
        table = pa.table(columns, schema=pa.schema([(name, pa.string()) for name in self.header]))
        name = PART_NAME.format(index)
        temporary = self.directory / (name + ".tmp")
        pq.write_table(table, temporary)
        os.replace(temporary, self.directory / name)
        self.manifest.done.append({"index": index, "records": records, "file": name})
        self.manifest.save()

    def close(self) -> None:
        pass


LOCAL_CLUSTER = {
    # Non-daemon workers: each starts its own isolated engine process.
    "distributed.worker.daemon": False,
    # Dask's housekeeping costs CPU for every second a job runs, busy or waiting: the
    # statistical profiler (stacks sampled every 10 ms), the event-loop tick (20 ms) and the
    # system monitor (500 ms) took 0.07 to 0.08 CPU-s per second for one worker, 0.02 without
    # (benchmarks/dask_housekeeping.py).
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}


def _client(scheduler: str | None, workers: int | None) -> contextlib.AbstractContextManager[Any]:
    """A client of the cluster at `scheduler`, or of a LocalCluster of `workers` processes."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        return Client(scheduler)  # type: ignore[no-untyped-call]

    @contextlib.contextmanager
    def local() -> Iterator[Any]:
        with (
            dask.config.set(LOCAL_CLUSTER),
            LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,  # type: ignore[no-untyped-call]
            Client(cluster) as client,  # type: ignore[no-untyped-call]
        ):
            yield client

    return local()


def run(
    job: Job, records: Iterable[Record], columns: list[str], runner: Runner | None = None
) -> Outcome:
    """Screen `records` (the job's input, from its first record) on Dask and write the job's
    output. columns: the input's other columns (csv and parquet header)."""
    from liaison.chem.bulk import csv_header

    render = "jsonl" if job.output_format == "jsonl" else "csv"
    settings = (job.as_of, job.codes, render, job.limits)
    return run_partitions(
        Output(job.output, job.output_format, csv_header(job.codes, columns)),
        job.fingerprint(),
        lambda skipped: _partitions(_skip(records, skipped), job.partition_size),
        functools.partial(_screen_partition, settings),
        runner,
        finish=_close_engines,
    )


@dataclass(frozen=True)
class Runner:
    """Where a partitioned job runs: on the given `client` as it is (tests), else on the
    cluster at `scheduler`, else on a LocalCluster of `workers` processes. on_start(records)
    is called first with the records a previous run had written, on_partition(index,
    records) after each partition is safely written."""

    scheduler: str | None = None
    workers: int | None = None
    client: Any = None
    on_start: Callable[[int], None] | None = None
    on_partition: Callable[[int, int], None] | None = None


@dataclass(frozen=True)
class Output:
    """Where a partitioned job writes: a jsonl or csv file, or a directory of parquet files;
    header: the csv and parquet columns."""

    path: Path
    format: str  # jsonl | csv | parquet
    header: list[str]


def run_partitions(
    output: Output,
    fingerprint: dict[str, Any],
    partitions: Callable[[int], Iterable[Sized]],
    task: Callable[[Any], list[str]],
    runner: Runner | None = None,
    finish: Callable[[], object] | None = None,
) -> Outcome:
    """The partitioned job whose manifest carries `fingerprint`: partitions(skipped) gives the
    input's partitions past the first `skipped` records (those a previous run wrote); on a
    worker, task(partition) gives the partition's rendered output lines; they are written in
    input order as they come back, each partition recorded in the manifest once on disk.
    finish() runs on every worker when the job ends, done or not (what tasks kept there)."""
    runner = runner or Runner()
    path = manifest_path(output.path)
    manifest = _Manifest.resume(path, fingerprint)
    if manifest is None or not _output_intact(output, manifest):
        manifest = _Manifest(path, fingerprint)
    if manifest.data["complete"]:
        return Outcome(0, sum(p["records"] for p in manifest.done), 0)
    writer: _TextWriter | _ParquetWriter
    if output.format == "parquet":
        writer = _ParquetWriter(output, manifest)
    else:
        writer = _TextWriter(output, manifest)
    skipped = sum(p["records"] for p in manifest.done)
    first = len(manifest.done)
    if runner.on_start is not None:
        runner.on_start(skipped)
    screened = partitions_done = 0
    try:
        with contextlib.ExitStack() as stack:
            client = runner.client
            if client is None:
                client = stack.enter_context(_client(runner.scheduler, runner.workers))
            if finish is not None:
                stack.callback(_on_every_worker, client, finish)
            # A few partitions per worker thread in flight: workers never idle, memory bounded.
            window = 2 * max(1, sum(client.nthreads().values()))
            pending: deque[tuple[int, int, Any]] = deque()

            def write_next() -> None:
                nonlocal screened, partitions_done
                index, records, future = pending.popleft()
                writer.write(index, records, future.result())
                screened += records
                partitions_done += 1
                if runner.on_partition is not None:
                    runner.on_partition(index, records)

            for index, partition in enumerate(partitions(skipped), start=first):
                future = client.submit(task, partition, pure=False)
                pending.append((index, len(partition), future))
                while len(pending) >= window:
                    write_next()
            while pending:
                write_next()
        manifest.data["complete"] = True
        manifest.save()
    finally:
        writer.close()
    return Outcome(screened, skipped, partitions_done)


def _on_every_worker(client: Any, function: Callable[[], object]) -> None:
    """Run `function` on every worker; a failure (a worker gone) is logged, not raised: the
    job's output is written by then, and what was kept dies with its worker."""
    try:
        client.run(function)
    except Exception:  # whatever the cluster raises, the job's outcome stands
        log.warning("could not run %s on every Dask worker", function.__name__, exc_info=True)


def _output_intact(output: Output, manifest: _Manifest) -> bool:
    """Whether what the manifest lists is still there (an output removed by hand is redone)."""
    if output.format == "parquet":
        return all((output.path / entry["file"]).is_file() for entry in manifest.done)
    end = manifest.done[-1]["end"] if manifest.done else manifest.data["start"]
    return output.path.is_file() and output.path.stat().st_size >= end


def _skip(records: Iterable[Record], count: int) -> Iterator[Record]:
    iterator = iter(records)
    for _ in range(count):
        if next(iterator, None) is None:
            break
    yield from iterator
