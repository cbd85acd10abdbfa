"""Bulk screening: read records from files or a stream, screen them over a process pool, in
input order, with memory that stays flat whatever the input size."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, partial
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from liaison.chem.compiled import load_rulebook, prefilter_for
from liaison.chem.identify import NO_MATCH_NOTE, judge, parse_for_screening, parse_safely
from liaison.chem.isolation import Failure, WorkerPool
from liaison.chem.limits import CX_EXTENSION, Limits
from liaison.chem.models import COMBINED, Identification, Verdict
from liaison.chem.query import ParsedQuery
from liaison.errors import InvalidInput
from liaison.messages import T

STRUCTURE_COLUMNS = ("smiles", "structure", "query")
ID_COLUMNS = ("id", "name")
SUPPORTED = ".smi, .smiles, .csv, .xlsx, .parquet, .sdf, .txt or - (standard input)"
TABLE_FILES = (".xlsx", ".parquet")  # read by read_records, not as text
CHUNK = 256  # records per task: large enough to amortize pickling, small enough to stream


@dataclass(frozen=True)
class Record:
    id: str
    input: str  # what the user gave, as shown in the output
    query: str  # the text identify() parses (the MOL block for SDF records)
    problem: str | None = None  # why the record cannot be read at all, found by the reader
    # The input's other columns (CSV, .xlsx), carried through to the results; never judged.
    columns: tuple[tuple[str, str], ...] = ()


class Screened(NamedTuple):
    """One screened record as the pool hands it back (a tuple: cheap to pickle). Output lines
    are rendered in the worker so the parent, which writes every line in order, only writes
    strings."""

    statuses: tuple[str, ...]  # one per jurisdiction code, in the order asked
    flagged: bool  # any status other than no_match
    line: str  # the jsonl or csv line, when asked to render one, else ""
    record: dict[str, Any]  # Identification.to_dict(), empty unless kept
    svgs: dict[str, str]  # depictions of flagged records, when asked


def _lines(handle: TextIO) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(handle, start=1):
        text = line.strip()
        if text:
            yield number, text


def _smiles_records(handle: TextIO, label: str) -> Iterator[Record]:
    """`SMILES [id]` per line; a CXSMILES extension (`SMILES |...| id`) stays with the SMILES."""
    for number, text in _lines(handle):
        parts = text.split(None, 1)
        rest = parts[1].strip() if len(parts) > 1 else ""
        if rest.startswith("|") and rest.count("|") >= 2:
            end = rest.index("|", 1) + 1
            extended = f"{parts[0]} {rest[:end]}"
            if CX_EXTENSION.fullmatch(extended):
                parts[0], rest = extended, rest[end:].strip()
        yield Record(rest or f"{label}:{number}", parts[0], parts[0])


def _text_records(handle: TextIO, label: str) -> Iterator[Record]:
    for number, text in _lines(handle):
        yield Record(f"{label}:{number}", text, text)


def _sdf_records(handle: TextIO, label: str) -> Iterator[Record]:
    """One record per $$$$-terminated block; a block that does not parse is one invalid record."""
    block: list[str] = []
    number = 0
    for line in handle:
        if line.strip() == "$$$$":
            number += 1
            yield _sdf_record(block, label, number)
            block = []
        else:
            block.append(line)
    if any(line.strip() for line in block):
        number += 1
        yield _sdf_record(block, label, number)


def _sdf_record(block: list[str], label: str, number: int) -> Record:
    text = "".join(block)
    title = block[0].strip() if block else ""
    ident = title
    for index, line in enumerate(block):
        tag = line.lower()
        named = line.startswith(">") and ("<id>" in tag or "<name>" in tag)
        if named and index + 1 < len(block) and block[index + 1].strip():
            ident = block[index + 1].strip()
            break
    shown = title or f"{label} record {number}"
    if "M  END" not in text:
        problem = f"{label} record {number}: no 'M  END' line, not a MOL block"
        return Record(ident or f"{label}:{number}", shown, "", problem)
    molblock = text.split("M  END")[0] + "M  END\n"
    return Record(ident or f"{label}:{number}", shown, molblock)


def open_input(
    source: str,
) -> tuple[TextIO, Callable[[TextIO, str], Iterator[Record]], str, str]:
    """(stream, reader, label, encoding) for one INPUT argument (not .xlsx); usage errors
    raise InvalidInput."""
    from liaison.chem.inputs import csv_records, open_text

    if source == "-":
        return sys.stdin, _text_records, "stdin", sys.stdin.encoding
    path = Path(source)
    suffix = path.suffix.lower()
    readers: dict[str, Callable[[TextIO, str], Iterator[Record]]] = {
        ".smi": _smiles_records,
        ".smiles": _smiles_records,
        ".csv": csv_records,
        ".sdf": _sdf_records,
        ".txt": _text_records,
    }
    if suffix not in readers and suffix not in TABLE_FILES:
        raise InvalidInput(
            T(
                "%(source)s: unsupported input type %(value)s; use %(supported)s",
                source=source,
                value=suffix or "(none)",
                supported=SUPPORTED,
            )
        )
    if not path.is_file():
        raise InvalidInput(T("%(source)s: no such file", source=source))
    if suffix in TABLE_FILES:
        raise InvalidInput(
            T(
                "%(source)s: a %(suffix)s file is read by read_records, not as text",
                source=source,
                suffix=suffix,
            )
        )
    try:
        handle, encoding = open_text(path)
    except OSError as error:
        raise InvalidInput(
            T("%(source)s: cannot be read (%(strerror)s)", source=source, strerror=error.strerror)
        ) from error
    return handle, readers[suffix], path.name, encoding


def read_records(
    sources: list[str], on_open: Callable[[str, str], None] | None = None
) -> Iterator[Record]:
    """Records of every source in order; files are opened one at a time. `on_open(label,
    encoding)` is told the encoding each text file was detected in."""
    for source in sources or ["-"]:
        if source != "-" and Path(source).suffix.lower() in TABLE_FILES:
            from liaison.chem.inputs import parquet_records, xlsx_records

            path = Path(source)
            if not path.is_file():
                raise InvalidInput(T("%(source)s: no such file", source=source))
            table = xlsx_records if path.suffix.lower() == ".xlsx" else parquet_records
            yield from table(path, path.name)
            continue
        handle, reader, label, encoding = open_input(source)
        if on_open is not None:
            on_open(label, encoding)
        try:
            yield from reader(handle, label)
        finally:
            if handle is not sys.stdin:
                handle.close()


def count_records(sources: list[str]) -> int | None:
    """Roughly how many records the files hold (for the progress bar); None for stdin."""
    total = 0
    for source in sources:
        if source == "-":
            return None
        path = Path(source)
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            total += pq.ParquetFile(path).metadata.num_rows
            continue
        with path.open("rb") as handle:
            if path.suffix.lower() == ".xlsx":
                return None  # rows of a zipped workbook cannot be counted cheaply
            if path.suffix.lower() == ".sdf":
                total += sum(1 for line in handle if line.strip() == b"$$$$")
            else:
                total += sum(1 for line in handle if line.strip())
    return total


# ----------------------------------------------------------------------------- workers


@dataclass(frozen=True)
class ScreenSettings:
    """What every record of a run is screened with; sent to the workers with each chunk."""

    as_of: date
    codes: tuple[str, ...]
    depict: bool
    render: str | None  # "jsonl" | "csv" | None: the output line made in the worker
    keep: str  # "all" | "flagged" | "none": which records come back as dicts too
    limits: Limits
    # The pictures' legends' language (picklable: it crosses to the workers); English as
    # the engine writes it by default.
    translate: Callable[[str], str] = str


def _warm_up_translating(translate: Callable[[str], str]) -> None:
    """`warm_up`, and the legends' translation made ready (its module imported, its catalogs
    read): before the time limit counts, not in the first record's time."""
    warm_up()
    translate("")


