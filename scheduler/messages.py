"""An outbox row becomes what WeChat receives: a customer-service text or template-message fields.

Both come from templates/messages/<template>_text.j2 and <template>_fields.j2; the fields template writes one
`key: value` line per field of the WeChat template. Officials' rows carry their figures in the payload (a
snapshot taken when the job ran); a resident's reminder is completed at send time with the amount due,
computed by the rules from the resident's categories.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.render import environment
from bot.rules.calculator import payable_amount
from bot.rules.loader import PolicyRegistry
from bot.rules.schema import Extension, Policy
from bot.wechat import fields
from scheduler.kinds import REMINDER

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _dates(value: Any) -> Any:
    """JSON payloads keep dates as ISO strings; the templates format dates."""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return dt.date.fromisoformat(value)
    if isinstance(value, dict):
        return {k: _dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates(v) for v in value]
    return value


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def render_text(template: str, data: dict[str, Any]) -> str:
    return "\n".join(_lines(environment().get_template(f"{template}_text.j2").render(**data)))


class FieldRefused(ValueError):
    """A template field WeChat would cut or refuse (bot/wechat/fields.py): the message is refused here rather
    than cut on a phone or failed by WeChat."""


def check_field(template: str, key: str, value: str) -> None:
    why = fields.problem(key, value)
    if why is not None:
        raise FieldRefused(f"{template}_fields.j2: {why}")


def render_fields(template: str, data: dict[str, Any]) -> dict[str, str]:
    """The template's fields, each checked against WeChat's rules (FieldRefused rather than a cut or refused
    value)."""
    out: dict[str, str] = {}
    for line in _lines(environment().get_template(f"{template}_fields.j2").render(**data)):
        key, sep, value = line.partition(": ")
        if not sep:
            raise ValueError(f"{template}_fields.j2: expected `key: value`, got {line!r}")
        check_field(template, key.strip(), value.strip())
        out[key.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class AmountOption:
    name: str  # the tier's name (高档次) when a county has several tiers
    amount: int | None


def amount_options(policy: Policy, categories: frozenset[str]) -> tuple[AmountOption, ...]:
    """What a resident in `categories` pays: one figure, or one per tier when the county has several and the
    resident's category does not fix the tier."""
    tiers = policy.contribution.tiers
    first = payable_amount(policy, sorted(categories))
    if len(tiers) == 1 or (first.category is not None and first.category.subsidy.tier is not None):
        return (AmountOption(first.tier.name, first.amount),)
    options = [AmountOption(t.name, payable_amount(policy, sorted(categories), t.key).amount) for t in tiers]
    if len({o.amount for o in options}) == 1:
        return (options[0],)
    return tuple(options)


def reminder_data(policy: Policy, row: dict[str, Any], categories: Iterable[str], today: dt.date) -> dict[str, Any]:
    """Everything a payment-status notice says, for one resident on the day it is sent."""
    cutoff: dt.date = row["cutoff"]
    payload = row["payload"]
    extension = next((e for e in policy.collection.extensions if e.end == cutoff), None)
    # The named late periods still ahead (延长缴费期, 补缴期): the reminder says who may pay after the cutoff.
    later = [_late(policy, e) for e in policy.collection.extensions if e.end > cutoff and e.start is not None]
    wait = policy.waiting_period
    return {
        "region": policy.region.name,
        "year": policy.insurance_year,
        "cutoff": cutoff,
        "cutoff_kind": payload.get("cutoff_kind"),
        "days_left": (cutoff - today).days,
        "options": list(amount_options(policy, frozenset(categories))),
        "window": policy.collection.monthly_window,
        "who": payload.get("who"),
        "benefit_next_day": extension is not None and extension.benefit_start == "day_after_payment",
        "late": _late(policy, extension),
        "later": later,
        "collection_name": policy.collection.name,
        "wait_months": wait.fixed.months if wait else None,
        "wait_per_lapsed_year": wait.per_lapsed_year.months if wait and wait.per_lapsed_year else None,
    }


def _late(policy: Policy, ext: Extension | None) -> dict[str, Any] | None:
    """A late period as a reminder names it (延长缴费期, 补缴期): who may pay and when benefits start."""
    if ext is None:
        return None
    return {"name": ext.name, "start": policy.collection.extension_start(ext), "end": ext.end,
            "who": ext.who, "benefit_start": ext.benefit_start, "named": ext.start is not None}


def message_data(registry: PolicyRegistry, row: dict[str, Any], categories: Iterable[str],
                 today: dt.date) -> tuple[str, dict[str, Any]]:
    """(template name, data) for an outbox row (`row` has at least kind, cutoff and payload)."""
    payload = row["payload"]
    template = payload["template"]
    if template == REMINDER.template:
        policy = next(p for p in registry.policies if p.id == payload["policy"])
        return template, reminder_data(policy, row, categories, today)
    return template, _dates(payload)
