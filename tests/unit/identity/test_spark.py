"""The same match on Splink's Spark backend (local mode, Java 17) as on DuckDB: a small
synthetic population, the DuckDB-trained model run in Spark's dialect, the same best
candidate and probability for every request. The registry of a large country does not fit
one machine; this is the route to a cluster (docs/identity-spark.md)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from liaison.identity.matching import Matcher
from liaison.identity.people import prepare_people
from liaison.identity.synth import synthesise

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    session = (
        SparkSession.builder.master("local[1]")
        .appName("liaison-identity-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        # Splink's string similarities (Jaro-Winkler, Damerau-Levenshtein) as Scala UDFs.
        .config("spark.jars", similarity_jar_location())
        .getOrCreate()
    )
    session.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="liaison-spark-"))
    yield session
    session.stop()


def test_spark_and_duckdb_give_the_same_best_candidates(spark: Any) -> None:
    registry_raw, requests_raw, truth = synthesise(300, 30, seed=5)
    registry, _ = prepare_people(registry_raw, "person_id")
    requests, _ = prepare_people(requests_raw, "request_id")
    duckdb = Matcher.train(registry, requests, u_pairs=20_000)
    on_duckdb = {c.request_id: c for c in duckdb.match(requests, k=1)}
    on_spark = {c.request_id: c for c in duckdb.on_spark(spark).match(requests, k=1)}
    assert len(on_duckdb) >= 20  # most requests find a candidate: the comparison is not empty
    assert on_spark.keys() == on_duckdb.keys()
    for request_id, candidate in on_duckdb.items():
        other = on_spark[request_id]
        assert other.person_id == candidate.person_id, request_id
        assert other.match_probability == pytest.approx(candidate.match_probability, abs=1e-6)
        assert other.evidence == candidate.evidence
    # And they are right where the truth is known and the match is sure.
    expected = dict(zip(truth["request_id"], truth["person_id"], strict=True))
    sure = [c for c in on_duckdb.values() if c.match_probability >= 0.99]
    assert sure and all(expected[c.request_id] == c.person_id for c in sure)
