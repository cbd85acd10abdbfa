"""Probabilistic matching of requests against a registry extract (Splink, DuckDB backend).

The model is Fellegi-Sunter as Splink builds it: for each field a comparison with ordered
levels (e.g. the date of birth is equal, has day and month swapped, agrees as far as a partial
date goes, differs by one digit, ...), each level with m and u probabilities. u is estimated by
random sampling of the registry; m starts from the priors below and, when requests are given,
is re-estimated by expectation maximisation without labels. Candidates come from blocking
rules (equal identity number; a name reading in common; a given-name reading and year of birth;
the same full date of birth; the same address; a family-name reading with the year and month
or the month and day of birth; the date with day and month swapped), so a request is compared
with a few hundred registry records, not a million.

The same settings run on Splink's Spark backend (docs/identity-spark.md): every level is a
Splink library level or plain SQL that sqlglot translates.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liaison.messages import T

if TYPE_CHECKING:
    import pandas as pd
    from splink.internals.database_api import DatabaseAPI

# The comparison columns a prepared table (people.prepare_people) carries into Splink.
SPLINK_COLUMNS = (
    "unique_id",
    "name_key",
    "native_name",
    "family_keys",
    "given_keys",
    "name_keys",
    "sex",
    "date_of_birth",
    "dob_year",
    "dob_month",
    "dob_day",
    "id_number",
    "place_keys",
    "address_key",
    "id_number_misread",
)
FIELDS = ("name", "date_of_birth", "sex", "id_number", "place_of_birth", "address")
EM_ITERATIONS = 25
# The share of requests giving only a year (or a year and month) whose partial date is right:
# a prior, not estimated (see the date's partial levels).
PARTIAL_DATE_M = 0.9


@dataclass(frozen=True)
class Candidate:
    """One registry person proposed for a request. `evidence` maps each compared field
    (name, date_of_birth, sex, id_number, place_of_birth, address) to the comparison level it
    fell into ("level": its label) and that level's match weight ("weight", log2 Bayes factor:
    positive for evidence of the same person, negative against, 0 when a side is empty; for
    the same name, adjusted by how common the name is in the registry)."""

    request_id: str
    person_id: str
    match_probability: float
    match_weight: float
    evidence: dict[str, dict[str, str | float]]
    request_row: int  # the request's unique_id (its row in the requests read)
    # log2 of the sum of 2^weight over every candidate blocking found for the request (not
    # only the k kept): what `posterior` divides by.
    total_weight: float = math.inf


def _jaro(left: str, right: str, dialect: str) -> str:
    """Jaro-Winkler similarity of two columns in the dialect's SQL (Splink's own levels
    compare a column with itself only)."""
    from splink.internals.dialects import SplinkDialect

    function = SplinkDialect.from_string(dialect).jaro_winkler_function_name
    return f"{function}({left}, {right})"


def _damerau_levenshtein(left: str, right: str, dialect: str) -> str:
    from splink.internals.dialects import SplinkDialect

    function = SplinkDialect.from_string(dialect).damerau_levenshtein_function_name
    return f"{function}({left}, {right})"


def _typo(left: str, right: str, dialect: str) -> Any:
    """A level: the two columns one keystroke apart (Damerau-Levenshtein distance 1 or 0)."""
    import splink.comparison_level_library as cll

    return cll.CustomLevel(
        _damerau_levenshtein(left, right, dialect) + " <= 1", base_dialect_str=dialect
    )


def _partial_date_level(sql: str, label: str, frequency_column: str, u: float) -> Any:
    """A level for a partial date that agrees: m fixed at PARTIAL_DATE_M, the Bayes factor set
    by the registry's share born in that year (or month) through the frequency adjustment."""
    import splink.comparison_level_library as cll

    return cll.CustomLevel(sql, label_for_charts=label, base_dialect_str="duckdb").configure(
        tf_adjustment_column=frequency_column,
        disable_tf_exact_match_detection=True,
        m_probability=PARTIAL_DATE_M,
        fix_m_probability=True,
        u_probability=u,
        fix_u_probability=True,
    )


