"""The phrasing table (phrasings.yaml) against the real policy files (the `registry` fixture): exact match."""

from __future__ import annotations

from typing import Any

import pytest

from bot.nlu import Intent, understand
from bot.nlu.query import EVENT_INTENTS
from bot.rules.loader import PolicyRegistry
from tests.nlu.table import ROWS, actual, expected


# Ids are row numbers (pytest would escape the Chinese); the failing text is in the assertion message.
@pytest.mark.parametrize("row", ROWS, ids=[f"row{i:03d}" for i in range(len(ROWS))])
def test_phrasing(row: dict[str, Any], registry: PolicyRegistry) -> None:
    query = understand(row["text"], registry, state=row.get("state"))
    assert actual(query) == expected(row), row["text"]


def test_table_is_large_and_covers_every_intent() -> None:
    assert len(ROWS) >= 150
    assert {Intent(r["intent"]) for r in ROWS} == set(Intent) - EVENT_INTENTS
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
