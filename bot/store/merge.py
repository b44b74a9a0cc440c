"""The second pass of an import: validated rows into temporary staging tables (PostgreSQL: COPY; SQLite:
executemany), then set-based upserts into the real tables, inside the caller's transaction. Only rows whose
values differ are updated, so merging the same rows again changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.models import Contact


@dataclass
class Merged:
    """What a merge changed: rows inserted and updated (the rest were already so), and for residents the
    category rows added and removed."""

    inserted: int = 0
    updated: int = 0
    categories_added: int = 0
    categories_removed: int = 0


Batches = Iterable[list[tuple[Any, ...]]]
Advance = Callable[[int], None]  # called with the number of rows loaded, then with 0 when merging starts


async def _stage(conn: AsyncConnection, table: str, columns: str) -> None:
    """A temporary staging table without indexes: loading appends, and `_staged` indexes it once, by sorting."""
    await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    suffix = " ON COMMIT DROP" if conn.dialect.name == "postgresql" else ""
    await conn.execute(text(f"CREATE TEMPORARY TABLE {table} ({columns}){suffix}"))


async def _staged(conn: AsyncConnection, table: str, key: str) -> None:
    """After loading: index the staging table on `key`; PostgreSQL also needs statistics to plan the merge."""
    await conn.execute(text(f"CREATE INDEX ix_{table} ON {table} ({key})"))
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"ANALYZE {table}"))


async def _load(conn: AsyncConnection, table: str, columns: list[str], rows: list[tuple[Any, ...]],
                date_column: int | None = None) -> None:
    """Rows into a staging table: COPY on PostgreSQL, executemany on SQLite (dates as ISO text there)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        if date_column is not None:
            rows = [(*r[:date_column], dt.date.fromisoformat(r[date_column]), *r[date_column + 1:]) for r in rows]
        raw = await conn.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(table, records=rows, columns=columns)
    else:
        marks = ", ".join("?" * len(columns))
        await conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


_RESIDENT_CHANGED = (
    "{o}.name <> {n}.name OR {o}.county <> {n}.county OR {o}.township <> {n}.township "
    "OR {o}.village <> {n}.village "
    "OR ({n}.phone_masked IS NOT NULL AND ({o}.phone_masked IS NULL OR {o}.phone_masked <> {n}.phone_masked))"
)
_RESIDENT_COLUMNS = ["id_hmac", "id_masked", "name", "birth_date", "sex", "county", "township", "village",
                     "phone_masked"]


async def merge_residents(conn: AsyncConnection, batches: Batches, county: str, year: int,
                          advance: Advance) -> Merged:
    """Residents rows (id_hmac, id_masked, name, birth_date ISO, sex, township, village, phone_masked,
    categories) of `county`, with their categories for insurance year `year`."""
    await _stage(conn, "stage_residents", (
        "id_hmac VARCHAR(64) NOT NULL, id_masked VARCHAR(18) NOT NULL, name VARCHAR(64) NOT NULL, "
        "birth_date DATE, sex VARCHAR(1), county VARCHAR(64) NOT NULL, township VARCHAR(64) NOT NULL, "
        "village VARCHAR(64) NOT NULL, phone_masked VARCHAR(16)"
    ))
    await _stage(conn, "stage_categories", "id_hmac VARCHAR(64) NOT NULL, category VARCHAR(32) NOT NULL")
    for batch in batches:
        people = [(h, m, n, b, s, county, t, v, p) for h, m, n, b, s, t, v, p, _c in batch]
        await _load(conn, "stage_residents", _RESIDENT_COLUMNS, people, date_column=3)
        await _load(conn, "stage_categories", ["id_hmac", "category"], [(r[0], c) for r in batch for c in r[8]])
        advance(len(batch))
    advance(0)
    await _staged(conn, "stage_residents", "id_hmac")
    await _staged(conn, "stage_categories", "id_hmac, category")
    new, changed = (await conn.execute(text(
        "SELECT coalesce(sum(CASE WHEN r.id IS NULL THEN 1 ELSE 0 END), 0), "
        f"coalesce(sum(CASE WHEN r.id IS NOT NULL AND ({_RESIDENT_CHANGED.format(o='r', n='s')}) "
        "THEN 1 ELSE 0 END), 0) "
        "FROM stage_residents s LEFT JOIN residents r ON r.id_hmac = s.id_hmac"
    ))).one()
    await conn.execute(text(
        f"INSERT INTO residents ({', '.join(_RESIDENT_COLUMNS)}, created_at) "
        f"SELECT {', '.join(_RESIDENT_COLUMNS)}, CURRENT_TIMESTAMP FROM stage_residents WHERE true "
        "ORDER BY id_hmac "  # index order: the unique index is filled page after page, not at random
        "ON CONFLICT (id_hmac) DO UPDATE SET name = excluded.name, county = excluded.county, "
        "township = excluded.township, village = excluded.village, "
        "phone_masked = coalesce(excluded.phone_masked, residents.phone_masked) "
        f"WHERE {_RESIDENT_CHANGED.format(o='residents', n='excluded')}"
    ))
    # The roster states each person's categories for the year in full: drop those it no longer lists.
    removed = await conn.execute(text(
        "DELETE FROM resident_categories WHERE insurance_year = :year "
        "AND resident_id IN (SELECT r.id FROM residents r JOIN stage_residents s ON s.id_hmac = r.id_hmac) "
        "AND NOT EXISTS (SELECT 1 FROM stage_categories c JOIN residents r ON r.id_hmac = c.id_hmac "
        "WHERE r.id = resident_categories.resident_id AND c.category = resident_categories.category)"
    ), {"year": year})
    added = await conn.execute(text(
        "INSERT INTO resident_categories (resident_id, insurance_year, category) "
        "SELECT r.id, CAST(:year AS INTEGER), c.category "
        "FROM stage_categories c JOIN residents r ON r.id_hmac = c.id_hmac WHERE true ON CONFLICT DO NOTHING"
    ), {"year": year})
    for table in ("stage_residents", "stage_categories"):
        await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    return Merged(int(new), int(changed), added.rowcount, removed.rowcount)