def settings(registry_size: int, dialect: str = "duckdb") -> dict[str, Any]:
    """The Splink settings for a SQL dialect ("duckdb" or "spark"): comparisons, priors for m,
    blocking rules."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on
    from splink.blocking_rule_library import CustomRule

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_keys"),
            # Both names in characters on both sides: stronger than any Latin reading. Its
            # Bayes factor is m / (the name's share of the registry), so m must be the share
            # of true pairs that agree when the request gives characters (fixed: EM would
            # give the share of all true pairs, most of whose requests give none).
            cll.ExactMatchLevel("native_name").configure(
                label_for_charts=T("same name in characters"),
                tf_adjustment_column="native_name",
                fix_m_probability=True,
            ),
            # Homophones: the Latin readings meet but the characters differ (陈欣, 陈鑫).
            cll.And(
                cll.CustomLevel("native_name_l <> native_name_r", base_dialect_str="duckdb"),
                cll.ArrayIntersectLevel("name_keys"),
            ).configure(label_for_charts=T("same reading, other characters")),
            # Term frequency: "Wang Wei" shared by hundreds is weaker evidence than a rare name.
            cll.ExactMatchLevel("name_key").configure(
                label_for_charts=T("same name"), tf_adjustment_column="name_key"
            ),
            # Adjusted by the registry side's name ("Chang Wei" written for Zhang Wei is as
            # common as Zhang Wei): Splink takes the greater frequency of the two sides. Its
            # Bayes factor is m / that frequency, as for the same name (u cancels).
            cll.ArrayIntersectLevel("name_keys").configure(
                label_for_charts=T("same name in another romanisation or order"),
                tf_adjustment_column="name_key",
                disable_tf_exact_match_detection=True,
            ),
            # A typing error: one name the same, the other one keystroke away (a letter
            # swapped, dropped, added or changed), in pinyin or, for the given name, in
            # Wade-Giles (a mistyped "Hui-ch'ien" no longer reads as any pinyin: it is
            # compared with the registry's Huiqian written in Wade-Giles), the names in their
            # fields or each in the other's. Rarer among
            # different people than a similar-looking whole name, so before it; not when both
            # sides give characters and they differ (刘艳 is not a mistyped 刘兰).
            cll.And(
                cll.Or(
                    cll.And(
                        cll.ArrayIntersectLevel("family_keys"),
                        cll.Or(
                            _typo("given_key_l", "given_key_r", dialect),
                            _typo("given_wade_l", "given_key_r", dialect),
                            _typo("given_key_l", "given_wade_r", dialect),
                        ),
                    ),
                    cll.And(
                        cll.ArrayIntersectLevel("given_keys"),
                        _typo("family_key_l", "family_key_r", dialect),
                    ),
                    # The same, with the family name written last (each name in the other's
                    # field).
                    cll.And(
                        cll.CustomLevel("family_key_l = given_key_r"),
                        cll.Or(
                            _typo("given_key_l", "family_key_r", dialect),
                            _typo("given_wade_l", "family_key_r", dialect),
                        ),
                    ),
                    cll.And(
                        cll.CustomLevel("given_key_l = family_key_r"),
                        _typo("family_key_l", "given_key_r", dialect),
                    ),
                ),
                cll.CustomLevel("native_name_l IS NULL OR native_name_r IS NULL"),
            ).configure(label_for_charts=T("one name the same, the other mistyped")),
            cll.JaroWinklerLevel("name_key", 0.92).configure(
                label_for_charts=T("name spelt slightly differently")
            ),
            # Family and given name in each other's field, one of them mistyped.
            cll.CustomLevel(
                f"{_jaro('family_key_l', 'given_key_r', dialect)} >= 0.88 AND "
                f"{_jaro('given_key_l', 'family_key_r', dialect)} >= 0.88",
                label_for_charts=T("names swapped, spelt slightly differently"),
                base_dialect_str=dialect,
            ),
            cll.ArrayIntersectLevel("family_keys").configure(
                label_for_charts=T("same family name, different given name")
            ),
            cll.ArrayIntersectLevel("given_keys").configure(
                label_for_charts=T("same given name, different family name")
            ),
            # One side's given name is the other's family name (a form filled the wrong way).
            cll.CustomLevel(
                f"{_jaro('family_key_l', 'given_key_r', dialect)} >= 0.88 OR "
                f"{_jaro('given_key_l', 'family_key_r', dialect)} >= 0.88",
                label_for_charts=T("one name in the other field"),
                base_dialect_str=dialect,
            ),
            cll.ElseLevel().configure(label_for_charts=T("different names")),
        ],
    ).configure(m_probabilities=[0.9, 0.001, 0.5, 0.25, 0.03, 0.03, 0.02, 0.03, 0.01, 0.01, 0.02])
    date_of_birth = cl.CustomComparison(
        output_column_name="date_of_birth",
        comparison_levels=[
            cll.NullLevel("date_of_birth"),
            cll.ExactMatchLevel("date_of_birth").configure(label_for_charts=T("same date")),
            cll.CustomLevel(
                "dob_year_l = dob_year_r AND dob_month_l = dob_day_r AND dob_day_l = dob_month_r",
                label_for_charts=T("day and month swapped"),
                base_dialect_str="duckdb",
            ),
            # Only a request that gives a partial date can fall here, so m is fixed at the
            # share of such requests whose partial date is right (EM would give the share
            # of all true pairs, most of whose dates are full) and the Bayes factor is
            # m / (the share of the registry born that month or year): u, fixed, cancels.
            _partial_date_level(
                "dob_year_l = dob_year_r AND dob_month_l = dob_month_r AND "
                "(dob_day_l IS NULL OR dob_day_r IS NULL)",
                T("partial date that agrees (year and month)"),
                "dob_year_month",
                1 / 600,
            ),
            _partial_date_level(
                "dob_year_l = dob_year_r AND (dob_month_l IS NULL OR dob_month_r IS NULL)",
                T("partial date that agrees (year)"),
                "dob_year",
                1 / 50,
            ),
            cll.DamerauLevenshteinLevel("date_of_birth", 1).configure(
                label_for_charts=T("one digit differs")
            ),
            cll.DamerauLevenshteinLevel("date_of_birth", 2).configure(
                label_for_charts=T("two digits differ")
            ),
            cll.CustomLevel(
                "abs(dob_year_l - dob_year_r) <= 1",
                label_for_charts=T("year of birth within one"),
                base_dialect_str="duckdb",
            ),
            cll.ElseLevel().configure(label_for_charts=T("different dates")),
        ],
    ).configure(
        m_probabilities=[0.84, 0.03, PARTIAL_DATE_M, PARTIAL_DATE_M, 0.03, 0.01, 0.02, 0.01]
    )
    sex = cl.CustomComparison(
        output_column_name="sex",
        comparison_levels=[
            cll.NullLevel("sex"),
            cll.ExactMatchLevel("sex").configure(label_for_charts=T("same sex")),
            cll.ElseLevel().configure(label_for_charts=T("different sex")),
        ],
    ).configure(m_probabilities=[0.98, 0.02])
    id_number = cl.CustomComparison(
        output_column_name="id_number",
        comparison_levels=[
            cll.CustomLevel(
                "(id_number_l IS NULL AND id_number_misread_l IS NULL) OR "
                "(id_number_r IS NULL AND id_number_misread_r IS NULL)",
                base_dialect_str="duckdb",
            ).configure(is_null_level=True),
            cll.ExactMatchLevel("id_number").configure(label_for_charts=T("same number")),
            # A number whose check character fails (read as empty) one keystroke from this
            # one: a typing error, where two valid numbers that close are two people.
            cll.CustomLevel(
                "(id_number_misread_l IS NOT NULL OR id_number_misread_r IS NOT NULL) AND "
                + _damerau_levenshtein(
                    "coalesce(id_number_l, id_number_misread_l)",
                    "coalesce(id_number_r, id_number_misread_r)",
                    dialect,
                )
                + " <= 1",
                label_for_charts=T("a mistyped number, one character from this one"),
                base_dialect_str=dialect,
            ),
            cll.DamerauLevenshteinLevel("id_number", 2).configure(
                label_for_charts=T("one or two characters differ")
            ),
            cll.ElseLevel().configure(label_for_charts=T("different numbers")),
        ],
    ).configure(m_probabilities=[0.9, 0.04, 0.03, 0.03])
    place = cl.CustomComparison(
        output_column_name="place_of_birth",
        comparison_levels=[
            cll.NullLevel("place_keys"),
            cll.ArrayIntersectLevel("place_keys", 2).configure(
                label_for_charts=T("same place (two names in common)")
            ),
            cll.ArrayIntersectLevel("place_keys", 1).configure(
                label_for_charts=T("a place name in common")
            ),
            cll.JaroWinklerLevel("place_key", 0.9).configure(
                label_for_charts=T("place spelt slightly differently")
            ),
            cll.ElseLevel().configure(label_for_charts=T("different places")),
        ],
    ).configure(m_probabilities=[0.6, 0.25, 0.05, 0.1])
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.NullLevel("address_key"),
            cll.ExactMatchLevel("address_key").configure(label_for_charts=T("same address")),
            cll.JaroWinklerLevel("address_key", 0.9).configure(
                label_for_charts=T("address spelt slightly differently")
            ),
            cll.JaroWinklerLevel("address_key", 0.8).configure(label_for_charts=T("address alike")),
            cll.ElseLevel().configure(label_for_charts=T("different addresses")),
        ],
    ).configure(m_probabilities=[0.4, 0.3, 0.1, 0.2])
    creator = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[name, date_of_birth, sex, id_number, place, address],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("name_keys", arrays_to_explode=["name_keys"]),
            block_on("given_keys", "dob_year", arrays_to_explode=["given_keys"]),
            # Typos in both names: the full date of birth, or the address, alone.
            block_on("date_of_birth"),
            block_on("address_key"),
            # A mistyped given name beside a date that is not the same full date: the family
            # name with what of the date agrees (year and month of a partial date or of a
            # mistyped day; month and day of a mistyped year), or the date alone with day and
            # month swapped.
            block_on("family_keys", "dob_year", "dob_month", arrays_to_explode=["family_keys"]),
            block_on("family_keys", "dob_month", "dob_day", arrays_to_explode=["family_keys"]),
            CustomRule(
                "l.dob_year = r.dob_year AND l.dob_month = r.dob_day AND l.dob_day = r.dob_month",
                sql_dialect="duckdb",
            ),
        ],
        # A request has at most one true match among the registry's records.
        probability_two_random_records_match=1 / max(registry_size, 2),
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=[],
    )
    model: dict[str, Any] = creator.get_settings(dialect).as_dict()  # type: ignore[no-untyped-call]
    return model


class Matcher:
    """A Splink model bound to a registry table (from people.read_people/prepare_people).

    `spark`: a SparkSession to run on Splink's Spark backend instead of DuckDB (the model must
    then be trained with it too: its SQL is written in the backend's dialect)."""

    def __init__(
        self,
        model: dict[str, Any],
        registry: pd.DataFrame,
        id_column: str,
        spark: Any = None,
    ) -> None:
        self.model = model
        self.registry = registry
        self.id_column = id_column
        self.spark = spark

    @classmethod
    def train(
        cls,
        registry: pd.DataFrame,
        requests: pd.DataFrame | None = None,
        id_column: str = "person_id",
        seed: int = 1,
        u_pairs: int = 1_000_000,
        threads: int | None = None,
        spark: Any = None,
    ) -> Matcher:
        """u by random sampling of the registry; m from the priors, then (with requests) by EM
        without labels on registry x requests pairs, one blocking rule per session so each
        field is estimated from pairs not blocked on it. `u_pairs` random registry pairs are
        compared for u (more: steadier u for rare levels, and slower)."""
        from splink import Linker, block_on
        from splink.internals.exceptions import EMTrainingException

        model = settings(len(registry), "duckdb" if spark is None else "spark")
        db_api = _database(threads, spark)
        tables = [db_api.register(_splink_table(registry))]
        if requests is not None and len(requests):
            tables.append(db_api.register(_splink_table(requests)))
        else:
            # Without requests the registry is linked to itself only to sample u.
            tables.append(db_api.register(_splink_table(registry)))
        linker = Linker(tables, model, log_level=logging.ERROR)
        # u: pairs of registry records are (almost all) different people.
        linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed, num_chunks=1)
        if requests is not None and len(requests) >= 50:
            for rule in (
                block_on("id_number"),
                # EM cannot explode arrays: the primary reading. With the year too: pairs
                # blocked on a name alone are mostly homonyms, and EM took some that agree on
                # the place for matches (m of "different dates" 0.15 on 10,000 requests).
                block_on("name_key", "dob_year"),
                block_on("date_of_birth"),
            ):
                # A rule that blocks no pair (a field empty throughout) leaves the priors.
                with contextlib.suppress(EMTrainingException):
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        rule, fix_probability_two_random_records_match=True
                    )
        trained = _floor_m(_names_agree(linker.misc.save_model_to_json()))
        trained["probability_two_random_records_match"] = 1 / max(len(registry), 2)
        return cls(trained, registry, id_column, spark)

    @classmethod
    def load(
        cls, path: Path, registry: pd.DataFrame, id_column: str = "person_id", spark: Any = None
    ) -> Matcher:
        model = json.loads(path.read_text(encoding="utf-8"))
        model["probability_two_random_records_match"] = 1 / max(len(registry), 2)
        return cls(model, registry, id_column, spark)

    def on_spark(self, spark: Any) -> Matcher:
        """The same model (its trained m and u) on Splink's Spark backend: the levels'
        SQL in Spark's dialect, the parameters copied level by level."""
        model = settings(len(self.registry), "spark")
        for spark_comparison, comparison in zip(
            model["comparisons"], self.model["comparisons"], strict=True
        ):
            for spark_level, level in zip(
                spark_comparison["comparison_levels"], comparison["comparison_levels"], strict=True
            ):
                for name in ("m_probability", "u_probability"):
                    if level.get(name) is not None:
                        spark_level[name] = level[name]
        model["probability_two_random_records_match"] = self.model[
            "probability_two_random_records_match"
        ]
        return Matcher(model, self.registry, self.id_column, spark)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.model, indent=2), encoding="utf-8")

    def match(
        self,
        requests: pd.DataFrame,
        k: int = 1,
        request_id_column: str = "request_id",
        progress: Callable[[int], None] | None = None,
        chunk: int = 2000,
        threads: int | None = None,
    ) -> list[Candidate]:
        """The k best candidates of each request, best first (fewer when blocking finds fewer),
        each with its posterior probability among the candidates (see `with_posteriors`).
        Requests are scored in chunks; `progress(n)` is told after each chunk of n requests.
        `threads` caps DuckDB's threads (default: one per core)."""
        scorer = self.scorer(threads)
        found: list[Candidate] = []
        for start in range(0, len(requests), chunk):
            part = requests.iloc[start : start + chunk]
            found.extend(scorer.score(part, k, request_id_column))
            if progress is not None:
                progress(len(part))
        return with_posteriors(requests, found)

    def pairs(
        self, requests: pd.DataFrame, chunk: int = 2000, threads: int | None = None
    ) -> Iterator[pd.DataFrame]:
        """Every pair the blocking rules find, chunk by chunk: registry and request row
        (unique_id_l, unique_id_r), the comparison level of each field (gamma_FIELD, larger
        is closer, -1 empty) and the match weight. For analyses of what the fields can tell
        apart (benchmarks/identity_synthetic.py)."""
        scorer = self.scorer(threads)
        for start in range(0, len(requests), chunk):
            yield scorer.pairs(requests.iloc[start : start + chunk])

    def scorer(self, threads: int | None = None) -> Scorer:
        """The registry loaded into a database once, to score many batches of requests."""
        return Scorer(self, threads)


