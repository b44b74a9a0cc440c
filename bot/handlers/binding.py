"""绑定 / 解绑 / 我交了吗: linking a follower to a resident of the roster, and that resident's payment status.

Binding matches the keyed HMAC of the ID number and the name against `residents`. Attempts are counted per
day before the identity is checked, in the same transaction (bot/store/binding_limits.py), per follower and
per resident tried (the name given, and the resident whose ID number it is): once a follower has used
YIBAO_BIND_MAX_FAILS_PER_FOLLOWER attempts, or a resident has had YIBAO_BIND_MAX_FAILS_PER_RESIDENT failed
attempts from any followers, the next is refused whatever it carries. Only a successful attempt gives its own
counts back. At most YIBAO_BIND_MAX_FOLLOWERS_PER_RESIDENT followers are bound to one resident (family members
helping the elderly); those already bound are told when another binds.
A full ID number is never echoed, stored in the conversation state, or logged: only its masked form.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import config
from bot.handlers.common import cite
from bot.handlers.router import Router
from bot.nlu.query import Intent, Query
from bot.rules.calculator import calendar, payable_amount, resolve_policy
from bot.store import binding_limits as limits
from bot.store import ids
from bot.store.cells import normalize_name
from bot.store.db import insert
from bot.store.models import Follower, Payment, Resident, ResidentCategory
from bot.types import Answer, Context

router = Router()

AWAITING = "await_identity"
_DEFAULT_ENQUIRY = "所在村（社区）便民服务站或乡镇医保经办人员"
_DONE = {"binding": None, "binding_name": None}


def _enquiry(ctx: Context, region: str | None) -> str:
    policies = ctx.registry.for_region(region) if region else []
    return policies[-1].region.enquiry.text if policies else _DEFAULT_ENQUIRY


def _unavailable() -> Answer:
    return Answer("bind_unavailable", {})


async def _resident(session: AsyncSession, resident_id: int | None) -> Resident | None:
    return await session.get(Resident, resident_id) if resident_id is not None else None


def _who(resident: Resident) -> dict[str, Any]:
    return {"name": resident.name, "masked": resident.id_masked, "county": resident.county,
            "township": resident.township, "village": resident.village}


async def _ensure_follower(session: AsyncSession, openid: str) -> None:
    """The follower's row, for a first message that is a binding (the caller writes the rest later)."""
    row = {"openid": openid, "subscribed": True, "window_sends": 0, "unreachable": False, "state": {}}
    await session.execute(insert(session.bind.dialect.name, Follower.__table__).values(**row).on_conflict_do_nothing())


@router.handles(Intent.BIND)
async def handle_bind(query: Query, ctx: Context) -> Answer:
    """绑定: ask for 姓名 and 身份证号, then match them against the roster."""
    speaker = ctx.speaker
    if query.extras.get("cancel"):
        return Answer("bind_cancel", {}, remember=_DONE)
    if ctx.sessions is None or speaker.anonymous:
        return _unavailable()
    name = query.extras.get("name") or speaker.state.get("binding_name")
    number = query.extras.get("id_number")
    async with ctx.sessions() as session:
        bound = await _resident(session, speaker.resident_id)
    if bound is not None and number is None:
        return Answer("bind_already", _who(bound), remember=_DONE)
    if number is None:
        if name:  # a name alone: keep it (never an ID number) and ask for the number
            return Answer("bind_need_id", {"name": name}, remember={"binding": AWAITING, "binding_name": name})
        return Answer("bind_ask", {}, remember={"binding": AWAITING})
    if not name:
        return Answer("bind_need_name", {}, remember={"binding": AWAITING})

    settings, day = ctx.settings, ctx.today
    enquiry = _enquiry(ctx, speaker.region)
    retry = day + dt.timedelta(days=1)
    resident_locked = Answer("bind_resident_locked", {"retry": retry, "enquiry": enquiry}, remember=_DONE)
    async with ctx.sessions() as session, session.begin():
        await _ensure_follower(session, speaker.openid)
        counted = [limits.follower_subject(speaker.openid)]
        attempts = await limits.count_attempt(session, day, counted[0])
        if attempts > settings.bind_max_fails_per_follower:
            return Answer("bind_locked", {"limit": settings.bind_max_fails_per_follower, "retry": retry,
                                          "enquiry": enquiry}, remember=_DONE)
        left = settings.bind_max_fails_per_follower - attempts
        try:
            number = ids.validate(number)
        except ids.InvalidId as exc:
            return Answer("bind_invalid_id", {"reason": str(exc), "left": left, "enquiry": enquiry},
                          remember={"binding": AWAITING, "binding_name": name})
        counted.append(limits.name_subject(name, settings.id_hmac_key))
        if await limits.count_attempt(session, day, counted[-1]) > settings.bind_max_fails_per_resident:
            return resident_locked
        digest = ids.id_hmac(number, settings.id_hmac_key)
        # locked (PostgreSQL) until commit, so parallel bindings of one resident count each other
        resident = (await session.execute(
            select(Resident).where(Resident.id_hmac == digest).with_for_update()
        )).scalar_one_or_none()
        if resident is not None:
            counted.append(limits.resident_subject(resident.id))
            if await limits.count_attempt(session, day, counted[-1]) > settings.bind_max_fails_per_resident:
                return resident_locked
        if resident is None or normalize_name(resident.name) != normalize_name(name):
            return Answer("bind_not_found", {"left": left, "region": speaker.region, "enquiry": enquiry},
                          remember={"binding": AWAITING, "binding_name": None})
        await limits.give_back(session, day, counted)  # this attempt was no failure
        others = await limits.bound_followers(session, resident.id, but=speaker.openid)
        if len(others) >= settings.bind_max_followers_per_resident:
            return Answer("bind_resident_full", {"limit": settings.bind_max_followers_per_resident,
                                                 "enquiry": enquiry}, remember=_DONE)
        await session.execute(
            update(Follower).where(Follower.openid == speaker.openid)
            .values(resident_id=resident.id, county=resident.county)
        )
        await limits.queue_bind_notices(session, others, resident, speaker.openid, ctx.now or config.now())
    return Answer("bind_ok", {**_who(resident), "others": len(others)},
                  remember={**_DONE, "resident_id": resident.id, "region": resident.county})


