"""The compiled rule book kept on disk: same verdicts as the rule files, never stale."""

from __future__ import annotations

import csv
import gc
import pickle
import threading
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from rdkit import Chem

from liaison.chem import compiled, identify
from liaison.chem.prefilter import Prefilter
from liaison.chem.rulebook import DEFERRED, RULES_DIR, RuleBook
from support import small_rule_book

CORPUS = Path(__file__).with_name("corpus.csv")
# Where the whole book is not needed, a book of a rule a jurisdiction (compiling costs seconds).
SMALL_BOOK = ("US-fentanyl", "CN-fentanyl", "UN-fentanyl")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(compiled.CACHE_DIR_VARIABLE, str(directory))
    return directory


def refuse_to_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    def compile_again(directory: Path) -> RuleBook:
        raise AssertionError(f"compiled {directory} again instead of reading the cache")

    monkeypatch.setattr(compiled, "load_rulebook_from", compile_again)


def test_the_cached_rule_book_gives_the_verdicts_of_the_rule_files(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh, fresh_prefilter = compiled.load_compiled(RULES_DIR)
    assert len(list(cache.glob("rulebook-*.pickle"))) == 1
    refuse_to_compile(monkeypatch)
    cached, cached_prefilter = compiled.load_compiled(RULES_DIR)
    assert cached is not fresh
    assert compiled.prefilter_for(cached) is cached_prefilter
    assert cached_prefilter.descriptions == fresh_prefilter.descriptions
    assert [Chem.MolToSmarts(family.pattern) for family in cached.families] == [
        Chem.MolToSmarts(family.pattern) for family in fresh.families
    ]
    rows = list(csv.DictReader(CORPUS.open(encoding="utf-8")))
    assert len(rows) > 100
    for row in rows:
        day = date.fromisoformat(row["as_of"])
        expected = identify(row["query"], day, rulebook=fresh).to_dict()
        assert identify(row["query"], day, rulebook=cached).to_dict() == expected, row["id"]


def test_a_changed_rule_file_is_compiled_afresh(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = small_rule_book(tmp_path / "rules", SMALL_BOOK)
    book, _ = compiled.load_compiled(rules)
    us = rules / "us.toml"
    old_title = book.titles["US"]
    us.write_text(us.read_text(encoding="utf-8").replace(old_title, "Amended title"))
    assert compiled.load_compiled(rules)[0].titles["US"] == "Amended title"
    assert len(list(cache.glob("rulebook-*.pickle"))) == 1  # the stale one is gone
    refuse_to_compile(monkeypatch)
    assert compiled.load_compiled(rules)[0].titles["US"] == "Amended title"


def test_an_unreadable_cache_file_is_compiled_again_and_replaced(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = small_rule_book(tmp_path / "rules", SMALL_BOOK)
    path = cache / f"rulebook-{compiled.compiled_key(rules)}.pickle"
    cache.mkdir()
    path.write_bytes(b"not a pickle")
    book, _ = compiled.load_compiled(rules)
    assert book.jurisdictions == ("US", "CN", "UN")
    refuse_to_compile(monkeypatch)
    assert compiled.load_compiled(rules)[0].jurisdictions == ("US", "CN", "UN")


def test_a_cache_directory_that_cannot_be_written_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv(compiled.CACHE_DIR_VARIABLE, str(blocker / "cache"))
    rules = small_rule_book(tmp_path / "rules", SMALL_BOOK)
    assert compiled.load_compiled(rules)[0].jurisdictions == ("US", "CN", "UN")


def compiled_then_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[RuleBook, Prefilter], tuple[RuleBook, Prefilter]]:
    """The small rule book compiled, then read back from the cache (compiling refused)."""
    rules = small_rule_book(tmp_path / "rules", SMALL_BOOK)
    fresh = compiled.load_compiled(rules)
    refuse_to_compile(monkeypatch)
    return fresh, compiled.load_compiled(rules)


def test_the_cached_book_reads_its_entries_when_first_asked_and_keeps_them_indexed(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (fresh, _), (cached, _) = compiled_then_cached(tmp_path, monkeypatch)
    assert not set(DEFERRED) & set(vars(cached))  # not read yet
    copied = pickle.loads(pickle.dumps(cached))  # a book sent elsewhere before it read them
    for book in (cached, copied):
        assert [getattr(book, name) for name in DEFERRED] == [
            getattr(fresh, name) for name in DEFERRED
        ]
        assert len(book.entries) == len(SMALL_BOOK)
        indexed = [entry for entries in book.by_inchikey.values() for entry in entries]
        assert all(any(entry is kept for kept in book.entries) for entry in indexed)
    with pytest.raises(AttributeError):
        cached.no_such_field  # noqa: B018


def test_threads_reading_a_cached_book_at_once_all_get_its_entries(
    cache: Path, tmp_path: Path
) -> None:
    rules = small_rule_book(tmp_path / "rules", SMALL_BOOK)
    compiled.load_compiled(rules)
    cached, _ = compiled.load_compiled(rules)
    start = threading.Barrier(8)
    seen: list[object] = []

    def read() -> None:
        start.wait()
        seen.append(cached.entries)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8
    assert all(entries is cached.entries for entries in seen)


def test_the_cached_prefilter_reads_the_skeletons_of_a_formula_when_first_asked(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (_, fresh), (_, cached) = compiled_then_cached(tmp_path, monkeypatch)
    skeletons = cached.named_formulas
    assert isinstance(skeletons, compiled.PickledValues)
    assert list(skeletons) == list(fresh.named_formulas)
    formula = next(iter(skeletons))
    assert vars(skeletons)["_read"] == {}  # none unpickled yet
    copied = pickle.loads(pickle.dumps(cached))  # a prefilter sent elsewhere before it read them
    for prefilter in (cached, copied):
        assert {
            oxygens: [Chem.MolToSmarts(skeleton) for skeleton in found]
            for oxygens, found in prefilter.named_formulas[formula].items()
        } == {
            oxygens: [Chem.MolToSmarts(skeleton) for skeleton in found]
            for oxygens, found in fresh.named_formulas[formula].items()
        }
    assert list(vars(skeletons)["_read"]) == [formula]  # that formula's only
    assert skeletons.get("no such formula") is None
    assert skeletons.get("no such formula", ()) == ()
    assert skeletons.get(formula) is skeletons[formula]  # get reads as indexing does
    assert list(vars(skeletons)["_read"]) == [formula]  # a missing one is not kept


def test_a_prefilter_is_kept_while_its_rule_book_lives_and_no_longer() -> None:
    """Built once per rule book, and forgotten with it: a process that builds many books (a
    test run, rule files edited and reloaded) does not keep every one alive."""
    shipped = compiled.load_rulebook()
    book = replace(shipped, entries=shipped.entries[:3], families=shipped.families[:1], classes=[])
    prefilter = compiled.prefilter_for(book)
    assert compiled.prefilter_for(book) is prefilter  # built once
    assert compiled.prefilter_for(shipped) is not prefilter
    key = id(book)
    del book
    gc.collect()
    assert key not in compiled._prefilters
    assert id(shipped) in compiled._prefilters
