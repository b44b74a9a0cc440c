"""Imports of the bureau's rosters (residents, payments, contacts), all or nothing.

Two streaming passes over the file. The first validates every row and keeps only what later rows are checked
against (an 8-byte prefix of each ID's HMAC, the row it was first seen on); any bad row means nothing is
written and every problem goes to FILE.errors.csv. Good rows wait on a temporary file; the second pass
(bot.store.merge) loads them in batches into staging tables and merges them with set-based upserts, all
inside one transaction. Re-importing a file changes nothing: upserts are keyed on the ID's HMAC, (resident, year) and
(county, township, role, name), and only rows whose values differ are updated.

ID numbers never reach the database, the screen or the error file in clear: only the HMAC and a masked form.
Every cell quoted in a report goes through bot.store.ids.mask_text (an ID or phone number in a wrong column
is masked too) and, in FILE.errors.csv, through bot.store.tabular.formula_safe. A file that cannot be read
at all (damaged, renamed, too large when unpacked) is refused with `ImportRefused`.
"""

from __future__ import annotations

import csv
import datetime as dt
import marshal
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bot.catalogue import t
from bot.config import Settings
from bot.config import today as today_in_china
from bot.rules.calculator import resolve_policy
from bot.rules.loader import PolicyRegistry
from bot.store import ids, merge
from bot.store.cells import (
    SPACES,
    Cell,
    parse_amount,
    parse_categories,
    parse_date,
    parse_id,
    parse_name,
    parse_phone,
    parse_year,
    plain_text,
    text_of,
    visible,
)
from bot.store.models import AuditLog, Resident
from bot.store.regions import Units, known_units
from bot.store.tabular import TableError, formula_safe, open_table

KINDS = ("residents", "payments", "contacts")
ROLES = ("分管领导", "经办人", "包片领导", "负责人", "协调员")
BATCH = 10_000
MAX_CHANNEL = 64  # characters of a payment channel (缴费渠道)
SAMPLE = 500  # errors kept in memory for the screen; the errors CSV has every one
Progress = Callable[[str, int, int | None], None]  # (phase, done, total) in bytes (CSV) or rows (xlsx)


@dataclass(frozen=True)
class Column:
    field: str
    label: str  # the header as the bureau's own rosters write it (used in messages)
    aliases: tuple[str, ...]


_COLUMNS: dict[str, tuple[Column, ...]] = {
    "residents": (
        Column("name", "姓名", ("姓名", "name")),
        Column("id_number", "身份证号", ("身份证号", "身份证号码", "公民身份号码", "证件号码", "id_number")),
        Column("township", "乡镇", ("乡镇", "乡镇(街道)", "乡镇街道", "township")),
        Column("village", "村(社区)", ("村(社区)", "村", "社区", "村别", "村(居)", "village")),
        Column("category", "身份类别", ("身份类别", "人员类别", "资助类别", "类别", "category", "categories")),
        Column("phone", "手机号", ("手机号", "手机号码", "联系电话", "phone")),
    ),
    "payments": (
        Column("id_number", "身份证号", ("身份证号", "身份证号码", "公民身份号码", "证件号码", "id_number")),
        Column("year", "年度", ("年度", "缴费年度", "参保年度", "year")),
        Column("amount", "缴费金额", ("缴费金额", "金额", "amount")),
        Column("paid_on", "缴费日期", ("缴费日期", "日期", "paid_on")),
        Column("channel", "缴费渠道", ("缴费渠道", "渠道", "channel")),
    ),
    "contacts": (
        Column("role", "角色", ("角色", "职务", "role")),
        Column("township", "乡镇", ("乡镇", "乡镇(街道)", "township")),
        Column("name", "姓名", ("姓名", "name")),
        Column("phone", "手机号", ("手机号", "手机号码", "联系电话", "phone")),
        Column("openid", "openid", ("openid", "微信openid")),
    ),
}

def headers(kind: str) -> list[str]:
    """The columns of a `kind` file as the bureau's own tables head them (the console's template file)."""
    return [c.label for c in _COLUMNS[kind]]


_ROLE_ALIASES = {
    "分管领导": "分管领导", "乡镇分管领导": "分管领导",
    "经办人": "经办人", "经办人员": "经办人",
    "包片领导": "包片领导", "医保包片领导": "包片领导", "包乡镇领导": "包片领导", "包乡镇人员": "包片领导",
    "负责人": "负责人", "居民征缴负责人": "负责人",
    "协调员": "协调员",
}
class ImportRefused(Exception):
    """The import cannot start (unknown region, unreadable file); nothing was written."""


