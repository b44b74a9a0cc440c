"""The staff commands through `yibao` itself: db upgrade, import, status, demo-data (every backend)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from bot.cli import main
from bot.config import sync_url
from tests.conftest import HMAC_KEY
from tests.store import hostile, rosters


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("YIBAO_DATABASE_URL", database_url)
    monkeypatch.setenv("YIBAO_ID_HMAC_KEY", HMAC_KEY)
    return database_url


def yibao(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_db_upgrade_uses_the_sync_url(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = yibao(capsys, "db", "upgrade")
    assert code == 0 and "数据库已升级" in out and "任务数" in out
    engine = create_engine(sync_url(env))
    with engine.connect() as conn:
        assert "residents" in inspect(conn).get_table_names()
        assert MigrationContext.configure(conn).get_current_revision() is not None
    engine.dispose()
    assert yibao(capsys, "db", "upgrade")[0] == 0  # again: nothing to do


def test_import_names_the_bad_row_and_status_reports(env: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    rows = rosters.residents(60)
    rows[41][2] = rows[41][2][:17] + ("0" if rows[41][2][17] != "0" else "1")
    path = rosters.write_csv(tmp_path / "residents.csv", rosters.RESIDENT_HEADER, rows, encoding="gbk")
    code, out = yibao(capsys, "import", "residents", str(path), "--region", "陵川县", "--year", "2025")
    assert code == 1 and "未导入任何数据" in out and "第43行「身份证号」" in out and "校验位" in out
    assert "residents.csv.errors.csv" in out and rows[41][2] not in out

    rows[41][2] = rosters.residents(61)[-1][2]
    rosters.write_csv(path, rosters.RESIDENT_HEADER, rows, encoding="gbk")
    code, out = yibao(capsys, "import", "residents", str(path), "--region", "陵川", "--year", "2025")
    assert code == 0 and "共 60 行，新增 60" in out
    pays = rosters.write_csv(tmp_path / "payments.csv", rosters.PAYMENT_HEADER, rosters.payments(rows[:30]))
    code, out = yibao(capsys, "import", "payments", str(pays))
    assert code == 0 and "新增 30" in out

    code, out = yibao(capsys, "status", "--region", "陵川县", "--year", "2025", "--date", "2025-01-31")
    assert code == 0 and "崇文镇" in out and "六泉乡" in out and "合计" in out and "205908" in out
    assert "低保" in out


def test_demo_data_and_unknown_region(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = yibao(capsys, "demo-data", "--region", "罗山县", "--scale", "0.002", "--seed", "3")
    assert code == 0 and "罗山县 2025年度" in out and "虚构" in out
    code, out = yibao(capsys, "status", "--region", "罗山县", "--date", "2024-12-31")
    assert code == 0 and "铁铺镇" in out and "演示数据" in out
    assert yibao(capsys, "demo-data", "--region", "乐至县")[0] == 1  # no target table to follow
    assert yibao(capsys, "status", "--region", "火星县")[0] == 2


def test_db_upgrade_keeps_the_demo_targets(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Upgrading changes only what it migrates: the demo's scaled targets (and so its progress) survive."""
    assert yibao(capsys, "demo-data", "--region", "陵川县", "--scale", "0.01")[0] == 0
    before = yibao(capsys, "status", "--region", "陵川县", "--date", "2025-02-25")[1]
    code, out = yibao(capsys, "db", "upgrade")
    assert code == 0 and "保持不变" in out
    after = yibao(capsys, "status", "--region", "陵川县", "--date", "2025-02-25")[1]
    assert after == before and "0.01 倍" in after
    code, out = yibao(capsys, "db", "load-targets", "--replace")  # asked for: the notices' figures again
    assert code == 0 and "演示数据" not in yibao(capsys, "status", "--region", "陵川县", "--date", "2025-02-25")[1]


def test_import_refuses_every_unreadable_file_in_chinese(env: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    files = [builder(tmp_path / name) for name, builder in hostile.HOSTILE_XLSX.values()]
    files.append(hostile.xlsx_as_csv(tmp_path / "residents.csv"))
    for path in files:
        code = main(["import", "residents", str(path), "--region", "陵川县"])
        out, err = capsys.readouterr()
        assert code == 1, path.name
        assert f"未导入：无法读取 {path.name}：" in out, out
        assert "Traceback" not in out + err and "Error" not in out + err, out + err


def test_status_measures_each_township_against_the_expected_share(env: str, registry,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Each row says how far it is from the share the calendar expects by the date (the period elapsed, from
    the notice), and the note gives the next cutoff's share, the one the digests and the escalation use."""
    assert yibao(capsys, "demo-data", "--region", "陵川县", "--scale", "0.01")[0] == 0
    code, out = yibao(capsys, "status", "--region", "陵川县", "--date", "2024-12-24")
    assert code == 0
    c = registry.get("陵川县", 2025).collection
    total = (c.end - c.start).days + 1
    today = round(100 * ((dt.date(2024, 12, 24) - c.start).days + 1) / total, 1)
    by_cutoff = round(100 * ((dt.date(2024, 12, 25) - c.start).days + 1) / total, 1)
    flat = re.sub(r"\s+", "", out)
    assert f"截至2024年12月24日应完成{today}%" in flat and f"12月25日（还有1天），届时应完成{by_cutoff}%" in flat
    cell = r"\s*│\s*"
    row = rf"│\s*\d+{cell}(\S+){cell}\d+{cell}\d+{cell}([\d.]+)%{cell}\d+{cell}(落后|超过|持平)([\d.]*)"
    rows = re.findall(row, out)
    assert len(rows) == 11
    for _name, percent, word, points in rows:
        gap = round(float(percent) - today, 1)
        want = ("落后", f"{-gap:.1f}") if gap < 0 else ("超过", f"{gap:.1f}") if gap else ("持平", "")
        assert (word, points) == want
    behind = sum(1 for *_x, word, _p in rows if word == "落后")
    assert (f"{behind}个乡镇（街道）落后" if behind else "都已达到") in flat
    later = sum(1 for _n, percent, *_x in rows if float(percent) < by_cutoff)
    assert later == 0 or f"以此计{later}个乡镇（街道）落后" in flat
    assert "括号内" not in flat  # 陵川县's table lists no needy figures


def test_status_names_what_is_wrong_with_the_region_or_year(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--region", "礼义镇"]) == 2
    assert "“礼义镇”是陵川县的乡镇（街道）：请用 --region 陵川县" in capsys.readouterr().err
    assert main(["status", "--region", "陵川县", "--year", "2030"]) == 2
    assert "陵川县没有2030年度的缴费通知（已有：2023、2025年度）" in capsys.readouterr().err
