"""Fictional rosters for the store tests, written as the bureau's files are: CSV (UTF-8, BOM, GBK) or .xlsx."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from bot.store.synthetic import AREA_CODES, People

RESIDENT_HEADER = ["序号", "姓名", "身份证号", "乡镇", "村（社区）", "身份类别", "手机号"]
PAYMENT_HEADER = ["身份证号", "年度", "缴费金额", "缴费日期", "缴费渠道"]
CONTACT_HEADER = ["角色", "乡镇", "姓名", "手机号"]
LINGCHUAN_TOWNSHIPS = ["崇文镇", "礼义镇", "附城镇", "平城镇", "西河底镇", "杨村镇", "潞城镇", "夺火乡", "马圪当乡",
                       "古郊乡", "六泉乡"]
CATEGORY_CYCLE = ["", "", "低保", "", "特困", "", "监测对象、低保户", "", "", "脱贫户"]


def residents(n: int, region: str = "陵川县", seed: int = 3, townships: Sequence[str] = LINGCHUAN_TOWNSHIPS,
              ) -> list[list[Any]]:
    """n fictional residents: [序号, 姓名, 身份证号, 乡镇, 村, 身份类别, 手机号]."""
    people = People(AREA_CODES[region], seed)
    rows = []
    for i in range(n):
        phone = f"1380000{i % 10_000:04d}" if i % 3 == 0 else ""
        rows.append([i + 1, people.name(), people.id_number(), townships[i % len(townships)], f"第{i % 7 + 1}村",
                     CATEGORY_CYCLE[i % len(CATEGORY_CYCLE)], phone])
    return rows


def payments(people: Iterable[Sequence[Any]], year: int = 2025, start: dt.date = dt.date(2024, 9, 2),
             ) -> list[list[Any]]:
    """A payment for each resident row given: [身份证号, 年度, 缴费金额, 缴费日期, 缴费渠道]."""
    return [[p[2], year, 400, (start + dt.timedelta(days=i % 80)).isoformat(), "微信"] for i, p in enumerate(people)]


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path
