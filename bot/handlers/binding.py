"""绑定 / 解绑 / 我交了吗: linking a follower to a resident of the roster, and that resident's payment status.

Binding matches the keyed HMAC of the ID number and the name against `residents`. Attempts are counted per
openid and day in `followers` (bind_failures, bind_fail_day) before the identity is checked, atomically, so
parallel messages cannot get past the limit: the 6th attempt of a day is refused, whatever it carries.
A full ID number is never echoed, stored in the conversation state, or logged: only its masked form.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers.answer import Answer
from bot.handlers.router import Router
from bot.nlu.query import Intent, Query
from bot.rules.calculator import calendar, payable_amount, resolve_policy
from bot.store import ids
from bot.store.cells import normalize_name
from bot.store.models import Follower, Payment, Resident, ResidentCategory

if TYPE_CHECKING:
    from bot.pipeline import Context

router = Router()

MAX_ATTEMPTS = 5  # a day, per openid
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


async def _reserve_attempt(session: AsyncSession, openid: str, today: dt.date) -> int:
    """Count one binding attempt for today and return how many there have been (the follower row is created
    when missing). Counting before checking keeps the limit exact under concurrent messages."""
    table = Follower.__table__
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    await session.execute(insert(table).values(openid=openid, subscribed=True, window_sends=0, unreachable=False,
                                               state={}, bind_failures=0).on_conflict_do_nothing())
    same_day = table.c.bind_fail_day == today
    count = await session.execute(
        update(table)
        .where(table.c.openid == openid)
        .values(bind_failures=case((same_day, table.c.bind_failures + 1), else_=1), bind_fail_day=today)
        .returning(table.c.bind_failures)
    )
    return count.scalar_one()


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

    enquiry = _enquiry(ctx, speaker.region)
    async with ctx.sessions() as session, session.begin():
        attempts = await _reserve_attempt(session, speaker.openid, ctx.today)
        if attempts > MAX_ATTEMPTS:
            return Answer("bind_locked", {"limit": MAX_ATTEMPTS, "retry": ctx.today + dt.timedelta(days=1),
                                          "enquiry": enquiry}, remember=_DONE)
        left = MAX_ATTEMPTS - attempts
        try:
            number = ids.validate(number)
        except ids.InvalidId as exc:
            return Answer("bind_invalid_id", {"reason": str(exc), "left": left, "enquiry": enquiry},
                          remember={"binding": AWAITING, "binding_name": name})
        digest = ids.id_hmac(number, ctx.settings.id_hmac_key)
        resident = (await session.execute(select(Resident).where(Resident.id_hmac == digest))).scalar_one_or_none()
        if resident is None or normalize_name(resident.name) != normalize_name(name):
            return Answer("bind_not_found", {"left": left, "region": speaker.region, "enquiry": enquiry},
                          remember={"binding": AWAITING, "binding_name": None})
        await session.execute(
            update(Follower).where(Follower.openid == speaker.openid)
            .values(resident_id=resident.id, county=resident.county, bind_failures=0, bind_fail_day=None)
        )
    return Answer("bind_ok", _who(resident),
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


@router.handles(Intent.MY_STATUS)
async def handle_my_status(query: Query, ctx: Context) -> Answer:
    """我交了吗: paid (amount, date, channel) or not for the insurance year being collected, with the
    personal amount for the resident's categories."""
    if ctx.sessions is None or ctx.speaker.anonymous:
        return _unavailable()
    async with ctx.sessions() as session:
        resident = await _resident(session, ctx.speaker.resident_id)
        if resident is None:
            remember = {"resident_id": None} if ctx.speaker.resident_id is not None else None
            return Answer("my_status_unbound", {}, remember=remember)
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
