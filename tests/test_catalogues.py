"""Every sentence the code asks for is in its catalogue: templates/cli/zh.toml (`t`, `section`, ConfigError's
problem) and templates/rules/zh.toml (`say`, show.py's `_say`, RuleError's code).

The code is read, not run: each call with a literal key must name an entry; a key built with an f-string must
match at least one entry; and where the varying part is a schema choice (a channel's kind, a region's level),
every choice must have its entry.
"""

from __future__ import annotations

import ast
import re
import tomllib
import typing
from pathlib import Path
from typing import Any

import pytest

from bot.catalogue import CATALOGUE as CLI_CATALOGUE
from bot.catalogue import section, t
from bot.rules import schema, validate
from bot.rules.problems import CATALOGUE as RULES_CATALOGUE
from bot.rules.problems import say
from scheduler.kinds import KINDS

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "scheduler").rglob("*.py")])

# Which calls name a key, in which catalogue, after which prefix; the argument that holds the key.
CLI, RULES = "cli", "rules"
CALLS: dict[str, tuple[str, str, int]] = {
    "t": (CLI, "", 0),
    "section": (CLI, "", 0),
    "ConfigError": (CLI, "config.", 1),
    "say": (RULES, "", 0),
    "_say": (RULES, "show.", 0),  # bot/rules/show.py
    "RuleError": (RULES, "rules.", 0),
}
# A module's own helper named like one of these (not from the catalogue readers) is not a key lookup.
READERS = {"bot.catalogue", "bot.commands.text", "bot.rules.problems", "bot.config"}


def _keys(table: dict[str, Any], prefix: str = "") -> set[str]:
    """Every dotted name in a catalogue: its entries and its tables."""
    found = set()
    for name, value in table.items():
        key = f"{prefix}{name}"
        found.add(key)
        if isinstance(value, dict):
            found |= _keys(value, f"{key}.")
    return found


def _catalogue(path: Path) -> set[str]:
    with path.open("rb") as f:
        return _keys(tomllib.load(f))


KEYS = {CLI: _catalogue(CLI_CATALOGUE), RULES: _catalogue(RULES_CATALOGUE)}


def _imports_reader(tree: ast.Module, path: Path) -> set[str]:
    """The names of CALLS this module may use as lookups: imported from a reader, or defined in one."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    names = set(CALLS) if module in READERS or module == "bot.rules.show" else set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in READERS:
            names |= {alias.asname or alias.name for alias in node.names if alias.name in CALLS}
    return names


def _asked() -> list[tuple[str, str, str, ast.expr]]:
    """(where, catalogue, prefix, key expression) of every lookup in bot/ and scheduler/."""
    asked = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = _imports_reader(tree, path)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names):
                continue
            catalogue, prefix, position = CALLS[node.func.id]
            if len(node.args) > position:
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                asked.extend((where, catalogue, prefix, key) for key in _branches(node.args[position]))
    return asked


def _branches(key: ast.expr) -> list[ast.expr]:
    """`"a" if x else "b"` asks for both."""
    if isinstance(key, ast.IfExp):
        return [*_branches(key.body), *_branches(key.orelse)]
    return [key]


ASKED = _asked()


def _pattern(prefix: str, key: ast.JoinedStr) -> re.Pattern[str]:
    parts = [re.escape(v.value) if isinstance(v, ast.Constant) else r"[^.]+" for v in key.values]
    return re.compile(re.escape(prefix) + "".join(parts))


def test_the_scan_finds_the_lookups() -> None:
    files = {where.split(":")[0] for where, *_ in ASKED}
    for module in ("bot/cli.py", "bot/config.py", "bot/store/imports.py", "bot/store/broadcasts.py",
                   "scheduler/broadcasts.py", "bot/rules/validate.py", "bot/rules/show.py", "bot/rules/schema.py"):
        assert module in files
    assert len(ASKED) > 300


def test_every_literal_key_is_in_its_catalogue() -> None:
    missing = [f"{where}: {prefix}{key.value} ({catalogue})" for where, catalogue, prefix, key in ASKED
               if isinstance(key, ast.Constant) and f"{prefix}{key.value}" not in KEYS[catalogue]]
    assert missing == []


def test_every_key_built_at_run_time_matches_an_entry() -> None:
    unmatched = []
    for where, catalogue, prefix, key in ASKED:
        if isinstance(key, ast.JoinedStr):
            pattern = _pattern(prefix, key)
            if not any(pattern.fullmatch(k) for k in KEYS[catalogue]):
                unmatched.append(f"{where}: {pattern.pattern} ({catalogue})")
    assert unmatched == []


def _choices(model: type, field: str) -> tuple[str, ...]:
    annotation = model.model_fields[field].annotation
    args = typing.get_args(annotation)
    literal = next((a for a in args if typing.get_origin(a) is typing.Literal), annotation)
    return typing.get_args(literal)


@pytest.mark.parametrize(("model", "field", "key"), [
    (schema.Channel, "kind", "show.kinds.{}"),
    (schema.Region, "level", "show.levels.{}"),
    (schema.Extension, "benefit_start", "show.benefits.{}"),
    (schema.Reward, "kind", "show.rewards.{}"),
    (schema.TargetTable, "level", "show.table_levels.{}"),
])
def test_every_schema_choice_shown_has_its_entry(model: type, field: str, key: str) -> None:
    choices = _choices(model, field)
    assert choices
    assert [c for c in choices if key.format(c) not in KEYS[RULES]] == []


def test_every_subsidy_kind_and_finding_level_has_its_entry() -> None:
    kinds = [k for k in _choices(schema.Subsidy, "kind") if k != "unspecified"]  # shown as its own sentence
    assert [k for k in kinds if f"show.subsidy_{k}" not in KEYS[RULES]] == []
    assert [lv for lv in typing.get_args(validate.Level) if f"validate.level_{lv}" not in KEYS[RULES]] == []


def test_every_stage_kind_has_its_name() -> None:
    assert KINDS
    assert [k for k in KINDS if f"jobs.stages.{k}" not in KEYS[CLI]] == []
    assert {k.label for k in KINDS.values()} <= set(section("jobs.stages").values())


def test_the_readers_fill_in_nested_entries_and_fail_on_a_missing_one() -> None:
    assert say("show.kinds.bank") == "银行"
    assert t("broadcast.refused.no_such", id=7) == "没有编号为 7 的群发"
    assert section("outbox.statuses")["sent"] == "已发"
    with pytest.raises(KeyError):
        t("broadcast.refused.no_such_entry")
    with pytest.raises(KeyError):
        say("show.no_such_entry")
