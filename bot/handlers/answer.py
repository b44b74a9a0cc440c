"""What a handler returns: data for a template, never text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Answer:
    template: str  # a template under templates/messages/, without the .j2 suffix
    data: dict[str, Any] = field(default_factory=dict)
    # Conversation state to remember for the follower (e.g. a question waiting for its region).
    remember: dict[str, Any] | None = None
