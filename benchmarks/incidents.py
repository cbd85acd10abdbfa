"""Incidents at scale: writing incidents through the CSV import, and the seizure dashboard
and the entity search on tables of N incidents, on SQLite and PostgreSQL, each beside a
plain `SELECT count(*) FROM incidents` on the same table as the baseline.

    .venv/bin/python benchmarks/incidents.py [--import-rows 100000] [--sizes 100000,1000000]
                                             [--backends sqlite,postgresql]
                                             [--sqlite-sizes 100000]

The import goes through `liaison.services.incidents.import_csv` (parse, check, identify
each distinct substance once, write incidents and items in multi-row inserts of 1,000, keep
the seizure summary, one audit entry per 1,000 incidents naming each).
The tables for the queries are filled with bulk inserts (the same rows the import writes,
without their audit entries), so that a million rows take minutes, not hours; the seizure
summary is then built from them as migration 0011 does. The dashboard is measured reading
the summary and, side by side, aggregating the items (its former query, `recompute=True`).
Writes benchmarks/results/incidents.json and the "Incidents" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.progress import Progress

from liaison.audit import Actor
from liaison.services import incidents
from liaison.store import Database
from liaison.store.incident_summary import rebuild_summary
from liaison.store.incident_tables import Incident, IncidentEntity, IncidentItem
from screen import machine, replace_section  # the script beside this one

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "incidents.json"
POSTGRES_SERVER = os.environ.get(
    "LIAISON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ACTOR = Actor("bench", "US CBP", "127.0.0.1", "officer")
WALLET = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
SUBSTANCES = ("fentanyl", "4-ANPP", "N-phenethyl-4-piperidone", "1-boc-4-AP", "caffeine")
UNITS = ("g", "kg", "lb", "oz", "mg")
CONVEYANCES = ("air_cargo", "postal", "express_courier", "sea_container", "vehicle")
ROUTES = ("CN>MX>US", "CN>US", "IN>US", "CN>CA", "MX>US")
REPEATS = 5


def _database(backend: str, folder: Path) -> tuple[Database, Callable[[], None]]:
    if backend == "sqlite":
        database = Database(f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:6]}.db'}")
        database.upgrade()
        return database, database.dispose
    name = f"liaison_bench_{uuid.uuid4().hex[:10]}"
    server = sa.create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    database = Database(sa.make_url(POSTGRES_SERVER).set(database=name).render_as_string(False))
    database.upgrade()

    def drop() -> None:
        database.dispose()
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()

    return database, drop


def _csv(rows: int, rng: random.Random) -> bytes:
    lines = ["reference,kind,occurred_on,country,substance,quantity,unit,route,purity_percent"]
    start = date(2024, 1, 1)
    for index in range(rows):
        day = start + timedelta(days=rng.randrange(730))
        lines.append(
            f"R{index},seizure,{day.isoformat()},US,{rng.choice(SUBSTANCES)},"
            f"{rng.uniform(0.1, 50):.2f},{rng.choice(UNITS)},{rng.choice(ROUTES)},"
            f"{rng.choice(('', '40', '80'))}"
        )
    return ("\n".join(lines) + "\n").encode()


def bench_import(backend: str, rows: int, folder: Path) -> dict[str, Any]:
    database, drop = _database(backend, folder)
    try:
        content = _csv(rows, random.Random(1))
        with database.session() as session:
            started = time.perf_counter()
            result = incidents.import_csv(session, "US", ACTOR, "bench.csv", content)
            session.commit()
            seconds = time.perf_counter() - started
        with database.session() as session:
            baseline_started = time.perf_counter()
            # Baseline: the same number of incident rows by a bulk insert, no checks, no audit.
            session.execute(sa.insert(Incident), _incident_rows(rows, random.Random(2), 10**9))
            session.commit()
            baseline = time.perf_counter() - baseline_started
        return {
            "backend": backend,
            "rows": rows,
            "imported": result.imported,
            "seconds": seconds,
            "rows_per_second": rows / seconds,
            "bulk_insert_baseline_seconds": baseline,
        }
    finally:
        drop()


def _incident_rows(count: int, rng: random.Random, first_id: int) -> list[dict[str, Any]]:
    start = date(2024, 1, 1)
    now = datetime.now(UTC)
    return [
        {
            "id": first_id + i,
            "global_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "owner_node": "US" if rng.random() < 0.6 else "CN",
            "created_at": now,
            "version": 1,
            "kind": "seizure" if rng.random() < 0.7 else "suspicious_shipment",
            "occurred_on": start + timedelta(days=rng.randrange(730)),
            "reporting_agency": "US CBP",
            "created_by": "bench",
            "country": rng.choice(("US", "CN", "MX")),
            "place": "bench",
            "conveyance": rng.choice(CONVEYANCES),
            "route": rng.choice(ROUTES),
            "narrative": "",
            "urgent": False,
            "handling_code": "none",
        }
        for i in range(count)
    ]


def fill(database: Database, size: int) -> float:
    """`size` incidents with one item each; one in 20,000 mentions the wallet, and each
    mention comes with a company beside it. Then the seizure summary is built from them;
    the seconds that took."""
    rng = random.Random(size)
    batch = 20_000
    with Progress() as progress, database.session() as session:
        task = progress.add_task(f"filling {size:,} incidents", total=size)
        for first in range(1, size + 1, batch):
            count = min(batch, size - first + 1)
            session.execute(sa.insert(Incident), _incident_rows(count, rng, first))
            session.execute(
                sa.insert(IncidentItem),
                [
                    {
                        "incident_id": first + i,
                        "position": 0,
                        "substance": (label := rng.choice(SUBSTANCES)),
                        "quantity": (grams := rng.uniform(1, 50_000)),
                        "unit": "g",
                        "grams": grams,
                        "purity_percent": rng.choice((None, 40.0, 80.0)),
                        "packaging": "",
                        "verdicts": {},
                        "as_of": date(2026, 1, 1),
                        "statuses": ",controlled,",
                        "substance_label": label.casefold(),
                    }
                    for i in range(count)
                ],
            )
            mentions = []
            for i in range(count):
                if rng.random() < 1 / 20_000:
                    mentions.append(_mention(first + i, "crypto_wallet", WALLET, "tron"))
                    mentions.append(_mention(first + i, "company", f"co {rng.randrange(50)}"))
                mentions.append(_mention(first + i, "phone", f"+1202555{rng.randrange(10**4):04d}"))
            session.execute(sa.insert(IncidentEntity), mentions)
            session.commit()
            progress.advance(task, count)
    started = time.perf_counter()
    with database.engine.begin() as connection:
        # What migration 0011 does to the incidents it finds: the bulk inserts above skip
        # the commands that keep the summary on write.
        rebuild_summary(connection)
    seconds = time.perf_counter() - started
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect() as connection:
            connection.execute(sa.text("ANALYZE"))
            connection.commit()
    return seconds


def _mention(incident_id: int, kind: str, value: str, chain: str | None = None) -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "kind": kind,
        "chain": chain,
        "value": value,
        "normalized": value,
        "role": "",
    }


def _median_ms(work: Callable[[], Any]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench_queries(backend: str, size: int, folder: Path) -> dict[str, Any]:
    database, drop = _database(backend, folder)
    try:
        rebuild_seconds = fill(database, size)
        with database.session() as session:

            def count() -> None:
                session.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one()

            def dashboard(group_by: str, recompute: bool = False) -> Callable[[], None]:
                def run() -> None:
                    incidents.seizure_dashboard(
                        session,
                        ACTOR,
                        "US",
                        group_by,
                        date(2025, 1, 1),
                        date(2025, 12, 31),
                        recompute=recompute,
                    )
                    session.commit()  # its audit entry, as a request would

                return run

            def entity() -> None:
                incidents.search_entity(session, ACTOR, "crypto_wallet", WALLET, "tron")
                session.commit()

            figures = {
                "count_ms": _median_ms(count),
                "recomputed_month_ms": _median_ms(dashboard("month", recompute=True)),
                "dashboard_month_ms": _median_ms(dashboard("month")),
                "recomputed_substance_ms": _median_ms(dashboard("substance", recompute=True)),
                "dashboard_substance_ms": _median_ms(dashboard("substance")),
                "entity_search_ms": _median_ms(entity),
            }
        return {"backend": backend, "size": size, "rebuild_seconds": rebuild_seconds, **figures}
    finally:
        drop()


def _merged(
    earlier: list[dict[str, Any]], new: list[dict[str, Any]], key: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The new rows, and the earlier ones the new do not replace (same `key`), in order."""
    measured = {tuple(row[k] for k in key) for row in new}
    kept = [row for row in earlier if tuple(row[k] for k in key) not in measured]
    return sorted([*kept, *new], key=lambda row: tuple(row[k] for k in key))


