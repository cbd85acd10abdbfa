"""`liaison identity match` on the local engine and on Dask, the same requests in one run.

    .venv/bin/python benchmarks/identity_dask.py [--people 100000] [--requests 2000]

A synthetic registry and requests (`liaison identity synth`); the model is trained once by
the first, local, run (--save-model) and loaded by every other run (--model), so the
figures compare the matching. Each run is the real command in a fresh process (start-up, the
registry read and prepared, the LocalCluster's start-up included): the local engine, then
Dask with 1 and 2 workers (partitions of --partition requests). Every Dask output is compared with
the local engine's, byte for byte.

Writes benchmarks/results/identity_dask.json and the "Identity matching on Dask" section of
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from screen import machine, replace_section  # the script beside this one
from screen_dask import finish, timed  # the script beside this one

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "identity_dask.json"
HEADING = "## Identity matching on Dask"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--partition", type=int, default=500, help="requests per partition")
    parser.add_argument("--no-markdown", action="store_true", help="do not touch BENCHMARKS.md")
    args = parser.parse_args()
    result: dict = {"machine": machine(), "people": args.people, "requests": args.requests}
    result["partition"] = args.partition
    result["started"] = datetime.now(UTC).isoformat(timespec="seconds")
    runs: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        synth = ["identity", "synth", "--people", str(args.people), "--requests"]
        timed([*synth, str(args.requests), "--seed", "2026", "--out", folder])
        files = ["--registry", str(directory / "registry.csv")]
        files += ["--requests", str(directory / "requests.csv")]
        model = directory / "model.json"

        def match(name: str, *options: str) -> None:
            output = ["--output", str(directory / f"{name}.csv")]
            runs[name] = timed(["identity", "match", *files, *output, *options])

        match("local_training", "--save-model", str(model))
        match("local", "--model", str(model))
        for workers in (1, 2):
            match(f"dask_{workers}", "--model", str(model), "--engine", "dask",
                  "--jobs", str(workers), "--partition-size", str(args.partition))  # fmt: skip
        expected = (directory / "local.csv").read_bytes()
        for name in ("local_training", "dask_1", "dask_2"):
            if (directory / f"{name}.csv").read_bytes() != expected:
                raise SystemExit(f"{name}: output differs from the local engine's")
    finish(result, runs, RESULTS, None if args.no_markdown else write_markdown)


def write_markdown(result: dict) -> None:
    info, seconds, cpu = result["machine"], result["seconds"], result["cpu_seconds"]

    def row(label: str, key: str) -> str:
        return f"| {label} | {seconds[key]:.1f} | {cpu[key]:.1f} |"

    def ratio(key: str) -> str:
        return (
            f"{cpu[key] / cpu['local']:.2f}x its CPU and "
            f"{seconds[key] / seconds['local']:.2f}x its wall time"
        )

    lines = [
        HEADING,
        "",
        "(written by `benchmarks/identity_dask.py`; raw figures in "
        "`benchmarks/results/identity_dask.json`)",
        "",
        f"Run of {result['started']} on {info['cpu']}, {info['cores']} cores; load average "
        f"{info['load_average_1min_at_start']} when it started, "
        f"{result['load_average_1min_at_end']} at the end (the machine is shared by several "
        f"sessions). {result['requests']:,} synthetic requests against a registry of "
        f"{result['people']:,} people; each figure is the whole `liaison identity match` "
        "command in a fresh process (start-up, the registry read and prepared, the "
        f"LocalCluster's start-up included), partitions of {result['partition']:,} requests. "
        "Every Dask output "
        "was identical to the local engine's, byte for byte.",
        "",
        "| engine | wall seconds | CPU seconds, all processes |",
        "| --- | ---: | ---: |",
        row("local, training the model (EM) and matching", "local_training"),
        row("local, the saved model", "local"),
        row("Dask LocalCluster, 1 worker, the saved model", "dask_1"),
        row("Dask LocalCluster, 2 workers, the saved model", "dask_2"),
        "",
        f"- Against the local engine with the saved model, Dask used {ratio('dask_1')} with one "
        f"worker, {ratio('dask_2')} with two. Each Dask worker reads and "
        "prepares the registry itself, once per job (with N workers that is done N + 1 times: "
        "the command reads it too, to load the model and report bad rows), and the "
        "LocalCluster starts; on one machine the local engine, whose DuckDB already uses "
        "every core, is the one to use.",
        "",
    ]
    replace_section(lines)


if __name__ == "__main__":
    main()
