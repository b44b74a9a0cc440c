"""Streaming readers for the bureau's rosters: CSV (UTF-8 with or without BOM, GBK/GB18030) and .xlsx.

Rows are numbered as the user sees them in Excel or WPS: the header is row 1. Blank rows keep their number
and are skipped. Memory stays constant: a CSV is read in chunks, a workbook through openpyxl's read-only
(streaming) mode.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.store.cells import Cell

_CHUNK = 1 << 20


class TableError(ValueError):
    """The file as a whole cannot be read (format, encoding, no header)."""


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
    for cells in reader:
        if not _is_blank(cells):
            header = [c.strip() for c in cells]
            break
    if header is None:
        raise TableError("文件为空：没有表头行")
    # csv.reader counts records; quoted fields may span lines but are one row in a spreadsheet.
    first = reader.line_num

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        for n, cells in enumerate(reader, start=first + 1):
            if not _is_blank(cells):
                yield n, cells

    return Table(path, header, path.stat().st_size, rows(), lambda: counter.count)


def _xlsx_table(path: Path, closers: list[Any]) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise TableError(f"无法读取Excel文件：{exc}") from exc
    closers.append(wb)
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header: list[str] | None = None
    number = 0
    for cells in it:
        number += 1
        if not _is_blank(list(cells)):
            header = ["" if c is None else str(c).strip() for c in cells]
            break
    if header is None:
        raise TableError("工作表为空：没有表头行")
    state = {"n": number}

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        for cells in it:
            state["n"] += 1
            values = list(cells)
            if not _is_blank(values):
                yield state["n"], values

    return Table(path, header, ws.max_row, rows(), lambda: state["n"])


@contextmanager
def open_table(path: Path, encoding: str | None = None) -> Iterator[Table]:
    """`with open_table(path) as table:` one streaming pass over a .csv or .xlsx file."""
    closers: list[Any] = []
    suffix = path.suffix.lower()
    try:
        if suffix in {".xlsx", ".xlsm"}:
            table = _xlsx_table(path, closers)
        elif suffix == ".xls":
            raise TableError("不支持旧版 .xls 文件：请在Excel/WPS中另存为 .xlsx 或 CSV")
        else:
            encoding = encoding or detect_encoding(path)
            try:
                table = _csv_table(path, encoding, closers)
            except UnicodeDecodeError as exc:
                raise TableError(f"文件编码无法识别（按{encoding}读取失败）：请另存为UTF-8或GBK编码的CSV") from exc
        yield table
    finally:
        for closer in reversed(closers):
            closer.close()
