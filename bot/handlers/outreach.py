"""The outreach work's messages and events: officials joining by QR code, residents' consent to reminders, and
the receipts of the account's own sends. The WeChat edge makes their Queries (bot/wechat/inbox.py), the NLU
the texts' (订阅提醒, an official's name). Officials and receipts write their own tables in transactions of
their own, as binding does; a consent is the speaker's (`Speaker.consent`), kept with the message's completion.

- An official scans their township's QR code (OFFICIAL_SCAN: subscribe with EventKey `qrscene_<scene>`, or
  SCAN with the scene): the signed scene names the township and role; the official is asked for their name,
  remembered in their state ("official") for PENDING_MINUTES. Their next text (OFFICIAL_NAME) binds their
  openid to the township's contact (bot/store/officials.py); 取消 gives up; a late one is told to scan again.
  The bureau's own roles (负责人, 协调员) scan a code naming the county itself. One WeChat account, one
  registration: scanning its own township's code again says it is registered; another's asks to confirm the
  switch. A name another account registered there first is refused, and the bureau's audit log shows it.
- 订阅提醒 / 退订提醒, or the menu keys REMIND_ON / REMIND_OFF (REMINDERS): the resident's consent to payment
  reminders, kept with the time when the message's answer is stored (bot/store/followers.py `apply_writes`).
  Reminders asked about (有交费提醒吗) are explained, and how to turn them on; no consent is recorded.
- The subscription-notice popup (SUBSCRIBE_POPUP): the choice made for our reminder template is the consent.
- TEMPLATESENDJOBFINISH / MASSSENDJOBFINISH (RECEIPT): kept and matched to the outbox row or broadcast batch
  (bot/store/receipts.py); not the follower's doing (the edge writes nothing of theirs for it).
"""

from __future__ import annotations

import datetime as dt

from bot import config
from bot.handlers.router import Router
from bot.nlu.query import Intent, Query
from bot.store import audit_log, officials, receipts
from bot.store.models import Contact
from bot.store.signing import BadSignature, check_scene
from bot.types import Answer, Context

router = Router()

CANCEL_WORDS = {"取消", "算了", "不登记"}
_DONE = {"official": None}  # the scan's pending name, forgotten


def _now(ctx: Context) -> dt.datetime:
    return ctx.now or config.now()


def _post(contact: Contact) -> dict[str, str]:
    """A registration as the official's messages name it (templates/messages/_official.j2)."""
    return {"county": contact.county, "township": contact.township, "role": contact.role, "name": contact.name}


def _released(contacts: list[Contact]) -> dict[str, str]:
    return {"released": "、".join(f"{c.township or c.county}{c.role}{c.name}" for c in contacts)} if contacts else {}


@router.handles(Intent.OFFICIAL_SCAN)
async def official_scan(query: Query, ctx: Context) -> Answer:
    """An official's QR code, scanned: confirm the township and role, and ask for their name. An account already
    registered there is told so; one registered elsewhere is told that registering here switches it."""
    subscribed = {"subscribed": True} if query.topic == "subscribe" else {}
    now = _now(ctx)
    try:
        region_id, role_key = check_scene(ctx.settings.link_key, query.extras.get("scene", ""), now)
    except BadSignature as exc:
        return Answer("official_qr_invalid", {"expired": str(exc) == "expired"}, remember=subscribed)
    role = officials.ROLES.get(role_key)
    unit, current = None, []
    if ctx.sessions is not None:
        async with ctx.sessions() as session:
            unit = await officials.unit_by_id(session, region_id)
            current = await officials.links_of(session, ctx.speaker.openid or "")
    # a bureau role's code names the county itself, a township role's a township: anything else was not ours
    if role is None or unit is None or (not unit.township) != (role_key in officials.BUREAU_ROLE_KEYS):
        return Answer("official_qr_invalid", {"expired": False}, remember=subscribed)
    place = {"county": unit.county, "township": unit.township, "role": role}
    same = [c for c in current if (c.county, c.township, c.role) == (unit.county, unit.township, role)]
    if same:
        return Answer("official_already", {**place, "name": same[0].name}, remember={**subscribed, **_DONE})
    return Answer("official_confirm", {**place, "current": [_post(c) for c in current],
                                       "minutes": officials.PENDING_MINUTES},
                  remember={**subscribed, "official": officials.pending(unit, role, now)})


