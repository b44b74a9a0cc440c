"""Streaming readers for the bureau's rosters: CSV (UTF-8 with or without BOM, GBK/GB18030) and .xlsx; and
`formula_safe`, through which every cell of every CSV or Excel file we write goes.

Rows are numbered as the user sees them in Excel or WPS: the header is row 1. Blank rows keep their number
and are skipped. Memory stays constant: a CSV is read in chunks, a workbook through openpyxl's read-only
(streaming) mode.

A file is hostile until read: its first bytes must be what its extension says (an .xlsx is a zip, a CSV is
text); an .xlsx's zip directory is checked against size limits before a byte is decompressed (an .xlsx of 1 MB
can expand to gigabytes); no cell may be longer than Excel allows, no file
larger than MAX_FILE_BYTES, no table longer than MAX_ROWS (Excel's own limit). Whatever fails, the reader raises
`TableError` with the reason in Chinese, never a parser's own exception.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.catalogue import t
from bot.store.cells import Cell

_CHUNK = 1 << 20
_MiB = 1 << 20

# Limits of an .xlsx, checked on its zip directory before anything is decompressed. Worksheets are streamed:
# 512 MiB is a roster of some 1,400,000 rows. Every other part (shared strings, styles, ...) is read whole
# into memory by openpyxl: 128 MiB of shared strings is some 3,000,000 distinct cells.
MAX_XLSX_TOTAL = 640 * _MiB
MAX_XLSX_SHEET = 512 * _MiB
MAX_XLSX_PART = 128 * _MiB
MAX_XLSX_PARTS = 1000
# Real parts compress 2 to 10 times (XML of a roster about 8); a bomb, a thousand times.
MAX_XLSX_RATIO = 100
_RATIO_FROM = _MiB  # tiny parts may compress better: the ratio is checked from this size on
_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
MAX_CELL_CHARS = 32_767  # Excel's own limit on a cell
# Excel's own limit on rows (header included): a longer table is not a sheet anyone saved, and its first pass
# would hold a key per row. A county's roster is a few hundred thousand.
MAX_ROWS = 1_048_576
# The file on disk, checked before a byte is read: a roster CSV of MAX_ROWS rows is some 100 MB.
MAX_FILE_BYTES = 512 * _MiB

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (and other old Office files)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


class TableError(ValueError):
    """The file as a whole cannot be read (format, encoding, size, no header); the message is for staff."""


def formula_safe(value: object) -> object:
    """A cell as it may be written to a CSV or Excel file staff will open: text that a spreadsheet would take
    for a formula (starting with = + - @, a tab or a line break) is prefixed with a single quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def detect_encoding(path: Path) -> str:
    """utf-8-sig when there is a BOM; utf-8 when the whole file decodes as UTF-8; else GB18030 (⊃ GBK)."""
    with path.open("rb") as f:
        head = f.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := f.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


class _CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read through it (progress of a CSV pass)."""

    def __init__(self, raw: io.BufferedReader):
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.raw.close()
        super().close()

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n or 0


@dataclass
class Table:
    """One pass over a table file: `header`, then `rows()` of (row number, cells); `position`/`size` for
    progress (bytes for CSV, rows for a workbook)."""

    path: Path
    header: list[str]
    size: int | None
    _rows: Iterator[tuple[int, list[Cell]]]
    _position: Any

    def rows(self) -> Iterator[tuple[int, list[Cell]]]:
        return self._rows

    @property
    def position(self) -> int:
        return self._position()


def _is_blank(cells: list[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _is_header(cells: list[Cell] | tuple[Cell, ...]) -> bool:
    """A row that can be the header: two or more cells filled (every kind of roster needs two columns). A
    single filled cell above it is the sheet's title (陵川县2025年度…名册, merged across the top for printing)."""
    return sum(not _is_blank([c]) for c in cells) >= 2


def _check_length(row: int, cells: list[Cell] | tuple[Cell, ...]) -> None:
    if any(isinstance(c, str) and len(c) > MAX_CELL_CHARS for c in cells):
        raise TableError(t("import.table.cell_too_long", row=row, most=MAX_CELL_CHARS))


def _check_rows(row: int) -> None:
    if row > MAX_ROWS:
        raise TableError(t("import.table.too_many_rows", most=MAX_ROWS))


def _delimiter(path: Path, encoding: str) -> str:
    """Comma, or tab / semicolon when the header line has more of those (exports from other systems)."""
    with path.open(encoding=encoding, errors="ignore", newline="") as f:
        for line in f:
            if line.strip():
                return max((",", "\t", ";"), key=line.count)
    return ","


