"""When a message is not understood but names the domain (交钱, 医保, 孩子, 打工 ...) or a slot (a group, a tier, a
year), ask what it means: "您是想问：1. … 2. … 3. …", the likeliest intents first, each offered by its number
(bot/handlers/offers.py) with the slots the message named. Also what was tried, for staff (`tried`).
"""

from __future__ import annotations

import re
from typing import Any

from bot.nlu.query import Intent, Query

MAX_ITEMS = 3

# Words of the domain and the questions they suggest, likeliest first. Each pattern counts once, shared among
# the questions it suggests; slots count too (see `candidates`).
_HINTS: tuple[tuple[re.Pattern[str], tuple[Intent, ...]], ...] = tuple(
    (re.compile(pattern), intents) for pattern, intents in (
        (r"钱|多少|费用|价格|标准|档", (Intent.FEE,)),
        (r"截止|截至|期限|时间|日期|几号|几月|啥时|什么时候|何时|过期|晚了|还能", (Intent.DEADLINE,)),
        (r"交|缴|续", (Intent.FEE, Intent.DEADLINE, Intent.CHANNELS)),
        (r"微信|支付宝|银行|网上|线上|手机|app|APP|小程序|哪里|在哪|去哪|怎么弄|咋弄|咋办|怎么办", (Intent.CHANNELS,)),
        (r"医保|保险|合作医疗|农合|新农合", (Intent.FEE, Intent.DEADLINE, Intent.REGISTRATION)),
        (r"参保|参加|入保|办理|材料|手续|证件|带什么|户口本", (Intent.REGISTRATION,)),
        (r"孩子|娃|宝宝|小孩|新生|出生|生了|满月", (Intent.NEWBORN,)),
        (r"打工|外出|外地|返乡|回来|回家|过年", (Intent.MIGRANT,)),
        (r"报销|待遇|看病|住院|生效|能用", (Intent.BENEFIT_START,)),
        (r"家人|家里|父母|爸|妈|老人|儿子|女儿|老伴|代交|代缴|帮.{0,3}交|替", (Intent.FAMILY_ACCOUNT,)),
        (r"补助|补贴|财政|政府", (Intent.FISCAL_SUBSIDY,)),
        (r"转|迁|搬|换地方|户口", (Intent.MOVING,)),
        (r"断|没交|漏交|等待期", (Intent.WAITING_PERIOD,)),
    )
)


# A question each intent is understood from, offered when no county is known yet: the county is then asked
# for, and this text is the question waiting for it (the message itself would only bring the menu back).
QUESTIONS = {
    Intent.FEE: "交多少钱",
    Intent.DEADLINE: "什么时候截止",
    Intent.CHANNELS: "怎么交",
    Intent.REGISTRATION: "怎么参保",
    Intent.NEWBORN: "孩子刚出生怎么参保",
    Intent.MIGRANT: "打工回来还能交吗",
    Intent.BENEFIT_START: "交了什么时候能报销",
    Intent.FAMILY_ACCOUNT: "能给家里人代缴吗",
    Intent.FISCAL_SUBSIDY: "政府补助多少",
    Intent.MOVING: "换参保地怎么办",
    Intent.WAITING_PERIOD: "断缴了交上多久能报销",
}


def candidates(query: Query) -> list[Intent]:
    """The likeliest intents of a message no intent rule won (at most MAX_ITEMS), or [] when it names nothing
    of the domain."""
    scores: dict[Intent, float] = {}

    def add(intent: Intent, weight: float) -> None:
        scores[intent] = scores.get(intent, 0.0) + weight

    if query.categories or query.tier:
        add(Intent.FEE, 2.0)
    if query.year is not None:
        add(Intent.FEE, 1.0)
        add(Intent.DEADLINE, 1.0)
    for pattern, intents in _HINTS:
        if pattern.search(query.text):
            for rank, intent in enumerate(intents):  # a word that suggests one question says more
                add(intent, 1.0 / len(intents) - rank * 0.01)
    ranked = sorted(scores, key=lambda i: -scores[i])  # stable: ties keep the order they were named in
    return ranked[:MAX_ITEMS]


def tried(query: Query, offered: list[Intent] | None = None) -> dict[str, Any]:
    """What the bot made of a message it could not answer, for the console (no ID numbers: slots only)."""
    found: dict[str, Any] = {"intent": str(query.intent)}
    if offered is None and query.intent is Intent.FALLBACK:
        offered = candidates(query)
    if offered:
        found["candidates"] = [str(i) for i in offered]
    for name in ("region", "township", "year", "tier", "topic"):
        value = getattr(query, name)
        if value:
            found[name] = value
    if query.categories:
        found["categories"] = list(query.categories)
    return found