def warm_up() -> None:
    """Load the rules and build the prefilter before the first record (in each worker)."""
    prefilter_for(load_rulebook())


def _screened(settings: ScreenSettings, identification: Identification) -> Screened:
    codes = settings.codes
    statuses = tuple([identification.verdicts[code].status for code in codes])
    flagged = statuses != ("no_match",) * len(codes)
    keep = settings.keep == "all" or (settings.keep == "flagged" and flagged)
    if settings.render and not keep and not flagged and _nothing_matched(identification):
        line = _no_match_writer(settings)(
            identification.id, identification.query, identification.query_kind
        )
        return Screened(statuses, False, line, {}, {})
    svgs: dict[str, str] = {}
    if flagged and settings.depict:
        from liaison.chem.depict import depict_combined  # RDKit's drawing code: only for reports

        # One picture per record, every jurisdiction's regions in it (reports and the page).
        svgs = {COMBINED: depict_combined(identification, codes, settings.translate)}
    data = identification.to_dict() if keep or settings.render else {}
    line = ""
    if settings.render == "jsonl":
        line = json.dumps(data, ensure_ascii=False) + "\n"
    elif settings.render == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerow([spreadsheet_safe(cell) for cell in csv_row(data, codes)])
        line = buffer.getvalue()
    return Screened(statuses, flagged, line, data if keep else {}, svgs)