class Scorer:
    """A Matcher's registry and name frequencies registered in one database connection."""

    def __init__(self, matcher: Matcher, threads: int | None) -> None:
        self.matcher = matcher
        self.db_api = _database(threads, matcher.spark)
        registry = _splink_table(matcher.registry)
        self.registry = self.db_api.register(registry)
        # A model saved before a term-frequency level was added adjusts fewer columns.
        self.frequencies = {
            column: self.db_api.register(_frequencies(registry, column))
            for column in _tf_columns(matcher.model)
        }
        self.levels = _level_labels(matcher.model)

    def score(
        self, requests: pd.DataFrame, k: int = 1, request_id_column: str = "request_id"
    ) -> list[Candidate]:
        """The k best candidates of each of these requests, best first, with their weights;
        `match_probability` is left unset (nan) until `with_posteriors` sees the whole batch."""
        evidence = ", ".join(
            [f"gamma_{f}, mw_{f}" for f in FIELDS]
            + [f"mw_tf_adj_{f}" for f in _tf_comparisons(self.matcher.model)]
        )
        ranked = self._query(
            requests,
            lambda pairs: (
                f"""
            SELECT * FROM (
                SELECT *, top_weight + log2(sum(power(2.0, match_weight - top_weight))
                        OVER (PARTITION BY unique_id_r)) AS total_weight
                FROM (
                    SELECT unique_id_l, unique_id_r, match_weight, {evidence},
                        row_number() OVER (
                            PARTITION BY unique_id_r ORDER BY match_weight DESC, unique_id_l
                        ) AS candidate_rank,
                        max(match_weight) OVER (PARTITION BY unique_id_r) AS top_weight
                    FROM {pairs}
                ) AS weighed
            ) AS ranked
            WHERE candidate_rank <= {int(k)}
            ORDER BY unique_id_r, candidate_rank
            """
            ),
        )
        matcher = self.matcher
        return _candidates(
            ranked, matcher.registry, matcher.id_column, requests, request_id_column, self.levels
        )

    def pairs(self, requests: pd.DataFrame) -> pd.DataFrame:
        """Every pair blocking finds for these requests: see `Matcher.pairs`."""
        gammas = ", ".join(f"gamma_{f}" for f in FIELDS)
        return self._query(
            requests,
            lambda pairs: f"SELECT unique_id_l, unique_id_r, match_weight, {gammas} FROM {pairs}",
        )

    def _query(self, requests: pd.DataFrame, sql: Callable[[str], str]) -> pd.DataFrame:
        """sql(name of the table of scored pairs) run on these requests' pairs; plain SQL
        that DuckDB and Spark both run."""
        from splink import Linker

        table = self.db_api.register(_splink_table(requests))
        linker = Linker([self.registry, table], self.matcher.model, log_level=logging.ERROR)
        for column, frequencies in self.frequencies.items():
            linker.table_management.register_term_frequency_lookup(frequencies, column)
        pairs = linker.inference.predict_between(self.registry, table, warning_mode="never")
        answer: pd.DataFrame = self.db_api.query_sql(sql(pairs.physical_name), output_type="pandas")
        pairs.drop_table_from_database_and_remove_from_cache()
        # A scorer kept for many batches (a Dask worker's) holds no batch it has scored.
        table.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
        return answer


