"""SQLAlchemy 2 models: one truth for the bot, the scheduler and the console.

ID numbers (身份证号) are never stored in clear: only a keyed HMAC (for matching) and a masked form.
Datetimes are timezone-aware (stored as UTC by `UtcDateTime`); money is whole yuan.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator):
    """A timezone-aware datetime, stored as UTC on every backend (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every datetime must carry its time zone")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UtcDateTime, dict[str, Any]: JSON}


class Region(Base):
    """County -> township -> village, matching the notices' target tables."""

    __tablename__ = "regions"
    __table_args__ = (UniqueConstraint("county", "township", "village", name="uq_region_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(16))  # county | town (the policy region) | township | village
    county: Mapped[str] = mapped_column(String(64))  # the policy region name (陵川县, 周集镇)
    township: Mapped[str] = mapped_column(String(64), default="")  # "" at county level
    village: Mapped[str] = mapped_column(String(64), default="")  # "" above village level
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))

    @property
    def name(self) -> str:
        return self.village or self.township or self.county


class Resident(Base):
    __tablename__ = "residents"
    __table_args__ = (Index("ix_residents_region", "county", "township", "village"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    id_hmac: Mapped[str] = mapped_column(String(64), unique=True)  # keyed HMAC-SHA256 of the ID number, hex
    id_masked: Mapped[str] = mapped_column(String(18))  # 1404**********1234
    name: Mapped[str] = mapped_column(String(64))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))  # M | F, from the ID's 17th digit
    county: Mapped[str] = mapped_column(String(64))
    township: Mapped[str] = mapped_column(String(64))
    village: Mapped[str] = mapped_column(String(64), default="")
    phone_masked: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    categories: Mapped[list[ResidentCategory]] = relationship(back_populates="resident", lazy="raise")


class ResidentCategory(Base):
    """A resident's subsidy category (身份类别) for one insurance year."""

    __tablename__ = "resident_categories"
    __table_args__ = (Index("ix_resident_categories_year", "insurance_year", "category"),)

    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True)
    insurance_year: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)  # category key of the policy

    resident: Mapped[Resident] = relationship(back_populates="categories", lazy="raise")


class Payment(Base):
    """Enrolment/payment for one insurance year (one per resident and year)."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("resident_id", "insurance_year", name="uq_payment_resident_year"),
        Index("ix_payments_year", "insurance_year"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    insurance_year: Mapped[int]
    amount: Mapped[int]  # whole yuan
    paid_on: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(128), default="")  # import file name, api, demo
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Target(Base):
    """A township's or village's target for one year, with the notice's extra columns (低保, 脱贫户, ...)."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("region_id", "insurance_year", name="uq_target_region_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"))
    insurance_year: Mapped[int]
    policy_id: Mapped[str] = mapped_column(String(64))
    target: Mapped[int]
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)  # column key -> figure


class Contact(Base):
    """An official: 分管领导, 经办人, 包片领导, 负责人, 协调员. Phones are imported, never committed."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("county", "township", "role", "name", name="uq_contact"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    county: Mapped[str] = mapped_column(String(64))
    township: Mapped[str] = mapped_column(String(64), default="")  # "" = county level (bureau)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20), default="")
    openid: Mapped[str | None] = mapped_column(String(64), index=True)


class Follower(Base):
    """A WeChat user who follows the account, with conversation state."""

    __tablename__ = "followers"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True
    )
    county: Mapped[str | None] = mapped_column(String(64))  # bound region (policy region name)
    township: Mapped[str | None] = mapped_column(String(64))
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    subscribed_at: Mapped[dt.datetime | None]
    unsubscribed_at: Mapped[dt.datetime | None]
    last_interaction_at: Mapped[dt.datetime | None]  # any message or event
    last_message_at: Mapped[dt.datetime | None]  # last user message (opens the 48-hour service window)
    window_sends: Mapped[int] = mapped_column(default=0)  # customer-service sends since last_message_at
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)  # 43004 / 43101
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)  # pending question, binding step


class BindFailure(Base):
    """Failed binding attempts of one day, per subject: a follower (`f:<openid>`), a name being tried
    (`n:<keyed HMAC of the name>`) or a resident whose ID number was tried (`r:<resident id>`). Counted before
    the check and given back only by the attempt that succeeds (bot/store/binding_limits.py): a success or an
    unbind never resets them."""

    __tablename__ = "bind_failures"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # Asia/Shanghai
    subject: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)


class InboundMessage(Base):
    """Dedupe of WeChat retries: MsgId, or FromUserName + CreateTime + Event for events."""

    __tablename__ = "inbound_messages"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="processing")  # processing | done | deferred
    reply: Mapped[str | None] = mapped_column(Text)  # the reply text, so a retry gets the same one


class AccessToken(Base):
    """The shared access_token cache: one row per appid, used by every worker."""

    __tablename__ = "access_tokens"

    appid: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(512))
    expires_at: Mapped[dt.datetime]


class MessageLog(Base):
    __tablename__ = "message_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    msg_type: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text, default="")  # IDs and phone numbers masked
    intent: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # An inbound message answered by passive reply: its dedupe key. The reply is not copied here, it is
    # inbound_messages.reply of that key (the webhook writes each reply once; see bot/store/inbox.py).
    reply_key: Mapped[str | None] = mapped_column(String(128))
    # What the bot made of an inbound message it could not answer (its candidate intents and the slots it
    # found, never the text), or a resident's 有用/没用 on an answer; bot/handlers/records.py builds it.
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A planned message. `key` = recipient:insurance year:cutoff:stage, so re-planning never duplicates."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # reminder | digest | escalation | bulletin | broadcast
    openid: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    insurance_year: Mapped[int]
    cutoff: Mapped[dt.date] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # template name + data
    # pending | sending | sent | failed | dropped | skipped | in_doubt (WeChat may have delivered it; not resent)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[dt.datetime]
    not_after: Mapped[dt.datetime]  # the cutoff: never sent late
    planned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    wechat_msgid: Mapped[str | None] = mapped_column(String(64))
    in_doubt_at: Mapped[dt.datetime | None]  # the first call that got no answer (timeout, dropped connection)


# --- the bureau console (bot/console/) ------------------------------------------------------------------


class User(Base):
    """A console account: bureau admin, bureau staff, or a township leader limited to one township."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # admin | staff | township
    county: Mapped[str | None] = mapped_column(String(64))  # a township leader's policy region
    township: Mapped[str | None] = mapped_column(String(64))  # a township leader's township
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sessions_ended_at: Mapped[dt.datetime | None]  # logged out: the sessions issued before it end