# Records and answers cross the pipe as plain tuples: six times cheaper to pickle than the
# dataclass and the named tuple, which matters at thousands of records a second.
Wire = tuple[Any, ...]
# Engine pools a caller keeps between calls of screen_records, by what they were made for.
EnginePools = dict[tuple[ScreenSettings, int, str], WorkerPool[Wire, Wire | str]]


def _screen_wire(settings: ScreenSettings, item: Wire) -> Wire | str:
    """The answer for one record (a plain tuple of Screened); for a record the prefilter rules
    out when no dict is kept, most of a catalogue, only its query kind (a short str): the
    parent, which holds the record, writes its line. No Identification, no verdict objects,
    no line through the pipe."""
    ident, shown, query, problem = item
    book = load_rulebook()
    parsed: ParsedQuery | str
    if problem is not None:
        parsed = ParsedQuery("molblock", None, problem)
    elif settings.render is not None and settings.keep != "all":
        parsed = parse_for_screening(query, book, settings.limits)
        if isinstance(parsed, str):
            return parsed
    else:
        parsed = parse_safely(query, book, settings.limits)
    identification = judge(
        parsed,
        shown,
        settings.as_of,
        settings.codes,
        book,
        record_id=ident,
        thorough=False,
        limits=settings.limits,
    )
    return tuple(_screened(settings, identification))


# Per settings (frozen, so hashable): a worker's general path asks for it with every record
# no rule matched; a worker receives its settings again with each chunk, equal to the last
# (but for a `translate` compared by identity, such as a partial: then once per chunk).
@lru_cache(maxsize=8)
def _no_match_writer(settings: ScreenSettings) -> Callable[[str | None, str, str], str]:
    """(id, shown, query kind) -> the jsonl or csv line of a record no rule matched: the very
    text the general path writes. The part the same for every such record is made here, once,
    not per line."""
    if settings.render == "csv":
        # csv.writer quotes each cell on its own, so the cells after id and input are written
        # once; "\r\n" ends the two written per line.
        csv_tail = _no_match_csv_tail(settings.as_of, settings.codes)

        def csv_line(ident: str | None, shown: str, kind: str) -> str:
            head = _csv_line([spreadsheet_safe(ident or ""), spreadsheet_safe(shown or "")])
            return f"{head[:-2]},{csv_tail}"

        return csv_line
    tail = _no_match_tail(settings.as_of, settings.codes)

    def jsonl_line(ident: str | None, shown: str, kind: str) -> str:
        # encode_basestring is json.dumps(text, ensure_ascii=False) without its per-call
        # set-up, which costs more than the string itself here.
        quoted = "null" if ident is None else encode_basestring(ident)
        shown = encode_basestring(shown)
        return f'{{"id": {quoted}, "input": {shown}, "query_kind": "{kind}", {tail}'

    return jsonl_line


