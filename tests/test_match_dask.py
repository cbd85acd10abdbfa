"""`liaison identity match --engine dask`: against a real LocalCluster of two worker
processes, the local engine's MATCHES file byte for byte (one row per request, or K ranked),
bad rows reported the same way, an interrupted run resumed past the partitions written."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from distributed import Client, LocalCluster
from typer.testing import CliRunner

from liaison.bulk_dask import Outcome, Runner, manifest_path
from liaison.cli import app
from liaison.identity.people import read_people
from liaison.match_dask import MatchSettings, _file, _score_partition, match, scored_path

pytestmark = pytest.mark.slow


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic registry and requests, with bad rows and a request id given twice,
    and the model trained on them once (every run below loads it: the same model)."""
    out = tmp_path_factory.mktemp("population")
    code, _, _ = run(
        "identity", "synth", "--people", "800", "--requests", "40", "--seed", "7",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0
    with (out / "requests.csv").open("a", encoding="utf-8") as handle:
        handle.write("BAD1,Wang,Wei,,,M,1985-13-45,,,\n")
        handle.write("BAD2,Li,Na,,,F,1990-01-01,,110105199001010011,\n")
    with (out / "requests.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    # A request under the first one's id, for another person: it must get its own match.
    with (out / "requests.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow([rows[1][0], *rows[4][1:]])
    code, _, stderr = run(
        "identity", "match", "--registry", str(out / "registry.csv"),
        "--requests", str(out / "requests.csv"), "--output", str(out / "trained.csv"),
        "--save-model", str(out / "model.json"),
    )  # fmt: skip
    assert code == 0, stderr
    return out


def _match(population: Path, output: Path, *options: str) -> tuple[str, str]:
    code, stdout, stderr = run(
        "identity", "match", "--registry", str(population / "registry.csv"),
        "--requests", str(population / "requests.csv"), "--output", str(output),
        "--model", str(population / "model.json"), *options,
    )  # fmt: skip
    assert code == 0, stderr
    return stdout, stderr


@pytest.mark.parametrize("ranked", [(), ("--candidates", "3", "--threshold", "0.2")])
def test_the_same_matches_file_as_the_local_engine(
    ranked: tuple[str, ...], population: Path, dask_cluster: LocalCluster, tmp_path: Path
) -> None:
    local_out, local_err = _match(population, tmp_path / "local.csv", *ranked)
    dask_out, dask_err = _match(
        population, tmp_path / "dask.csv", *ranked,
        "--engine", "dask", "--scheduler", dask_cluster.scheduler_address,
        "--partition-size", "15",
    )  # fmt: skip
    local = (tmp_path / "local.csv").read_bytes()
    assert (tmp_path / "dask.csv").read_bytes() == local
    assert dask_err == local_err and "row 41: date_of_birth: '1985-13-45'" in dask_err
    assert dask_out.replace("dask.csv", "local.csv") == local_out
    rows = local.decode().splitlines()
    assert len(rows) == 1 + 43 * (3 if ranked else 1)
    # The id given twice: its second occurrence is matched as the request it copies.
    first_rows = [r.split(",") for r in rows[1:] if not ranked or r.endswith(",1")]
    duplicated, copied = first_rows[0], first_rows[3]
    assert first_rows[-1][0] == duplicated[0] and first_rows[-1][1:] == copied[1:]
    assert copied[1] and copied[1:] != duplicated[1:]


def test_an_interrupted_run_resumes_past_the_partitions_written(
    population: Path, dask_cluster: LocalCluster, tmp_path: Path
) -> None:
    registry, requests = population / "registry.csv", population / "requests.csv"
    asked, _ = read_people(requests, "request_id")
    model = json.loads((population / "model.json").read_text())
    model["probability_two_random_records_match"] = 1 / 800  # as Matcher.load sets it
    output = tmp_path / "dask.csv"

    def crash(index: int, _count: int) -> None:
        if index == 0:
            raise KeyboardInterrupt  # as when the user presses Ctrl-C, or the client dies

    def matched(**callbacks: Callable[..., None]) -> Outcome:
        with Client(dask_cluster) as client:
            runner = Runner(client=client, **callbacks)
            return match(registry, requests, asked, model, output, 0.9, None, partition_size=15,
                         runner=runner)  # fmt: skip

    with pytest.raises(KeyboardInterrupt):
        matched(on_partition=crash)
    # The workers' scored candidates wait beside the output until the batch is complete.
    manifest = json.loads(manifest_path(scored_path(output)).read_text())
    assert [p["index"] for p in manifest["partitions"]] == [0]
    assert not output.exists()
    with scored_path(output).open("a", encoding="utf-8") as handle:
        handle.write("half a line never recorded")
    starts: list[int] = []
    outcome = matched(on_start=starts.append)
    assert starts == [15]
    assert outcome == Outcome(screened=28, skipped=15, partitions=2)
    # The local engine's output, trained with this same model.
    assert output.read_bytes() == (population / "trained.csv").read_bytes()
    assert not scored_path(output).exists() and not manifest_path(scored_path(output)).exists()


def test_engine_usage_errors_are_one_line(population: Path, tmp_path: Path) -> None:
    for options, message in [
        (("--engine", "spark"), "--engine 'spark' is not one of local, dask"),
        (("--scheduler", "tcp://x:1"), "--scheduler and --jobs need --engine dask"),
        (("--engine", "dask", "--partition-size", "0"), "--partition-size 0 must be at least 1"),
    ]:
        code, _, stderr = run(
            "identity", "match", "--registry", str(population / "registry.csv"),
            "--requests", str(population / "requests.csv"), "--output", str(tmp_path / "m.csv"),
            *options,
        )  # fmt: skip
        assert code == 2 and stderr == f"liaison identity match: error: {message}\n"


def test_a_worker_refuses_a_registry_file_other_than_the_clients(population: Path) -> None:
    path = population / "registry.csv"
    name, size, modified = _file(path)
    settings = MatchSettings((name, size + 1, modified), "{}", 1)
    with pytest.raises(RuntimeError, match="not the client's registry file on this worker"):
        _score_partition(settings, read_people(population / "requests.csv", "request_id")[0])
