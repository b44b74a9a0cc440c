"""The answer cache: a cached reply is the reply the pipeline would compute; what depends on the follower
is never cached; another day, default region or registry misses, and so does another region or township
when the answer depends on it."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot.config import Settings
from bot.nlu.query import Intent
from bot.pipeline import ANSWERS, PER_FOLLOWER, USES_DATABASE, Context, Speaker, respond, respond_offline
from bot.rules.loader import load_registry

REGISTRY = load_registry()
TODAY = dt.date(2024, 11, 20)
OFF = Settings(answer_cache=0)
PHRASINGS = yaml.safe_load((Path(__file__).parent / "nlu" / "phrasings.yaml").read_text(encoding="utf-8"))
QUESTIONS = sorted({row["text"] for row in PHRASINGS if not row.get("state")})
SPEAKERS = [
    Speaker(openid="o_none"),
    Speaker(openid="o_lc", region="陵川县"),
    Speaker(openid="o_lc_ly", region="陵川县", township="礼义镇"),
    Speaker(openid="o_ls", region="罗山县", township="铁铺镇"),
    Speaker(openid="o_lz", region="乐至县"),
    Speaker(openid="o_zj", region="周集镇"),
]


@pytest.fixture(autouse=True)
def empty_cache():
    ANSWERS.clear()
    yield
    ANSWERS.clear()


def ctx(speaker: Speaker, *, today: dt.date = TODAY, settings: Settings | None = None, registry=REGISTRY,
        sessions=None) -> Context:
    return Context(today=today, registry=registry, speaker=speaker, settings=settings or Settings(),
                   sessions=sessions)


class UsedTheDatabase(Exception):
    pass


class _Session:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None

    def __getattr__(self, name):
        raise UsedTheDatabase(name)


class NoDatabase:
    """A sessionmaker whose sessions can be opened and closed, and nothing more."""

    def __call__(self):
        return _Session()

    def begin(self):
        raise UsedTheDatabase("begin")


async def test_a_cached_reply_equals_a_fresh_one_for_every_phrasing_and_speaker():
    assert len(QUESTIONS) >= 200
    for speaker in SPEAKERS:
        for text in QUESTIONS:
            fresh = await respond(text, ctx(speaker, settings=OFF))
            first = await respond(text, ctx(speaker))  # computes, and caches when it may
            second = await respond(text, ctx(speaker))  # a hit when it was cached
            assert first == fresh, text
            assert second == fresh, text
    assert ANSWERS.hits > 1000  # most of the second round came from the cache


async def test_the_cached_reply_does_not_share_the_speakers_state():
    speaker = Speaker(openid="o1", region="陵川县")
    await respond("低保户交多少", ctx(speaker))
    hit = await respond("低保户交多少", ctx(speaker))
    assert ANSWERS.hits == 1
    hit.speaker.state["pending"] = "x"
    assert speaker.state == {}
    assert (await respond("低保户交多少", ctx(speaker))).speaker.state == {}


@pytest.mark.parametrize("text", ["绑定", "解绑", "我交了吗", "我的缴费状态", "我是陵川县礼义镇的", "切换地区"])
async def test_intents_on_the_followers_own_data_are_never_cached(text):
    speaker = Speaker(openid="o_self", region="陵川县")
    for _ in range(2):
        await respond(text, ctx(speaker))
    assert ANSWERS.hits == 0
    assert len(ANSWERS) == 0


async def test_per_follower_intents_are_the_binding_and_region_ones():
    assert {Intent.BIND, Intent.UNBIND, Intent.MY_STATUS, Intent.SET_REGION} <= PER_FOLLOWER


async def test_an_answer_that_remembers_something_is_not_cached():
    speaker = Speaker(openid="o_new")  # no region: the question waits for one
    first = await respond("低保户交多少", ctx(speaker))
    assert first.speaker.state == {"pending": "低保户交多少"}
    again = await respond("低保户交多少", ctx(speaker))
    assert again.speaker.state == {"pending": "低保户交多少"}
    assert ANSWERS.hits == 0 and len(ANSWERS) == 0


async def test_a_speaker_with_conversation_state_is_never_answered_from_the_cache():
    bound = Speaker(openid="o2", region="陵川县")
    await respond("什么时候截止", ctx(bound))
    waiting = replace(bound, state={"binding": "awaiting"})
    assert ANSWERS.key("什么时候截止", ctx(waiting)) is None
    reply = await respond("什么时候截止", ctx(waiting))
    assert reply == await respond("什么时候截止", ctx(waiting, settings=OFF))
    assert ANSWERS.hits == 0


async def test_another_day_region_default_region_or_registry_misses():
    speaker = Speaker(openid="o3", region="陵川县", township="礼义镇")
    text = "什么时候截止"  # names no region: the answer is the speaker's region's
    await respond(text, ctx(speaker))
    await respond(text, ctx(speaker))
    assert ANSWERS.hits == 1

    later = await respond(text, ctx(speaker, today=dt.date(2024, 12, 20)))
    assert later == await respond(text, ctx(speaker, today=dt.date(2024, 12, 20), settings=OFF))
    assert "本月截止12月25日" in later.text
    elsewhere = await respond(text, ctx(replace(speaker, region="罗山县", township=None)))
    assert "罗山县" in elsewhere.text
    await respond(text, ctx(replace(speaker, region=None), settings=Settings(default_region="乐至县")))
    reloaded = load_registry()
    await respond(text, ctx(speaker, registry=reloaded))
    assert ANSWERS.hits == 1
    assert ANSWERS.misses == 5


async def test_an_answer_is_shared_by_speakers_whose_differences_it_does_not_read():
    # the deadline does not depend on the township: another township of the same county is a hit
    await respond("什么时候截止", ctx(Speaker(openid="o7", region="陵川县", township="礼义镇")))
    shared = await respond("什么时候截止", ctx(Speaker(openid="o8", region="陵川县", township="附城镇")))
    assert ANSWERS.hits == 1
    assert shared == await respond("什么时候截止", ctx(Speaker(openid="o8", region="陵川县", township="附城镇"),
                                                       settings=OFF))
    # a question naming its county gets the same answer whoever asks
    named = "乐至低保户交多少"
    await respond(named, ctx(Speaker(openid="o9", region="陵川县")))
    other = await respond(named, ctx(Speaker(openid="o10", region="罗山县", township="铁铺镇")))
    assert ANSWERS.hits == 2
    assert "【乐至县" in other.text
    assert other == await respond(named, ctx(Speaker(openid="o10", region="罗山县", township="铁铺镇"), settings=OFF))


async def test_an_answer_that_reads_the_township_is_kept_per_township():
    greeting = "你好"
    first = await respond(greeting, ctx(Speaker(openid="o11", region="陵川县", township="礼义镇")))
    second = await respond(greeting, ctx(Speaker(openid="o12", region="陵川县", township="附城镇")))
    assert ANSWERS.hits == 0
    assert second == await respond(greeting, ctx(Speaker(openid="o12", region="陵川县", township="附城镇"),
                                                 settings=OFF))
    assert first.text != second.text
    await respond(greeting, ctx(Speaker(openid="o13", region="陵川县", township="附城镇")))
    assert ANSWERS.hits == 1


async def test_normalised_text_shares_an_entry():
    speaker = Speaker(openid="o4", region="陵川县")
    first = await respond("低保户交多少", ctx(speaker))
    second = await respond("低保户交多少 ", ctx(speaker))  # the same text once normalised
    assert ANSWERS.hits == 1 and second.text == first.text


async def test_the_cache_is_bounded_and_evicts_the_least_recently_used():
    small = Settings(answer_cache=3)
    speaker = Speaker(openid="o5", region="陵川县")
    for text in ["低保户交多少", "什么时候截止", "怎么交"]:
        await respond(text, ctx(speaker, settings=small))
    await respond("低保户交多少", ctx(speaker, settings=small))  # now the most recently used
    await respond("要手续费吗", ctx(speaker, settings=small))  # evicts 什么时候截止
    assert len(ANSWERS) == 3
    hits = ANSWERS.hits
    await respond("低保户交多少", ctx(speaker, settings=small))
    assert ANSWERS.hits == hits + 1
    await respond("什么时候截止", ctx(speaker, settings=small))
    assert ANSWERS.hits == hits + 1


async def test_switched_off_it_keeps_nothing():
    speaker = Speaker(openid="o6", region="陵川县")
    for _ in range(2):
        await respond("低保户交多少", ctx(speaker, settings=OFF))
    assert len(ANSWERS) == 0 and ANSWERS.hits == 0


def test_the_setting_comes_from_the_environment():
    assert Settings.from_env({}).answer_cache == 10_000
    assert Settings.from_env({"YIBAO_ANSWER_CACHE": "0"}).answer_cache == 0
    assert Settings.from_env({"YIBAO_ANSWER_CACHE": "500"}).answer_cache == 500


async def test_a_handler_that_copies_the_speaker_keys_its_answer_on_every_field(monkeypatch):
    from bot.handlers import HANDLERS
    from bot.handlers.answer import Answer

    async def copies(query, context):
        clone = replace(context.speaker, state={})
        return Answer("unknown_region", {"asked": clone.township or "-", "regions": context.registry.regions()})

    monkeypatch.setitem(HANDLERS, Intent.DEADLINE, copies)
    await respond("什么时候截止", ctx(Speaker(openid="o14", region="陵川县", township="礼义镇")))
    await respond("什么时候截止", ctx(Speaker(openid="o15", region="陵川县", township="礼义镇")))
    assert ANSWERS.hits == 0  # another openid: the copy read it
    await respond("什么时候截止", ctx(Speaker(openid="o14", region="陵川县", township="礼义镇")))
    assert ANSWERS.hits == 1


async def test_a_text_with_a_long_number_is_not_kept():
    speaker = Speaker(openid="o16", region="陵川县")
    for text in ["410521199001011234交多少", "13812345678 什么时候截止", "1381 2345 678 怎么交"]:
        for _ in range(2):
            reply = await respond(text, ctx(speaker))
            assert reply == await respond(text, ctx(speaker, settings=OFF))
    assert len(ANSWERS) == 0 and ANSWERS.hits == 0


async def test_offline_answers_are_the_pipelines_and_what_needs_the_database_is_left_out():
    for speaker in [*SPEAKERS[:3], Speaker(openid="o_bound", region="陵川县", resident_id=7)]:
        for text in QUESTIONS:
            try:
                fresh = await respond(text, ctx(speaker, settings=OFF, sessions=NoDatabase()))
            except UsedTheDatabase:
                fresh = None
            assert await respond_offline(text, ctx(speaker, sessions=NoDatabase())) == fresh, text
            if fresh is None:
                assert speaker.resident_id is not None or (await respond(text, ctx(speaker))).intent in USES_DATABASE
    # "我交了吗": a bound follower's payment status needs the roster; an unbound one is told to bind
    bound = Speaker(openid="o_bound", region="陵川县", resident_id=7)
    assert await respond_offline("我交了吗", ctx(bound, sessions=NoDatabase())) is None
    stranger = Speaker(openid="o_unbound", region="陵川县")
    unbound = await respond_offline("我交了吗", ctx(stranger, sessions=NoDatabase()))
    assert unbound is not None and "绑定" in unbound.text


async def test_a_handler_reaching_for_the_database_stops_an_offline_answer(monkeypatch):
    from bot.handlers import HANDLERS

    async def reads(query, context):
        async with context.sessions() as session:
            await session.execute("SELECT 1")
        raise AssertionError("not offline")

    monkeypatch.setitem(HANDLERS, Intent.DEADLINE, reads)
    speaker = Speaker(openid="o17", region="陵川县")
    assert await respond_offline("什么时候截止", ctx(speaker, sessions=NoDatabase())) is None
    assert len(ANSWERS) == 0 and ANSWERS.misses == 0