@dataclass(frozen=True)
class RowError:
    row: int  # as the user sees it in the file: the header is row 1
    column: str
    value: str  # masked when it is (or may be) an ID or phone number
    reason: str

    def masked(self) -> RowError:
        """The error with every ID or phone number in its texts masked (a cell may hold one in any column)."""
        return RowError(self.row, ids.mask_text(self.column), ids.mask_text(self.value), ids.mask_text(self.reason))


@dataclass
class ImportResult:
    kind: str
    path: Path
    region: str | None = None
    year: int | None = None
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    categories_added: int = 0
    categories_removed: int = 0
    errors: int = 0
    error_sample: list[RowError] = field(default_factory=list)
    errors_path: Path | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.errors == 0


# --- one row of each kind (plain values only, so a batch spills to disk with marshal) ------------------


class ResidentRow(NamedTuple):
    id_hmac: str
    id_masked: str
    name: str
    birth_date: str  # ISO
    sex: str
    township: str
    village: str
    phone_masked: str | None
    categories: tuple[str, ...]


class PaymentRow(NamedTuple):
    id_hmac: str
    year: int
    amount: int
    paid_on: str  # ISO
    channel: str


class ContactRow(NamedTuple):
    role: str
    township: str
    name: str
    phone: str
    openid: str | None


def _header_key(raw: str) -> str:
    return SPACES.sub("", visible(raw)).replace("（", "(").replace("）", ")").lower()


@dataclass
class _Checker:
    """Validates the rows of one file against the region's units, the policies' aliases and the header."""

    kind: str
    region: str | None
    year: int | None
    units: Units | None
    aliases: dict[str, str]
    key: bytes
    today: dt.date
    index: dict[str, int] = field(default_factory=dict)  # field -> column position

    def bind_header(self, header: list[str]) -> list[RowError]:
        wanted = {_header_key(a): col for col in _COLUMNS[self.kind] for a in col.aliases}
        problems: list[RowError] = []
        for pos, name in enumerate(header):
            col = wanted.get(_header_key(name))
            if col is None:
                continue  # 序号, 备注, ...: columns we do not need
            if col.field in self.index:
                problems.append(RowError(1, name, name, t("import.problems.column_twice", column=col.label)))
            self.index[col.field] = pos
        for field_ in self._required():
            if field_ not in self.index:
                col = next(c for c in _COLUMNS[self.kind] if c.field == field_)
                hint = "、".join(col.aliases)
                reason = t("import.problems.column_missing", column=col.label, hint=hint)
                problems.append(RowError(1, col.label, "", reason))
        return problems

    def _required(self) -> list[str]:
        town = self.units is not None and self.units.town is not None
        if self.kind == "residents":
            return ["name", "id_number", "village" if town else "township"]
        if self.kind == "payments":
            return ["id_number", "amount", "paid_on"] + ([] if self.year else ["year"])
        return ["role", "name", "phone"]

    def parse(self, row: int, cells: list[Cell]) -> tuple[Any, list[RowError]]:
        r = _RowReader(self.index, row, cells)
        parser = {"residents": self._resident, "payments": self._payment, "contacts": self._contact}[self.kind]
        record = parser(r)
        return (None if r.errors else record), r.errors

    def _resident(self, r: _RowReader) -> ResidentRow | None:
        name = r.take("name", "姓名", parse_name)
        number = r.take("id_number", "身份证号", parse_id, ids.mask)
        township = r.take("township", "乡镇", self._township)
        village = r.take("village", "村(社区)", lambda c: self._village(c, township))
        categories = r.take("category", "身份类别", lambda c: parse_categories(c, self.aliases))
        phone = r.take("phone", "手机号", lambda c: parse_phone(c) if text_of(c) else "", ids.mask_phone)
        if r.errors:
            return None
        return ResidentRow(
            ids.id_digest(number, self.key).hex(), ids.mask(number), name, ids.birth_date(number).isoformat(),
            ids.sex(number), township, village, ids.mask_phone(phone) if phone else None, categories,
        )

    def _township(self, cell: Cell) -> str:
        name = SPACES.sub("", text_of(cell))
        units = self.units
        if units is not None and units.town is not None:
            if name in {"", units.town}:
                return units.town
            raise ValueError(t("import.problems.township_is_town", town=units.town))
        if not name:
            raise ValueError(t("import.problems.township_empty"))
        plain_text(name, "乡镇")
        if units is not None and units.known and name not in units.townships:
            raise ValueError(t("import.problems.township_unknown", township=name, region=units.region))
        return name

    def _village(self, cell: Cell, township: str | None) -> str:
        name = plain_text(SPACES.sub("", text_of(cell)), "村(社区)")
        known = self.units.villages.get(township or "") if self.units is not None else None
        if not known:
            return name
        if not name:
            raise ValueError(t("import.problems.village_empty"))
        if name not in known:
            raise ValueError(t("import.problems.village_unknown", village=name, township=township))
        return name

    def _payment(self, r: _RowReader) -> PaymentRow | None:
        number = r.take("id_number", "身份证号", parse_id, ids.mask)
        year = r.take("year", "年度", lambda c: parse_year(c) if text_of(c) or not self.year else self.year)
        amount = r.take("amount", "缴费金额", parse_amount)
        paid_on = r.take("paid_on", "缴费日期", parse_date)
        channel = r.take("channel", "缴费渠道", _channel)
        if r.errors:
            return None
        if not dt.date(year - 2, 1, 1) <= paid_on <= dt.date(year, 12, 31):
            r.flag("缴费日期", f"{paid_on:%Y-%m-%d}", t("import.problems.paid_outside_year", year=year))
        elif paid_on > self.today:
            r.flag("缴费日期", f"{paid_on:%Y-%m-%d}", t("import.problems.paid_in_future"))
        return PaymentRow(ids.id_digest(number, self.key).hex(), year, amount, paid_on.isoformat(), channel)

    def _contact(self, r: _RowReader) -> ContactRow | None:
        role = r.take("role", "角色", _role)
        name = r.take("name", "姓名", parse_name)
        phone = r.take("phone", "手机号", parse_phone, ids.mask_phone)
        township = r.take("township", "乡镇", lambda c: self._contact_township(c, role))
        openid = r.take("openid", "openid", _openid)
        if r.errors:
            return None
        return ContactRow(role, township, name, phone, openid or None)

    def _contact_township(self, cell: Cell, role: str | None) -> str:
        if not text_of(cell):
            if role in {"分管领导", "经办人", "包片领导"}:
                raise ValueError(t("import.problems.role_needs_township", role=role))
            return ""
        if self.units is not None and self.units.town is not None:
            return self._village(cell, self.units.town) or self.units.town
        return self._township(cell)