def with_posteriors(requests: pd.DataFrame, found: list[Candidate]) -> list[Candidate]:
    """The candidates scored for these requests, each with its `posterior`; the share of
    requests whose person is in the registry is estimated over the whole batch (a request
    without any candidate counts too), so it is the same however the batch was split."""
    totals = {candidate.request_row: candidate.total_weight for candidate in found}
    share = share_in_registry([totals.get(int(row), -math.inf) for row in requests["unique_id"]])
    return [
        replace(
            candidate,
            match_probability=posterior(candidate.match_weight, candidate.total_weight, share),
        )
        for candidate in found
    ]


# A person in the registry whom no blocking rule puts among the candidates (every key of
# the request missing or wrong): the share of true matches taken to escape blocking, the
# prior weight of "in the registry, but not among the candidates".
BLOCKING_MISS = 0.01


def posterior(weight: float, total_weight: float, share: float) -> float:
    """The probability that the request concerns this candidate, given every candidate the
    blocking found for it. A candidate's Bayes factor over the registry size is 2^weight
    (Splink's match weight with its prior of one match in the registry); the person is one
    of the candidates, in the registry but not found (BLOCKING_MISS), or not in the registry
    at all (1 - share). `total_weight`: log2 of the sum of 2^weight over the candidates."""
    if total_weight - weight > 60:  # a negligible candidate beside a strong one
        return 0.0
    # Divided through by 2^total_weight, which may be too large a float.
    scale = 2.0 ** min(-total_weight, 1000.0)
    return float(
        share
        * 2.0 ** (weight - total_weight)
        / ((1 - share + share * BLOCKING_MISS) * scale + share)
    )


