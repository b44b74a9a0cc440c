"""Load policy files and refuse a bad one with a message naming file, key and problem."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.rules.problems import pydantic_problem, say
from bot.rules.schema import Policy, Tier

BUILTIN_DIR = Path(__file__).parent / "policies"


class PolicyError(Exception):
    """A policy file that cannot be used. `problems` holds (key path, message) pairs, the messages in Chinese
    (bot/rules/problems.py)."""

    def __init__(self, path: Path, problems: list[tuple[str, str]]):
        self.path = path
        self.problems = problems
        lines = [f"{path}：{key or say('loader.file')}：{msg}" for key, msg in problems]
        super().__init__("\n".join(lines))


def _key_path(loc: Iterable[object]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def load_policy_file(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(path, [("", say("loader.unreadable", error=exc))]) from exc
    return load_policy_text(text, path)


def load_policy_text(text: str, path: Path) -> Policy:
    """A policy from YAML text; `path` names it in errors and its stem is the policy's id."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = say("loader.yaml_line", line=mark.line + 1) if mark else ""
        raise PolicyError(path, [(where, say("loader.not_yaml", error=getattr(exc, "problem", exc)))]) from exc
    if not isinstance(raw, dict):
        raise PolicyError(path, [("", say("loader.not_mapping"))])
    raw.setdefault("id", path.stem)
    if raw["id"] != path.stem:
        raise PolicyError(path, [("id", say("loader.id_mismatch", id=raw["id"], stem=path.stem))])
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        problems = [(_key_path(err["loc"]), pydantic_problem(err)) for err in exc.errors()]
        raise PolicyError(path, problems) from exc


@dataclass
class PolicyRegistry:
    """Every loaded policy, with lookups by region name (or short form) and insurance year."""

    policies: list[Policy] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)

    def regions(self) -> list[str]:
        """Canonical region names, in load order, without repeats."""
        return list(dict.fromkeys(p.region.name for p in self.policies))

    def region_name(self, text: str) -> str | None:
        """The canonical name for a region as written (陵川县) or shortened (陵川)."""
        for p in self.policies:
            if text == p.region.name or text in p.region.short:
                return p.region.name
        return None

    def for_region(self, region: str) -> list[Policy]:
        """The region's policies, oldest insurance year first."""
        name = self.region_name(region) or region
        return sorted((p for p in self.policies if p.region.name == name), key=lambda p: p.insurance_year)

    def get(self, region: str, year: int) -> Policy | None:
        for p in self.for_region(region):
            if p.insurance_year == year:
                return p
        return None

    def category_aliases(self) -> dict[str, str]:
        """alias -> category key over all files (names and keys included), group standards (大学生) too."""
        table: dict[str, str] = {}
        for p in self.policies:
            for key, words in _group_words(p):
                for alias in words:
                    table.setdefault(alias, key)
        return table

    def tier_aliases(self) -> dict[str, str]:
        """alias -> tier key over all files (一档 -> low, 三档 -> high); a single "standard" tier has none."""
        table: dict[str, str] = {}
        for p in self.policies:
            for tier in p.contribution.tiers:
                for alias in _tier_words(tier):
                    table.setdefault(alias, tier.key)
        return table

    def townships(self, region: str) -> list[str]:
        """Township (or village, for a town) names from the region's target tables, newest year first."""
        names: list[str] = []
        for p in reversed(self.for_region(region)):
            for table in p.targets:
                names.extend(r.name for r in table.rows)
        return list(dict.fromkeys(names))


def _group_words(policy: Policy) -> list[tuple[str, list[str]]]:
    """(key, name and aliases) of every category and group standard of a policy."""
    groups = [(c.key, [c.name, *c.aliases]) for c in policy.categories]
    return groups + [(g.key, [g.name, *g.aliases]) for g in policy.group_standards]


def _tier_words(tier: Tier) -> list[str]:
    """A tier's name and aliases, where the name is a tier's own word (一档), not 个人缴费标准."""
    return [tier.name, *tier.aliases] if tier.key != "standard" else list(tier.aliases)


def _alias_places(policy: Policy) -> list[tuple[str, str, str, list[str]]]:
    """(kind, key path, key, words) for every word list of a policy that the NLU matches."""
    out = [("category", f"categories[{i}].aliases", c.key, [c.name, *c.aliases])
           for i, c in enumerate(policy.categories)]
    out += [("category", f"group_standards[{i}].aliases", g.key, [g.name, *g.aliases])
            for i, g in enumerate(policy.group_standards)]
    out += [("tier", f"contribution.tiers[{i}].aliases", t.key, _tier_words(t))
            for i, t in enumerate(policy.contribution.tiers)]
    return out


def _check_aliases(policies: list[Policy], paths: dict[str, Path]) -> None:
    """An alias (or a category's, group's or tier's name) must mean one key in every file."""
    owner: dict[tuple[str, str], tuple[str, str]] = {}
    for p in policies:
        for kind, where, key_here, words in _alias_places(p):
            for alias in words:
                key, pid = owner.setdefault((kind, alias), (key_here, p.id))
                if key != key_here:
                    clash = say("loader.alias_clash", alias=alias, other=pid, key=key, here=key_here)
                    raise PolicyError(paths[p.id], [(where, clash)])


def load_registry(dirs: Iterable[Path] | None = None) -> PolicyRegistry:
    """Load every *.yaml in the built-in folder and in `dirs` (later folders may add policies)."""
    folders = [BUILTIN_DIR, *(dirs or [])]
    registry = PolicyRegistry()
    for folder in folders:
        for path in sorted(Path(folder).glob("*.yaml")):
            policy = load_policy_file(path)
            if policy.id in registry.paths:
                raise PolicyError(path, [("id", say("loader.id_loaded", id=policy.id, path=registry.paths[policy.id]))])
            clash = registry.get(policy.region.name, policy.insurance_year)
            if clash is not None:
                raise PolicyError(
                    path,
                    [("insurance_year", say("loader.year_loaded", region=policy.region.name, year=policy.insurance_year,
                                            other=clash.id))],
                )
            registry.policies.append(policy)
            registry.paths[policy.id] = path
    _check_aliases(registry.policies, registry.paths)
    return registry


def with_policies(registry: PolicyRegistry, extra: Iterable[tuple[Policy, Path]]) -> PolicyRegistry:
    """A new registry: `registry`'s policies, each replaced by an `extra` one of the same id or the same
    region and insurance year, plus the other `extra` ones (policies published from the console)."""
    policies = list(registry.policies)
    paths = dict(registry.paths)
    for policy, path in extra:
        replaced = [p for p in policies if p.id == policy.id or (
            p.region.name == policy.region.name and p.insurance_year == policy.insurance_year)]
        for old in replaced:
            policies.remove(old)
            paths.pop(old.id, None)
        policies.append(policy)
        paths[policy.id] = path
    out = PolicyRegistry(policies, paths)
    _check_aliases(out.policies, out.paths)
    return out