class _CsvLine:
    """csv.writer over a buffer that is emptied for every line: one writer per process."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)

    def __call__(self, cells: list[str]) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(cells)
        return self.buffer.getvalue()


_csv_line = _CsvLine()


def _failed_wire(settings: ScreenSettings, item: Wire, failure: Failure) -> Wire:
    return tuple(_failed(settings, Record(*item), failure))


def _failed(settings: ScreenSettings, record: Record, failure: Failure) -> Screened:
    """The record whose worker crashed or ran out of time: invalid, saying so."""
    error = f"{failure.reason}; nothing was judged"
    verdicts = {code: Verdict("invalid", [], error) for code in settings.codes}
    identification = Identification(
        record.input, "unknown", verdicts, error=error, id=record.id, as_of=settings.as_of
    )
    return _screened(settings, identification)


def _nothing_matched(identification: Identification) -> bool:
    return (
        identification.error is None
        and not identification.notes
        and all(
            verdict.status == "no_match"
            and not verdict.basis
            and verdict.explanation == NO_MATCH_NOTE
            for verdict in identification.verdicts.values()
        )
    )


@lru_cache(maxsize=8)
def _no_match_tail(as_of: date, codes: tuple[str, ...]) -> str:
    """The end of the jsonl line of a record no rule matched: the same for every such record."""
    verdict = Verdict("no_match", [], NO_MATCH_NOTE).to_dict()
    verdicts = json.dumps(dict.fromkeys(codes, verdict), ensure_ascii=False)
    return f'"as_of": "{as_of.isoformat()}", "verdicts": {verdicts}, "error": null, "notes": []}}\n'


@lru_cache(maxsize=8)
def _no_match_csv_tail(as_of: date, codes: tuple[str, ...]) -> str:
    """The csv cells after id and input of a record no rule matched, with the line's end."""
    record = {"verdicts": dict.fromkeys(codes, Verdict("no_match").to_dict())}
    row = csv_row({**record, "as_of": as_of.isoformat()}, codes)[2:]
    return _csv_line([spreadsheet_safe(cell) for cell in row])


def _chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def screen_records(
    records: Iterable[Record],
    as_of: date,
    codes: tuple[str, ...],
    *,
    jobs: int | None = None,
    depict: bool = False,
    render: str | None = None,
    keep: str = "all",
    chunk_size: int = CHUNK,
    limits: Limits | None = None,
    start_method: str = "fork",
    translate: Callable[[str], str] = str,
    pools: EnginePools | None = None,
) -> Iterator[Screened]:
    """Screen `records` in input order, in worker processes (one with jobs=1): a record that
    crashes its worker or runs past limits.seconds is an invalid record saying so, and the
    run goes on. A bounded number of chunks is in flight, so memory stays flat however long
    the input is. render: "jsonl" | "csv" | None, the output line made in the worker; keep:
    "all" | "flagged" | "none", which records come back as dicts too. start_method
    "forkserver" for a caller that runs threads (the node). translate: the language of the
    pictures' legends (the web layer's `language_translator()`). pools: where a caller that
    screens many inputs with the same settings (a Dask worker, partition after partition)
    keeps the engine processes between calls: taken from there, made and put there the
    first time, and left running (the caller closes them)."""
    workers = jobs or os.cpu_count() or 1
    settings = ScreenSettings(as_of, codes, depict, render, keep, limits or Limits(), translate)
    warm_up()  # built once here; forked workers inherit it
    if sys.platform == "win32":
        start_method = "spawn"
    key = (settings, workers, start_method)
    pool = None if pools is None else pools.get(key)
    if pool is None:
        pool = WorkerPool(
            workers,
            settings.limits.seconds,
            partial(_failed_wire, settings),
            warm_up=warm_up if translate is str else partial(_warm_up_translating, translate),
            start_method=start_method,
        )
        if pools is not None:
            pools[key] = pool
    function = partial(_screen_wire, settings)
    try:
        with ThreadPoolExecutor(workers) as feeders:
            pending: deque[tuple[Future[list[Wire | str]], list[Record]]] = deque()
            no_match_line = _no_match_writer(settings)
            for chunk in _chunks(records, chunk_size):
                items = [(r.id, r.input, r.query, r.problem) for r in chunk]
                future = feeders.submit(pool.run, function, items, batch=chunk_size)
                pending.append((future, chunk))
                while len(pending) >= workers * 3:
                    yield from _answers(*_done(pending.popleft()), no_match_line, settings)
            while pending:
                yield from _answers(*_done(pending.popleft()), no_match_line, settings)
    finally:
        if pools is None:
            pool.close()


