"""Screening cost of this source tree beside another commit's, on a sample of the screening
benchmark's input: CPU time interleaved in one run, callgrind instruction counts, and a check
that both give every record the same output line.

    .venv/bin/python benchmarks/screen_compare.py --previous 91dce78 [--sample 20000]
        [--rounds 4] [--rules fentanyl|complete] [--callgrind 2000]

Each measurement runs in its own process with PYTHONPATH set to one tree (this one's src, or
the --previous commit's, unpacked with `git archive`), alternating, so load on the shared
machine falls on both alike. Per process: parse-only (MolFromSmiles), the engine (parse,
prefilter, judge), and the `liaison screen` path with one worker (CPU time of the process
and its worker, a run's start-up subtracted), as benchmarks/screen.py measures them; the
figures are medians of the rounds, each over parse-only time. With --callgrind N, each tree's
paths also run under `valgrind --tool=callgrind` on N molecules and on none: the difference
is the instructions N molecules cost, whatever the load. Prints JSON; writes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("parse", "engine", "liaison")  # what is timed; "check" adds the output digest


def child(rules: str, sample: int, paths: list[str]) -> dict[str, Any]:
    """Run in the measured process: the chosen paths on the sample, CPU seconds each, and a
    digest of every record's statuses and output line."""
    import screen  # benchmarks/screen.py, beside this file
    from liaison.chem import load_rulebook
    from liaison.chem.bulk import Record, screen_records
    from liaison.chem.compiled import prefilter_for

    smiles, _ = screen.build_input(20, 2026)
    smiles = smiles[:sample]
    book = load_rulebook()
    if rules == "fentanyl":
        book = screen.book_of(screen.fentanyl_only(screen.ordered_rules(2026)))
    prefilter_for(book)
    records = [Record(str(i), text, text) for i, text in enumerate(smiles)]
    figures: dict[str, Any] = {}
    if "parse" in paths:
        figures["parse"] = screen.time_parse(smiles)
    if "engine" in paths:
        figures["engine"] = screen.time_engine(smiles, book)
    if "liaison" in paths:
        start_up, _ = screen.time_liaison([], jobs=1, book=book)
        seconds, _ = screen.time_liaison(records, jobs=1, book=book)
        figures["liaison"] = seconds - start_up
    if "check" in paths:
        shipped = screen.bulk.load_rulebook
        screen.bulk.load_rulebook = lambda: book
        try:
            figures["outputs"] = [
                hashlib.sha256(repr(result.statuses).encode() + result.line.encode()).hexdigest()
                for result in screen_records(
                    records, screen.AS_OF, screen.CODES, jobs=1, render="jsonl", keep="none"
                )
            ]
        finally:
            screen.bulk.load_rulebook = shipped
        figures["candidates"] = sum(
            1
            for text in smiles
            if (m := screen.Chem.MolFromSmiles(text)) and prefilter_for(book).could_match(m)
        )
    return figures


def run_child(
    tree: str, cache: str, rules: str, sample: int, paths: tuple[str, ...], prefix: list[str]
) -> dict[str, Any]:
    command = [
        *prefix,
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "--rules",
        rules,
        "--sample",
        str(sample),
        "--paths",
        ",".join(paths),
    ]
    output = subprocess.run(
        command,
        env={**os.environ, "PYTHONPATH": tree, "LIAISON_CACHE_DIR": cache},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def instructions(out_prefix: Path) -> int:
    """Instructions of every process callgrind followed (the worker is forked: its own file)."""
    total = 0
    for path in out_prefix.parent.glob(out_prefix.name + ".*"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith(("summary:", "totals:")):
                total += int(line.split()[1])
                break
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--previous", default="HEAD")
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--rules", choices=("fentanyl", "complete"), default="fentanyl")
    parser.add_argument("--callgrind", type=int, default=0, help="molecules under callgrind")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--paths", default=",".join(PATHS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.rules, args.sample, args.paths.split(","))))
        return
    with tempfile.TemporaryDirectory(prefix="liaison-compare-") as folder:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.previous, "src"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        trees = {"previous": str(Path(folder) / "src"), "current": str(ROOT / "src")}
        # One compiled-rules cache per tree: each would replace the other's on every run.
        caches = {name: str(Path(folder) / f"cache-{name}") for name in trees}
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
        outputs: dict[str, list[str]] = {}
        for index in range(args.rounds):
            order = list(trees) if index % 2 == 0 else list(reversed(trees))
            for name in order:
                paths = (*PATHS, "check")
                figures = run_child(trees[name], caches[name], args.rules, args.sample, paths, [])
                outputs[name] = figures.pop("outputs")
                rounds[name].append(figures)
                print(name, json.dumps(figures), file=sys.stderr)
        result: dict[str, Any] = {"rules": args.rules, "sample": args.sample}
        for name, measured in rounds.items():
            parse = [m["parse"] for m in measured]
            result[name] = {
                "liaison_over_parse": statistics.median(
                    m["liaison"] / m["parse"] for m in measured
                ),
                "engine_over_parse": statistics.median(m["engine"] / m["parse"] for m in measured),
                "parse_us_per_molecule": statistics.median(parse) / args.sample * 1e6,
                "candidates": measured[0]["candidates"],
            }
        # Every record's statuses and output line, the same in both trees (a digest each).
        differing = [
            index for index, (a, b) in enumerate(zip(*outputs.values(), strict=True)) if a != b
        ]
        result["records_with_another_output"] = len(differing)
        result["first_records_with_another_output"] = differing[:10]
        if args.callgrind:
            for name, tree in trees.items():
                counts: dict[str, int] = {}
                for path in PATHS:
                    for sample in (0, args.callgrind):
                        out = Path(folder) / f"callgrind-{name}-{path}-{sample}"
                        prefix = [
                            "valgrind",
                            "--tool=callgrind",
                            f"--callgrind-out-file={out}.%p",
                        ]
                        run_child(tree, caches[name], args.rules, sample, (path,), prefix)
                        counts[f"{path}_{sample}"] = instructions(out)
                per = {
                    path: (counts[f"{path}_{args.callgrind}"] - counts[f"{path}_0"])
                    / args.callgrind
                    for path in PATHS
                }
                result[name]["instructions_per_molecule"] = {k: round(v) for k, v in per.items()}
                result[name]["instructions_over_parse"] = {
                    path: round(per[path] / per["parse"], 3) for path in ("engine", "liaison")
                }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
