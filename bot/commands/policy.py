"""`yibao policy check` and `yibao policy show REGION YEAR`."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands.text import t
from bot.config import Settings

if TYPE_CHECKING:
    from bot.rules.loader import PolicyError, PolicyRegistry
    from bot.rules.schema import Policy
    from bot.rules.validate import Finding

EXIT_OK = 0
EXIT_INVALID = 1  # a policy file cannot be loaded, or the validator found an error
EXIT_UNKNOWN = 2  # policy show: no such region or year


def register(subparsers: argparse._SubParsersAction) -> None:
    policy = subparsers.add_parser("policy", help=t("policy.help"), description=t("policy.description"))
    actions = policy.add_subparsers(dest="policy_command", metavar=t("yibao.action"), required=True)

    check = actions.add_parser("check", help=t("policy.check_help"), description=t("policy.check_description"))
    check.set_defaults(func=run_check)

    show = actions.add_parser("show", help=t("policy.show_help"), description=t("policy.show_description"))
    show.add_argument("region", metavar=t("policy.region_metavar"), help=t("policy.region"))
    show.add_argument("year", metavar=t("policy.year_metavar"), help=t("policy.year"))
    show.set_defaults(func=run_show)


def policy_dirs() -> tuple[Path, ...]:
    """Extra policy folders from YIBAO_POLICY_DIRS (the built-in folder is always loaded first)."""
    return Settings.from_env().policy_dirs


def policy_paths(dirs: tuple[Path, ...]) -> list[Path]:
    """Every policy file, in the order the loader reads them."""
    from bot.rules.loader import BUILTIN_DIR

    return [path for folder in (BUILTIN_DIR, *dirs) for path in sorted(Path(folder).glob("*.yaml"))]


def run_check(args: argparse.Namespace) -> int:
    from bot.rules.loader import PolicyError, load_policy_file, load_registry
    from bot.rules.validate import check_policy, check_registry

    dirs = policy_dirs()
    paths = policy_paths(dirs)
    failures: list[PolicyError] = []
    loaded: list[tuple[Policy, Path]] = []
    # Load each file on its own first, so one broken file does not hide the problems of the others.
    for path in paths:
        try:
            loaded.append((load_policy_file(path), path))
        except PolicyError as exc:
            failures.append(exc)
    findings: list[Finding] = []
    if failures:
        for policy, path in loaded:
            findings.extend(check_policy(policy, path))
    else:
        try:
            findings = check_registry(load_registry(dirs))  # adds the cross-file checks
        except PolicyError as exc:
            failures.append(exc)
            for policy, path in loaded:
                findings.extend(check_policy(policy, path))

    for exc in failures:
        for line in str(exc).splitlines():
            print(t("policy.load_error", line=line))
    for finding in findings:
        print(finding)
    errors = sum(len(exc.problems) for exc in failures) + sum(f.level == "error" for f in findings)
    warnings = sum(f.level == "warning" for f in findings)
    print(t("policy.summary", files=len(paths), errors=errors, warnings=warnings))
    return EXIT_INVALID if errors else EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    from bot.rules.loader import load_registry
    from bot.rules.show import render_policy
    from bot.rules.validate import check_policy

    registry = load_registry(policy_dirs())
    region = _region(registry, args.region.strip())
    if region is None:
        print(t("policy.unknown_region", region=args.region, known=_known(registry)), file=sys.stderr)
        return EXIT_UNKNOWN
    match = re.fullmatch(r"\s*(\d{4})\s*(?:年度?)?\s*", args.year)
    policy = registry.get(region, int(match[1])) if match else None
    if policy is None:
        years = "、".join(str(p.insurance_year) for p in registry.for_region(region))
        print(t("policy.unknown_year", region=region, year=args.year, years=years), file=sys.stderr)
        return EXIT_UNKNOWN
    print(render_policy(policy), end="")
    findings = check_policy(policy, registry.paths[policy.id])
    if findings:
        print("\n" + t("policy.findings"))
        for finding in findings:
            print(f"  {finding}")
    return EXIT_OK


def _region(registry: PolicyRegistry, text: str) -> str | None:
    """The canonical region for a name, a short form, or a town written with its county (霍邱县周集镇)."""
    name = registry.region_name(text)
    if name is not None:
        return name
    for policy in registry.policies:
        county = policy.region.county
        if county and text in {county + word for word in [policy.region.name, *policy.region.short]}:
            return policy.region.name
    return None


def _known(registry: PolicyRegistry) -> str:
    parts = []
    for name in registry.regions():
        policies = registry.for_region(name)
        short = "、".join(policies[-1].region.short)
        years = "、".join(str(p.insurance_year) for p in policies)
        parts.append(t("policy.known_short", name=name, short=short, years=years) if short
                     else t("policy.known", name=name, years=years))
    return "；".join(parts)
