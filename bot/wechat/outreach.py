"""Messages and events of the outreach work, on the webhook's router (bot/wechat/router.py calls these):

- An official scans their township's QR code (`subscribe` with EventKey `qrscene_<scene>`, or `SCAN` with
  the scene): the signed scene names the township and role; the official is asked for their name, and the
  name binds their openid to the township's contact (bot/store/officials.py).
- 订阅提醒 / 退订提醒 (or the menu keys REMIND_ON / REMIND_OFF): the resident's consent to payment reminders,
  recorded with the time (bot/store/consent.py).
- subscribe_msg_popup_event: the user's choice in WeChat's subscription-notice popup, recorded as consent
  when it is for our reminder template.

`respond` answers those (the inbox asks it before the pipeline); None leaves the message to the pipeline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from bot.render import render
from bot.store import audit_log, consent, followers, officials, receipts
from bot.store.signing import BadSignature, check_scene
from bot.types import Answer, Speaker
from bot.wechat.protocol import Inbound

if TYPE_CHECKING:
    from bot.wechat.inbox import Deps

@dataclass
class Turn:
    """One message being answered here: the follower as loaded, and the writes the answer makes to them."""

    inbound: Inbound
    now: dt.datetime
    deps: Deps
    speaker: Speaker
    intent: str = "outreach"
    writes: list[followers.FollowerWrite] = field(default_factory=list)

    @property
    def openid(self) -> str:
        return self.inbound.openid

    def needs_database(self) -> None:
        """Every message is claimed before it is answered (bot/wechat/inbox.py): nothing to do."""

    def render(self, template: str, **data: object) -> str:
        self.intent = template
        return render(Answer(template, data))

    def write(self, write: followers.FollowerWrite) -> None:
        self.writes.append(write)

    def touch(self, *, user_message: bool) -> None:
        self.write(followers.speaker_write(self.speaker, self.now, user_message=user_message, before=self.speaker))


async def respond(inbound: Inbound, speaker: Speaker, now: dt.datetime,
                  deps: Deps) -> tuple[str | None, str, list[followers.FollowerWrite]] | None:
    """(reply text or None for "success", intent, follower writes), or None: not an outreach message."""
    turn = Turn(inbound, now, deps, speaker)
    kind = inbound.kind
    if kind in ("event:subscribe", "event:scan"):
        scene = official_scene(turn)
        if scene is None:
            return None
        if kind == "event:subscribe":
            turn.speaker = replace(turn.speaker, subscribed=True)
        text = await scanned(turn, scene)
        if not turn.writes:
            turn.touch(user_message=False)
    elif kind in ("event:templatesendjobfinish", "event:masssendjobfinish"):
        await receipt(turn)
        return None, "receipt", []
    elif kind == "event:subscribe_msg_popup_event":
        await popup(turn)
        text = None
    elif kind == "event:click" and inbound.text("EventKey") in CONSENT_KEYS:
        text = await set_consent(turn, CONSENT_KEYS[inbound.text("EventKey")], "menu")
    elif kind == "text":
        text = await on_text(turn, inbound.text("Content").strip())
        if text is None:
            return None
    else:
        return None
    return text, turn.intent, turn.writes


async def receipt(turn: Turn) -> None:
    """A send job's receipt: kept, and matched to its outbox row or broadcast batch (bot/store/receipts.py)."""
    inbound = turn.inbound
    counts = None
    if inbound.event == "masssendjobfinish":
        counts = {"total": inbound.text("TotalCount"), "filter": inbound.text("FilterCount"),
                  "sent": inbound.text("SentCount"), "error": inbound.text("ErrorCount")}
    async with turn.deps.sessions.begin() as session:
        await receipts.record(session, event=inbound.text("Event").upper(), openid=turn.openid,
                              msgid=inbound.text("MsgID") or inbound.text("MsgId"),
                              status=inbound.text("Status"), counts=counts, now=turn.now)


CONSENT_WORDS = {
    "订阅提醒": True, "接收提醒": True, "开启提醒": True, "接收缴费提醒": True,
    "退订提醒": False, "不接收提醒": False, "关闭提醒": False, "取消提醒": False, "不要提醒": False,
}
CONSENT_KEYS = {"REMIND_ON": True, "REMIND_OFF": False}
CANCEL_WORDS = {"取消", "算了", "不登记"}
SCENE_PREFIX = "o."  # an official's scene (bot/store/signing.scene)


