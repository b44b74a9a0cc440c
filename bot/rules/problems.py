"""What a policy author reads when a policy file is refused, in Simplified Chinese from templates/rules/zh.toml.

The schema's own checks raise `RuleError(code, **fields)`; pydantic's errors are told by their type; the
loader's by its own codes. `say("rules.tier_keys_repeat", keys=...)` is one entry with its fields filled in.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).resolve().parents[2] / "templates" / "rules" / "zh.toml"


@functools.cache
def _catalogue() -> dict[str, dict[str, str]]:
    with CATALOGUE.open("rb") as f:
        return tomllib.load(f)


def say(key: str, /, **fields: Any) -> str:
    """The entry `key` (`section.entry`, or `section.table.entry` for a nested table) with its fields filled in."""
    name, _, entry = key.rpartition(".")
    table: Any = _catalogue()
    for part in name.split("."):
        table = table[part]
    return table[entry].format(**fields)


class RuleError(ValueError):
    """A schema check that failed: `code` names its sentence in [rules], `fields` fill it in. Its English
    str() (the code and fields) is for developers' tracebacks only."""

    def __init__(self, code: str, **fields: Any):
        self.code = code
        self.fields = fields
        super().__init__(f"{code} {fields}" if fields else code)

    def __str__(self) -> str:
        return say(f"rules.{self.code}", **self.fields)


def _listed(value: Any) -> str:
    if isinstance(value, (list, tuple, set)):
        return "、".join(str(v) for v in value)
    return str(value).replace("'", "").replace(" or ", "、").replace(", ", "、")  # pydantic's 'a', 'b' or 'c'


def pydantic_problem(error: dict[str, Any]) -> str:
    """One pydantic error (an item of ValidationError.errors()) as a sentence."""
    ctx = dict(error.get("ctx") or {})
    cause = ctx.get("error")
    if isinstance(cause, RuleError):
        return str(cause)
    kind = error["type"]
    table = _catalogue()["pydantic"]
    if kind not in table:
        return table["other"].format(type=kind)
    fields = {name: _listed(value) for name, value in ctx.items()}
    if kind == "value_error":
        fields["error"] = str(cause) if cause is not None else error.get("msg", "")
    try:
        return table[kind].format(**fields)
    except KeyError:  # a context field this pydantic does not give
        return table["other"].format(type=kind)
