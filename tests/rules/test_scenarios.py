"""Plain-language scenarios (tests/rules/scenarios/*.yaml) run against the calculator.

Each scenario: name, region, date, optional input (categories, tier; for when benefits start: paid_on
(default: the date), lapsed_years, back_paid_years, group, born), expected figures and dates taken from
the notices. Keys in `expected` are checked only when present.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.rules.calculator import benefit_start, calendar, newborn_start, payable_amount, resolve_policy, waiting_time
from bot.rules.loader import load_registry

SCENARIO_DIR = Path(__file__).parent / "scenarios"


def _scenarios() -> list:
    out = []
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        for sc in yaml.safe_load(path.read_text(encoding="utf-8")):
            out.append(pytest.param(sc, id=f"{path.stem}: {sc['name']}"))
    return out


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def _as_date(value):
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


@pytest.mark.parametrize("scenario", _scenarios())
def test_scenario(scenario: dict, registry) -> None:
    on = _as_date(scenario["date"])
    inputs = scenario.get("input") or {}
    expected = scenario["expected"]
    res = resolve_policy(registry, scenario["region"], on)
    assert res.policy is not None, "every scenario region has a policy"
    pay = payable_amount(res.policy, inputs.get("categories", ()), inputs.get("tier"))
    cal = calendar(res.policy, on)
    paid_on = _as_date(inputs.get("paid_on", on))
    lapse = {"lapsed_years": inputs.get("lapsed_years", 0), "back_paid_years": inputs.get("back_paid_years", 0)}
    if "born" in inputs:
        start = newborn_start(res.policy, _as_date(inputs["born"]), paid_on)
    else:
        start = benefit_start(res.policy, paid_on, group=inputs.get("group"), **lapse)
    wait = waiting_time(res.policy, **lapse)
    actual = {
        "policy": res.policy.id,
        "status": res.status,
        "year": res.year,
        "coming_year": res.coming_year,
        "amount": pay.amount,
        "subsidy": pay.subsidy,
        "category": pay.category.key if pay.category else None,
        "tier": pay.tier.key,
        "rule": pay.rule.rule if pay.rule else None,
        "ambiguous": pay.ambiguous,
        "excluded": [d.key for d, _ in pay.excluded],
        "open_today": cal.open_today,
        "cutoff": cal.cutoff,
        "next_open": cal.next_open,
        "days_left": cal.days_left,
        "extension_end": cal.extension.end if cal.extension else None,
        "extension": cal.extension.name if cal.extension and cal.status == "in_extension" else None,
        "subsidy_base": pay.considered[0].base.key if pay.considered and pay.considered[0].base else None,
        "tier_unsaid": pay.considered[0].unsaid.key if pay.considered and pay.considered[0].unsaid else None,
        "group": pay.group.key if pay.group else None,
        "tier_eligibility": pay.tier.eligibility is not None,
        "benefit_rule": start.rule,
        "benefit_from": start.date,
        "wait_months": wait.months if wait else None,
        "wait_variable": wait.variable if wait else None,
    }
    for key, want in expected.items():
        if key in {"cutoff", "next_open", "extension_end", "benefit_from"}:
            want = _as_date(want)
        assert actual[key] == want, f"{scenario['name']}: {key} is {actual[key]!r}, the notice says {want!r}"
