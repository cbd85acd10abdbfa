"""`liaison screen --engine dask`: against a real LocalCluster of two worker processes, the
same output as the local engine, a killed worker's partition recomputed, an interrupted run
resumed."""

from __future__ import annotations

import csv
import json
import os
import signal
from datetime import date
from pathlib import Path

import dask
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from distributed import Client, LocalCluster
from rdkit import Chem
from typer.testing import CliRunner

from liaison.bulk_dask import Job, Runner, manifest_path, run
from liaison.chem.bulk import read_records
from liaison.chem.evidence import rules_version
from liaison.chem.limits import Limits
from liaison.cli import app
from support import REFERENCE_SUBSTANCES

pytestmark = pytest.mark.slow
runner = CliRunner()
AS_OF = "2026-01-01"
CODES = ("US", "CN", "UN")


def _substances() -> list[dict[str, str]]:
    with REFERENCE_SUBSTANCES.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _rows(copies: int = 3) -> list[dict[str, str]]:
    """The reference substances (listed, salts, analogues, harmless) several times over,
    with broken structures, a Chinese cell and a formula-like cell among them."""
    rows = []
    for copy in range(copies):
        for index, row in enumerate(_substances()):
            rows.append(
                {
                    "id": f"{row['id']}-{copy}",
                    "smiles": row["smiles"],
                    "name": row["name"],
                    "note": "=1+1" if index == 3 else "芬太尼类" if index == 5 else row["note"],
                }
            )
        rows.append({"id": f"broken-{copy}", "smiles": "C1CC(", "name": "", "note": ""})
    return rows


def _write_inputs(directory: Path) -> dict[str, Path]:
    rows = _rows()
    paths = {}
    paths["smi"] = directory / "in.smi"
    paths["smi"].write_text("".join(f"{r['smiles']} {r['id']}\n" for r in rows), encoding="utf-8")
    paths["csv"] = directory / "in.csv"
    with paths["csv"].open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["id", "smiles", "name", "note"])
        writer.writeheader()
        writer.writerows(rows)
    paths["parquet"] = directory / "in.parquet"
    table = pa.table({name: [r[name] for r in rows] for name in ("id", "smiles", "name", "note")})
    pq.write_table(table, paths["parquet"], row_group_size=17)
    paths["sdf"] = directory / "in.sdf"
    blocks = []
    for r in rows:
        molecule = Chem.MolFromSmiles(r["smiles"])
        if molecule is None:
            blocks.append(f"{r['id']}\nbroken\n\n$$$$\n")  # no M  END: an invalid record
        else:
            molecule.SetProp("_Name", r["id"])
            blocks.append(Chem.MolToMolBlock(molecule) + "$$$$\n")
    paths["sdf"].write_text("".join(blocks), encoding="utf-8")
    return paths


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _write_inputs(tmp_path_factory.mktemp("inputs"))