class _RowReader:
    """One row being parsed: `take` a field through its parser, collecting every problem of the row."""

    __slots__ = ("cells", "errors", "index", "row")

    def __init__(self, index: dict[str, int], row: int, cells: list[Cell]):
        self.index, self.row, self.cells = index, row, cells
        self.errors: list[RowError] = []

    def take(self, field_: str, label: str, parser: Callable[[Cell], Any],
             mask: Callable[[str], str] | None = None) -> Any:
        """The parsed cell, or None with the problem noted (the cell shown through `mask` when it may be an ID
        or phone number: even a malformed one is someone's)."""
        pos = self.index.get(field_)
        value = self.cells[pos] if pos is not None and pos < len(self.cells) else None
        try:
            return parser(value)
        except ValueError as exc:
            shown = text_of(value)
            self.flag(label, (mask(shown) if shown else "") if mask else shown[:40], str(exc))
            return None

    def flag(self, column: str, value: str, reason: str) -> None:
        self.errors.append(RowError(self.row, column, value, reason))


def _channel(cell: Cell) -> str:
    value = text_of(cell)
    if len(value) > MAX_CHANNEL:
        raise ValueError(t("import.problems.channel_too_long", most=MAX_CHANNEL))
    return plain_text(value, "缴费渠道")


def _role(cell: Cell) -> str:
    raw = SPACES.sub("", text_of(cell))
    role = _ROLE_ALIASES.get(raw)
    if role is None:
        raise ValueError(t("import.problems.role_unknown", role=raw, roles="、".join(ROLES)))
    return role


def _openid(cell: Cell) -> str:
    value = text_of(cell)
    if value and not re.fullmatch(r"[A-Za-z0-9_-]{6,64}", value):
        raise ValueError(t("import.problems.openid_malformed"))
    return value


# --- the error file, and the validated rows between the passes ---------------------------------------


