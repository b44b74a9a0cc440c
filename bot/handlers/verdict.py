"""对 or 不对: the verdict on a figure or date the resident checks ("是不是交三百", "截止是不是12月31号").

The NLU reads what is checked (`Query.checked`, `Query.checked_date`; bot/nlu/check.py); these functions
compare it with what the notice gives for the resident's situation, for templates/messages/_verdict.j2,
which the fee and deadline answers render first. `ok` is None when the notice gives no figure for the
situation: the answer says it cannot tell rather than guess.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot.nlu.query import Query
from bot.rules.calculator import CalendarState, Payable
from bot.rules.schema import FiscalSubsidy, Policy, Tier

_SUBSIDY = re.compile(r"补|资助|减免|救助")  # 三级残疾补二百对吗: the subsidy is checked, not the amount paid


def _verdict(said: list[int], truth: list[int | None]) -> dict[str, Any]:
    known = [t for t in truth if t is not None]
    if not known:
        return {"ok": None, "said": said, "truth": []}
    return {"ok": all(s in known for s in said), "said": said, "truth": list(dict.fromkeys(known))}


def fee_general(query: Query, tiers: list[Tier], people: int | None = None) -> dict[str, Any] | None:
    """The amounts checked against the tiers' (no group named: any tier's amount is right), or, for a
    household (`people`), against their total too."""
    if not query.checked or _SUBSIDY.search(query.text):
        return None if not query.checked else {"ok": None, "said": list(query.checked), "truth": []}
    totals = [t.amount * people for t in tiers] if people else []
    return _verdict(list(query.checked), [t.amount for t in tiers] + totals)


def fee_category(query: Query, pay: Payable, tiers: list[Tier], people: int | None = None) -> dict[str, Any] | None:
    """The amounts checked against the group's personal amount (or its subsidy when 补/资助 is asked).

    A group the notice does not name pays the tier the resident chooses: with no tier asked, any tier's
    amount is right, as for no group at all."""
    if not query.checked:
        return None
    if pay.ambiguous or (pay.category is not None and any(c.unsaid or c.unclear for c in pay.considered
                                                          if c.category is pay.category)):
        return {"ok": None, "said": list(query.checked), "truth": []}
    if _SUBSIDY.search(query.text):
        return _verdict(list(query.checked), [c.subsidy for c in pay.considered])
    if not pay.considered and pay.group is None and query.tier is None:
        return _verdict(list(query.checked), [t.amount for t in tiers])
    totals = [pay.amount * people] if people and pay.amount is not None else []
    return _verdict(list(query.checked), [pay.amount, *totals])


def fee_grades(query: Query, pays: list[Payable]) -> dict[str, Any] | None:
    """The amount checked for a group asked without its grade: right only when every grade pays it."""
    if not query.checked:
        return None
    amounts = {p.amount for p in pays}
    if len(amounts) != 1 or None in amounts or _SUBSIDY.search(query.text):
        return {"ok": None, "said": list(query.checked), "truth": [], "by_grade": True}
    return _verdict(list(query.checked), [pays[0].amount])


def fiscal_subsidy(query: Query, fiscal: FiscalSubsidy | None) -> dict[str, Any] | None:
    """The amount checked against the government's subsidy per head (政府补的是不是六百多)."""
    if not query.checked:
        return None
    return _verdict(list(query.checked), [fiscal.amount if fiscal else None])


def deadline(query: Query, policy: Policy, cal: CalendarState) -> dict[str, Any] | None:
    """The date checked against the period's end, this month's cutoff, the monthly last day and the
    extensions' ends."""
    if query.checked_date is None:
        return None
    month, day = query.checked_date
    c = policy.collection

    def said(d: dt.date | None) -> bool:
        return d is not None and d.day == day and month in (0, d.month)

    # The dates that hold for everyone today: this month's cutoff, the period's end, the late period open now.
    open_late = cal.extension if cal.status == "in_extension" else None
    ok = any(said(d) for d in (cal.cutoff, c.end, open_late.end if open_late else None))
    only = open_late.who if open_late is not None and said(open_late.end) else None
    if c.monthly_window is not None and month == 0:
        ok = ok or day == c.monthly_window.last_day
    # A late period's end holds only for its people (春节返乡的外出务工人员): not simply 对.
    late = None if ok else next((e for e in c.extensions if said(e.end)), None)
    return {"ok": ok, "month": month, "day": day, "cutoff": cal.cutoff or c.end,
            "late": late, "period": c.name, "only": only}
