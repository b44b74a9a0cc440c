"""The phrasing table (phrasings.yaml) against the real policy files (the `registry` fixture): exact match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.nlu import Intent, Query, understand
from bot.rules.loader import PolicyRegistry

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


# Ids are row numbers (pytest would escape the Chinese); the failing text is in the assertion message.
@pytest.mark.parametrize("row", ROWS, ids=[f"row{i:03d}" for i in range(len(ROWS))])
def test_phrasing(row: dict[str, Any], registry: PolicyRegistry) -> None:
    query = understand(row["text"], registry, state=row.get("state"))
    assert actual(query) == expected(row), row["text"]


def test_table_is_large_and_covers_every_intent() -> None:
    assert len(ROWS) >= 150
    assert {Intent(r["intent"]) for r in ROWS} == set(Intent)
    assert len({r["text"] for r in ROWS}) == len(ROWS), "duplicate phrasings"


def test_table_covers_every_region_and_short_form(registry: PolicyRegistry) -> None:
    texts = [r["text"] for r in ROWS if r["intent"] == "set_region"]
    for policy in registry.policies:
        for name in [policy.region.name, *policy.region.short]:
            assert name in texts, f"no phrasing names {name} alone"


def test_table_covers_every_category_key(registry: PolicyRegistry) -> None:
    keys = set(registry.category_aliases().values())
    covered = {key for r in ROWS for key in r.get("categories", [])}
    assert keys <= covered, f"no phrasing for {sorted(keys - covered)}"
