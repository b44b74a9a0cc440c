"""Every template message, rendered with the longest realistic data of every policy and job, fits WeChat's
field limits (a `thing` holds 20 characters, no line breaks): a template that would be cut fails here, not
on a resident's or an official's phone."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.config import Settings
from bot.rules.loader import load_registry
from bot.store.progress import GroupProgress, TownshipProgress
from scheduler import digests
from scheduler.messages import FieldRefused, _dates, check_field, reminder_data, render_fields
from scheduler.timetable import policy_jobs

REGISTRY = load_registry()


def worst_units(policy) -> list[TownshipProgress]:
    """Every unit of the policy's target tables with figures as wide as they get: a target in the tens of
    thousands, 100.0% or a gap of 100 points, the last rank of all units."""
    names = [row.name for table in policy.targets for row in table.rows] or ["某某乡镇"]
    needy = (("tekun", "特困"), ("dibao", "低保"), ("monitored", "监测对象"))
    groups = [GroupProgress(k, n, 9999, 0) for k, n in needy]
    return [TownshipProgress(township=name, village="", target=99_999, paid=0 if i % 2 else 99_999,
                             roster=99_999, groups=groups, rank=len(names)) for i, name in enumerate(names)]


def payloads(policy):
    units = worst_units(policy)
    villages = [digests.VillageProgress(u.name, "某某社区居民委员会", 9999, 0) for u in units]
    for spec in policy_jobs(policy, Settings()):
        if spec.kind == "reminder":
            cats = [c.key for c in policy.categories]
            row = {"cutoff": spec.cutoff, "payload": {"cutoff_kind": spec.cutoff_kind, "who": spec.who}}
            yield spec, "reminder", reminder_data(policy, row, cats, spec.cutoff - dt.timedelta(days=30))
        elif spec.kind == "digest":
            for u in units:
                yield spec, "digest", digests.digest(policy, spec, u, len(units), villages)
        elif spec.kind == "escalation":
            payload = digests.escalation(policy, spec, units)
            if payload:
                yield spec, "escalation", payload
        elif spec.kind == "bulletin":
            for u in [*units, None]:
                yield spec, "bulletin", digests.bulletin(policy, spec, units, u)
        elif spec.kind == "incentive":
            for u in units:
                yield spec, "phase_incentive", digests.incentive(policy, spec, u)
        elif spec.kind == "deadline":
            yield spec, "phase_deadline", digests.deadline(policy, spec)
        elif spec.kind == "phase":
            yield spec, "phase_start", digests.phase_start(policy, spec)


@pytest.mark.parametrize("policy", REGISTRY.policies, ids=[p.id for p in REGISTRY.policies])
def test_every_template_message_fits_wechats_limits(policy) -> None:
    rendered = 0
    for spec, template, payload in payloads(policy):
        fields = render_fields(template, _dates(payload))  # raises FieldRefused
        assert fields, f"{spec.id}: no fields"
        rendered += 1
    assert rendered


def test_a_field_that_would_be_cut_is_refused() -> None:
    check_field("t", "thing1", "二" * 20)
    with pytest.raises(FieldRefused):
        check_field("t", "thing1", "二" * 21)
    with pytest.raises(FieldRefused):
        check_field("t", "thing2", "第一行\n第二行")
    with pytest.raises(FieldRefused):
        check_field("t", "phrase5", "尚未缴费完成")


@pytest.mark.parametrize(("key", "value"), [
    ("character_string3", "267/518人 51.5%"),  # WeChat: 47003 argument invalid (no Chinese in a character_string)
    ("character_string2", "2025年度"),
    ("phrase5", "unpaid"),
    ("number1", "12人"),
    ("amount3", "高档次540元或低档次400元"),
])
def test_a_value_of_the_wrong_kind_is_refused(key, value) -> None:
    with pytest.raises(FieldRefused):
        check_field("t", key, value)


@pytest.mark.parametrize(("key", "value"), [
    ("character_string3", "267/518,51.5%"), ("character_string2", "2025"), ("phrase5", "未缴费"),
    ("amount3", "80元"), ("amount3", "¥540"), ("number1", "12"), ("thing4", "落后序时2.4个百分点，第10名"),
])
def test_a_value_of_the_right_kind_passes(key, value) -> None:
    check_field("t", key, value)


def test_a_time_keyword_needs_a_time_of_day() -> None:
    """WeChat refuses a day alone in a `time` keyword (47003); a `date` keyword takes it."""
    with pytest.raises(FieldRefused):
        check_field("t", "time5", "2024年11月25日")
    check_field("t", "time5", "2024年11月25日 23:59")
    check_field("t", "date5", "2024年11月25日")