def _done(
    pending: tuple[Future[list[Wire | str]], list[Record]],
) -> tuple[list[Wire | str], list[Record]]:
    return pending[0].result(), pending[1]


def _answers(
    replies: list[Wire | str],
    chunk: list[Record],
    no_match_line: Callable[[str | None, str, str], str],
    settings: ScreenSettings,
) -> Iterator[Screened]:
    no_match = ("no_match",) * len(settings.codes)
    # tuple.__new__, not Screened(...) or ._make: those are Python functions around it, a
    # third of this loop's cost for the records the prefilter rules out.
    new = tuple.__new__
    for reply, record in zip(replies, chunk, strict=True):
        if type(reply) is str:  # ruled out by the prefilter: reply is the query kind
            line = no_match_line(record.id, record.input, reply)
            screened = new(Screened, (no_match, False, line, {}, {}))
        else:
            screened = new(Screened, reply)
        if record.columns:
            screened = _with_columns(screened, record.columns, settings.render)
        yield screened


def _with_columns(
    screened: Screened, columns: tuple[tuple[str, str], ...], render: str | None
) -> Screened:
    """The input's other columns added to the answer (they never reach the workers): a
    "columns" object at the end of the jsonl line and of the dict, cells after the csv row."""
    values = dict(columns)
    line = screened.line
    if render == "jsonl" and line:
        carried = json.dumps(values, ensure_ascii=False)
        line = f'{line.rstrip().removesuffix("}")}, "columns": {carried}}}\n'
    elif render == "csv" and line:
        buffer = io.StringIO()
        csv.writer(buffer).writerow([spreadsheet_safe(value) for _, value in columns])
        line = line.rstrip("\r\n") + "," + buffer.getvalue()
    record = {**screened.record, "columns": values} if screened.record else screened.record
    return screened._replace(line=line, record=record)


# What makes a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula: record ids and inputs come from the
    screened file, so '=HYPERLINK(...)' is prefixed with a quote (CSV injection)."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def csv_header(codes: tuple[str, ...], columns: Iterable[str] = ()) -> list[str]:
    """The csv columns; the input's other columns (`columns`) come last."""
    parts = ("status", "basis")
    fixed = ["id", "input", *[f"{c}_{part}" for c in codes for part in parts], "error", "as_of"]
    return [*fixed, *columns]


def csv_row(record: dict[str, Any], codes: tuple[str, ...]) -> list[str]:
    row = [str(record.get("id") or ""), str(record.get("input") or "")]
    for code in codes:
        verdict = record["verdicts"][code]
        row += [verdict["status"], short_basis(verdict)]
    row += [record.get("error") or "", record.get("as_of") or ""]
    return row + list(record.get("columns", {}).values())


def short_basis(verdict: dict[str, Any]) -> str:
    """'US-fentanyl (Schedule II)' / 'US-FRS: D, B' — the basis in a few words."""
    parts = []
    for basis in verdict["basis"]:
        if basis["kind"] == "class" and basis["status"] == "review":
            open_regions = [r["region"] for r in basis["regions"] if not r["covered"]]
            parts.append(f"{basis['rule_id']}: review ({', '.join(open_regions)})")
        elif basis["kind"] == "class":
            parts.append(f"{basis['rule_id']}: {', '.join(basis['clauses'])}")
        else:
            parts.append(f"{basis['rule_id']} ({basis['list']})")
    return "; ".join(parts)


def write_csv(out: TextIO, header: list[str]) -> None:
    csv.writer(out).writerow(header)
