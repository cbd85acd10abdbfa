"""Tables as people save them: CSV in UTF-8 (with or without BOM), UTF-16 or GBK/GB18030, and
Excel .xlsx. The encoding is detected (and reported), the structure column found by name, and
every other column carried through to the results.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from liaison.chem.bulk import ID_COLUMNS, STRUCTURE_COLUMNS, Record
from liaison.errors import InvalidInput
from liaison.messages import T

# Column names as Chinese tables write them, after those `liaison screen` has always read.
TABLE_STRUCTURE_COLUMNS = (*STRUCTURE_COLUMNS, "结构", "结构式")
TABLE_ID_COLUMNS = (*ID_COLUMNS, "编号", "名称")
SAMPLE_BYTES = 256 * 1024  # enough text to tell GB18030 from Latin-1 and the like
PARQUET_BATCH = 8192  # rows read from a Parquet file at a time
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# charset-normalizer names the narrowest Chinese code page that fits the sample; the rest of
# the file may use characters of the wider one (GB18030 is a superset of GBK and GB2312).
_WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "hz": "gb18030", "big5": "big5hkscs"}
LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with BOM)",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
    "gb18030": "GB18030 (GBK)",
    "ascii": "ASCII",
}


def detect_encoding(sample: bytes) -> str:
    """The Python codec for bytes that start a text file: a BOM decides, then strict UTF-8,
    then charset-normalizer (Chinese code pages widened to GB18030)."""
    for bom, codec in _BOMS:
        if sample.startswith(bom):
            return codec
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if error.start >= len(sample) - 3 and error.reason == "unexpected end of data":
            return "utf-8"  # the sample cut a character in two
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise InvalidInput(T("the file is not text in any encoding Liaison can detect"))
    codec = codecs.lookup(best.encoding).name
    return _WIDER.get(codec, codec)


def encoding_label(codec: str) -> str:
    """'GB18030 (GBK)', 'UTF-16': what the user is told the file was read as."""
    return LABELS.get(codec, codec.upper())


def open_text(path: Path) -> tuple[TextIO, str]:
    """The file opened as text in its detected encoding, and that encoding."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    codec = detect_encoding(sample)
    # errors="replace": one undecodable byte costs its record a U+FFFD, never the file.
    return path.open(encoding=codec, errors="replace", newline=""), codec


def decode(content: bytes) -> tuple[str, str]:
    """Uploaded bytes as text, and the encoding they were read in."""
    codec = detect_encoding(content[:SAMPLE_BYTES])
    return content.decode(codec, errors="replace"), codec


def table_records(rows: Iterable[list[str]], label: str) -> Iterator[Record]:
    """Records of a table whose first row names the columns: the structure from the first of
    TABLE_STRUCTURE_COLUMNS, the id from TABLE_ID_COLUMNS, every other column kept."""
    iterator = iter(rows)
    header = [cell.strip() for cell in next(iterator, [])]
    fields = {name.lower(): index for index, name in reversed(list(enumerate(header)))}
    structure = next((fields[c] for c in TABLE_STRUCTURE_COLUMNS if c in fields), None)
    if structure is None:
        raise InvalidInput(
            T(
                "%(label)s: no column named %(wanted)s (columns: %(columns)s)",
                label=label,
                wanted=", ".join(TABLE_STRUCTURE_COLUMNS),
                columns=", ".join(header) or "none",
            )
        )
    ident_index = next((fields[c] for c in TABLE_ID_COLUMNS if c in fields), None)
    others = [
        (index, name or f"column {index + 1}")
        for index, name in enumerate(header)
        if index not in (structure, ident_index)
    ]
    for number, row in enumerate(iterator, start=2):
        text = row[structure].strip() if structure < len(row) else ""
        if not text:
            continue
        has_ident = ident_index is not None and ident_index < len(row)
        ident = row[ident_index].strip() if has_ident and ident_index is not None else ""
        columns = tuple((name, row[index] if index < len(row) else "") for index, name in others)
        yield Record(ident or f"{label}:{number}", text, text, columns=columns)


def csv_records(handle: TextIO, label: str) -> Iterator[Record]:
    yield from table_records(csv.reader(handle), label)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an id typed as 12 is stored as 12.0
    return str(value)


def xlsx_rows(source: Path | bytes, label: str) -> Iterator[list[str]]:
    """Rows of the first worksheet of an .xlsx file, as text."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(
            io.BytesIO(source) if isinstance(source, bytes) else source,
            read_only=True,
            data_only=True,  # the values Excel last computed, never formulas
        )
    except Exception as error:  # openpyxl raises zipfile, KeyError and its own errors
        raise InvalidInput(
            T("%(label)s: not an Excel .xlsx workbook (%(error)s)", label=label, error=str(error))
        ) from error
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell(value) for value in row]
    finally:
        workbook.close()


def xlsx_records(source: Path | bytes, label: str) -> Iterator[Record]:
    yield from table_records(xlsx_rows(source, label), label)


def parquet_rows(path: Path, label: str) -> Iterator[list[str]]:
    """Rows of a Parquet file as text, its column names first; read a row group's batch at a
    time, so a file of millions of rows never sits in memory whole."""
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError and others
        raise InvalidInput(
            T("%(label)s: not a Parquet file (%(error)s)", label=label, error=str(error))
        ) from error
    with table:
        yield list(table.schema_arrow.names)
        for batch in table.iter_batches(batch_size=PARQUET_BATCH):
            columns = [column.to_pylist() for column in batch.columns]
            for row in zip(*columns, strict=True):
                yield [_cell(value) for value in row]


def parquet_records(path: Path, label: str) -> Iterator[Record]:
    yield from table_records(parquet_rows(path, label), label)