_PAYMENT_CHANGED = "{o}.amount <> {n}.amount OR {o}.paid_on <> {n}.paid_on OR {o}.channel <> {n}.channel"


async def merge_payments(conn: AsyncConnection, batches: Batches, source: str, advance: Advance) -> Merged:
    """Payment rows (id_hmac, year, amount, paid_on ISO, channel) of residents already in the roster."""
    await _stage(conn, "stage_payments", (
        "id_hmac VARCHAR(64) NOT NULL, insurance_year INTEGER NOT NULL, amount INTEGER NOT NULL, "
        "paid_on DATE NOT NULL, channel VARCHAR(64) NOT NULL"
    ))
    for batch in batches:
        await _load(conn, "stage_payments", ["id_hmac", "insurance_year", "amount", "paid_on", "channel"], batch,
                    date_column=3)
        advance(len(batch))
    advance(0)
    await _staged(conn, "stage_payments", "id_hmac, insurance_year")
    new, changed = (await conn.execute(text(
        "SELECT coalesce(sum(CASE WHEN p.id IS NULL THEN 1 ELSE 0 END), 0), "
        f"coalesce(sum(CASE WHEN p.id IS NOT NULL AND ({_PAYMENT_CHANGED.format(o='p', n='s')}) "
        "THEN 1 ELSE 0 END), 0) "
        "FROM stage_payments s JOIN residents r ON r.id_hmac = s.id_hmac "
        "LEFT JOIN payments p ON p.resident_id = r.id AND p.insurance_year = s.insurance_year"
    ))).one()
    await conn.execute(text(
        "INSERT INTO payments (resident_id, insurance_year, amount, paid_on, channel, source, created_at) "
        "SELECT r.id, s.insurance_year, s.amount, s.paid_on, s.channel, CAST(:source AS VARCHAR), "
        "CURRENT_TIMESTAMP FROM stage_payments s JOIN residents r ON r.id_hmac = s.id_hmac WHERE true "
        "ORDER BY r.id "
        "ON CONFLICT (resident_id, insurance_year) DO UPDATE SET amount = excluded.amount, "
        "paid_on = excluded.paid_on, channel = excluded.channel, source = excluded.source "
        f"WHERE {_PAYMENT_CHANGED.format(o='payments', n='excluded')}"
    ), {"source": source[:128]})
    await conn.execute(text("DROP TABLE IF EXISTS stage_payments"))
    return Merged(int(new), int(changed))


async def merge_contacts(conn: AsyncConnection, batches: Batches, county: str, advance: Advance) -> Merged:
    """Contact rows (role, township, name, phone, openid): a few hundred, one upsert each, keyed on
    (county, township, role, name)."""
    table = Contact.__table__
    merged = Merged()
    for batch in batches:
        for role, township, name, phone, openid in batch:
            key = (table.c.county == county) & (table.c.township == township) & (table.c.role == role) & (
                table.c.name == name)
            old = (await conn.execute(select(table.c.id, table.c.phone, table.c.openid).where(key))).first()
            if old is None:
                await conn.execute(table.insert().values(
                    role=role, county=county, township=township, name=name, phone=phone, openid=openid))
                merged.inserted += 1
            elif old.phone != phone or (openid and old.openid != openid):
                await conn.execute(table.update().where(table.c.id == old.id).values(
                    phone=phone, openid=openid or old.openid))
                merged.updated += 1
        advance(len(batch))
    return merged
