"""Follow-ups keep the thread: what one message named carries to the next questions of the conversation.

After "我搬到罗山县了，罗山县交多少", "那低保呢" is the fee in 罗山县 for 低保, and "啥时候截止" then is the
deadline in 罗山县 for 低保, as a person listening would take them. The conversation's context is the last
question's reading (intent, place, groups, tier, year) with the time it was asked; it is kept in the
follower's conversation state (`state["context"]`) and forgotten after `CARRY` (a follower coming back the
next day starts afresh).

- A question naming no place is asked about the place named before; a question of paying (fee, deadline,
  channels) likewise about the groups and the year named before (unless it says 今年), and a fee question
  about the tier.
- An elliptical message ("那低保呢", "乐至呢", "2025年的呢", "前年呢", "今年呢": only slots, then 呢) is the
  previous question asked again with the new slot.
- A question after one about a newborn is about the newborn unless it names someone else (要交多少钱).
- Naming one's own place (我是乐至的) ends the context: that place is the follower's region from then on.
- Asking to be reminded (截止前提醒我一下) is about the place named before. A message not understood that names a
  place (青禾县有啥新政策没) is offered that place, never given it (tests/commands/test_ask_checks.py).

Each question renews the context (and its time); other messages (thanks, greetings) leave it as it was.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

from bot.nlu.query import Intent, Query
from bot.nlu.questions import asks

CARRY = dt.timedelta(minutes=30)
KEY = "context"
# The questions whose reading carries to, and from, the next message.
QUESTIONS = frozenset({
    Intent.FEE, Intent.FISCAL_SUBSIDY, Intent.DEADLINE, Intent.CHANNELS, Intent.FAMILY_ACCOUNT,
    Intent.REGISTRATION, Intent.NEWBORN, Intent.MIGRANT, Intent.MOVING, Intent.HANDLING_FEE,
    Intent.BENEFIT_START, Intent.WAITING_PERIOD, Intent.ENROLMENT_REWARD,
})
# Only slots, then 呢: 那低保呢, 特困的呢, 乐至呢, 2025年的呢, 那要是高档呢.
_ELLIPTICAL = re.compile(r"^(?:那|那么|那要是|要是|如果是?|换成|还有)?(?P<rest>.{1,16}?)的?(?:呢|咧|嘞)[?]*$")
_SHORT = 16
_THIS_YEAR = re.compile(r"今年|本年|现在")
# Someone other than the newborn: 我自己, 大人, 老人 ... (as in bot.nlu.intents).
_SOMEONE_ELSE = re.compile(r"我|俺|咱|自己|两口子|大人|老人|爹|娘|爸|妈|老伴|媳妇|老公|全家|一家")
# The questions of paying, to which the group, tier and year named before carry (the place carries to all).
_PAYING = frozenset({Intent.FEE, Intent.DEADLINE, Intent.CHANNELS})
# Requests about the place named before, which carry nothing further (截止前提醒我一下: that county's deadline).
_ABOUT_THE_PLACE = frozenset({Intent.REMINDERS})
_NEWBORN_TOO = frozenset({Intent.FEE, Intent.DEADLINE, Intent.CHANNELS, Intent.REGISTRATION})


def remembered(state: dict[str, Any], now: dt.datetime) -> dict[str, Any] | None:
    """The conversation's context if it is recent (asked within `CARRY` before `now`), else None."""
    context = state.get(KEY)
    if not isinstance(context, dict):
        return None
    try:
        asked = dt.datetime.fromisoformat(str(context.get("at")))
        fresh = dt.timedelta(0) <= now - asked <= CARRY
    except (TypeError, ValueError):  # unreadable, or naive against aware
        return None
    return context if fresh else None


def context_of(query: Query, now: dt.datetime) -> dict[str, Any] | None:
    """What the conversation remembers after the question `query` (None: not a question; see `forgets`)."""
    if query.intent not in QUESTIONS:
        return None
    return {
        "at": now.isoformat(),
        "intent": query.intent.value,
        "region": query.region,
        "township": query.township,
        "categories": list(query.categories),
        "tier": query.tier,
        "year": query.year,
    }


def forgets(query: Query) -> bool:
    """Whether `query` ends the conversation's context: naming one's own place (我是乐至的) makes it the
    follower's region, which a place named before must not override."""
    return query.intent is Intent.SET_REGION and query.region is not None


def elliptical(query: Query) -> bool:
    """Whether the message only names slots before 呢 (那低保呢, 乐至呢, 前年呢), or names a slot and nothing
    else that is understood (2023年, 去年的)."""
    named = query.region or query.township or query.year or query.categories or query.tier \
        or _THIS_YEAR.search(query.text)  # 今年呢: this year again, after another year
    if not named:
        return False
    if query.intent is Intent.FALLBACK and len(query.text) <= _SHORT and not asks(query.text):
        return True  # a slot alone, understood as nothing else (2023年, 去年的)
    m = _ELLIPTICAL.match(query.text)
    return bool(m and not asks(m.group("rest")))


def place(query: Query, context: dict[str, Any] | None) -> tuple[str, str | None] | None:
    """The (region, township) a question naming no place is asked about: the one named before, if any."""
    if context is None or not context.get("region") or query.intent not in QUESTIONS | _ABOUT_THE_PLACE:
        return None
    if query.region is not None or query.township is not None or "unknown_region" in query.extras:
        return None
    return context["region"], context.get("township")


def carry(query: Query, context: dict[str, Any] | None) -> Query:
    """`query` read in the conversation's `context` (see the module docstring), but for the place, which
    the pipeline gives the answer as the speaker's (see `place`)."""
    if context is None:
        return query
    before = Intent(context["intent"]) if context.get("intent") else None
    if before is not None and before in QUESTIONS and elliptical(query):
        query = replace(query, intent=before, topic=None)
    if (before is Intent.NEWBORN and query.intent in _NEWBORN_TOO and not query.categories
            and not _SOMEONE_ELSE.search(query.text)):
        query = replace(query, intent=Intent.NEWBORN)
    if query.intent not in QUESTIONS:
        return query
    if query.intent not in _PAYING:
        return query
    changes: dict[str, Any] = {}
    if not query.categories and context.get("categories"):
        changes["categories"] = tuple(context["categories"])
    if query.year is None and context.get("year") and not _THIS_YEAR.search(query.text):
        changes["year"] = context["year"]
    if query.intent is Intent.FEE and query.tier is None and context.get("tier"):
        changes["tier"] = context["tier"]
    return replace(query, **changes) if changes else query


# A plain yes or no replying to a question of ours (您问的是青禾县吗): 是 / 是的 / 对 / 嗯 / 没错, 不是 / 不对 / 不.
_YES = re.compile(r"(?:是|是的|是啊|是呀|对|对的|对啊|对呀|对头|嗯|嗯嗯|恩|没错|没错的|就是|就是它|是滴|好|好的"
                  r"|yes|ok|y)(?:是的|对的|就是)?[!.~。！]*", re.IGNORECASE)
_NO = re.compile(r"(?:不是|不对|不|没有|错了|不是的|不对的|no|n)(?:啊|呀|哦)?[!.~。！]*", re.IGNORECASE)


def yes_or_no(text: str) -> bool | None:
    """True for a plain yes, False for a plain no, None for anything else (a place, another question)."""
    said = text.strip().strip(" ，,")
    if _YES.fullmatch(said):
        return True
    if _NO.fullmatch(said):
        return False
    return None