@router.handles(Intent.UNBIND)
async def handle_unbind(query: Query, ctx: Context) -> Answer:
    """解绑: forget which resident this follower is (the region stays)."""
    if ctx.sessions is None or ctx.speaker.anonymous:
        return _unavailable()
    if ctx.speaker.resident_id is None:
        return Answer("bind_unbind_none", {}, remember=_DONE)
    async with ctx.sessions() as session, session.begin():
        await session.execute(update(Follower).where(Follower.openid == ctx.speaker.openid).values(resident_id=None))
    return Answer("bind_unbind_ok", {}, remember={**_DONE, "resident_id": None})


def _checking(query: Query, ctx: Context) -> dict[str, Any]:
    """What the notice of the county asked about (or the follower's) says about seeing that a payment went
    through, for whoever cannot be told their own record: its statements with their source, or whom to ask
    where it is silent. Nothing when no county is known (another county's notice never answers)."""
    region = query.region or ctx.speaker.region or ctx.settings.default_region
    name = ctx.registry.region_name(region) if region else None
    policy = resolve_policy(ctx.registry, name, ctx.today).policy if name else None
    if policy is None:
        return {"region": None, "check": [], "enquiry": None, "cite": None}
    said = policy.payment_check
    return {"region": name, "check": said, "enquiry": policy.region.enquiry.text,
            "cite": cite(policy, *(s.source for s in said), None if said else policy.region.enquiry.source)}


@router.handles(Intent.MY_STATUS)
async def handle_my_status(query: Query, ctx: Context) -> Answer:
    """我交了吗: paid (amount, date, channel) or not for the insurance year being collected, with the
    personal amount for the resident's categories. Without a bound identity (or a roster), what the notice
    says about checking a payment."""
    if ctx.sessions is None or ctx.speaker.anonymous:
        return Answer("my_status_unavailable", _checking(query, ctx))
    async with ctx.sessions() as session:
        resident = await _resident(session, ctx.speaker.resident_id)
        if resident is None:
            remember = {"resident_id": None} if ctx.speaker.resident_id is not None else None
            return Answer("my_status_unbound", _checking(query, ctx), remember=remember)
        res = resolve_policy(ctx.registry, resident.county, ctx.today)
        data: dict[str, Any] = {**_who(resident), "enquiry": _enquiry(ctx, resident.county), "res": res}
        if res.policy is None:
            return Answer("my_status_no_policy", data)
        policy, year = res.policy, res.year or res.policy.insurance_year
        payments = dict((await session.execute(
            select(Payment.insurance_year, Payment).where(
                Payment.resident_id == resident.id,
                Payment.insurance_year.in_({year, policy.insurance_year}))
        )).all())
        categories = (await session.execute(
            select(ResidentCategory.category).where(
                ResidentCategory.resident_id == resident.id, ResidentCategory.insurance_year == policy.insurance_year)
        )).scalars().all()
    payable = payable_amount(policy, categories)
    data.update(
        year=year,
        policy=policy,
        payment=payments.get(year),
        # the latest published year, shown when the year being asked about is not published yet
        known_payment=payments.get(policy.insurance_year) if year != policy.insurance_year else None,
        payable=payable,
        published=year == policy.insurance_year,
        cal=calendar(policy, ctx.today),
        doc=policy.document.number,
    )
    return Answer("my_status", data)