class _ErrorSink:
    """Writes every problem to FILE.errors.csv (UTF-8 with BOM, so Excel shows the Chinese) as it is found,
    masked (`RowError.masked`) and formula-safe; keeps the first SAMPLE, masked, for the screen."""

    def __init__(self, path: Path):
        self.final = path.with_name(path.name + ".errors.csv")
        self.tmp = self.final.with_name(self.final.name + ".tmp")
        self.count = 0
        self.sample: list[RowError] = []
        self._file: Any = None
        self._writer: Any = None

    def add(self, errors: list[RowError]) -> None:
        if not errors:
            return
        if self._file is None:
            self._file = self.tmp.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow([t(f"import.report.{key}") for key in ("row", "column", "value", "reason")])
        for e in sorted((error.masked() for error in errors), key=lambda e: e.row):
            self._writer.writerow([formula_safe(cell) for cell in (e.row, e.column, e.value, e.reason)])
            if len(self.sample) < SAMPLE:
                self.sample.append(e)
        self.count += len(errors)

    def finish(self) -> Path | None:
        if self._file is not None:
            self._file.close()
            os.replace(self.tmp, self.final)
            return self.final
        self.final.unlink(missing_ok=True)  # a stale report from an earlier, failed attempt
        return None

    def discard(self) -> None:
        """The file could not be read at all: no report of rows (and no stale one)."""
        if self._file is not None:
            self._file.close()
            self.tmp.unlink(missing_ok=True)
        self.final.unlink(missing_ok=True)


class _Spill:
    """The first pass's validated rows, in batches on an unnamed temporary file: the second pass writes them
    without reading and parsing the roster again. Holds HMACs and masked IDs only, never an ID number."""

    def __init__(self, file: Any):
        self.file = file
        self.batch: list[tuple[Any, ...]] = []

    def add(self, record: tuple[Any, ...]) -> None:
        self.batch.append(tuple(record))
        if len(self.batch) >= BATCH:
            self._dump()

    def _dump(self) -> None:
        marshal.dump(self.batch, self.file)
        self.batch = []

    def batches(self) -> Iterator[list[tuple[Any, ...]]]:
        if self.batch:
            self._dump()
        self.file.seek(0)
        while True:
            try:
                yield marshal.load(self.file)
            except EOFError:
                return


# --- the import ----------------------------------------------------------------------------------------


def _resolve_region(registry: PolicyRegistry, region: str | None, settings: Settings) -> str:
    region = region or settings.default_region
    if region is None:
        raise ImportRefused(t("import.refused.no_region", known="、".join(registry.regions())))
    name = registry.region_name(region)
    if name is None:
        raise ImportRefused(t("errors.unknown_region", region=region, known="、".join(registry.regions())))
    return name


async def import_file(
    engine: AsyncEngine,
    registry: PolicyRegistry,
    settings: Settings,
    kind: str,
    path: Path,
    region: str | None = None,
    year: int | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
    actor: str = "cli",
) -> ImportResult:
    """Validate all of `path`, then write all of it in one transaction, or nothing (see the module doc).

    `region` is required for residents and contacts (default: settings.default_region); for payments it
    only checks that each person belongs to it. `year`: the insurance year of the residents' categories
    (default: the year being collected on `today`), or of payments when the file has no 年度 column."""
    if kind not in KINDS:
        raise ImportRefused(f"unknown import kind {kind!r}: one of {', '.join(KINDS)}")
    if not path.is_file():
        raise ImportRefused(t("import.refused.no_file", path=path))
    today = today or today_in_china()
    name = None if kind == "payments" and region is None else _resolve_region(registry, region, settings)
    if kind == "residents" and year is None:
        year = resolve_policy(registry, name, today).year or today.year
    async with AsyncSession(engine) as session:
        units = await known_units(session, registry, name) if name else None
    aliases = {**{k: k for k in registry.category_aliases().values()}, **registry.category_aliases()}
    checker = _Checker(kind, name, year, units, aliases, settings.id_hmac_key.encode(), today)
    result = ImportResult(kind, path, name, year)
    if units is not None and not units.known:
        result.warnings.append(t("import.warnings.townships_unchecked", region=name))

    sink = _ErrorSink(path)
    with tempfile.TemporaryFile() as spill_file:
        spill = _Spill(spill_file)
        try:
            await _validate(engine, checker, path, sink, spill, result, progress)
        except (TableError, UnicodeDecodeError) as exc:
            sink.discard()
            reason = str(exc) if isinstance(exc, TableError) else t("import.refused.encoding", reason=exc.reason)
            raise ImportRefused(ids.mask_text(t("import.refused.unreadable", file=path.name, reason=reason))) from None
        result.errors, result.error_sample = sink.count, sink.sample
        result.errors_path = sink.finish()
        if not result.ok:
            return result
        async with engine.begin() as conn:
            file = ids.mask_text(path.name)  # stored (payments.source, the audit log): a name may hold a number
            merged = await _merge(conn, checker, spill.batches(), file, _advance(progress, result.rows))
            result.inserted, result.updated = merged.inserted, merged.updated
            result.unchanged = result.rows - merged.inserted - merged.updated
            result.categories_added, result.categories_removed = merged.categories_added, merged.categories_removed
            await conn.execute(AuditLog.__table__.insert().values(
                actor=actor,
                action=f"import.{kind}",
                detail={"file": file, "region": name, "year": year, "rows": result.rows,
                        "inserted": result.inserted, "updated": result.updated, "unchanged": result.unchanged},
                created_at=dt.datetime.now(dt.UTC),
            ))
    return result