def _csv_table(path: Path, encoding: str, closers: list[Any]) -> Table:
    delimiter = _delimiter(path, encoding)
    counter = _CountingReader(path.open("rb"))
    text = io.TextIOWrapper(io.BufferedReader(counter, _CHUNK), encoding=encoding, newline="")
    closers.append(text)
    reader = csv.reader(text, delimiter=delimiter)
    header: list[str] | None = None
    try:
        for cells in reader:
            if _is_header(cells):
                header = [c.strip() for c in cells]
                break
    except csv.Error as exc:
        raise TableError(t("import.table.csv_header", error=exc)) from exc
    if header is None:
        raise TableError(t("import.table.no_header"))
    _check_length(reader.line_num, header)
    # csv.reader counts records; quoted fields may span lines but are one row in a spreadsheet.
    first = reader.line_num

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        try:
            for n, cells in enumerate(reader, start=first + 1):
                _check_rows(n)
                _check_length(n, cells)
                if not _is_blank(cells):
                    yield n, cells
        except csv.Error as exc:  # a field over csv.field_size_limit() (128 KiB), an unclosed quote at the end
            raise TableError(t("import.table.csv_row", row=reader.line_num, error=exc)) from exc

    return Table(path, header, path.stat().st_size, rows(), lambda: counter.count)


def _worksheet_parts(archive: zipfile.ZipFile) -> set[str]:
    """The parts [Content_Types].xml declares worksheets (streamed; every other part is read whole)."""
    from defusedxml.ElementTree import fromstring

    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        raise TableError(t("import.table.no_content_types")) from None
    if info.file_size > _MiB:
        raise TableError(t("import.table.content_types_huge"))
    root = fromstring(archive.read(info))
    return {el.get("PartName", "").lstrip("/") for el in root
            if el.tag.endswith("Override") and el.get("ContentType") == _WORKSHEET_TYPE}


