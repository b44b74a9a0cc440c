"""The types every layer shares: who is asking (`Speaker`), what a handler is given (`Context`) and returns
(`Answer`), and what the pipeline gives back (`Reply`). A leaf: it imports no layer of the bot but config
and rules (and the NLU's Query for type checking only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import Settings
from bot.rules.loader import PolicyRegistry

if TYPE_CHECKING:
    from bot.nlu.query import Intent, Query


@dataclass
class Speaker:
    """Who is asking, with what we remember of them (a follower's stored state, or CLI flags)."""

    openid: str | None = None
    region: str | None = None  # canonical policy region name (bound, or --region)
    township: str | None = None
    resident_id: int | None = None
    state: dict[str, Any] = field(default_factory=dict)  # e.g. {"pending": "交多少钱"}
    subscribed: bool | None = None  # set by a message that (un)subscribed; None: unchanged by this one
    # set by a message that answered 是否接收缴费提醒: (yes or no, how: text | menu | popup); None: unchanged
    consent: tuple[bool, str] | None = None

    @property
    def anonymous(self) -> bool:
        """No openid (`yibao ask`): nothing of the follower's own can be looked up."""
        return self.openid is None


@dataclass
class Context:
    today: dt.date
    registry: PolicyRegistry
    speaker: Speaker = field(default_factory=Speaker)
    settings: Settings = field(default_factory=Settings)
    sessions: async_sessionmaker | None = None  # the database, for binding and payment status
    now: dt.datetime | None = None


@dataclass(frozen=True)
class Answer:
    """What a handler returns: data for a template, never text."""

    template: str | None  # a template under templates/messages/, without the .j2 suffix; None: say nothing
    data: dict[str, Any] = field(default_factory=dict)
    # Conversation state to remember for the follower (e.g. a question waiting for its region).
    remember: dict[str, Any] | None = None


@dataclass(frozen=True)
class Reply:
    text: str
    intent: Intent
    query: Query
    speaker: Speaker  # the speaker's state after this message, for the caller to persist
