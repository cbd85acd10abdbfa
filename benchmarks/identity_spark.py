"""The same matching on Splink's Spark backend: a small synthetic population matched with
DuckDB and with Spark (local mode), the candidates compared.

    (pyspark is a dev dependency: about 450 MB, needs Java 17)
    .venv/bin/python benchmarks/identity_spark.py [--people 2000] [--requests 100]

Prints the agreement between the two backends (same best candidate, probabilities within
1e-6) and writes benchmarks/results/identity_spark.json. See docs/identity-spark.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from liaison.identity.matching import Matcher
from liaison.identity.people import prepare_people
from liaison.identity.synth import synthesise

RESULTS = Path(__file__).resolve().parent / "results" / "identity_spark.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=100)
    options = parser.parse_args()
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    registry_raw, requests_raw, _ = synthesise(options.people, options.requests, seed=3)
    registry, _ = prepare_people(registry_raw, "person_id")
    requests, _ = prepare_people(requests_raw, "request_id")
    started = time.perf_counter()
    duckdb_matcher = Matcher.train(registry, requests, u_pairs=200_000)
    duckdb_found = duckdb_matcher.match(requests, k=1)
    duckdb_seconds = time.perf_counter() - started

    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        # Splink's string-similarity functions (Jaro-Winkler, ...) as Scala UDFs.
        .config("spark.jars", similarity_jar_location())
        .getOrCreate()
    )
    # Splink breaks long Spark lineages by checkpointing.
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="liaison-spark-"))
    try:
        started = time.perf_counter()
        # The DuckDB-trained parameters, the Spark dialect's SQL: the same model on Spark.
        spark_matcher = duckdb_matcher.on_spark(spark)
        spark_found = spark_matcher.match(requests, k=1)
        spark_seconds = time.perf_counter() - started
    finally:
        spark.stop()
    duck = {c.request_id: c for c in duckdb_found}
    same = sum(
        1
        for c in spark_found
        if c.request_id in duck
        and duck[c.request_id].person_id == c.person_id
        and abs(duck[c.request_id].match_probability - c.match_probability) < 1e-6
    )
    results = {
        "people": options.people,
        "requests": options.requests,
        "duckdb_candidates": len(duckdb_found),
        "spark_candidates": len(spark_found),
        "same_best_candidate_and_probability": same,
        "duckdb_seconds": round(duckdb_seconds, 1),
        "spark_seconds": round(spark_seconds, 1),
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