def _check_xlsx(path: Path) -> None:
    """Refuse an .xlsx whose zip directory declares too much (see MAX_XLSX_*): nothing is decompressed but
    [Content_Types].xml (at most 1 MiB). zipfile never yields more than a part's declared size."""
    with zipfile.ZipFile(path) as archive:
        parts = archive.infolist()
        if len(parts) > MAX_XLSX_PARTS:
            raise TableError(t("import.table.too_many_parts", parts=len(parts), most=MAX_XLSX_PARTS))
        for p in parts:
            if p.file_size > _RATIO_FROM and p.file_size > MAX_XLSX_RATIO * max(p.compress_size, 1):
                ratio = p.file_size // max(p.compress_size, 1)
                raise TableError(t("import.table.zip_bomb", part=p.filename, ratio=ratio))
        total = sum(p.file_size for p in parts)
        if total > MAX_XLSX_TOTAL:
            raise TableError(t("import.table.too_large", mib=total // _MiB, most=MAX_XLSX_TOTAL // _MiB))
        sheets = _worksheet_parts(archive)
        for p in parts:
            limit = MAX_XLSX_SHEET if p.filename in sheets else MAX_XLSX_PART
            if p.file_size > limit:
                raise TableError(t("import.table.part_too_large", part=p.filename, mib=p.file_size // _MiB,
                                   most=limit // _MiB))



MAX_MERGES = 10_000  # merged areas of a sheet: a roster has one per township or village at most
_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3})([0-9]{1,7}):([A-Z]{1,3})([0-9]{1,7})"')
_MERGE_OVERLAP = 256  # bytes kept between chunks, so an element cut by a chunk boundary is still found


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _merged_ranges(archive: zipfile.ZipFile, part: str) -> list[tuple[int, int, int, int]]:
    """The sheet's merged areas as (first row, last row, first column, last column), 1-based. Read-only mode
    does not give them (they follow the rows in the XML): one pass over the part, at most as large as
    _check_xlsx allowed, looking only for <mergeCell ref="...">."""
    found: set[tuple[int, int, int, int]] = set()
    tail = b""
    with archive.open(part) as f:
        while chunk := f.read(_CHUNK):
            data = tail + chunk
            for m in _MERGE_CELL.finditer(data):
                c0, r0, c1, r1 = _column(m[1]), int(m[2]), _column(m[3]), int(m[4])
                found.add((min(r0, r1), max(r0, r1), min(c0, c1), max(c0, c1)))
                if len(found) > MAX_MERGES:
                    raise TableError(t("import.table.too_many_merges", most=MAX_MERGES))
            tail = data[-_MERGE_OVERLAP:]
    return sorted(found)


class _Merges:
    """Merged areas below the header, filled in as the sheet shows them: every cell of an area holds the
    value of its first cell (a township's name merged down over its residents)."""

    def __init__(self, ranges: list[tuple[int, int, int, int]], header_row: int):
        self.pending = [r for r in ranges if r[1] > header_row and r != (r[0], r[0], r[2], r[2])]
        self.pending.sort(reverse=True)  # popped from the end in row order
        self.active: list[tuple[tuple[int, int, int, int], Cell]] = []

    def fill(self, row: int, cells: list[Cell]) -> list[Cell]:
        if not self.pending and not self.active:
            return cells
        self.active = [(area, value) for area, value in self.active if area[1] >= row]
        while self.pending and self.pending[-1][0] <= row:
            area = self.pending.pop()
            if area[1] >= row:
                first = area[2] - 1
                self.active.append((area, cells[first] if area[0] == row and first < len(cells) else None))
        for (_, _, c0, c1), value in self.active:
            if value is None:
                continue
            if len(cells) < c1:
                cells.extend([None] * (c1 - len(cells)))
            for c in range(c0 - 1, c1):
                if cells[c] is None:
                    cells[c] = value
        return cells


def _xlsx_table(path: Path, closers: list[Any]) -> Table:
    from openpyxl import load_workbook

    # Anything openpyxl, zipfile, zlib or the XML parser raise on a damaged file (BadZipFile, ParseError,
    # KeyError, IndexError, ...) is the file's fault here, not ours: it becomes a TableError.
    try:
        _check_xlsx(path)
        wb = load_workbook(path, read_only=True, data_only=True)
        closers.append(wb)
        if not wb.worksheets:
            raise TableError(t("import.table.no_sheet"))
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header: list[str] | None = None
        number = 0
        for cells in it:
            number += 1
            _check_rows(number)
            if _is_header(cells):
                header = ["" if c is None else str(c).strip() for c in cells]
                break
        merges = _Merges(_merged_ranges(wb._archive, ws._worksheet_path), number)
        size = ws.max_row  # as the sheet declares it (<dimension>): checked here, counted below
        if size is not None:
            _check_rows(size)
    except TableError:
        raise
    except zipfile.BadZipFile as exc:
        raise TableError(t("import.table.bad_zip")) from exc
    except Exception as exc:
        raise TableError(t("import.table.corrupt")) from exc
    if header is None:
        others = "、".join(f"“{sheet.title}”" for sheet in wb.worksheets[1:]) or t("import.table.no_other_sheet")
        raise TableError(t("import.table.empty_sheet", sheet=ws.title, others=others))
    _check_length(number, header)
    state = {"n": number}

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        while True:
            try:
                cells = next(it, None)
            except Exception as exc:
                corrupt = t("import.table.corrupt")
                raise TableError(t("import.table.corrupt_at", row=state["n"] + 1, corrupt=corrupt)) from exc
            if cells is None:
                return
            state["n"] += 1
            _check_rows(state["n"])
            values = merges.fill(state["n"], list(cells))
            _check_length(state["n"], values)
            if not _is_blank(values):
                yield state["n"], values

    return Table(path, header, size, rows(), lambda: state["n"])


_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # a stream of a password-protected workbook


def _names_encrypted_package(path: Path) -> bool:
    """An OLE compound file that holds an EncryptedPackage: an .xlsx saved with an open password (the
    directory may be anywhere in the file: the file, at most MAX_FILE_BYTES, is scanned)."""
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            if _ENCRYPTED_PACKAGE in tail + chunk:
                return True
            tail = chunk[-len(_ENCRYPTED_PACKAGE):]
    return False


def _sniff(path: Path, suffix: str) -> None:
    """Refuse a file whose first bytes are not what its extension says."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise TableError(t("import.table.file_too_large", mib=size // _MiB, most=MAX_FILE_BYTES // _MiB))
    with path.open("rb") as f:
        head = f.read(1 << 16)
    if not head:
        raise TableError(t("import.table.zero_bytes"))
    is_xlsx = suffix in {".xlsx", ".xlsm"}
    if head.startswith(_OLE_MAGIC):
        raise TableError(t("import.table.encrypted" if _names_encrypted_package(path) else "import.table.xls_content"))
    if is_xlsx and not head.startswith(_ZIP_MAGIC):
        raise TableError(t("import.table.not_a_zip"))
    if not is_xlsx and head.startswith(_ZIP_MAGIC):
        raise TableError(t("import.table.xlsx_misnamed", suffix=suffix or t("import.table.no_suffix")))
    if not is_xlsx and b"\x00" in head:
        raise TableError(t("import.table.binary"))


@contextmanager
def open_table(path: Path, encoding: str | None = None) -> Iterator[Table]:
    """`with open_table(path) as table:` one streaming pass over a .csv or .xlsx file."""
    closers: list[Any] = []
    suffix = path.suffix.lower()
    try:
        if suffix == ".xls":
            raise TableError(t("import.table.xls_suffix"))
        _sniff(path, suffix)
        if suffix in {".xlsx", ".xlsm"}:
            table = _xlsx_table(path, closers)
        else:
            encoding = encoding or detect_encoding(path)
            try:
                table = _csv_table(path, encoding, closers)
            except UnicodeDecodeError as exc:
                raise TableError(t("import.table.encoding", encoding=encoding)) from exc
        yield table
    finally:
        for closer in reversed(closers):
            closer.close()