def _rows(table: Any, progress: Progress | None) -> Iterator[tuple[int, list[Cell]]]:
    for i, (row, cells) in enumerate(table.rows()):
        if progress is not None and i % 5000 == 0:
            progress(t("import.phases.check"), table.position, table.size)
        yield row, cells
    if progress is not None:
        progress(t("import.phases.check"), table.size or table.position, table.size)


def _identity(record: tuple[Any, ...]) -> Any:
    """What must be unique in a file, small: 8 bytes of the HMAC (and the year), or a contact's key."""
    if isinstance(record, ResidentRow):
        return int(record.id_hmac[:16], 16)
    if isinstance(record, PaymentRow):
        return (int(record.id_hmac[:14], 16) << 8) | (record.year - 2000)
    return (record.township, record.role, record.name)


_IDENTITY_LABEL = {"residents": "身份证号", "payments": "身份证号、年度", "contacts": "角色、乡镇、姓名"}


async def _validate(
    engine: AsyncEngine, checker: _Checker, path: Path, sink: _ErrorSink, spill: _Spill, result: ImportResult,
    progress: Progress | None,
) -> None:
    """First pass: every row checked, duplicates found by `_identity`, good rows spilled for the second."""
    with open_table(path) as table:
        header_errors = checker.bind_header(table.header)
        if header_errors:
            sink.add(header_errors)
            return
        seen: dict[Any, int] = {}
        pending: list[tuple[int, str]] = []  # (row, HMAC) of payments whose resident is looked up in batches
        errors: list[RowError] = []
        for row, cells in _rows(table, progress):
            result.rows += 1
            record, problems = checker.parse(row, cells)
            if record is not None:
                first = seen.setdefault(_identity(record), row)
                if first != row:
                    reason = t("import.problems.duplicate", first=first)
                    problems.append(RowError(row, _IDENTITY_LABEL[checker.kind], "", reason))
                else:
                    spill.add(record)
                    if checker.kind == "payments":
                        pending.append((row, record.id_hmac))
            errors.extend(problems)
            if len(pending) >= BATCH:
                errors.extend(await _check_residents_exist(engine, checker, pending))
                pending = []
            if not pending and len(errors) >= 1000:  # payments: only once their batch is checked, in order
                sink.add(errors)
                errors = []
        if pending:
            errors.extend(await _check_residents_exist(engine, checker, pending))
        if result.rows == 0:  # the template sent back unfilled: "0 rows imported" would read as done
            raise TableError(t("import.table.no_rows"))
        sink.add(errors)


async def _check_residents_exist(
    engine: AsyncEngine, checker: _Checker, pending: list[tuple[int, str]]
) -> list[RowError]:
    async with engine.connect() as conn:
        found = dict((await conn.execute(
            select(Resident.id_hmac, Resident.county).where(Resident.id_hmac.in_([h for _, h in pending]))
        )).all())
    errors = []
    for row, h in pending:
        county = found.get(h)
        if county is None:
            errors.append(RowError(row, "身份证号", "", t("import.problems.not_in_roster")))
        elif checker.region and county != checker.region:
            reason = t("import.problems.other_region", county=county, region=checker.region)
            errors.append(RowError(row, "身份证号", "", reason))
    return errors


def _advance(progress: Progress | None, total: int) -> merge.Advance:
    """Progress of the second pass, in rows: 写入 while loading, then 合并."""
    done = 0

    def advance(rows: int) -> None:
        nonlocal done
        if progress is None:
            return
        if rows == 0:
            progress(t("import.phases.merge"), 0, None)
        else:
            done += rows
            progress(t("import.phases.write"), done, total)

    return advance


async def _merge(conn: AsyncConnection, checker: _Checker, batches: merge.Batches, file: str,
                 advance: merge.Advance) -> merge.Merged:
    if checker.kind == "residents":
        return await merge.merge_residents(conn, batches, checker.region, checker.year, advance)
    if checker.kind == "payments":
        return await merge.merge_payments(conn, batches, f"import:{file}", advance)
    return await merge.merge_contacts(conn, batches, checker.region, advance)
