"""Hostile roster files, built in a test's tmp_path (nothing big is committed): damaged, renamed and
decompression-bomb .xlsx files, and CSVs that are not what they claim."""

from __future__ import annotations

import shutil
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from tests.store import rosters

_SST = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>')


def good_xlsx(path: Path) -> Path:
    return rosters.write_xlsx(path, rosters.RESIDENT_HEADER, rosters.residents(30))


def _deflated(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def write_zip(path: Path, members: dict[str, tuple[bytes, int, int]]) -> Path:
    """A zip of already deflated members: name -> (raw deflate data, CRC-32, uncompressed size)."""
    local, central = bytearray(), bytearray()
    for name, (data, crc, size) in members.items():
        encoded = name.encode()
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                               len(encoded), 0, 0, 0, 0, 0, len(local)) + encoded
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size,
                             len(encoded), 0) + encoded + data
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))
    return path


def replaced(path: Path, source: Path, parts: dict[str, bytes | tuple[bytes, int, int]]) -> Path:
    """`source` (an .xlsx) with some parts replaced: plain bytes, or (raw deflate, CRC-32, size)."""
    members: dict[str, tuple[bytes, int, int]] = {}
    with zipfile.ZipFile(source) as z:
        for name in z.namelist():
            data = z.read(name)
            members[name] = (_deflated(data), zlib.crc32(data), len(data))
    for name, part in parts.items():
        members[name] = part if isinstance(part, tuple) else (_deflated(part), zlib.crc32(part), len(part))
    return write_zip(path, members)


def shared_strings_bomb(megabytes: int) -> tuple[bytes, int, int]:
    """An sst part of `megabytes` MiB of one shared string, deflated to about 1 KB per MiB: the repeated 1 MiB
    is compressed once and its byte-aligned (full-flush) block repeated."""
    chunk = b"A" * (1 << 20)
    head, tail = _SST, b"</t></si></sst>"
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    data = first + block * megabytes + c.compress(tail) + c.flush()
    crc = zlib.crc32(head)
    for _ in range(megabytes):
        crc = zlib.crc32(chunk, crc)
    return data, zlib.crc32(tail, crc), len(head) + megabytes * len(chunk) + len(tail)


_SST_TYPE = (b'<Override PartName="/xl/sharedStrings.xml" '
             b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')


def bomb_xlsx(path: Path, megabytes: int = 1024) -> Path:
    """A valid .xlsx of about 1 MB whose shared strings (declared in [Content_Types].xml, where openpyxl looks
    for them) expand to `megabytes` MiB."""
    base = good_xlsx(path.with_name("base.xlsx"))
    with zipfile.ZipFile(base) as z:
        types = z.read("[Content_Types].xml").replace(b"</Types>", _SST_TYPE)
    return replaced(path, base, {"[Content_Types].xml": types, "xl/sharedStrings.xml": shared_strings_bomb(megabytes)})


SHEET = "xl/worksheets/sheet1.xml"
_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
           b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
           b'<c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>')


def _truncated(path: Path) -> Path:
    data = good_xlsx(path.with_name("base.xlsx")).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _corrupt_member(path: Path) -> Path:
    """A zip whose directory is whole but whose worksheet data is damaged (bytes overwritten)."""
    base = good_xlsx(path.with_name("base.xlsx"))
    with zipfile.ZipFile(base) as z:
        info = z.getinfo(SHEET)
    data = bytearray(base.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
    data[start:start + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    return path


def _xls_renamed(path: Path) -> Path:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    return path


# name -> (file name, builder): each must be refused with a clear reason
HOSTILE_XLSX: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "empty": ("empty.xlsx", lambda p: (p.write_bytes(b""), p)[1]),
    "truncated": ("truncated.xlsx", _truncated),
    "text renamed .xlsx": ("名单.xlsx", lambda p: (p.write_text("姓名,身份证号\n张三,1\n", encoding="utf-8"), p)[1]),
    "old .xls renamed .xlsx": ("old.xlsx", _xls_renamed),
    "plain zip, not a workbook": ("notes.xlsx", lambda p: replaced(p, good_xlsx(p.with_name("b.xlsx")),
                                                                    {"[Content_Types].xml": b"<Types/>"})),
    "corrupt member data": ("corrupt.xlsx", _corrupt_member),
    "malformed sheet XML": ("badxml.xlsx", lambda p: replaced(p, good_xlsx(p.with_name("b.xlsx")),
                                                              {SHEET: b"<worksheet><sheetData><row>"})),
    "malformed workbook XML": ("badwb.xlsx", lambda p: replaced(p, good_xlsx(p.with_name("b.xlsx")),
                                                                {"xl/workbook.xml": b"<<not xml"})),
    "entity expansion": ("laughs.xlsx", lambda p: replaced(p, good_xlsx(p.with_name("b.xlsx")),
                                                           {SHEET: _LAUGHS})),
    "shared strings bomb": ("bomb.xlsx", bomb_xlsx),
}


def xlsx_as_csv(path: Path) -> Path:
    shutil.copy(good_xlsx(path.with_name("b.xlsx")), path)
    return path