def _run(row: dict[str, Any]) -> str:
    return f"{row['measured_at'].replace('T', ' ')[:16]}, {row['load_average_1min_at_start']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--sqlite-sizes", help="sizes on SQLite, if not --sizes")
    args = parser.parse_args()
    backends = args.backends.split(",")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    sqlite_sizes = [int(s) for s in (args.sqlite_sizes or args.sizes).split(",") if s]
    m = machine()
    run = {
        "measured_at": datetime.now(UTC).isoformat(timespec="minutes"),
        "load_average_1min_at_start": m["load_average_1min_at_start"],
    }
    imports: list[dict[str, Any]] = []
    queries: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="liaison-bench-") as folder:
        for backend in backends:
            if args.import_rows:
                imports.append({**bench_import(backend, args.import_rows, Path(folder)), **run})
                print(imports[-1])
            for size in sqlite_sizes if backend == "sqlite" else sizes:
                queries.append({**bench_queries(backend, size, Path(folder)), **run})
                print(queries[-1])
    # A run of some backends or sizes keeps the earlier figures of the others, each row
    # with the date and load of its own run (the import: the newest run per backend).
    earlier = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    results = {
        "machine": m,
        "imports": _merged(earlier.get("imports", []), imports, ("backend",)),
        "queries": _merged(earlier.get("queries", []), queries, ("backend", "size")),
    }
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    lines = [
        "## Incidents",
        "",
        "(written by `benchmarks/incidents.py`; raw figures in "
        "`benchmarks/results/incidents.json`)",
        "",
        f"On {m['cpu']}, {m['cores']} cores, {m['system']}, Python {m['python']}; each row "
        "names its run (UTC) and the load average when that run started (the machine is "
        "shared).",
        "",
        "| backend | rows imported (CSV, one item each) | seconds | rows per second "
        "| bulk insert of as many incident rows (baseline), s | run, load |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        *(
            f"| {r['backend']} | {r['rows']:,} | {r['seconds']:.1f} | {r['rows_per_second']:,.0f} "
            f"| {r['bulk_insert_baseline_seconds']:.1f} | {_run(r)} |"
            for r in results["imports"]
        ),
        "",
        f"Queries, median of {REPEATS} runs, milliseconds (dashboard over one year of a "
        "two-year table; entity search for a wallet mentioned once in 20,000 incidents, "
        "its audit entry included):",
        "",
        "| backend | incidents | SELECT count(*) (baseline) | by month, items aggregated "
        "(former query) | by month, summary | by substance, items aggregated | by substance, "
        "summary | entity search | summary built from the table, s | run, load |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        *(
            f"| {q['backend']} | {q['size']:,} | {q['count_ms']:.1f} "
            f"| {q['recomputed_month_ms']:.1f} | {q['dashboard_month_ms']:.1f} "
            f"| {q['recomputed_substance_ms']:.1f} | {q['dashboard_substance_ms']:.1f} "
            f"| {q['entity_search_ms']:.1f} | {q['rebuild_seconds']:.1f} | {_run(q)} |"
            for q in results["queries"]
        ),
        "",
        "Goal: dashboard and entity search under 200 ms at 1,000,000 incidents on PostgreSQL.",
    ]
    replace_section(lines)


if __name__ == "__main__":
    main()
