"""Answers checked against the notices (docs/notices/, /work/shared/seeds/): the text a resident sends, the
figures, dates, names and sources the answer must carry, and what it must not borrow from another county."""

from __future__ import annotations

import datetime as dt

from bot.config import Settings
from bot.pipeline import respond
from bot.rules.loader import load_registry
from bot.types import Context, Speaker

REGISTRY = load_registry()


async def ask(region: str, on: str, text: str) -> str:
    ctx = Context(today=dt.date.fromisoformat(on), registry=REGISTRY, speaker=Speaker(region=region),
                  settings=Settings(answer_cache=0))
    return (await respond(text, ctx)).text


# --- a group the county's notice does not name -------------------------------------------------------


async def test_a_group_no_notice_names_is_called_by_a_neutral_name_never_a_key():
    # 青禾县's students' standard is a group standard: 陵川县 names no students' figure, and the answer
    # names the group in words, not by its key.
    text = await ask("陵川县", "2024-11-20", "大学生交多少")
    assert "university_student" not in text
    assert "在校学生" in text and "400元" in text
    assert "依据：陵政办函〔2024〕16号 一" in text


async def test_a_group_the_notice_does_not_name_is_not_called_by_another_countys_words():
    # 罗山县 calls 脱贫户 "脱贫人口（监测对象）"; 陵川县's notice does not name them at all.
    text = await ask("陵川县", "2024-11-20", "脱贫户交多少")
    assert '"脱贫人口"' in text and "（监测对象）" not in text
    # 乐至县's severe grades (精神三、四级) are its own: 罗山县 does not name severe disability.
    text = await ask("罗山县", "2024-11-20", "重度残疾交多少")
    assert "重度残疾人" in text and "精神三、四级" not in text


async def test_a_group_not_named_in_a_county_with_tiers_is_given_every_tier():
    # 乐至县: 高档次540元、低档次400元; no subsidy for 脱贫人口, so neither tier is "the" standard.
    text = await ask("乐至县", "2024-11-20", "脱贫户交多少")
    assert "高档次540元" in text and "低档次400元" in text
    assert "按个人缴费标准540元" not in text
    assert "依据：乐府办发〔2024〕16号 二（二）" in text
    text = await ask("乐至县", "2024-11-20", "脱贫户是不是交400")
    assert text.startswith("对")
    text = await ask("乐至县", "2024-11-20", "脱贫户交高档多少")
    assert "高档次540元" in text and "低档次400元" not in text
