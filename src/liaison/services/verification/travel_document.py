"""The travel document of a case, produced by the system as a PDF (fpdf2): its number,
validity, the person as the verifying node confirmed them, and the issuing officer.

Latin text is in the core Helvetica font; runs of other characters (the name in Chinese
characters, a place written in characters) in the CJK TrueType font of liaison.pdf_fonts,
embedded (subset) so that the document prints the same everywhere. That font has no Latin
glyphs, hence the switch run by run.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from liaison.audit import Actor, PersonalDataRead, record
from liaison.errors import Conflict
from liaison.messages import T
from liaison.pdf_fonts import cjk_font_path
from liaison.services.verification import rules
from liaison.services.verification.queries import check_why, get_case
from liaison.services.verification.records import keyring_of
from liaison.store.verification_tables import EventKind, Step

if TYPE_CHECKING:
    from fpdf import FPDF

LINE = 8


def _write_mixed(pdf: FPDF, text: str) -> None:
    """One line of text, each run in the font that has its glyphs."""
    for latin, run in itertools.groupby(text, key=lambda char: ord(char) < 256):
        pdf.set_font("Helvetica" if latin else "cjk", size=11)
        pdf.write(LINE, "".join(run))
    pdf.ln(LINE)


def travel_document_pdf(
    session: Session, node: rules.VerificationNode, actor: Actor, case_id: int, why: str | None
) -> bytes:
    """The PDF of the case's (latest) travel document; audited as a read with why."""
    from fpdf import FPDF

    why = check_why(why)
    case = get_case(session, case_id)
    issued = [
        e for e in case.events if e.kind == EventKind.STEP and e.name == Step.TRAVEL_DOCUMENT_ISSUED
    ]
    if not issued:
        raise Conflict(T("case %(case_id)s has no travel document issued", case_id=case_id))
    if case.subject_sealed is None:
        raise Conflict(
            T(
                "case %(case_id)s was purged; its travel document cannot be produced",
                case_id=case_id,
            )
        )
    keyring = keyring_of(node)
    event = issued[-1]
    data = {} if event.data_sealed is None else keyring.open(event.data_sealed, event.global_id)
    subject = keyring.open(case.subject_sealed, case.global_id)["subject"]
    pdf = FPDF(format="A4")
    pdf.set_title(f"Travel document {data.get('number', '')}")
    pdf.set_creator("Liaison")
    pdf.set_author(f"{event.author} ({event.author_agency})")
    pdf.add_font("cjk", fname=str(cjk_font_path()))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 12, "Travel document (return)", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    name = " ".join(v for v in (subject.get("family_name"), subject.get("given_name")) if v)
    native = "".join(
        v for v in (subject.get("family_name_native"), subject.get("given_name_native")) if v
    )
    rows = [
        ("Document number", data.get("number", "")),
        ("Valid until", data.get("valid_until", "")),
        ("Name", name),
        ("Name in characters", native),
        ("Date of birth", subject.get("date_of_birth", "")),
        ("Place of birth", subject.get("place_of_birth", "")),
        ("Sex", subject.get("sex", "")),
        ("Issued by", f"{event.author} ({event.author_agency}), node {event.owner_node}"),
        ("Issued on", f"{event.created_at:%Y-%m-%d %H:%M} UTC"),
        ("Case", f"{case.reference} / {case.global_id}"),
    ]
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(50, LINE, label)
        _write_mixed(pdf, str(value))
    record(
        session, actor, PersonalDataRead(record_id=case.global_id, what="travel_document", why=why)
    )
    return bytes(pdf.output())
