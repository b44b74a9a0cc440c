"""`yibao remind plan`, `yibao jobs`, `yibao outbox`, `yibao scheduler --once` on a small county."""

from __future__ import annotations

import asyncio
import datetime as dt
import io

import pytest

from bot.cli import main
from bot.commands.jobs import print_upcoming_jobs
from bot.config import TZ, Settings
from bot.rules.loader import load_registry
from bot.store.db import make_engine, make_sessionmaker
from bot.store.schema import ensure_schema
from tests.scheduler.helpers import Person, add_contacts, add_people, add_targets


@pytest.fixture
def county(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Residents and officials of 陵川县 in the database that the `yibao` command is configured with."""

    async def seed() -> None:
        engine = make_engine(Settings(database_url=database_url))
        await ensure_schema(engine)
        sessions = make_sessionmaker(engine)
        await add_targets(sessions, load_registry())
        await add_people(sessions, [Person("崇文镇"), Person("崇文镇", categories=("dibao",)), Person("礼义镇"),
                                    Person("礼义镇", paid=True)])
        await add_contacts(sessions, "陵川县", [("分管领导", "崇文镇", "甲", "o-lead"), ("负责人", "", "乙", "o-head")])
        await engine.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("YIBAO_DATABASE_URL", database_url)
    monkeypatch.setenv("YIBAO_WECHAT_API_BASE", "http://127.0.0.1:9")  # nothing is sent in these tests
    return database_url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_remind_plan_lists_the_stages_before_the_cutoff(county, capsys) -> None:
    out = run(capsys, "remind", "plan", "--date", "2024-11-20", "--region", "陵川")
    assert "预演，不写入发件箱" in out
    for line in ("2024-11-20 10:00  居民缴费状态通知（截止前5天） · 陵川县 11月25日月度截止",
                 "2024-11-22 09:00  乡镇征缴进度 · 陵川县 11月25日月度截止",
                 "2024-11-24 09:00  督办提醒（县局） · 陵川县 11月25日月度截止",
                 "2024-11-24 10:00  居民缴费状态通知（截止前1天） · 陵川县 11月25日月度截止"):
        assert line in out
    assert "收件人3个" in out and "按乡镇：崇文镇2、礼义镇1" in out
    assert "缴费状态：未缴费" in out and "【崇文镇医保征缴进度】" in out
    assert "发件箱为空" in run(capsys, "outbox")

    out = run(capsys, "remind", "plan", "--date", "2024-11-20", "--region", "陵川县", "--commit")
    assert "新写入3条" in out
    out = run(capsys, "outbox", "--status", "pending")
    assert "待发　居民缴费状态通知（截止前5天）：3条" in out and "待发　乡镇征缴进度：1条" in out


def test_scheduler_once_never_sends_a_reminder_after_its_cutoff(county, capsys) -> None:
    run(capsys, "remind", "plan", "--date", "2024-11-20", "--region", "陵川县", "--stage", "reminder-5d", "--commit")
    assert "发件箱已处理：已放弃 3" in run(capsys, "scheduler", "--once")  # today is long after 2024-11-25
    out = run(capsys, "outbox")
    assert "已放弃　居民缴费状态通知（截止前5天）：3条" in out and "原因：截止日已过：不再补发" in run(
        capsys, "outbox", "--status", "dropped")


def test_jobs_from_the_policies_and_from_the_store(county, capsys) -> None:
    out = run(capsys, "jobs", "--region", "罗山县", "--after", "2024-11-26")
    assert "2024-11-26 09:00  征缴进度通报 · 罗山县 11月26日" in out
    assert "2024-11-27 09:00  以奖代补提醒 · 罗山县 11月30日" in out
    assert "任务库中的任务（0个）" in run(capsys, "jobs", "--store")


def test_upcoming_jobs_for_the_demo() -> None:
    out = io.StringIO()
    total = print_upcoming_jobs(load_registry(), Settings(), after=dt.datetime(2024, 11, 20, 12, 0, tzinfo=TZ),
                                region="陵川县", limit=3, out=out)
    lines = out.getvalue().splitlines()
    assert total == 15 and len(lines) == 5  # 3 before 11月25日, then 4 per cutoff to 2月25日
    assert lines[1] == "  2024-11-22 09:00  乡镇征缴进度 · 陵川县 11月25日月度截止"


def test_a_dry_run_shows_different_townships_and_says_why_no_escalation_goes(database_url, monkeypatch,
                                                                               capsys) -> None:
    """The demo county on 11月20日: every township is ahead of the share expected by 11月25日, so the
    escalation has no recipients for that reason alone (not for want of contacts); the digest's samples are
    of as many townships as asked for, not three copies of one township's digest."""
    monkeypatch.setenv("YIBAO_DATABASE_URL", database_url)
    assert main(["demo-data", "--region", "陵川县", "--scale", "0.01"]) == 0
    capsys.readouterr()
    out = run(capsys, "remind", "plan", "--date", "2024-11-20", "--region", "陵川县", "--stage", "escalation")
    assert "收件人0个（没有落后于进度的乡镇，不发督办提醒）" in out
    assert "数据库里还没有" not in out
    out = run(capsys, "remind", "plan", "--date", "2024-11-20", "--region", "陵川县", "--stage", "digest",
              "--samples", "3")
    headers = [line.strip() for line in out.splitlines() if "医保征缴进度】" in line]
    assert len(headers) == 3 and len({h.split("医保")[0] for h in headers}) == 3