def share_in_registry(total_weights: list[float], iterations: int = 50) -> float:
    """The share of requests whose person is in the registry, by expectation maximisation
    over a batch (no labels): `total_weights` holds for each request log2 of the sum of
    2^weight over its candidates (-inf without any). With a uniform prior (one request in,
    one out, added), so a batch of one request stays near one half and a large batch speaks
    for itself."""
    evidence = [2.0 ** min(total, 60.0) + BLOCKING_MISS for total in total_weights]
    share = 0.5
    for _ in range(iterations):
        inside = sum(share * e / (1 - share + share * e) for e in evidence)
        share = (inside + 1) / (len(evidence) + 2)
    return share


def _database(threads: int | None, spark: Any) -> DatabaseAPI[Any]:
    if spark is not None:
        from splink.backends.spark import SparkAPI

        return SparkAPI(spark_session=spark)  # type: ignore[no-untyped-call]
    import duckdb
    from splink.backends.duckdb import DuckDBAPI

    config: dict[str, str | bool | int | float | list[str]] = (
        {"threads": threads} if threads else {}
    )
    return DuckDBAPI(connection=duckdb.connect(":memory:", config=config))


# EM gives m = 0 to a level it never saw among matches (e.g. a different sex, when no request
# got the sex wrong); a clerical error must lower the probability, never veto the match.
M_FLOOR = 0.001