@router.handles(Intent.OFFICIAL_NAME)
async def official_name(query: Query, ctx: Context) -> Answer:
    """The scanned official's reply: their name binds them as the township's contact. A name another WeChat
    account registered there first is refused (nothing changes; the bureau's audit log shows the attempt)."""
    pending = ctx.speaker.state.get("official")
    if not officials.still_pending(pending, _now(ctx)):
        return Answer("official_expired", {"minutes": officials.PENDING_MINUTES}, remember=_DONE)
    text = query.extras.get("name", "")
    unit = None
    if ctx.sessions is not None:
        async with ctx.sessions() as session:
            unit = await officials.unit_by_id(session, int(pending["region_id"]))
    if text in CANCEL_WORDS or unit is None or ctx.sessions is None:
        return Answer("official_cancel", remember=_DONE)
    role = str(pending["role"])
    place = {"county": unit.county, "township": unit.township, "role": role}
    name = officials.valid_name(text)
    if name is None:
        return Answer("official_name_again", place)
    openid = ctx.speaker.openid or ""
    try:
        async with ctx.sessions.begin() as session:
            _contact, known, released = await officials.link(session, unit, role, name, openid)
            await audit_log.record(session, name, "contact.link", county=unit.county, township=unit.township,
                                   role=role, openid=openid, known=known, **_released(released))
    except officials.NameTaken:
        async with ctx.sessions.begin() as session:
            await audit_log.record(session, name, "contact.refused", county=unit.county, township=unit.township,
                                   role=role, openid=openid)
        return Answer("official_name_taken", {**place, "name": name})  # still pending: their own name may follow
    towns = ctx.registry.townships(unit.county)
    return Answer("official_bound", {**place, "name": name, "known": known, "released": [_post(c) for c in released],
                                     "town": bool(towns) and unit.township not in towns},
                  remember={**_DONE, "region": unit.county})


@router.handles(Intent.REMINDERS)
async def reminders(query: Query, ctx: Context) -> Answer:
    """订阅提醒 / 退订提醒 (topic "on" / "off"; extras {"via": "menu"} from the menu): consent to reminders;
    reminders asked about (有交费提醒吗, topic "ask"): what they are and how to turn them on, nothing recorded."""
    if query.topic == "ask":
        return Answer("reminder_about")
    if ctx.sessions is None or ctx.speaker.anonymous:
        return Answer("consent_unavailable")
    yes = query.topic == "on"  # kept with the follower when the message is answered (bot/store/followers.py)
    return Answer("consent_set", {"consent": yes}, remember={"consent": (yes, query.extras.get("via", "text"))})


@router.handles(Intent.SUBSCRIBE_POPUP)
async def subscribe_popup(query: Query, ctx: Context) -> Answer:
    """The popup's choices (extras: template id -> accept / reject): the one for our reminder template is the
    consent. WeChat expects "success"."""
    choice = query.extras.get(ctx.settings.subscribe_template_id) if ctx.settings.subscribe_template_id else None
    if choice is not None and ctx.sessions is not None and not ctx.speaker.anonymous:
        return Answer(None, remember={"consent": (choice == "accept", "popup")})
    return Answer(None)


@router.handles(Intent.RECEIPT)
async def receipt(query: Query, ctx: Context) -> Answer:
    """A send job's receipt (topic: templatesendjobfinish / masssendjobfinish; extras: msgid, status and a mass
    send's counts): kept. WeChat expects "success"."""
    if ctx.sessions is None:
        return Answer(None)
    extras = query.extras
    counts = None
    if query.topic == "masssendjobfinish":
        counts = {name: extras.get(name, "") for name in ("total", "filter", "sent", "error")}
    async with ctx.sessions.begin() as session:
        await receipts.record(session, event=(query.topic or "").upper(), openid=ctx.speaker.openid or "",
                              msgid=extras.get("msgid", ""), status=extras.get("status", ""), counts=counts,
                              now=_now(ctx))
    return Answer(None)