def _set_state(turn: Turn, state: dict, *, region: str | None = None, township: str | None = None,
               user_message: bool) -> None:
    s = turn.speaker
    after = replace(s, openid=turn.openid, region=region or s.region, township=township or s.township, state=state)
    turn.write(followers.speaker_write(after, turn.now, user_message=user_message, before=s))
    turn.speaker = after


def official_scene(turn: Turn) -> str | None:
    """The scene of an official's QR code in a subscribe or SCAN event, else None."""
    key = turn.inbound.text("EventKey")
    scene = key.removeprefix("qrscene_") if turn.inbound.event == "subscribe" else key
    return scene if scene.startswith(SCENE_PREFIX) else None


async def scanned(turn: Turn, scene: str) -> str:
    turn.needs_database()
    try:
        region_id, role_key = check_scene(turn.deps.settings.link_key, scene, turn.now)
    except BadSignature as exc:
        return turn.render("official_qr_invalid", expired=str(exc) == "expired")
    role = officials.ROLES.get(role_key)
    async with turn.deps.sessions() as session:
        unit = await officials.unit_by_id(session, region_id)
    if role is None or unit is None:
        return turn.render("official_qr_invalid", expired=False)
    state = {**turn.speaker.state, "official": officials.pending(unit, role, turn.now)}
    _set_state(turn, state, user_message=False)
    return turn.render("official_confirm", county=unit.county, township=unit.township, role=role,
                       minutes=officials.PENDING_MINUTES)


async def on_text(turn: Turn, text: str) -> str | None:
    """The answer to `text` when it is an official's name or a consent word; None: an ordinary question."""
    pending = turn.speaker.state.get("official")
    if pending is not None:
        return await _official_name(turn, text, pending)
    if text in CONSENT_WORDS:
        return await set_consent(turn, CONSENT_WORDS[text], "text")
    return None


async def _official_name(turn: Turn, text: str, pending: dict) -> str | None:
    turn.needs_database()
    rest = {k: v for k, v in turn.speaker.state.items() if k != "official"}
    if not officials.still_pending(pending, turn.now):
        _set_state(turn, rest, user_message=True)
        return None  # the scan was long ago: an ordinary message
    async with turn.deps.sessions() as session:
        unit = await officials.unit_by_id(session, int(pending["region_id"]))
    if text in CANCEL_WORDS or unit is None:
        _set_state(turn, rest, user_message=True)
        return turn.render("official_cancel")
    role = str(pending["role"])
    name = officials.valid_name(text)
    if name is None:
        turn.touch(user_message=True)
        return turn.render("official_name_again", county=unit.county, township=unit.township, role=role)
    async with turn.deps.sessions.begin() as session:
        _contact, known = await officials.link(session, unit, role, name, turn.openid)
        await audit_log.record(session, name, "contact.link", county=unit.county, township=unit.township,
                               role=role, openid=turn.openid, known=known)
    registry = turn.deps.registry
    town = unit.township not in registry.townships(unit.county) and bool(registry.townships(unit.county))
    _set_state(turn, rest, region=unit.county, user_message=True)
    return turn.render("official_bound", name=name, county=unit.county, township=unit.township, role=role,
                       known=known, town=town)


async def set_consent(turn: Turn, yes: bool, via: str) -> str:
    turn.needs_database()
    async with turn.deps.sessions.begin() as session:
        await consent.record(session, turn.openid, yes, via, turn.now)
    turn.touch(user_message=via == "text")
    return turn.render("consent_set", consent=yes)


async def popup(turn: Turn) -> None:
    """subscribe_msg_popup_event: accept/reject of our subscription-notice template is the consent."""
    turn.needs_database()
    template = turn.deps.settings.subscribe_template_id
    choices = turn.inbound.fields.get("SubscribeMsgPopupEvent")
    items = choices.get("List") if isinstance(choices, dict) else None
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, dict) and item.get("TemplateId") == template:
            async with turn.deps.sessions.begin() as session:
                await consent.record(session, turn.openid, item.get("SubscribeStatusString") == "accept", "popup",
                                     turn.now)
    turn.touch(user_message=False)
