"""The one clock (bot/config.py): the wall clock in Asia/Shanghai, moved to YIBAO_TODAY's day when set."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import config
from bot.config import TZ, ConfigError, Settings


def test_unset_is_the_wall_clock(monkeypatch) -> None:
    monkeypatch.delenv("YIBAO_TODAY", raising=False)
    assert config.clock_shift() == dt.timedelta(0)
    assert abs(config.now() - dt.datetime.now(TZ)) < dt.timedelta(seconds=1)
    assert Settings.from_env({}).today is None


def test_a_date_moves_the_day_and_the_clock_runs_on(monkeypatch) -> None:
    monkeypatch.setenv("YIBAO_TODAY", "2024-11-20")
    assert config.today() == dt.date(2024, 11, 20)
    wall = dt.datetime.now(TZ)
    assert abs(config.now().time().hour * 60 + config.now().minute - (wall.hour * 60 + wall.minute)) <= 1
    assert config.wall_time(config.now()) - wall < dt.timedelta(seconds=1)  # what APScheduler waits for


def test_a_time_of_day_starts_the_clock_there(monkeypatch) -> None:
    monkeypatch.setenv("YIBAO_TODAY", "2024-11-20T09:59:30")
    assert abs(config.now() - dt.datetime(2024, 11, 20, 9, 59, 30, tzinfo=TZ)) < dt.timedelta(seconds=2)


def test_a_malformed_date_is_refused_at_start(monkeypatch) -> None:
    with pytest.raises(ConfigError, match="YIBAO_TODAY"):
        Settings.from_env({"YIBAO_TODAY": "2024-02-30"})
    assert Settings.from_env({"YIBAO_TODAY": "2024-11-20"}).today == dt.date(2024, 11, 20)


def test_ask_answers_on_the_clock(monkeypatch, capsys) -> None:
    from bot.cli import main

    monkeypatch.setenv("YIBAO_TODAY", "2024-11-20")
    assert main(["ask", "--region", "陵川县", "什么时候截止"]) == 0
    out = capsys.readouterr().out
    assert "本月截止11月25日" in out and "已结束" not in out
