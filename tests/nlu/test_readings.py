"""Readings are kept per compiled registry (a question asked again is not read again), never for a text
carrying an ID or phone number, nor while a binding is in progress; a kept reading is the same reading."""

from __future__ import annotations

import datetime as dt

from bot.nlu import extractor_for, understand
from bot.nlu.query import Intent
from bot.rules.loader import PolicyRegistry

DAY = dt.date(2024, 11, 10)


def test_a_question_asked_again_is_the_kept_reading(registry: PolicyRegistry) -> None:
    readings = extractor_for(registry).readings
    readings.clear()
    first = understand("罗山县低保户交多少", registry, today=DAY)
    assert len(readings) == 1
    again = understand("罗山县低保户交多少", registry, today=DAY)
    assert again is first and again.intent is Intent.FEE and again.region == "罗山县"
    assert list(again.categories) == ["dibao"]
    # another day may read a relative year otherwise: its own reading
    understand("罗山县低保户交多少", registry, today=DAY + dt.timedelta(days=400))
    assert len(readings) == 2


def test_relative_years_are_read_against_each_day(registry: PolicyRegistry) -> None:
    assert understand("去年交多少", registry, today=dt.date(2024, 11, 10)).year == 2023
    assert understand("去年交多少", registry, today=dt.date(2026, 1, 5)).year == 2025


def test_no_id_or_phone_number_is_kept_in_memory(registry: PolicyRegistry) -> None:
    readings = extractor_for(registry).readings
    readings.clear()
    for text in ("我的身份证110101199003071234交了没", "电话 138 0013 8000 交多少", "１３８００１３８０００"):
        understand(text, registry, today=DAY)
    assert readings == {}


def test_nothing_is_kept_while_a_binding_is_in_progress(registry: PolicyRegistry) -> None:
    readings = extractor_for(registry).readings
    readings.clear()
    query = understand("张三", registry, state={"binding": {"step": "name"}}, today=DAY)
    assert query.intent is Intent.BIND
    assert readings == {}
    assert understand("张三", registry, today=DAY).intent is not Intent.BIND  # not the binding's reading
