"""A payment channel named in a channels question: "能用支付宝交吗", "可以去银行交不", "微信怎么交", "在村里能交吗".

The reading stays CHANNELS (bot.nlu.intents); this module says which channels the question names, so that the
answer can say first whether the notice lists them (bot/handlers/channels.py) instead of listing every channel.
A channel the resident says they cannot use (不会用微信, 没有支付宝, 除了微信) is not asked about: that question
wants the other channels, the whole list. A question naming no channel but who pays (学生怎么交, 老人不会用手机怎么交)
asks for the channels open to them (`for_payer`): the school's, or those off the phone.

Each term is a way residents name a channel, with the words a notice's channel name or detail would carry
(matched against the policy's channels, never a fixed answer), or the channel kinds it stands for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """A channel as residents name it. `phrase` reads after 可以 (可以用支付宝缴费, 可以在村里缴费)."""

    key: str
    phrase: str
    asked: re.Pattern[str]  # in the question
    listed: re.Pattern[str] | None  # in a channel's name or detail
    kinds: frozenset[str] = frozenset()  # or a channel of these kinds
    exact: str | None = None  # a channel named just so (微信) is the one meant, before 四川税务微信公众号


def _term(key: str, phrase: str, asked: str, listed: str | None, kinds: tuple[str, ...] = (),
          exact: str | None = None) -> Term:
    return Term(key, phrase, re.compile(asked, re.I), re.compile(listed, re.I) if listed else None,
                frozenset(kinds), exact)


# The more specific first: a term's words are taken out of the question before the next is looked for
# (手机银行 is not also 银行, 税务微信公众号 is the tax bureau's account).
TERMS: tuple[Term, ...] = (
    _term("tax", "通过税务渠道", r"税务(?:局|app|微信公众号|公众号|小程序)?", r"税务"),
    _term("mobile_bank", "用手机银行", r"手机银行(?:app)?|网银|网上银行|银行app", r"手机银行|网银"),
    _term("bank_card", "用银行卡", r"银行卡|储蓄卡|借记卡", r"银行卡|刷卡|pos"),
    _term("bank", "去银行", r"银行|信用社|农商行|农信社|邮政储蓄|邮储", r"(?<!手机)银行|信用社|柜面"),
    _term("mini_program", "用小程序", r"(?:微信)?小程序", r"小程序"),
    _term("official_account", "用公众号", r"(?:微信)?公众号", r"公众号"),
    _term("alipay", "用支付宝", r"支付宝|支付包", r"支付宝", exact="支付宝"),
    _term("wechat", "用微信", r"微信|威信|vx", r"微信", exact="微信"),
    _term("cash", "交现金", r"现金|现钱|拿钱去", r"现金"),
    _term("card", "刷卡", r"刷卡|pos", r"刷卡|pos"),
    _term("school", "在学校", r"学校|班主任|班级|班上", None, ("school",)),
    _term("village", "在村里", r"(?:在|去|到|找)村|村(?:里|上|委会?|部|干部|会计|支书|代办|便民|服务站|卫生室)",
          r"(?<!农)村"),
    _term("township", "在乡镇便民服务中心",
          r"乡镇|镇上|镇里|乡里|乡上|便民服务中心|乡政府|镇政府|街道|社区", r"乡镇|便民服务中心|社区"),
    _term("counter", "去窗口", r"窗口|大厅|政务中心|政务服务中心|医保局|医保中心|经办机构", r"窗口|大厅|经办机构"),
    _term("app", "用手机APP", r"app", r"app"),
    _term("online", "在手机上（线上）", r"手机上|网上|线上|手机里|用手机(?!＿)", None, ("online",)),
    # Ways to pay that residents know from elsewhere: no notice may list them, and the answer says so, with the
    # channels it does list. Matched as written in a notice's channel name or detail, never assumed.
    *(_term(name, f"用{name}", re.escape(name), re.escape(name))
      for name in ("云闪付", "信用卡", "数字人民币", "翼支付", "抖音", "美团", "京东", "拼多多", "银联")),
)

# Said of a channel one cannot or will not use: the question wants the others.
_WITHOUT = re.compile(r"(?:不会|没有|没|不能|不想|不方便|不懂|除了|用不了|弄不来|不用)(?:用|开|装|下载)?(?:的)?$")
# A question of how (微信怎么交): the channel's line first, then the others in one line.
_HOW = re.compile(r"怎么|怎样|咋|如何|啷个|步骤|流程|操作")


@dataclass(frozen=True)
class Asked:
    terms: tuple[Term, ...]  # the channels named, in the order named
    how: bool  # asked how to pay through them (else whether one may)


def named(text: str) -> Asked | None:
    """The channels a channels question names, None when it names none (or only ones the resident lacks)."""
    rest = text
    found: list[tuple[int, Term]] = []
    for term in TERMS:
        for m in term.asked.finditer(rest):
            if _WITHOUT.search(rest[max(0, m.start() - 6):m.start()]):
                continue
            found.append((m.start(), term))
            break
        rest = term.asked.sub(lambda m: "＿" * len(m.group(0)), rest)
    if not found:
        return None
    terms = tuple(dict.fromkeys(term for _, term in sorted(found, key=lambda f: f[0])))
    return Asked(terms, bool(_HOW.search(text)))


# Who pays, named in a question naming no channel, and the channels for them (a Term the answer leads with).
PAYERS: tuple[tuple[re.Pattern[str], Term], ...] = (
    (re.compile(r"学生|在校生|大学生|中专生|职高|技校|上大学|读大学|在学校上学|住校"),
     next(t for t in TERMS if t.key == "school")),
    # (不会用手机, 没有智能手机, 手机玩不来, 不识字, 不会上网; not one app, 不会用微信: the others, every channel)
    (re.compile(r"(?:不会|不懂|不太会|弄不来|玩不来|用不来|用不了)(?:用|玩|弄|操作)?(?:智能)?(?:手机|网上|上网|线上)"
                r"|(?:手机|网上)(?:也|都)?(?:不会|弄不来|玩不来|用不来|用不了)|没(?:有)?(?:智能)?手机|老年机|不识字"),
     _term("offline", "到线下缴费点", r"(?!)", None, ("offline",))),
)


def for_payer(text: str) -> Asked | None:
    """The channels for who pays, when a question names no channel but them (学生怎么交: the school's; 老人不会用手机
    怎么交: those off the phone), asked how (the others follow in one line); None otherwise."""
    if named(text) is not None:
        return None
    terms = tuple(term for pattern, term in PAYERS if pattern.search(text))
    return Asked(terms[:1], True) if terms else None


def lists(term: Term, kind: str, name: str, detail: str | None) -> bool:
    """Whether a notice's channel (its kind, name and detail) is the channel `term` names (for a term with an
    `exact` name, see `exactly` too)."""
    if kind in term.kinds:
        return True
    if term.listed is None:
        return False
    return bool(term.listed.search(name) or (detail and term.listed.search(detail)))


def exactly(term: Term, name: str) -> bool:
    """Whether a channel is named just as the term (微信), not merely mentions it (“四川税务”微信公众号)."""
    return term.exact is not None and name.strip() == term.exact
