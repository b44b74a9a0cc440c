"""The phrasing table (phrasings.yaml) and the blind sets (unseen.yaml, fresh.yaml, fresh2.yaml, fresh3.yaml,
fresh4.yaml, fresh5.yaml): rows, and the expected vs actual reading of one row.

A reading lists `intents`: one for a row with `intent`, the asked order for an unseen row with `intents` (a
message asking two things). `actual` lists the Query's intent and those of its further questions
(`Query.also`), and the first topic among them.

Shared by tests/nlu/test_phrasings.py, tests/nlu/test_unseen_format.py and bench/nlu.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from bot.nlu import Query

TABLE = Path(__file__).with_name("phrasings.yaml")
ROWS: list[dict[str, Any]] = yaml.safe_load(TABLE.read_text(encoding="utf-8"))

UNSEEN = Path(__file__).with_name("unseen.yaml")
# A second blind set, written in session 4 after unseen.yaml had been read while fixing the NLU; same format.
FRESH = Path(__file__).with_name("fresh.yaml")
# A third, written in session 5 once fresh.yaml had been the honest figure; same format.
FRESH2 = Path(__file__).with_name("fresh2.yaml")
# A fourth, written in session 6 once fresh2.yaml had been looked at while fixing; same format.
FRESH3 = Path(__file__).with_name("fresh3.yaml")
# A fifth, written in session 7 once fresh3.yaml had been looked at while fixing; same format.
FRESH4 = Path(__file__).with_name("fresh4.yaml")
# A sixth, written in session 8 once fresh4.yaml had been looked at while fixing; same format.
FRESH5 = Path(__file__).with_name("fresh5.yaml")
KINDS = ("plain", "homophone", "two_questions", "check_figure", "context_words", "long", "close_category",
         "follow_up", "help_pay", "dates")
UNSEEN_TODAY = dt.date(2024, 11, 10)  # an unseen item's date when it names none


def load_unseen(path: Path = UNSEEN) -> list[dict[str, Any]]:
    """The items of a blind set in unseen.yaml's format (unseen.yaml unless another such file is given)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def turns(item: dict[str, Any]) -> list[dict[str, Any]]:
    """An unseen item's messages in order: the conversation's turns, or the item itself."""
    return item.get("conversation", [item])


def today_of(item: dict[str, Any]) -> dt.date:
    return item.get("today", UNSEEN_TODAY)  # YAML reads an unquoted YYYY-MM-DD as a date


def expected(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "intents": list(row["intents"]) if "intents" in row else [row["intent"]],
        "region": row.get("region"),
        "township": row.get("township"),
        "year": row.get("year"),
        "categories": list(row.get("categories", [])),
        "tier": row.get("tier"),
        "topic": row.get("topic"),
        "extras": {str(k): str(v) for k, v in (row.get("extras") or {}).items()},
    }


def actual(query: Query) -> dict[str, Any]:
    return {
        "intents": [query.intent.value, *(q.intent.value for q in query.also)],
        "region": query.region,
        "township": query.township,
        "year": query.year,
        "categories": list(query.categories),
        "tier": query.tier,
        "topic": query.topic or next((q.topic for q in query.also if q.topic), None),
        "extras": dict(query.extras),
    }
