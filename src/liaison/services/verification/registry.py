"""The population registry extract of the verifying node, and the ranked candidates of
a case from it (liaison.identity: reading, Splink matching).

`liaison registry import DIR FILE` reads the file (bad fields blanked and reported, rows
never dropped), trains the matching model on it, and writes both into the node's
`registry/` directory: the extract sealed with the node's personal-data key, the model
(probabilities only, no person) beside it. The new files are complete and fsynced
before the import row that points at them is committed, so a reader sees the old
extract or the new one, never half of one; older files are removed after the commit.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from liaison.audit import Actor, PersonalDataRead, RegistryImported, record
from liaison.errors import ConfigurationError, InvalidInput, NotFound
from liaison.messages import T
from liaison.services.verification import rules
from liaison.services.verification.queries import check_why, current_registry, get_case
from liaison.services.verification.records import keyring_of
from liaison.services.verification.sealing import Keyring
from liaison.store.base import utcnow
from liaison.store.verification_tables import RegistryImport

if TYPE_CHECKING:
    import pandas as pd

    from liaison.identity.people import RowProblem

REGISTRY_DIR = "registry"
SEALED = ".parquet.sealed"
MODEL = ".model.json"
DEFAULT_CANDIDATES = 5


@dataclass(frozen=True)
class ImportResult:
    people: int
    problems: list[RowProblem]
    imported_at: datetime
    file: str


@dataclass(frozen=True)
class RankedCandidate:
    person_id: str
    match_probability: float
    match_weight: float
    evidence: dict[str, dict[str, str | float]]
    person: dict[str, str]  # the registry record, for the side-by-side comparison


def _directory(node: rules.VerificationNode) -> Path:
    if node.directory is None:
        raise ConfigurationError("this node has no directory for its registry extract")
    directory = node.directory / REGISTRY_DIR
    directory.mkdir(mode=0o700, exist_ok=True)
    return directory


def _write_whole(path: Path, content: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def import_registry(
    session: Session, node: rules.VerificationNode, actor: Actor, source: Path
) -> ImportResult:
    """Read, train on and install a registry extract; commits. InvalidInput when the file
    has nothing usable (no row with an id and any other field)."""
    from liaison.identity.matching import Matcher
    from liaison.identity.people import COLUMNS, read_people

    if not source.is_file():
        raise InvalidInput(T("%(source)s is not a file", source=source))
    try:
        people, problems = read_people(source, "person_id")
    except (ValueError, OSError) as error:
        raise InvalidInput(T("%(source)s: %(error)s", source=source, error=str(error))) from error
    usable = people[people["person_id"].astype(str).str.strip() != ""]
    usable = usable[
        (usable[list(COLUMNS)].astype(str).apply(lambda c: c.str.strip()) != "").any(axis=1)
    ]
    if usable.empty:
        raise InvalidInput(
            T("%(source)s holds no usable registry record (an id and any field)", source=source)
        )
    matcher = Matcher.train(people)
    stamp = utcnow()
    name = f"registry-{stamp:%Y%m%dT%H%M%S%f}"
    directory = _directory(node)
    buffer = io.BytesIO()
    people.to_parquet(buffer, index=False)
    keyring = keyring_of(node)
    _write_whole(directory / f"{name}{SEALED}", keyring.seal_bytes(buffer.getvalue(), name))
    matcher.save(directory / f"{name}{MODEL}")
    row = RegistryImport(
        imported_at=stamp,
        source=str(source)[:500],
        file=name,
        people=len(people),
        problems=len(problems),
        imported_by=actor.name,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor,
        RegistryImported(
            record_id=row.id, source=source.name[:200], people=len(people), problems=len(problems)
        ),
    )
    session.commit()
    for old in directory.iterdir():
        if not old.name.startswith(name):
            old.unlink(missing_ok=True)
    return ImportResult(len(people), problems, stamp, name)


@lru_cache(maxsize=1)
def _loaded(directory: Path, name: str) -> Any:
    """The extract and its model, read once per import (the newest import is the one used)."""
    import pandas as pd

    from liaison.identity.matching import Matcher

    sealed = (directory / f"{name}{SEALED}").read_bytes()
    people = pd.read_parquet(io.BytesIO(Keyring.of(directory.parent).open_bytes(sealed, name)))
    return Matcher.load(directory / f"{name}{MODEL}", people)


def _request_frame(case_id: str, subject: dict[str, Any]) -> pd.DataFrame:
    import pandas as pd

    from liaison.identity.people import COLUMNS, prepare_people

    row = {"request_id": case_id, **{c: subject.get(c, "") for c in COLUMNS}}
    frame, _problems = prepare_people(pd.DataFrame([row], dtype=str), "request_id")
    return frame


def candidates(
    session: Session,
    node: rules.VerificationNode,
    actor: Actor,
    case_id: int,
    why: str | None,
    k: int = DEFAULT_CANDIDATES,
) -> list[RankedCandidate]:
    """The case's ranked candidates from the registry extract, each with the evidence per
    field and the registry record; on the verifying node; audited with who and why."""
    from liaison.identity.people import COLUMNS

    why = check_why(why)
    case = get_case(session, case_id)
    if rules.side_of(case, node.name) is not rules.Side.VERIFYING:
        raise InvalidInput(T("candidates are found on the verifying node, from its registry"))
    if case.subject_sealed is None:
        raise NotFound(T("case %(case_id)s has no personal data (purged)", case_id=case_id))
    current = current_registry(session)
    if current is None:
        raise NotFound(T("no registry extract is imported here (liaison registry import)"))
    keyring = keyring_of(node)
    subject = keyring.open(case.subject_sealed, case.global_id)["subject"]
    from liaison.identity.passport import read_passport_mrz

    # A passport MRZ fills what the request left empty, and is compared with each candidate.
    mrz = (
        read_passport_mrz(subject["passport_mrz"], utcnow().date())
        if subject.get("passport_mrz")
        else None
    )
    matcher = _loaded(_directory(node), current.file)
    found = matcher.match(
        _request_frame(case.global_id, subject if mrz is None else mrz.fill(subject)), k=k
    )
    registry = matcher.registry.set_index("person_id", drop=False)
    record(
        session,
        actor,
        PersonalDataRead(record_id=case.global_id, what="candidates", why=why),
    )
    ranked = []
    for c in found:
        person = {
            column: "" if str(value) in ("nan", "None") else str(value)
            for column, value in registry.loc[c.person_id, ["person_id", *COLUMNS]].items()
        }
        evidence = dict(c.evidence)
        if mrz is not None:
            evidence.update(mrz.compare(person, subject.get("documents")))
        ranked.append(
            RankedCandidate(c.person_id, c.match_probability, c.match_weight, evidence, person)
        )
    return ranked