class LoginAttempt(Base):
    """Failed console logins, per username and per address, for throttling (kept in the database so every
    worker counts the same)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username", "username", "created_at"),
        Index("ix_login_attempts_ip", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PublishedPolicy(Base):
    """A policy file published from the console. `version` rises with every publication: the running
    processes compare the highest one with theirs and reload when it moved (bot/store/published.py)."""

    __tablename__ = "published_policies"

    version: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(64), index=True)
    region: Mapped[str] = mapped_column(String(64))
    insurance_year: Mapped[int]
    yaml_text: Mapped[str] = mapped_column(Text)
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CampaignPause(Base):
    """A paused campaign stage of one policy (stage "*" = the whole season): its jobs plan nothing."""

    __tablename__ = "campaign_pauses"

    policy_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    paused_by: Mapped[str] = mapped_column(String(64))
    paused_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# -- reaching people (issue 15): broadcasts, WeChat tags, receipts, consent -----------------------------


class Broadcast(Base):
    """A mass message (群发) composed by bureau staff: draft -> approved -> sending -> sent."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(64), default="")  # "" = typed; else the policy id it announces
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)  # kind, county, township, group, year
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|approved|sending|sent|failed
    author: Mapped[str] = mapped_column(String(64))
    approver: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    recipients: Mapped[int] = mapped_column(default=0)  # openids sent to
    over_limit: Mapped[int] = mapped_column(default=0)  # skipped: their monthly mass messages were used up
    last_error: Mapped[str | None] = mapped_column(Text)


class BroadcastBatch(Base):
    """One mass/send call of a broadcast: at most 10,000 openids, its own clientmsgid, so a retried call is
    refused by WeChat (45065) instead of sent twice. The MASSSENDJOBFINISH counts arrive later by msg_id."""

    __tablename__ = "broadcast_batches"
    __table_args__ = (UniqueConstraint("broadcast_id", "seq", name="uq_broadcast_batch"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    seq: Mapped[int]
    clientmsgid: Mapped[str] = mapped_column(String(64), unique=True)
    openids: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    msg_id: Mapped[str | None] = mapped_column(String(64), index=True)
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    total_count: Mapped[int | None]
    filter_count: Mapped[int | None]
    sent_count: Mapped[int | None]
    error_count: Mapped[int | None]
    receipt_at: Mapped[dt.datetime | None]


class MassCount(Base):
    """Mass messages each follower received in a calendar month (Asia/Shanghai), counted before sending."""

    __tablename__ = "mass_counts"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # 2024-11
    count: Mapped[int] = mapped_column(default=0)


class DeliveryReceipt(Base):
    """A TEMPLATESENDJOBFINISH or MASSSENDJOBFINISH event, by its event and WeChat's msg id (the outbox's
    wechat_msgid, a broadcast batch's msg_id): template and mass sends number their ids apart, so one id may
    name one of each."""

    __tablename__ = "delivery_receipts"

    event: Mapped[str] = mapped_column(String(32), primary_key=True)
    msgid: Mapped[str] = mapped_column(String(64), primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(64))  # success | failed:user block | failed: system failed
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # A mass send's TotalCount, FilterCount, SentCount, ErrorCount (keys total, filter, sent, error): kept so
    # that a receipt pushed before the send was recorded still reaches its batch (bot/store/broadcasts.py).
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ReminderConsent(Base):
    """A follower's answer to 是否接收缴费提醒, with when and how it was given; no row = never asked."""

    __tablename__ = "reminder_consents"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    consent: Mapped[bool] = mapped_column(Boolean)
    via: Mapped[str] = mapped_column(String(32))  # binding | text | menu | popup
    answered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WeChatTag(Base):
    """A tag created on WeChat (at most 100 per account): our name -> WeChat's id."""

    __tablename__ = "wechat_tags"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    tag_id: Mapped[int]


class FollowerTag(Base):
    """The region tags a follower carries on WeChat, as last applied. Followers whose region differs from
    their tags here are the queue the tag job drains (scheduler/tags.py), never the 5-second reply."""

    __tablename__ = "follower_tags"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    tag: Mapped[str] = mapped_column(String(30), primary_key=True)
