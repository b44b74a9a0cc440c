"""What the `yibao` command says to staff, from templates/cli/zh.toml (Simplified Chinese).

`t("section.key", **fields)` is one entry with its `{fields}` filled in. A key missing from the catalogue is a
KeyError when the parser is built, so a test that builds the parser catches it.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).resolve().parents[2] / "templates" / "cli" / "zh.toml"


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


class CommandError(Exception):
    """A refusal with its reason for staff (already in Chinese): `yibao` prints it and exits with status 2."""
