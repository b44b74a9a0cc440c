"""Fee and deadline answers fit a phone: at most 6 lines for every policy, group, tier and day (tests/handlers/
lengths.py), with the figure asked for, the source line, and nothing from another notice."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.handlers import dispatch
from bot.handlers.common import Situation, situate
from bot.nlu.query import Intent
from bot.render import render
from bot.rules.calculator import payable_amount
from bot.rules.loader import load_registry
from bot.types import Context, Speaker
from tests.handlers.lengths import MAX_LINES, questions

REGISTRY = load_registry()
DOCS = {p.document.number for p in REGISTRY.policies}


@pytest.mark.parametrize("policy_id", [p.id for p in REGISTRY.policies])
async def test_every_fee_and_deadline_answer_is_at_most_six_lines_with_its_figures(policy_id):
    asked = [a for a in questions(REGISTRY) if a.policy.id == policy_id]
    assert asked
    for a in asked:
        ctx = Context(today=a.on, registry=REGISTRY, speaker=Speaker())
        text = render(await dispatch(a.query, ctx))
        where = f"{a.on} {a.query}:\n{text}"
        assert len(text.splitlines()) <= MAX_LINES, where
        sit = situate(a.query, ctx)
        if not isinstance(sit, Situation):
            continue
        assert f"依据：{sit.policy.document.number}" in text, where
        assert not [d for d in DOCS if d in text and d not in _own_docs(sit)], where  # no other notice cited
        if a.query.intent is Intent.FEE:
            for figure in _figures(sit, a.query):
                assert re.search(rf"(?<!\d){figure}元", text), f"missing {figure}元 in {where}"


def _own_docs(sit: Situation) -> set[str]:
    return {sit.policy.document.number} | {s.doc for s in _sources(sit) if s.doc}


def _sources(sit: Situation):
    p = sit.policy
    yield from (c.source for c in p.categories)
    yield from (t.source for t in p.contribution.tiers)


def _figures(sit: Situation, query) -> list[int]:
    """The amounts the resident asked for: their own personal amount(s), or the tiers'."""
    tiers = {t.key for t in sit.policy.contribution.tiers}
    if query.tier is not None and query.tier not in tiers:
        return [t.amount for t in sit.policy.contribution.tiers]
    if not query.categories:
        return [t.amount for t in sit.policy.contribution.tiers if query.tier in (None, t.key)]
    grades = [c.key for c in sit.policy.categories if c.key in ("severe_disability", "general_disability")]
    if "disability" in query.categories and grades and sit.policy.category("disability") is None:
        others = [k for k in query.categories if k != "disability"]  # 残疾人, no grade said: every grade's figure
        return [a for g in grades if (a := payable_amount(sit.policy, [*others, g], query.tier).amount) is not None]
    if query.topic == "compare":  # each group's own figure
        return [f for k in query.categories for f in _figures(sit, replace(query, categories=(k,), topic=None))]
    pay = payable_amount(sit.policy, query.categories, query.tier)
    if pay.ambiguous:
        return [c.amount for c in pay.considered if c.amount is not None]
    if pay.amount is None:  # the notice gives no figure: the standard it is asked about
        return [pay.standard]
    return [pay.amount]
