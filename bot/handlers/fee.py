"""交多少钱: the personal amount for the resident's categories and tier, and the fiscal subsidy."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.handlers import verdict
from bot.handlers.common import Situation, cite, situate, situated
from bot.handlers.offers import DETAILS, descriptor, offer
from bot.handlers.router import Router
from bot.handlers.sources import extra_fee_sources, window_sources
from bot.nlu import household
from bot.nlu.intents import TIERS_COMPARED
from bot.nlu.query import Intent, Query
from bot.rules.calculator import Payable, category_amount, payable_amount
from bot.rules.loader import PolicyRegistry
from bot.rules.schema import SHARED_CATEGORY_NAMES, Category, Policy, Tier
from bot.types import Answer, Context

router = Router()


@router.handles(Intent.FEE, cacheable=True)
async def fee(query: Query, ctx: Context) -> Answer:
    regions = [r for r in query.extras.get("regions", "").split(",") if r]
    if len(regions) > 1:  # 陵川和罗山哪个交的少: each county from its own notice, before any one county's answer
        return _compare_regions(query, ctx, regions)
    return await _fee(query, ctx)


@situated
async def _fee(query: Query, ctx: Context, sit: Situation) -> Answer:
    policy = sit.policy
    tiers = policy.contribution.tiers
    if query.tier is not None and query.tier not in {t.key for t in tiers}:
        sources = (tiers[0].source, *window_sources(policy, sit.calendar))
        return Answer("fee_no_tier", sit.data(asked_tier=query.tier, cite=cite(policy, *sources)))
    details, remember = _details(query, sit)
    if query.topic == DETAILS:  # "1" after a fee answer: every tier, group and rule
        return Answer("fee_details", sit.data(
            tiers=tiers,
            subsidised=[category_amount(policy, c) for c in policy.categories if c.subsidy.kind != "unspecified"],
            unspecified=_unspecified(policy),
            cite=cite(policy, *(t.source for t in tiers),
                      policy.contribution.payment_rule.source if policy.contribution.payment_rule else None,
                      *extra_fee_sources(policy, tiers), *(c.source for c in policy.categories),
                      *window_sources(policy, sit.calendar)),
        ))
    if query.topic == COMPARE and len(query.categories) > 1:  # 低保和特困交的一样吗: each group's figure
        return _compare_groups(query, ctx, sit, details, remember)
    people = household.people(query.text)  # 我家4口人交多少: the total for them, beside the figure per person
    if not query.categories and query.tier is None and TIERS_COMPARED.search(query.text):
        return _tiers_compared(sit)
    if not query.categories:
        shown = [policy.contribution.tier(query.tier)] if query.tier else tiers
        eligibility = [t.eligibility.source for t in shown if t.eligibility] if people is None else []
        # the groups the notice subsidises, those it pays in full first (特困人员), as examples
        subsidised = [c.name for c in sorted((c for c in policy.categories if c.subsidy.kind != "unspecified"),
                                             key=lambda c: c.subsidy.kind != "full")]
        return Answer("fee_general", sit.data(
            verdict=verdict.fee_general(query, shown, people),
            tiers=shown, offers=details, feedback=True, people=people, subsidised=subsidised[:2],
            cite=cite(policy, *(t.source for t in shown), *eligibility, *(g.source for g in policy.group_standards),
                      *window_sources(policy, sit.calendar)),
        ), remember=remember)
    graded = _graded(policy, query.categories)
    if graded is not None:
        return _by_grade(query, sit, graded, details, remember)
    pay = payable_amount(policy, query.categories, query.tier)
    sources = [c.category.source for c in pay.considered]
    if pay.rule is not None:
        sources.append(pay.rule.source)
    if any(c.base for c in pay.considered) and policy.contribution.subsidy_basis is not None:
        sources.append(policy.contribution.subsidy_basis.source)
    if not pay.considered or (pay.amount is None and not pay.ambiguous) or pay.group:
        sources.append(pay.tier.source)
    sources.extend(c.unsaid.source for c in pay.considered if c.unsaid and c.category is pay.category)
    names = {key: group_name(ctx.registry, key) for key in pay.unknown_categories}
    within = [payable_amount(policy, [key], query.tier) for asked in pay.unknown_categories
              for key in WITHIN.get(asked, ()) if policy.category(key) is not None]
    sources.extend(c.category.source for w in within for c in w.considered)
    return Answer("fee_category", sit.data(
        verdict=verdict.fee_category(query, pay, tiers, people),
        pay=pay,
        within=within,
        people=people if pay.amount is not None and not pay.ambiguous and (pay.category or pay.group) else None,
        unknown_names=[names[k] for k in pay.unknown_categories],
        asked_tier=query.tier,
        asked=query.categories,  # a group asked under another's name (孤儿: 特困人员（含孤儿…）) is named
        enquiry=policy.region.enquiry,
        cite=cite(policy, *sources, *window_sources(policy, sit.calendar)),
        offers=details,
        feedback=True,
    ), remember=remember)


def _tiers_compared(sit: Situation) -> Answer:
    """二档和一档有啥区别: the notice's one standard said as such (no tiers to compare), or its tiers' figures with
    what it says sets them apart (who may choose which, the payment rule, the subsidy's base); the benefits by tier
    no notice states, which is said, with whom to ask."""
    policy = sit.policy
    tiers = policy.contribution.tiers
    rule = policy.contribution.payment_rule if len(tiers) > 1 else None
    basis = policy.contribution.subsidy_basis if len(tiers) > 1 else None
    return Answer("fee_tiers_compared", sit.data(
        tiers=tiers, rule=rule, basis=basis, enquiry=policy.region.enquiry,
        cite=cite(policy, *(t.source for t in tiers), *(t.eligibility.source for t in tiers if t.eligibility),
                  rule.source if rule else None, basis.source if basis else None,
                  *window_sources(policy, sit.calendar)),
    ))


COMPARE = "compare"  # the topic bot.nlu gives a fee question comparing two counties or two groups


@dataclass(frozen=True)
class Figure:
    """One side of a comparison: what one county's notice (or one group in it) gives, and its source."""

    label: str  # the county, or the group
    amounts: list[int]  # the personal amount(s): one, or one per tier
    pay: Payable | None  # the groups' reckoning, when groups were asked
    tiers: list[Tier]
    cite: str
    sit: Situation | None = None  # a county's (None: the year asked is not loaded there)
    unknown: list[str] = field(default_factory=list)  # groups this notice does not name
    no_tier: bool = False  # the tier asked is not this notice's (高档 where there is one standard)


def _figure(label: str, query: Query, sit: Situation, categories: tuple[str, ...], registry: PolicyRegistry
            ) -> Figure:
    policy = sit.policy
    no_tier = query.tier is not None and query.tier not in {t.key for t in policy.contribution.tiers}
    tiers = list(policy.contribution.tiers) if query.tier is None or no_tier else [policy.contribution.tier(query.tier)]
    if not categories:  # the tiers, and the groups' own standards beside them
        return Figure(label, [t.amount for t in tiers], None, tiers,
                      cite(policy, *(t.source for t in tiers), *(g.source for g in policy.group_standards)), sit,
                      no_tier=no_tier)
    pay = payable_amount(policy, categories, query.tier if len(tiers) == 1 else None)
    unknown = [group_name(registry, k) for k in pay.unknown_categories]
    sources = [c.category.source for c in pay.considered] + ([pay.rule.source] if pay.rule else [])
    if pay.considered or pay.group:
        amounts = [pay.amount] if pay.amount is not None and not pay.ambiguous else []
        return Figure(label, amounts, pay, tiers, cite(policy, *sources, pay.tier.source), sit, unknown)
    # no group of these named: the general standard, said as such
    return Figure(label, [t.amount for t in tiers], pay, tiers, cite(policy, *(t.source for t in tiers)), sit,
                  unknown)


def _lowest(figures: list[Figure]) -> tuple[list[str], bool] | None:
    """Who pays least, and whether all pay the same; None when a side has no single figure of its own (a group
    its notice does not name is given the general standard, which is no figure for them to compare)."""
    if any(len(f.amounts) != 1 or f.unknown or f.no_tier for f in figures):
        return None
    least = min(f.amounts[0] for f in figures)
    return [f.label for f in figures if f.amounts[0] == least], all(f.amounts[0] == least for f in figures)


def _compare_regions(query: Query, ctx: Context, regions: list[str]) -> Answer:
    """Each county's figure from its own notice and year, with its source; never one county's for another."""
    figures: list[Figure] = []
    for region in regions:
        side = situate(replace(query, region=region, extras={}), ctx)
        if isinstance(side, Situation):
            figures.append(_figure(side.region, query, side, query.categories, ctx.registry))
        else:
            figures.append(Figure(ctx.registry.region_name(region) or region, [], None, [], ""))
    years = {f.sit.policy.insurance_year for f in figures if f.sit}
    lowest = _lowest(figures) if len(years) == 1 else None  # figures of different years are not compared
    return Answer("fee_compare", {
        "figures": figures, "by_region": True, "year": query.year,
        "lowest": lowest[0] if lowest else None, "same": bool(lowest and lowest[1]),
        "groups": [group_name(ctx.registry, k) for k in query.categories],
    })


def _compare_groups(query: Query, ctx: Context, sit: Situation, details: list[str], remember: dict) -> Answer:
    """低保和特困交的一样吗: each group's personal amount in this notice, side by side."""
    policy = sit.policy
    figures = []
    for key in dict.fromkeys(query.categories):
        figure = _figure(group_name(ctx.registry, key), query, sit, (key,), ctx.registry)
        pay = figure.pay
        named = pay.group.name if pay and pay.group else (pay.category.name if pay and pay.category else None)
        figures.append(replace(figure, label=named or figure.label))
    lowest = _lowest(figures)
    sources = [c.category.source for f in figures if f.pay for c in f.pay.considered]
    sources += [f.pay.tier.source for f in figures if f.pay]  # the tier reckoned on, or a group's own standard
    return Answer("fee_compare", sit.data(
        figures=figures, by_region=False, lowest=lowest[0] if lowest else None, same=bool(lowest and lowest[1]),
        enquiry=policy.region.enquiry, cite=cite(policy, *sources, *window_sources(policy, sit.calendar)),
        offers=details, feedback=True,
    ), remember=remember)


# A group no notice subsidises as such, and the narrower groups within it a notice may subsidise, which not all of
# its members are (a veteran is not always a 重点优抚对象): the answer names them beside the general fee.
WITHIN = {"veteran": ("youfu",)}

# A group asked without its grade (残疾人交多少) and the graded groups a notice may name instead.
GRADES = {"disability": ("severe_disability", "general_disability")}


@dataclass(frozen=True)
class Graded:
    asked: str  # the ungraded key asked (disability)
    grades: list[Category]  # the grades this notice names, in its order


def _graded(policy: Policy, categories: tuple[str, ...]) -> Graded | None:
    """The grades of a group asked without its grade, when the notice names the group only by grade (乐至县:
    重度残疾（一、二级…）and 一般残疾（三、四级）); None when it names the group itself, or no grade of it (the
    group is then one the notice does not name)."""
    for key, grade_keys in GRADES.items():
        if key in categories and policy.category(key) is None:
            grades = [c for c in policy.categories if c.key in grade_keys]
            if grades:
                return Graded(key, grades)
    return None


@dataclass(frozen=True)
class GradeFigure:
    grade: Category
    pay: Payable


def _by_grade(query: Query, sit: Situation, graded: Graded, details: list[str], remember: dict) -> Answer:
    """Each grade's figure, never one grade's silently: 残疾人 pays by grade, and the resident did not say which."""
    policy = sit.policy
    others = [k for k in query.categories if k != graded.asked]
    figures = [GradeFigure(g, payable_amount(policy, [*others, g.key], query.tier)) for g in graded.grades]
    sources = [g.source for g in graded.grades]
    sources += [c.category.source for f in figures for c in f.pay.considered]
    sources += [f.pay.rule.source for f in figures if f.pay.rule is not None]
    sources += [f.pay.tier.source for f in figures]
    return Answer("fee_grades", sit.data(
        verdict=verdict.fee_grades(query, [f.pay for f in figures]),
        asked_name=SHARED_CATEGORY_NAMES[graded.asked], figures=figures, enquiry=policy.region.enquiry,
        others=[c.category.name for c in figures[0].pay.considered if c.category.key not in GRADES[graded.asked]],
        cite=cite(policy, *sources, *window_sources(policy, sit.calendar)),
        offers=details, feedback=True,
    ), remember=remember)


@dataclass(frozen=True)
class Unspecified:
    """Groups the notice names without a figure, those it says the same of together (one line)."""

    names: tuple[str, ...]
    note: str | None
    quoted: bool  # the note is the notice's own words (原文), not the policy author's summary


def _unspecified(policy: Policy) -> list[Unspecified]:
    out: dict[tuple[str | None, bool], list[str]] = {}
    for c in policy.categories:
        if c.subsidy.kind == "unspecified":
            note = c.subsidy.note
            quoted = bool(note and c.source.quote and note in c.source.quote)
            out.setdefault((note, quoted), []).append(c.name)
    return [Unspecified(tuple(names), note, quoted) for (note, quoted), names in out.items()]


def group_name(registry: PolicyRegistry, key: str) -> str:
    """What to call a group the notice asked about does not name: its neutral name when the key is shared
    (never another county's wording, whose grades or scope are that county's), else the name a notice gives
    it (a county's own group, a group standard such as 全日制大中专院校在校学生), never the bare key."""
    if key in SHARED_CATEGORY_NAMES:
        return SHARED_CATEGORY_NAMES[key]
    for p in registry.policies:
        for named in (*p.categories, *p.group_standards):
            if named.key == key:
                return named.name
    return key


def _details(query: Query, sit: Situation) -> tuple[list[str], dict]:
    """What a fee answer offers: its details (for the same county, year and group), and how to pay."""
    year = sit.policy.insurance_year if sit.explicit_year else None
    return offer(
        ("fee_details", descriptor(Intent.FEE, region=sit.region, year=year, tier=query.tier, topic=DETAILS)),
        ("channels", descriptor(Intent.CHANNELS, region=sit.region, year=year)),
        rate=Intent.FEE,
    )


@router.handles(Intent.FISCAL_SUBSIDY, cacheable=True)
@situated
async def fiscal_subsidy(query: Query, ctx: Context, sit: Situation) -> Answer:
    fs = sit.policy.fiscal_subsidy
    return Answer("fiscal_subsidy", sit.data(
        verdict=verdict.fiscal_subsidy(query, fs),
        fiscal=fs, tiers=sit.policy.contribution.tiers, enquiry=sit.policy.region.enquiry,
        cite=cite(sit.policy, *((fs.source, *(t.source for t in sit.policy.contribution.tiers)) if fs else ())),
    ))
