"""The phrasing table (phrasings.yaml): rows, and the expected vs actual reading of one row.

Shared by tests/nlu/test_phrasings.py and bench/nlu.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.nlu import Query

TABLE = Path(__file__).with_name("phrasings.yaml")
ROWS: list[dict[str, Any]] = yaml.safe_load(TABLE.read_text(encoding="utf-8"))


def expected(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "intent": row["intent"],
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
        "intent": query.intent.value,
        "region": query.region,
        "township": query.township,
        "year": query.year,
        "categories": list(query.categories),
        "tier": query.tier,
        "topic": query.topic,
        "extras": dict(query.extras),
    }