def _names_agree(model: dict[str, Any]) -> dict[str, Any]:
    """The same name and the same name in another romanisation: m of each becomes the share
    of true pairs whose names agree in either way. Which of the two a request falls in is
    set by how it is spelt (pinyin or Wade-Giles, family name first or last), not by chance:
    given the spelling, a true pair agrees in the one way it can. EM's share of each, m of
    a mixture of spellings, would understate both."""
    levels = [
        level
        for comparison in model["comparisons"]
        for level in comparison["comparison_levels"]
        if level.get("tf_adjustment_column") == "name_key" and level.get("m_probability")
    ]
    agree = sum(level["m_probability"] for level in levels)
    for level in levels:
        level["m_probability"] = agree
    return model


# Comparisons whose levels go from the closest agreement down: a near level never says more
# than the exact one above it (a level that random pairs never reached would otherwise get
# u = 1e-6 and outweigh an exact agreement: a misspelt place above the right one).
ORDERED = ("place_of_birth", "address")
# Splink's u for a level that random sampling never reached.
U_NOT_OBSERVED = 1e-6


def _floor_m(model: dict[str, Any]) -> dict[str, Any]:
    for comparison in model["comparisons"]:
        ceiling = math.inf
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level") or level.get("m_probability") is None:
                continue
            level["m_probability"] = max(level["m_probability"], M_FLOOR)
            if comparison["output_column_name"] in ORDERED:
                u = level.get("u_probability")
                if not isinstance(u, float) or u <= 0:
                    u = U_NOT_OBSERVED
                if level["m_probability"] / u > ceiling:
                    u = level["m_probability"] / ceiling
                level["u_probability"] = u
                ceiling = level["m_probability"] / u
    return model


