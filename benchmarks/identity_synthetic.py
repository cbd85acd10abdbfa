"""Matching a synthetic population: requests against a large registry, beside the exact-match
baseline, with the time per 1,000 requests on one core and the peak memory.

    .venv/bin/python benchmarks/identity_synthetic.py [--people 1000000] [--requests 10000]
        [--seed 2026]

The population and the labelled requests come from `liaison.identity.synth` (seed 2026). The
model is trained without labels (u by random sampling of the registry, m by EM on registry x
requests) and then matches every request; DuckDB is held to one thread for the matching, so
the time per request is one core's. Precision, recall and F1 count (request, person) links at
the named thresholds against the truth file; a request whose person is not in the registry
must get no link.

Writes benchmarks/results/identity_synthetic.json and the "Identity matching: synthetic
population" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from identity_febrl import THRESHOLDS, best_links, cpu, peak_memory_mib, scores
from liaison.identity.matching import FIELDS, Matcher, exact_match
from liaison.identity.people import prepare_people
from liaison.identity.synth import synthesise
from screen import machine, replace_section  # the scripts beside this one

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "identity_synthetic.json"
SECTION = "## Identity matching: synthetic population"
SEED = 2026


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=10_000)
    # Iterate on other seeds; the reported figures are seed 2026's.
    parser.add_argument("--seed", type=int, default=SEED)
    options = parser.parse_args()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    about = machine()
    phases: dict[str, dict[str, float]] = {}

    def phase(name: str, wall: float, cpu_before: float) -> None:
        phases[name] = {"seconds": round(time.perf_counter() - wall, 1),
                        "cpu_seconds": round(cpu() - cpu_before, 1)}  # fmt: skip
        print(name, phases[name], flush=True)

    wall, before = time.perf_counter(), cpu()
    registry_raw, requests_raw, truth_frame = synthesise(
        options.people, options.requests, options.seed
    )
    phase("synthesise", wall, before)
    wall, before = time.perf_counter(), cpu()
    registry, _ = prepare_people(registry_raw, "person_id")
    requests, problems = prepare_people(requests_raw, "request_id")
    del registry_raw
    phase("prepare", wall, before)
    wall, before = time.perf_counter(), cpu()
    matcher = Matcher.train(registry, requests)
    phase("train", wall, before)
    wall, before = time.perf_counter(), cpu()
    candidates = matcher.match(requests, k=1, threads=1, chunk=len(requests))
    phase("match", wall, before)
    wall, before = time.perf_counter(), cpu()
    baseline_candidates = exact_match(registry, requests)
    phase("exact_match_baseline", wall, before)
    wall, before = time.perf_counter(), cpu()
    limit = ceiling(matcher, requests, truth_frame)
    phase("ceiling", wall, before)
    # Side by side: the same requests without their passport MRZ column, the same model.
    bare, _ = prepare_people(requests_raw.drop(columns=["passport_mrz"]), "request_id")
    without_mrz = matcher.match(bare, k=1, threads=1, chunk=len(bare))

    truth = {
        (r, p)
        for r, p in zip(truth_frame["request_id"], truth_frame["person_id"], strict=True)
        if p
    }
    ours = {str(t): scores(best_links(candidates, t), truth) for t in THRESHOLDS}
    ours_without_mrz = {str(t): scores(best_links(without_mrz, t), truth) for t in THRESHOLDS}
    with_mrz = int((requests_raw["passport_mrz"] != "").sum())
    baseline = scores({(c.request_id, c.person_id) for c in baseline_candidates}, truth)
    per_thousand = phases["match"]["seconds"] / len(requests) * 1000
    cpu_per_thousand = phases["match"]["cpu_seconds"] / len(requests) * 1000
    wrong, missed = explain(candidates, truth_frame, requests_raw)
    results: dict[str, Any] = {
        "started": started,
        "machine": about,
        "people": options.people,
        "requests": options.requests,
        "requests_in_registry": len(truth),
        "fields_read_as_empty_in_requests": len(problems),
        "phases": phases,
        "match_seconds_per_1000_requests": round(per_thousand, 2),
        "match_cpu_seconds_per_1000_requests": round(cpu_per_thousand, 2),
        "peak_memory_mib": peak_memory_mib(),
        "requests_with_passport_mrz": with_mrz,
        "liaison": ours,
        "liaison_without_the_mrz_column": ours_without_mrz,
        "exact_match_baseline": baseline,
        "ceiling": limit,
        "wrong_links_at_0.9": wrong,
        "missed_at_0.9": missed,
    }
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    lines = [
        SECTION,
        "",
        "(written by `benchmarks/identity_synthetic.py`; raw figures in "
        "`benchmarks/results/identity_synthetic.json`)",
        "",
        f"Run of {started} on {about['cpu']}, {about['cores']} cores, load average "
        f"{about['load_average_1min_at_start']} at the start. Registry of {options.people:,} "
        f"synthetic people; {options.requests:,} requests ({len(truth):,} of people in the "
        f"registry, the rest of people who are not), seed {options.seed}; {with_mrz:,} requests "
        f"carry the person's passport MRZ (some misread).",
        "",
        "| method | precision | recall | F1 | links |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(
            f"| liaison.identity, probability >= {t} | {f['precision']} | {f['recall']} | "
            f"{f['f1']} | {f['links']:,} |"
            for t, f in ours.items()
        ),
        *(
            f"| liaison.identity without the MRZ column, probability >= {t} | "
            f"{f['precision']} | {f['recall']} | {f['f1']} | {f['links']:,} |"
            for t, f in ours_without_mrz.items()
        ),
        f"| exact-match baseline | {baseline['precision']} | {baseline['recall']} | "
        f"{baseline['f1']} | {baseline['links']:,} |",
        f"| ceiling: an oracle naming only the requests it can tell apart | 1.0 | "
        f"{limit['recall']} | {limit['f1']} | {limit['links']:,} |",
        "",
        f"The ceiling: of the {limit['requests_in_registry']:,} requests whose person is in "
        f"the registry, {limit['true_person_not_found_by_blocking']:,} do not bring their "
        f"person among the candidates (no blocking key agrees) and "
        f"{limit['not_distinguishable']:,} have another registry person who agrees with the "
        f"request at least as closely on every field it gives (a comparison level at least as "
        f"high on each: same name and the same year when only a year is given, homonyms born "
        f"the same day without a number or a place): no method using these fields can name "
        f"them without guessing. Rivals per such request (10 = 10 or more): "
        f"{limit['rivals_as_close_or_closer (10 = 10 or more)']}. Blocking put "
        f"{limit['pairs_compared']:,} (registry person, request) pairs before the model "
        f"({limit['pairs_compared'] / options.requests:,.0f} per request).",
        "",
        "| phase | wall s | CPU s |",
        "| --- | ---: | ---: |",
        *(f"| {name} | {p['seconds']} | {p['cpu_seconds']} |" for name, p in phases.items()),
        "",
        f"- Matching (DuckDB held to one thread): **{per_thousand:.2f} s per 1,000 requests** "
        f"wall clock, {cpu_per_thousand:.2f} s CPU ({per_thousand:.1f} ms per request; goal "
        f"< 100 ms: {'met' if per_thousand < 100 else 'NOT met'}). Peak memory of the whole "
        f"run (resident, registry and requests in pandas and DuckDB): "
        f"{peak_memory_mib():,.0f} MiB.",
        f"- Goals F1 >= 0.99 and precision >= 0.995 (0.999 asked since) at the default "
        f"threshold 0.9: "
        f"F1 {ours['0.9']['f1']}, precision {ours['0.9']['precision']} "
        f"({'met' if goals_met(ours['0.9']) else 'NOT met'}).",
        f"- Wrong links at 0.9 by kind of request: {summary(wrong)}; missed requests at 0.9 by "
        f"kind: {summary(missed)} (see the JSON for the rows).",
    ]  # fmt: skip
    replace_section(lines)
    print("\n".join(lines))


def ceiling(matcher: Matcher, requests: Any, truth_frame: Any) -> dict[str, Any]:
    """What any classifier on these comparisons could reach: for each request whose person
    is in the registry, is the true person found by blocking, and does another registry
    person agree with the request at least as closely on every field it gives (a comparison
    level at least as high on each)? Such a request cannot be told apart from the other
    person on what it carries; an oracle that links only the distinguishable ones has
    precision 1 and this recall."""
    import pandas as pd

    person_row = {p: i for i, p in enumerate(matcher.registry["person_id"])}
    true_row = {
        int(u): person_row[p]
        for u, p in zip(requests["unique_id"], truth_frame["person_id"], strict=True)
        if p
    }
    gammas = [f"gamma_{f}" for f in FIELDS]
    found = tied = compared = 0
    rivals: Counter[int] = Counter()
    for pairs in matcher.pairs(requests, chunk=1000, threads=1):
        compared += len(pairs)
        pairs = pairs[pairs["unique_id_r"].isin(true_row.keys())]
        truth_of_pair = pairs["unique_id_r"].map(true_row)
        true_pairs = pairs[pairs["unique_id_l"] == truth_of_pair].set_index("unique_id_r")
        found += len(true_pairs)
        others = pairs[pairs["unique_id_l"] != truth_of_pair]
        others = others[others["unique_id_r"].isin(true_pairs.index)]
        reference = true_pairs.loc[others["unique_id_r"], gammas].to_numpy()
        at_least = pd.Series(
            (others[gammas].to_numpy() >= reference).all(axis=1), index=others.index
        )
        counts = others[at_least.to_numpy()].groupby("unique_id_r").size()
        tied += len(counts)
        rivals.update(counts.clip(upper=10).tolist())
    total = len(true_row)
    recall = (found - tied) / total if total else 0.0
    return {
        "pairs_compared": compared,
        "links": found - tied,
        "requests_in_registry": total,
        "true_person_not_found_by_blocking": total - found,
        "not_distinguishable": tied,
        "rivals_as_close_or_closer (10 = 10 or more)": dict(sorted(rivals.items())),
        "recall": round(recall, 4),
        "f1": round(2 * recall / (1 + recall), 4) if recall else 0.0,
    }


def goals_met(figures: dict[str, float]) -> bool:
    return figures["f1"] >= 0.99 and figures["precision"] >= 0.995


def explain(
    candidates: list[Any], truth_frame: Any, requests_raw: Any
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The requests linked to the wrong person and those left without their person, with
    what the officer wrote, to say what the model gets wrong."""
    best = {}
    for candidate in candidates:
        best.setdefault(candidate.request_id, candidate)
    truth = dict(zip(truth_frame["request_id"], truth_frame["person_id"], strict=True))
    rows = requests_raw.set_index("request_id")
    wrong, missed = [], []
    for request_id, person_id in truth.items():
        found = best.get(request_id)
        named = found.person_id if found and found.match_probability >= 0.9 else ""
        written = {k: str(v) for k, v in rows.loc[request_id].items() if v}
        if named and named != person_id:
            wrong.append({"request_id": request_id, "named": named, "truth": person_id,
                          "kind": kind(written), **written})  # fmt: skip
        elif person_id and named != person_id:
            missed.append({"request_id": request_id, "truth": person_id,
                           "best_probability": f"{found.match_probability:.3f}" if found else "",
                           "kind": kind(written), **written})  # fmt: skip
    return wrong, missed


def kind(written: dict[str, str]) -> str:
    """A coarse label of what the request gives."""
    parts = ["passport MRZ"] if written.get("passport_mrz") else []
    if not written.get("id_number"):
        parts.append("no id number")
    born = written.get("date_of_birth", "")
    parts.append("full date" if len(born) == 10 else "partial date" if born else "no date")
    return ", ".join(parts)


def summary(rows: list[dict[str, str]]) -> str:
    counts = Counter(row["kind"] for row in rows)
    return ", ".join(f"{k}: {n}" for k, n in counts.most_common()) or "none"


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
