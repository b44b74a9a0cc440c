"""What understanding produces from one message: the intent and its slots."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Intent(StrEnum):
    FEE = "fee"  # 交多少钱, 低保户交多少, 高档次多少
    FISCAL_SUBSIDY = "fiscal_subsidy"  # 财政补助多少
    DEADLINE = "deadline"  # 什么时候截止, 还能交吗
    CHANNELS = "channels"  # 怎么交, 在哪交
    FAMILY_ACCOUNT = "family_account"  # 家庭共济, 亲情账户, 给家人代缴
    REGISTRATION = "registration"  # 怎么参保, 谁能参保, 外地户口能参保吗
    NEWBORN = "newborn"  # 孩子刚出生怎么参保
    MIGRANT = "migrant"  # 过年回来还能交吗 (extension for returning migrant workers)
    MOVING = "moving"  # 换参保地, 转到这边
    HANDLING_FEE = "handling_fee"  # 要手续费吗
    BENEFIT_START = "benefit_start"  # 什么时候开始报销 / 享受待遇
    WAITING_PERIOD = "waiting_period"  # 断了两年没交，现在交了多久能报销 / 待遇等待期
    ENROLMENT_REWARD = "enrolment_reward"  # 连续参保有什么奖励 / 零报销提高大病保险限额
    GREETING = "greeting"  # 你好
    HELP = "help"  # 你能做什么
    SET_REGION = "set_region"  # 我是陵川县礼义镇的, 切换地区
    BIND = "bind"  # 绑定 (issue 4)
    UNBIND = "unbind"  # 解绑
    MY_STATUS = "my_status"  # 我交了吗, 我的缴费状态
    REMINDERS = "reminders"  # 订阅提醒 (topic "on") / 退订提醒 ("off"): consent to payment reminders
    OFFICIAL_NAME = "official_name"  # any text while an official's QR scan awaits their name (state "official")
    OUT_OF_SCOPE = "out_of_scope"  # 养老保险, 天气
    FALLBACK = "fallback"  # not understood
    # Events and messages that are not questions: built by the WeChat edge (bot/wechat/inbox.py), never by
    # understanding a text.
    SUBSCRIBE = "subscribe"  # 关注 (also by scanning the account's QR code)
    UNSUBSCRIBE = "unsubscribe"  # 取消关注
    UNSUPPORTED = "unsupported"  # a picture, a location, an unknown menu key, ...: topic says which
    VOICE_UNRECOGNIZED = "voice_unrecognized"  # a voice message without speech-to-text
    OFFICIAL_SCAN = "official_scan"  # an official's QR code scanned (subscribe or SCAN with its signed scene)
    SUBSCRIBE_POPUP = "subscribe_popup"  # the choices in WeChat's subscription-notice popup
    RECEIPT = "receipt"  # a template or mass send's receipt: topic says which
    EVENT = "event"  # any other event (location report, a follower's scan): topic says which
    # 有用/没用 tapped after an answer that asked for it: built by the offers hook (bot/handlers/offers.py).
    FEEDBACK = "feedback"  # topic "useful" / "useless", extras {"about": the rated answer's intent}


# The intents no text is understood as.
EVENT_INTENTS = frozenset({Intent.SUBSCRIBE, Intent.UNSUBSCRIBE, Intent.UNSUPPORTED, Intent.VOICE_UNRECOGNIZED,
                           Intent.OFFICIAL_SCAN, Intent.SUBSCRIBE_POPUP, Intent.RECEIPT, Intent.EVENT,
                           Intent.FEEDBACK})


@dataclass(frozen=True)
class Query:
    intent: Intent
    text: str  # the normalised text
    region: str | None = None  # canonical region name as in the notices (陵川县, 周集镇)
    township: str | None = None  # 礼义镇 (for SET_REGION and binding)
    year: int | None = None  # insurance year named in the text (2023年度)
    categories: tuple[str, ...] = ()  # category keys (see bot/rules/schema.py)
    tier: str | None = None  # "high" / "low" when the text names a tier
    topic: str | None = None  # out-of-scope topic (养老保险) or a sub-question
    extras: dict[str, str] = field(default_factory=dict)  # e.g. name / id for binding (never logged)
    # A message asking several things (高档多少钱，能用微信交不): the further questions, in the order asked.
    also: tuple[Query, ...] = ()
    # A figure checked (是不是交三百, 截止是不是12月31号; bot.nlu.check): amounts in yuan, and (month, day) with
    # month 0 for a day alone. The answer says 对 or 不对 first.
    checked: tuple[int, ...] = ()
    checked_date: tuple[int, int] | None = None