def _frequencies(registry: pd.DataFrame, column: str) -> pd.DataFrame:
    """Each value's share of the registry (a name, a year of birth): the term frequencies of
    a level adjusted by how common the value is."""
    counts = registry[column].value_counts()
    return (
        counts.rename(f"tf_{column}")
        .div(max(int(counts.sum()), 1))
        .rename_axis(column)
        .reset_index()
    )


def _tf_columns(model: dict[str, Any]) -> list[str]:
    """The columns whose levels the model adjusts by how common the value is."""
    columns = (
        level.get("tf_adjustment_column")
        for comparison in model["comparisons"]
        for level in comparison["comparison_levels"]
    )
    return list(dict.fromkeys(column for column in columns if column))


def _tf_comparisons(model: dict[str, Any]) -> list[str]:
    """The comparisons with a level adjusted by how common the value is: their evidence
    weight adds the adjustment."""
    return [
        comparison["output_column_name"]
        for comparison in model["comparisons"]
        if any(level.get("tf_adjustment_column") for level in comparison["comparison_levels"])
    ]


def _splink_table(people: pd.DataFrame) -> pd.DataFrame:
    """The comparison columns, and strings derived from them for the levels that compare one
    string with another: the year and month of birth, each name's first reading (the given
    name's also in Wade-Giles), the place's words joined.
    A registry prepared before a comparison column existed gets it empty (import it again
    to use it)."""
    table = people.reindex(columns=list(SPLINK_COLUMNS))
    first = _first_or_none
    given_key = table["given_keys"].map(first)
    return table.assign(
        dob_year_month=table["dob_year"].astype("string")
        + "-"
        + table["dob_month"].astype("string"),
        family_key=table["family_keys"].map(first),
        given_key=given_key,
        given_wade=given_key.map(_wade_giles),
        place_key=table["place_keys"].map(
            lambda words: " ".join(words) if words is not None and len(words) else None
        ),
    )


def _wade_giles(key: str | None) -> str | None:
    from liaison.identity.names import wade_giles

    return wade_giles(key) if key else None


def _first_or_none(values: Any) -> str | None:
    return str(values[0]) if values is not None and len(values) else None


