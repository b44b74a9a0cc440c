"""Mentions are context, the question decides (bot.nlu.intents.classify); helping someone pay."""

from __future__ import annotations

import pytest

from bot.nlu import Intent, understand
from bot.rules.loader import PolicyRegistry


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # working away, going home for the new year
        ("俺两口子都在江苏进厂打工，老家的合疗今年一人多少钱", Intent.FEE),
        ("我在外面干活一年没回去了，罗山今年几号截止交", Intent.DEADLINE),
        ("春节要回老家过年，医保在手机上怎么交", Intent.CHANNELS),
        # moving, marrying in
        ("我从河南嫁到乐至好多年了，今年一个人交多少钱", Intent.FEE),
        ("前几年户口迁过来了，现在医保最晚啥时候交", Intent.DEADLINE),
        # a baby in the family, but the question is about the adults
        ("儿媳妇上个月刚生了，我和老伴今年的医保多少钱", Intent.FEE),
        # employee insurance, a hospital: mentioned, not asked about
        ("我自己单位交的职工医保，家里老人的合疗多少钱一个", Intent.FEE),
        ("上次去县医院看病，今年医保截止日期是哪天", Intent.DEADLINE),
    ],
)
def test_a_question_wins_over_a_mention_in_another_clause(
    registry: PolicyRegistry, text: str, intent: Intent
) -> None:
    assert understand(text, registry).intent is intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # the question is about the situation itself
        ("在外地打工的过年回来再交来得及吗", Intent.MIGRANT),
        ("闺女在外省上班，到时候回来还能补交不", Intent.MIGRANT),  # 到时候 points back at the mention
        ("户口迁走了，医保怎么转", Intent.MOVING),
        ("孙女刚出生半个月，在哪给她上医保", Intent.NEWBORN),  # the question is about the baby
        ("职工医保一年交多少", Intent.OUT_OF_SCOPE),
        ("乡卫生院在哪", Intent.OUT_OF_SCOPE),
    ],
)
def test_the_mention_stays_when_it_is_what_is_asked(registry: PolicyRegistry, text: str, intent: Intent) -> None:
    assert understand(text, registry).intent is intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # a relative paying for the one asking: the family account (共济) per the notices
        ("我闺女能不能替我把医保交了", Intent.FAMILY_ACCOUNT),
        ("外孙在城里上班，他可以帮俺们老两口交合疗吗", Intent.FAMILY_ACCOUNT),
        ("儿媳妇用她的手机给我交行不行", Intent.FAMILY_ACCOUNT),
        # the asker paying for someone, or the village / a 代办员 doing it: channels (offline, 代办)
        ("我妈眼睛看不见，我去信用社替她交可以吗", Intent.CHANNELS),
        ("村上有没有人帮着交", Intent.CHANNELS),
        ("陵川县能找人代办不", Intent.CHANNELS),
        # and what that help costs
        ("找人帮忙交要不要给钱", Intent.HANDLING_FEE),
    ],
)
def test_helping_someone_pay(registry: PolicyRegistry, text: str, intent: Intent) -> None:
    assert understand(text, registry).intent is intent
