"""The shipped rule book and its prefilter: compiled once, kept on disk, loaded once a process.

Reading and validating the rule files and building the prefilter take about 0.4 s, longer
than screening one record; `liaison screen` pays it on every run. The compiled result is
pickled into the user's cache directory under a key made of the rule files, the source of
this package and the RDKit version, so a change to any of them compiles afresh (there is
no stale rule book to clear by hand). A cache that cannot be read or written is skipped.

A file is known by its name, size and modification time, as Python knows the source of its
bytecode: hashing the 2 MB of rule files took longer than reading the cache. What a record
the prefilter clears never reads stays pickled until it is read: the named entries
(rulebook.deferring_entries) and the prefilter's skeletons of each named formula.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import pickle
import threading
import weakref
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from rdkit import rdBase

from liaison.chem.prefilter import Prefilter, build_prefilter
from liaison.chem.rulebook import RULES_DIR, RuleBook, deferring_entries, load_rulebook_from

CACHE_DIR_VARIABLE = "LIAISON_CACHE_DIR"
_PACKAGE_DIR = Path(__file__).resolve().parent
# Keyed by id(): a rule book is not hashable. Each entry goes when its book does
# (_remember), before that id can be given to another object; the books are not kept alive.
_prefilters: dict[int, Prefilter] = {}


@lru_cache(maxsize=1)
def load_rulebook() -> RuleBook:
    """The shipped rule files, loaded and validated once per process."""
    return load_compiled(RULES_DIR)[0]


def prefilter_for(rulebook: RuleBook) -> Prefilter:
    """The prefilter of `rulebook`, built once per process."""
    prefilter = _prefilters.get(id(rulebook))
    if prefilter is None:
        prefilter = _remember(rulebook, build_prefilter(rulebook))
    return prefilter


def _remember(rulebook: RuleBook, prefilter: Prefilter) -> Prefilter:
    if id(rulebook) not in _prefilters:
        weakref.finalize(rulebook, _prefilters.pop, id(rulebook), None)
    _prefilters[id(rulebook)] = prefilter
    return prefilter


def cache_dir() -> Path:
    """LIAISON_CACHE_DIR, else $XDG_CACHE_HOME/liaison, else ~/.cache/liaison."""
    if os.environ.get(CACHE_DIR_VARIABLE):
        return Path(os.environ[CACHE_DIR_VARIABLE])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "liaison"


def compiled_key(rules_dir: Path) -> str:
    digest = hashlib.sha256(rdBase.rdkitVersion.encode())
    for path in sorted([*rules_dir.iterdir(), *_PACKAGE_DIR.glob("*.py")]):
        if path.is_file():
            status = path.stat()
            digest.update(f"{path}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:32]


def load_compiled(rules_dir: Path) -> tuple[RuleBook, Prefilter]:
    """The rule book in `rules_dir` and its prefilter (which `prefilter_for` then returns),
    from the cache when it is current."""
    path = cache_dir() / f"rulebook-{compiled_key(rules_dir)}.pickle"
    try:
        book, prefilter = pickle.loads(path.read_bytes())
        if not (isinstance(book, RuleBook) and isinstance(prefilter, Prefilter)):
            raise TypeError(f"{path} holds something else")
    except Exception:  # missing, unreadable, truncated or foreign: compile it again
        book = load_rulebook_from(rules_dir)
        prefilter = build_prefilter(book)
        _store(path, (deferring_entries(book), deferring_skeletons(prefilter)))
    _remember(book, prefilter)
    return book, prefilter


def _store(path: Path, compiled: tuple[RuleBook, Prefilter]) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as out:
            pickle.dump(compiled, out, protocol=pickle.HIGHEST_PROTOCOL)
        # Renamed into place whole: a parallel run reads the old file or the new, never half.
        temporary.replace(path)
    except (OSError, pickle.PicklingError):
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        return  # e.g. a read-only home: screening works, it only starts slower
    for old in path.parent.glob("rulebook-*.pickle"):
        if old != path:
            old.unlink(missing_ok=True)


Value = TypeVar("Value")


class PickledValues(Mapping[str, Value]):
    """A mapping whose values are kept pickled, each unpickled when it is first read."""

    def __init__(self, values: Mapping[str, Value]) -> None:
        self._pickled = {
            key: pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            for key, value in values.items()
        }
        self._read: dict[str, Value] = {}
        self._reading = threading.Lock()  # threads of the node read one prefilter

    def __getitem__(self, key: str) -> Value:
        if key not in self._read:
            pickled = self._pickled[key]  # KeyError for a key it does not have
            with self._reading:
                if key not in self._read:
                    self._read[key] = pickle.loads(pickled)
        return self._read[key]

    def get(self, key: str, default: Value | None = None) -> Value | None:  # type: ignore[override]
        # Asked for every fragment screened and most are no key: without the KeyError
        # Mapping.get raises and catches.
        if key not in self._pickled:
            return default
        return self[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pickled)

    def __len__(self) -> int:
        return len(self._pickled)

    def __getstate__(self) -> dict[str, dict[str, bytes]]:
        return {"pickled": self._pickled}  # not the lock; what was read is read again

    def __setstate__(self, state: dict[str, dict[str, bytes]]) -> None:
        self._pickled = state["pickled"]
        self._read = {}
        self._reading = threading.Lock()


def deferring_skeletons(prefilter: Prefilter) -> Prefilter:
    """`prefilter` with its skeletons of the named formulas (a third of the cache, most of the
    time of reading it) pickled per formula: a record reads only those of its own formulas."""
    return dataclasses.replace(prefilter, named_formulas=PickledValues(prefilter.named_formulas))