def _level_labels(model: dict[str, Any]) -> dict[str, dict[int, str]]:
    """For each comparison, gamma value (Splink numbers levels from the last, -1 = null) ->
    the level's label."""
    labels: dict[str, dict[int, str]] = {}
    for comparison in model["comparisons"]:
        levels = comparison["comparison_levels"]
        by_gamma: dict[int, str] = {}
        for position, level in enumerate(levels):
            if level.get("is_null_level"):
                by_gamma[-1] = T("empty on one side")
            else:
                by_gamma[len(levels) - 1 - position] = level["label_for_charts"]
        labels[comparison["output_column_name"]] = by_gamma
    return labels


def _candidates(
    ranked: pd.DataFrame,
    registry: pd.DataFrame,
    id_column: str,
    requests: pd.DataFrame,
    request_id_column: str,
    levels: dict[str, dict[int, str]],
) -> list[Candidate]:
    person_ids = registry[id_column].to_numpy()
    request_ids = dict(zip(requests["unique_id"], requests[request_id_column], strict=True))
    out: list[Candidate] = []
    for row in ranked.to_dict("records"):
        evidence: dict[str, dict[str, str | float]] = {}
        for field in FIELDS:
            label = levels[field][int(row[f"gamma_{field}"])]
            weight = float(row[f"mw_{field}"]) + float(row.get(f"mw_tf_adj_{field}") or 0.0)
            evidence[field] = {"level": label, "weight": round(weight, 3)}
        out.append(
            Candidate(
                request_id=str(request_ids[row["unique_id_r"]] or ""),
                person_id=str(person_ids[int(row["unique_id_l"])] or ""),
                match_probability=math.nan,
                match_weight=float(row["match_weight"]),
                evidence=evidence,
                request_row=int(row["unique_id_r"]),
                total_weight=float(row["total_weight"]),
            )
        )
    return out


def exact_match(
    registry: pd.DataFrame,
    requests: pd.DataFrame,
    id_column: str = "person_id",
    request_id_column: str = "request_id",
) -> list[Candidate]:
    """The baseline: the same identity number, or the same name (as written, normalised) and
    the same full date of birth. Probability 1 for a match; the first match wins."""
    import pandas as pd

    left = registry.loc[:, ["unique_id", id_column, "id_number", "name_key", "date_of_birth"]]
    right = requests.loc[
        :, ["unique_id", request_id_column, "id_number", "name_key", "date_of_birth"]
    ]
    by_number = right.dropna(subset=["id_number"]).merge(
        left.dropna(subset=["id_number"]), on="id_number", suffixes=("_r", "_l")
    )
    full = right[right["date_of_birth"].str.len() == 10].dropna(subset=["name_key"])
    by_name = full.merge(left.dropna(subset=["name_key"]), on=["name_key", "date_of_birth"])
    by_name = by_name.rename(columns={"unique_id_x": "unique_id_r", "unique_id_y": "unique_id_l"})
    pairs = pd.concat([by_number, by_name], ignore_index=True)
    pairs = pairs.drop_duplicates(subset=["unique_id_r"], keep="first")
    return [
        Candidate(
            str(row[request_id_column] or ""),
            str(row[id_column] or ""),
            1.0,
            math.inf,
            {},
            int(row["unique_id_r"]),
        )
        for row in pairs.to_dict("records")
    ]


def matches_header(candidates: int | None) -> list[str]:
    """The MATCHES file's columns: a rank column with --candidates K."""
    header = ["request_id", "person_id", "match_probability"]
    return [*header, "rank"] if candidates else header


def matches_rows(
    requests: pd.DataFrame,
    found: list[Candidate],
    threshold: float,
    candidates: int | None,
    request_id_column: str = "request_id",
) -> Iterator[list[str]]:
    """The MATCHES rows of these requests, in their order: one per request (K with
    `candidates`), the person named only at `threshold` or above, empty cells otherwise."""
    by_row: dict[int, list[Candidate]] = {}
    for candidate in found:
        by_row.setdefault(candidate.request_row, []).append(candidate)
    rows_per_request = candidates or 1
    ids = requests[request_id_column].fillna("").tolist()
    # A duplicated request id gets its own rows, from its own candidates, at each occurrence.
    for row, request_id in zip(requests["unique_id"].tolist(), ids, strict=True):
        likely = [c for c in by_row.get(int(row), []) if c.match_probability >= threshold]
        for rank in range(rows_per_request):
            cells = (
                [request_id, likely[rank].person_id, f"{likely[rank].match_probability:.6f}"]
                if rank < len(likely)
                else [request_id, "", ""]
            )
            yield [*cells, str(rank + 1)] if candidates else cells
