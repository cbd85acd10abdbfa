"""`liaison screen` on the local process pool and on Dask, the same molecules in one run.

    .venv/bin/python benchmarks/screen_dask.py [--molecules 100000] [--partition 10000]

Input: RDKit's NCI first_5K set repeated and shuffled, with the fentanyl analogues of
benchmarks/screen.py mixed in, as one .smi file. Each configuration runs the real command
(`python -m liaison screen FILE --format jsonl --output OUT`) in a fresh process, so every
figure includes what a user waits for: start-up, the cluster's start-up for Dask (a
LocalCluster), reading and writing:
- local: the process pool on every core (--jobs = cores);
- dask, 1 worker and 2 workers (LocalCluster, one thread per worker);
- the overhead per partition: Dask with 2 workers on partitions of --partition records and
  on partitions ten times smaller; (time small - time large) / (extra partitions).
Every Dask output is compared with the local engine's, byte for byte.

Writes benchmarks/results/screen_dask.json and the "Bulk screening on Dask" section of
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from screen import build_input, machine, replace_section  # the script beside this one

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "screen_dask.json"
HEADING = "## Bulk screening on Dask"


def timed(arguments: list[str]) -> tuple[float, float]:
    """Wall-clock seconds and CPU seconds of the whole `liaison ARGUMENTS` command: every
    process it started (pool workers, the LocalCluster's scheduler, nannies, workers and
    their engine processes) is waited for by its parent, so its CPU time is counted in ours."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    command = [sys.executable, "-m", "liaison", *arguments]
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def timed_screen(source: Path, output: Path, *options: str) -> tuple[float, float]:
    return timed(
        ["screen", str(source), "--format", "jsonl", "--output", str(output),
         "--as-of", "2026-01-01", *options]
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", type=int, default=100_000)
    parser.add_argument("--partition", type=int, default=10_000)
    parser.add_argument(
        "--overhead-molecules",
        type=int,
        help="measure the overhead per partition on the first N molecules only (default: all); "
        "a run of a million molecules then takes one large run fewer",
    )
    parser.add_argument("--no-markdown", action="store_true", help="do not touch BENCHMARKS.md")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    smiles, _ = build_input(args.molecules // 5_000 + 1, 2026)
    smiles = smiles[: args.molecules]
    small = max(1, args.partition // 10)
    result: dict = {"machine": machine(), "molecules": len(smiles), "cores": cores}
    result["started"] = datetime.now(UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        source = directory / "molecules.smi"
        source.write_text("".join(f"{s} m{i}\n" for i, s in enumerate(smiles)), "utf-8")
        reference = directory / "local.jsonl"
        runs: dict[str, tuple[float, float]] = {}
        runs["local"] = timed_screen(source, reference, "--jobs", str(cores))
        dask = ("--engine", "dask")
        for workers in (1, 2):
            output = directory / f"dask{workers}.jsonl"
            size = ("--partition-size", str(args.partition))
            runs[f"dask_{workers}"] = timed_screen(
                source, output, *dask, "--jobs", str(workers), *size
            )
        expected = reference.read_bytes()
        for name in ("dask1", "dask2"):
            if (directory / f"{name}.jsonl").read_bytes() != expected:
                raise SystemExit(f"{name}: output differs from the local engine's")
        overhead_count = min(args.overhead_molecules or len(smiles), len(smiles))
        if overhead_count < len(smiles):
            # The same 2-worker run on the subset, so both partition sizes see the same molecules.
            subset = directory / "subset.smi"
            with source.open(encoding="utf-8") as lines:
                subset.write_text("".join(next(lines) for _ in range(overhead_count)), "utf-8")
            size = ("--partition-size", str(args.partition))
            runs["dask_2_overhead_large"] = timed_screen(
                subset, directory / "subset_large.jsonl", *dask, "--jobs", "2", *size
            )
            source, baseline = subset, "dask_2_overhead_large"
        else:
            baseline = "dask_2"
        output = directory / "dask_small.jsonl"
        size = ("--partition-size", str(small))
        runs["dask_2_small_partitions"] = timed_screen(source, output, *dask, "--jobs", "2", *size)
        # One output line per input record, in input order: the subset's are the first lines.
        if output.read_bytes() != b"".join(expected.splitlines(keepends=True)[:overhead_count]):
            raise SystemExit("dask_small: output differs from the local engine's")
    large = -(-overhead_count // args.partition)
    many = -(-overhead_count // small)
    result["partitions"] = {"large": [args.partition, large], "small": [small, many]}
    result["overhead_molecules"] = overhead_count
    extra = runs["dask_2_small_partitions"][1] - runs[baseline][1]
    # In CPU time: wall-clock differences on this shared machine are mostly other work.
    result["overhead_cpu_ms_per_partition"] = round(1000 * extra / (many - large), 1)
    finish(result, runs, RESULTS, None if args.no_markdown else write_markdown)


def finish(
    result: dict,
    runs: dict[str, tuple[float, float]],
    path: Path,
    markdown: Callable[[dict], None] | None,
) -> None:
    """The runs' wall and CPU seconds and the load at the end into `result`, written to
    `path` as JSON, printed, and given to `markdown` (which writes the BENCHMARKS.md section)."""
    result["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    result["seconds"] = {name: round(value[0], 2) for name, value in runs.items()}
    result["cpu_seconds"] = {name: round(value[1], 2) for name, value in runs.items()}
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    if markdown is not None:
        markdown(result)


def size_note(result: dict) -> str:
    """What the run's size says against the issue's million molecules."""
    count, seconds = result["molecules"], result["seconds"]
    minutes = sum(seconds.values()) / 60
    if count >= 1_000_000:
        return (
            f"- Size: the issue's million molecules, {count:,} in each full run; the "
            f"{len(seconds)} runs took {minutes:.0f} minutes in all."
        )
    return (
        f"- Size: the issue asks for 1,000,000 molecules; the {len(seconds)} runs of this one "
        f"took {minutes:.0f} minutes on this shared machine, so a million would take about "
        f"{minutes * 1_000_000 / count / 60:.1f} hours of it. The CPU per 1,000 molecules and "
        "the overhead per partition above do not depend on the size. Run with `--molecules "
        "1000000` on a free machine."
    )


def write_markdown(result: dict) -> None:
    info, seconds, count = result["machine"], result["seconds"], result["molecules"]
    cpu = result["cpu_seconds"]
    (size, large), (small, many) = result["partitions"]["large"], result["partitions"]["small"]

    overhead_count = result.get("overhead_molecules", count)
    large_run = "dask_2" if overhead_count == count else "dask_2_overhead_large"

    def row(label: str, key: str, molecules: int = count) -> str:
        per_thousand = 1000 * cpu[key] / molecules
        return (
            f"| {label} | {molecules:,} | {seconds[key]:.1f} | {round(molecules / seconds[key]):,} "
            f"| {cpu[key]:.1f} | {per_thousand:.2f} |"
        )

    overhead_rows = [
        row(f"Dask LocalCluster, 2 workers, partitions of {small:,}", "dask_2_small_partitions",
            overhead_count)
    ]  # fmt: skip
    if large_run != "dask_2":
        overhead_rows.insert(
            0,
            row(f"Dask LocalCluster, 2 workers, partitions of {size:,}", large_run, overhead_count),
        )

    lines = [
        HEADING,
        "",
        "(written by `benchmarks/screen_dask.py`; raw figures in "
        "`benchmarks/results/screen_dask.json`)",
        "",
        f"Run of {result['started']} on {info['cpu']}, {info['cores']} cores, Python "
        f"{info['python']}, RDKit {info['rdkit']}; load average "
        f"{info['load_average_1min_at_start']} when it started, "
        f"{result['load_average_1min_at_end']} at the end (the machine is "
        f"shared by several sessions). Input: {count:,} molecules (NCI first_5K repeated and "
        "shuffled, fentanyl analogues mixed in) in one .smi file; each figure is the whole "
        "`liaison screen --format jsonl --output` command in a fresh process, start-up and the "
        "LocalCluster's start-up included. Every Dask output was identical to the local "
        "engine's, byte for byte.",
        "",
        "| engine | molecules | wall seconds | molecules per second (wall) | CPU seconds, all "
        "processes | CPU seconds per 1,000 molecules |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        row(f"local process pool, {result['cores']} processes", "local"),
        row(f"Dask LocalCluster, 1 worker, partitions of {size:,}", "dask_1"),
        row(f"Dask LocalCluster, 2 workers, partitions of {size:,}", "dask_2"),
        *overhead_rows,
        "",
        f"- Overhead per partition, in CPU time: {result['overhead_cpu_ms_per_partition']} ms "
        + (
            "(negative: smaller than the run-to-run variation of the two runs it is the "
            "difference of) "
            if result["overhead_cpu_ms_per_partition"] < 0
            else ""
        )
        + f"(({cpu['dask_2_small_partitions']:.1f} s - {cpu[large_run]:.1f} s) over "
        f"{many - large} more partitions: {many} of {small:,} against {large} of {size:,}); it "
        "covers the round trip to the scheduler, the screening call's set-up on the worker "
        "(its engine processes are started once per job, not per partition), the fsync of "
        "each written partition and the manifest. "
        "Wall-clock figures on this shared machine mostly measure the other sessions' work "
        "(a process gets a share of a core in proportion to the busy processes); the CPU "
        "columns are what the work itself costs.",
        f"- Dask against the local pool, in CPU per 1,000 molecules: "
        f"{cpu['dask_1'] / cpu['local']:.2f}x with one worker, "
        f"{cpu['dask_2'] / cpu['local']:.2f}x with two. What Dask adds is mostly paid per "
        "second the job runs, not per molecule or per partition: its housekeeping (see "
        '"Dask\'s housekeeping"), which a loaded machine, stretching every second, makes '
        "dearer; and once per job, the LocalCluster's start (a scheduler, a nanny and a "
        "worker per process, each importing Dask, the worker also RDKit and the rules).",
        size_note(result),
        "",
    ]
    replace_section(lines)


if __name__ == "__main__":
    main()