def screen(*args: str) -> None:
    result = runner.invoke(app, ["screen", *args, "--as-of", AS_OF])
    assert result.exit_code == 0, result.stderr


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("kind", ["smi", "csv", "sdf", "parquet"])
def test_the_same_output_as_the_local_engine_in_input_order(
    kind: str, inputs: dict[str, Path], dask_cluster: LocalCluster, tmp_path: Path
) -> None:
    source = str(inputs[kind])
    address = dask_cluster.scheduler_address
    dask_options = ("--engine", "dask", "--scheduler", address, "--partition-size", "7")
    screen(source, "--format", "jsonl", "--output", str(tmp_path / "local.jsonl"))
    screen(source, "--format", "jsonl", "--output", str(tmp_path / "dask.jsonl"), *dask_options)
    local = (tmp_path / "local.jsonl").read_bytes()
    assert (tmp_path / "dask.jsonl").read_bytes() == local
    records = [json.loads(line) for line in local.decode().splitlines()]
    assert len(records) == len(_rows())
    assert {r["verdicts"]["US"]["status"] for r in records} >= {"controlled", "no_match", "invalid"}

    screen(source, "--format", "csv", "--output", str(tmp_path / "local.csv"))
    screen(source, "--format", "csv", "--output", str(tmp_path / "dask.csv"), *dask_options)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()

    screen(source, "--format", "parquet", "--output", str(tmp_path / "out"), *dask_options)
    parts = sorted((tmp_path / "out").iterdir())
    assert len(parts) == -(-len(records) // 7)  # one file per partition, named in order
    table = pq.read_table(tmp_path / "out")
    header, *rows = _csv_rows(tmp_path / "local.csv")
    assert table.column_names == header
    assert [list(row.values()) for row in table.to_pylist()] == rows


def test_parquet_input_on_the_local_engine_equals_the_same_table_as_csv(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    screen(str(inputs["csv"]), "--format", "jsonl", "--output", str(tmp_path / "csv.jsonl"))
    screen(str(inputs["parquet"]), "--format", "jsonl", "--output", str(tmp_path / "pq.jsonl"))
    assert (tmp_path / "pq.jsonl").read_text() == (tmp_path / "csv.jsonl").read_text()


def _job(source: Path, output: Path, output_format: str, size: int) -> Job:
    day = date.fromisoformat(AS_OF)
    return Job((str(source),), output, output_format, day, CODES, Limits(), size, "test")


def _local(source: Path, output_format: str, tmp_path: Path) -> Path:
    output = tmp_path / f"local.{output_format}"
    screen(str(source), "--format", output_format, "--output", str(output))
    return output


def _columns(source: Path) -> list[str]:
    first = next(read_records([str(source)]))
    return [name for name, _ in first.columns]


def test_a_killed_workers_partitions_are_recomputed(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    source = inputs["csv"]
    output = tmp_path / "dask.jsonl"
    killed: list[tuple[int, list[str]]] = []
    with (
        dask.config.set({"distributed.worker.daemon": False}),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local,
        Client(local) as client,
    ):
        before = client.run(os.getpid)

        def kill_a_busy_worker(index: int, _count: int) -> None:
            if killed:
                return
            processing = client.processing()
            busy = [a for a, tasks in processing.items() if tasks]
            if not busy:  # the partitions submitted so far are all done: at the next one
                return
            address = busy[0]
            os.kill(before[address], signal.SIGKILL)  # the worker, not its nanny
            killed.append((before[address], list(processing[address])))

        outcome = run(
            _job(source, output, "jsonl", 3),
            read_records([str(source)]),
            _columns(source),
            Runner(client=client, on_partition=kill_a_busy_worker),
        )
        after = client.run(os.getpid)
    assert killed and killed[0][1], "the killed worker held partitions"
    assert killed[0][0] not in after.values()  # it is dead; its nanny started another
    assert outcome.screened == len(_rows()) and outcome.skipped == 0
    assert output.read_bytes() == _local(source, "jsonl", tmp_path).read_bytes()


def _engine_processes() -> list[int]:
    """On a Dask worker: its child processes (the engine processes it started)."""
    import psutil

    return sorted(child.pid for child in psutil.Process().children())


def test_each_worker_keeps_one_engine_process_for_the_job(
    inputs: dict[str, Path], dask_cluster: LocalCluster, tmp_path: Path
) -> None:
    source = inputs["smi"]
    output = tmp_path / "dask.jsonl"
    seen: set[int] = set()
    with Client(dask_cluster) as client:
        before = {pid for pids in client.run(_engine_processes).values() for pid in pids}

        def look(_index: int, _count: int) -> None:
            for pids in client.run(_engine_processes).values():
                seen.update(set(pids) - before)

        outcome = run(
            _job(source, output, "jsonl", 3),
            read_records([str(source)]),
            [],
            Runner(client=client, on_partition=look),
        )
        after = {pid for pids in client.run(_engine_processes).values() for pid in pids}
    assert outcome.partitions == -(-len(_rows()) // 3) >= 10
    # One engine per worker for the whole job (not one per partition), closed at its end.
    assert 1 <= len(seen) <= len(dask_cluster.workers)
    assert after - before == set()
    assert output.read_bytes() == _local(source, "jsonl", tmp_path).read_bytes()


@pytest.mark.parametrize("output_format", ["csv", "parquet"])
def test_an_interrupted_run_resumes_past_the_partitions_written(
    output_format: str, inputs: dict[str, Path], dask_cluster: LocalCluster, tmp_path: Path
) -> None:
    source = inputs["sdf"]
    output = tmp_path / ("dask" if output_format == "parquet" else "dask.csv")
    job = _job(source, output, output_format, 5)

    def crash(index: int, _count: int) -> None:
        if index == 2:
            raise KeyboardInterrupt  # as when the user presses Ctrl-C, or the client dies

    with Client(dask_cluster) as client, pytest.raises(KeyboardInterrupt):
        runner = Runner(client=client, on_partition=crash)
        run(job, read_records([str(source)]), _columns(source), runner)
    manifest = json.loads(manifest_path(output).read_text())
    assert [p["index"] for p in manifest["partitions"]] == [0, 1, 2]
    assert manifest["complete"] is False
    # A crash between writing a partition and recording it leaves bytes or a file behind.
    if output_format == "csv":
        with output.open("a", encoding="utf-8") as handle:
            handle.write("half a line of a partition never recorded")
    else:
        (output / "part-000003.parquet").write_bytes(b"PAR1 cut short")

    starts: list[int] = []
    with Client(dask_cluster) as client:
        outcome = run(
            job,
            read_records([str(source)]),
            _columns(source),
            Runner(client=client, on_start=starts.append),
        )
    total = len(_rows())
    assert starts == [15] and outcome.skipped == 15
    assert outcome.screened == total - 15 and outcome.partitions == -(-(total - 15) // 5)
    local = _local(source, "csv", tmp_path)
    if output_format == "csv":
        assert output.read_bytes() == local.read_bytes()
    else:
        table = pq.read_table(output)
        _header, *rows = _csv_rows(local)
        assert [list(row.values()) for row in table.to_pylist()] == rows
    assert json.loads(manifest_path(output).read_text())["complete"] is True


def test_a_rerun_with_other_options_starts_again(
    inputs: dict[str, Path], dask_cluster: LocalCluster, tmp_path: Path
) -> None:
    source, output = inputs["smi"], tmp_path / "dask.jsonl"
    options = ["--engine", "dask", "--scheduler", dask_cluster.scheduler_address]
    screen(str(source), "--format", "jsonl", "--output", str(output), *options)
    result = runner.invoke(
        app,
        [
            "screen",
            str(source),
            "--format",
            "jsonl",
            "--output",
            str(output),
            *options,
            "--as-of",
            "2010-01-01",
        ],
    )
    assert result.exit_code == 0 and "resumed" not in result.stderr
    assert json.loads(manifest_path(output).read_text())["job"]["as_of"] == "2010-01-01"
    first = json.loads(output.read_text().splitlines()[0])
    assert first["as_of"] == "2010-01-01"
    assert rules_version().hash  # the manifest names the rules: new rules, a new job
    assert "rules" in json.loads(manifest_path(output).read_text())["job"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "spark"], "--engine 'spark' is not one of local, dask"),
        (["--scheduler", "tcp://x:1"], "--scheduler needs --engine dask"),
        (["--format", "parquet", "--output", "o"], "--format parquet needs --engine dask"),
        (["--engine", "dask", "--format", "jsonl"], "--engine dask needs --output"),
        (["--engine", "dask", "--output", "o.txt"], "--engine dask writes --format jsonl"),
        (
            ["--engine", "dask", "--format", "jsonl", "--output", "o", "--report", "r.html"],
            "--report is not available with --engine dask",
        ),
        (
            ["--engine", "dask", "--format", "jsonl", "--output", "o", "--partition-size", "0"],
            "--partition-size 0 must be at least 1",
        ),
    ],
)
def test_engine_usage_errors_are_one_line(
    args: list[str],
    message: str,
    inputs: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["screen", str(inputs["smi"]), *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"liaison screen: error: {message}")
    assert result.stderr.count("\n") == 1


def test_the_dask_engine_refuses_standard_input() -> None:
    result = runner.invoke(
        app, ["screen", "-", "--engine", "dask", "--format", "jsonl", "--output", "o"], input="CCO"
    )
    assert result.exit_code == 2
    assert "reads files, not standard input" in result.stderr
