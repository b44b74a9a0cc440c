"""What staff read (CLI output, refusals, import reports), from templates/cli/zh.toml (Simplified Chinese).

`t("section.key", **fields)` is one entry with its `{fields}` filled in; a missing key is a KeyError. A leaf that
imports no layer of the bot, so every layer that speaks to staff (store, scheduler, commands) reads the same
catalogue without importing upward; bot/commands/text.py re-exports it for the commands.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).resolve().parents[1] / "templates" / "cli" / "zh.toml"


@functools.cache
def catalogue() -> dict[str, Any]:
    with CATALOGUE.open("rb") as f:
        return tomllib.load(f)


def section(name: str) -> dict[str, Any]:
    """A table of the catalogue by its dotted name (`outbox.reasons`)."""
    table = catalogue()
    for part in name.split("."):
        table = table[part]
    return table


def t(key: str, /, **fields: Any) -> str:
    name, _, entry = key.rpartition(".")
    text = section(name)[entry]
    return text.format(**fields) if fields else text
