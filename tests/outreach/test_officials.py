"""Officials join by QR code, end to end against the fake WeChat: the code is made, scanned (the fake pushes
the subscribe event to the webhook), the official confirms their name and is bound as the township's
contact; that township's digest then reaches them with a township page link that works."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import time
from urllib.parse import urlsplit

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import SESSIONS
from bot.catalogue import t
from bot.commands.officials import contacts_command, make_qrcode, unlink_command
from bot.commands.text import CommandError
from bot.store import officials
from bot.store.models import AuditLog, Contact
from bot.store.signing import scene
from bot.wechat.client import WeChatClient
from bot.wechat.errors import WeChatAPIError
from bot.wechat.fake import FAKE
from bot.wechat.simulate import event_xml, text_xml
from tests.outreach.helpers import run_job, wechat, wire
from tests.scheduler.helpers import Person, add_contacts, add_people, add_targets
from tests.wechat.conftest import TODAY

DIGEST = "lingchuan-2025:2024-11-25:digest"
REMIND_5D = "lingchuan-2025:2024-11-25:reminder-5d"
OFFICIAL = "o-official-liyi"


async def scan(bot, fake, ticket: str, *, new: bool = True) -> str | None:
    body = {"openid": OFFICIAL, "ticket": ticket, "new": new}
    async with aiohttp.ClientSession() as http, http.post(fake.make_url("/_fake/scan"), json=body):
        pass
    pushed = fake.app[FAKE].pushed[-1]
    assert pushed["status"] == 200
    return bot.signer(aes=True).open_reply(pushed["reply"])


async def test_an_official_scans_confirms_and_gets_the_township_digest_with_a_working_link(bot, fake):
    state = wire(bot, fake)
    sessions = bot.app[SESSIONS]
    await add_contacts(sessions, "陵川县", [("分管领导", "礼义镇", "秦秀文", None),
                                            ("经办人", "崇文镇", "卢阳英", None)])
    await add_people(sessions, [Person("礼义镇", "东村", paid=True), Person("礼义镇", "西村"), Person("崇文镇")])
    async with wechat(bot) as client:
        code = await make_qrcode(sessions, client, bot.settings, "陵川县", "礼义镇", "leader", "张敏", TODAY)
    assert code.url.startswith("http") and code.image.endswith(code.ticket.replace("=", "%3D"))

    reply = await scan(bot, fake, code.ticket)
    assert "您正在登记为陵川县礼义镇分管领导" in reply and "请回复您的姓名" in reply
    assert "请回复您的姓名" in await bot.ask(text_xml(OFFICIAL, "秦"))  # not a name: asked again
    reply = await bot.ask(text_xml(OFFICIAL, "秦秀文"))
    assert "登记成功：秦秀文，陵川县礼义镇分管领导" in reply and "原来没有您" not in reply
    async with sessions() as session:
        linked = (await session.execute(select(Contact.name).where(Contact.openid == OFFICIAL))).scalars().all()
    assert linked == ["秦秀文"]
    for region in ("陵川县", "陵川"):  # as written or short, as every command takes a county
        out = io.StringIO()
        await contacts_command(bot.settings, region, out)
        assert "联系人2人：已绑定微信1人，未绑定1人" in out.getvalue()
        assert "礼义镇 分管领导 秦秀文  已绑定微信" in out.getvalue()
    with pytest.raises(CommandError):  # a county that is not ours is refused, not "no contacts"
        await contacts_command(bot.settings, "陵川市", io.StringIO())

    await run_job(bot, DIGEST)
    # they wrote to the account a moment ago: the digest goes as a customer-service text, link included
    (digest,) = [c for c in state.calls if c["endpoint"] == "message/custom/send"]
    text = digest["body"]["text"]["content"]
    assert digest["body"]["touser"] == OFFICIAL and text.startswith("【礼义镇医保征缴进度】")
    page = urlsplit(re.search(r"本乡镇详细进度：(\S+)", text).group(1))
    resp = await bot.client.get(f"{page.path}?{page.query}")
    assert resp.status == 200
    html = await resp.text()
    assert "陵川县礼义镇" in html and "西村" in html and "崇文镇" not in html


async def test_a_digest_by_template_message_carries_the_page_link(bot, fake):
    state = wire(bot, fake)
    await add_contacts(bot.app[SESSIONS], "陵川县", [("分管领导", "礼义镇", "秦秀文", OFFICIAL)])
    await add_people(bot.app[SESSIONS], [Person("礼义镇")])
    await run_job(bot, DIGEST)
    (digest,) = [c for c in state.calls if c["endpoint"] == "message/template/send"]
    assert digest["body"]["data"]["thing2"]["value"] == "礼义镇"
    page = urlsplit(digest["body"]["url"])
    assert f"{page.scheme}://{page.netloc}" == bot.settings.public_url
    resp = await bot.client.get(f"{page.path}?{page.query}")
    assert resp.status == 200 and "陵川县礼义镇" in await resp.text()


async def test_a_tampered_or_expired_code_binds_nobody(bot, fake):
    wire(bot, fake)
    good = scene(bot.settings.link_key, 1, "leader", TODAY + dt.timedelta(days=1))
    forged = good[:-1] + ("a" if good[-1] != "a" else "b")
    reply = await bot.ask(event_xml(OFFICIAL, "SCAN", forged))
    assert "这个登记二维码无效" in reply
    old = scene(bot.settings.link_key, 1, "leader", TODAY - dt.timedelta(days=1))
    assert "已过期" in await bot.ask(event_xml(OFFICIAL, "subscribe", "qrscene_" + old))
    assert "登记成功" not in (await bot.ask(text_xml(OFFICIAL, "秦秀文")) or "")
    async with bot.app[SESSIONS]() as session:
        assert not (await session.execute(select(Contact).where(Contact.openid == OFFICIAL))).all()


async def test_a_name_sent_after_the_scan_expired_binds_nobody(make_bot):
    times = [TODAY]
    bot = await make_bot(clock=lambda: times[0])
    async with bot.app[SESSIONS]() as session:
        unit = await officials.find_unit(session, "陵川县", "礼义镇")
    code = scene(bot.settings.link_key, unit.id, "leader", TODAY + dt.timedelta(days=1))
    assert "请回复您的姓名" in await bot.ask(event_xml(OFFICIAL, "SCAN", code))
    times[0] = TODAY + dt.timedelta(minutes=officials.PENDING_MINUTES + 1)
    assert "登记已超时" in await bot.ask(text_xml(OFFICIAL, "秦秀文"))
    assert "80元" in await bot.ask(text_xml(OFFICIAL, "陵川县低保户交多少"))  # an ordinary question again
    async with bot.app[SESSIONS]() as session:
        assert not (await session.execute(select(Contact).where(Contact.openid == OFFICIAL))).all()


async def test_only_residents_who_agreed_get_reminders(bot, fake):
    state = wire(bot, fake)
    yes, _no, _never = await add_people(bot.app[SESSIONS], [
        Person("礼义镇", consents=True), Person("礼义镇", consents=False), Person("礼义镇", consents=None)])
    await run_job(bot, REMIND_5D)
    sent = [c["body"]["touser"] for c in state.calls if c["endpoint"] == "message/template/send"]
    assert sent == [yes.openid]


async def test_reminders_asked_about_record_no_consent(bot, fake):
    state = wire(bot, fake)
    (person,) = await add_people(bot.app[SESSIONS], [Person("礼义镇", consents=None)])
    assert "订阅提醒" in await bot.ask(text_xml(person.openid, "有交费提醒吗"))
    await run_job(bot, REMIND_5D)
    assert not [c for c in state.calls if c["endpoint"] == "message/template/send"]


async def test_consent_is_changed_by_a_word_or_the_menu(bot, fake):
    state = wire(bot, fake)
    (person,) = await add_people(bot.app[SESSIONS], [Person("礼义镇", consents=None)])
    assert "已开启缴费提醒" in await bot.ask(text_xml(person.openid, "订阅提醒"))
    assert "已关闭缴费提醒" in await bot.ask(event_xml(person.openid, "CLICK", "REMIND_OFF"))
    await run_job(bot, REMIND_5D)
    assert not [c for c in state.calls if c["endpoint"] == "message/template/send"]
    assert "已开启" in await bot.ask(text_xml(person.openid, "订阅提醒"))
    await run_job(bot, "lingchuan-2025:2024-11-25:reminder-1d")
    (call,) = [c for c in state.calls if c["endpoint"] == "message/template/send"]
    assert call["body"]["touser"] == person.openid


async def test_a_code_is_made_for_a_short_township_name_and_a_wrong_one_lists_the_townships(bot, fake, registry):
    """Staff write 礼义 as often as 礼义镇; a name the county's table lacks (礼仪镇) is refused with the list."""
    wire(bot, fake)
    sessions = bot.app[SESSIONS]
    async with wechat(bot) as client:
        code = await make_qrcode(sessions, client, bot.settings, "陵川县", "礼义", "clerk", "张敏", TODAY)
        assert (code.county, code.township, code.role) == ("陵川县", "礼义镇", "经办人")
        with pytest.raises(CommandError) as refused:
            await make_qrcode(sessions, client, bot.settings, "陵川县", "礼仪镇", "clerk", "张敏", TODAY)
    message = str(refused.value)
    assert message.startswith("陵川县没有“礼仪镇”这个乡镇（街道）或村（社区）。可选：")
    assert all(name in message for name in registry.townships("陵川县"))


async def test_a_bureau_role_gets_no_township_code(bot, fake):
    """负责人 and 协调员 are the bureau's (no township; the escalation goes to them): a township's code would
    file them under that township, where they would get its digest and never an escalation."""
    wire(bot, fake)
    async with wechat(bot) as client:
        for key, role in (("head", "负责人"), ("coordinator", "协调员")):
            with pytest.raises(CommandError) as refused:
                await make_qrcode(bot.app[SESSIONS], client, bot.settings, "陵川县", "礼义镇", key, "张敏", TODAY)
            assert f"“{role}”是县局的角色" in str(refused.value) and "生成全县的二维码" in str(refused.value)
        with pytest.raises(CommandError) as refused:  # and a township's role needs its township
            await make_qrcode(bot.app[SESSIONS], client, bot.settings, "陵川县", "", "leader", "张敏", TODAY)
        assert "请写明乡镇" in str(refused.value) and "礼义镇" in str(refused.value)
    assert not [c for c in fake.app[FAKE].calls if c["endpoint"] == "qrcode/create"]


async def test_the_bureau_head_registers_by_the_county_code_and_gets_the_escalation(bot, fake, registry):
    """The escalation goes to the bureau's 负责人 and 协调员 (contacts with no township): their code names the
    county, so they can register themselves (nobody knows their own openid to put it in contacts.csv)."""
    state = wire(bot, fake)
    sessions = bot.app[SESSIONS]
    await add_targets(sessions, registry)
    await add_people(sessions, [Person("礼义镇", follows=False) for _ in range(5)])
    async with wechat(bot) as client:
        code = await make_qrcode(sessions, client, bot.settings, "陵川县", "", "head", "张敏", TODAY)
    assert (code.county, code.township, code.role) == ("陵川县", "", "负责人")
    reply = await scan(bot, fake, code.ticket)
    assert "您正在登记为陵川县负责人（全县）" in reply
    reply = await bot.ask(text_xml(OFFICIAL, "丁建国"))
    assert "登记成功：丁建国，陵川县负责人（全县）" in reply and "督办提醒" in reply
    async with sessions() as session:
        (contact,) = (await session.execute(select(Contact).where(Contact.openid == OFFICIAL))).scalars()
    assert (contact.township, contact.role) == ("", "负责人")
    await run_job(bot, "lingchuan-2025:2024-11-25:escalation")
    sent = [c for c in state.calls if c["endpoint"] in ("message/custom/send", "message/template/send")]
    assert [c["body"]["touser"] for c in sent] == [OFFICIAL]
    assert sent[0]["body"]["data"]["thing1"]["value"] == "医保征缴督办提醒"


async def test_a_scene_mixing_a_bureau_role_and_a_township_binds_nobody(bot, fake):
    """Codes are signed, but a scene naming a township with a bureau role (or the county with a township's
    role) would file a contact where no notice reaches it: refused as invalid."""
    wire(bot, fake)
    async with bot.app[SESSIONS]() as session:
        township = await officials.find_unit(session, "陵川县", "礼义镇")
        county = await officials.county_unit(session, "陵川县")
    for unit_id, role in ((township.id, "head"), (county.id, "leader")):
        code = scene(bot.settings.link_key, unit_id, role, TODAY + dt.timedelta(days=1))
        assert "这个登记二维码无效" in await bot.ask(event_xml(OFFICIAL, "SCAN", code))


_TIMES = itertools.count(int(time.time()))  # events of one sender in one second are one event to WeChat


def _code(bot, unit: officials.Unit, role: str = "leader") -> str:
    return scene(bot.settings.link_key, unit.id, role, TODAY + dt.timedelta(days=1))


async def _units(bot, *names: str) -> list[officials.Unit]:
    async with bot.app[SESSIONS]() as session:
        return [await officials.find_unit(session, "陵川县", n) for n in names]


async def _linked(bot) -> dict[str, list[tuple[str, str, str]]]:
    async with bot.app[SESSIONS]() as session:
        rows = (await session.execute(select(Contact).where(Contact.openid.is_not(None)))).scalars()
        out: dict[str, list[tuple[str, str, str]]] = {}
        for c in rows:
            out.setdefault(c.openid, []).append((c.township, c.role, c.name))
    return out


async def test_scanning_the_same_code_again_says_already_registered(bot, fake):
    wire(bot, fake)
    (liyi,) = await _units(bot, "礼义镇")
    await bot.ask(event_xml(OFFICIAL, "SCAN", _code(bot, liyi), create_time=next(_TIMES)))
    assert "登记成功" in await bot.ask(text_xml(OFFICIAL, "秦秀文"))
    for event, key in (("SCAN", _code(bot, liyi)), ("subscribe", "qrscene_" + _code(bot, liyi))):
        reply = await bot.ask(event_xml(OFFICIAL, event, key, create_time=next(_TIMES)))
        assert "您已登记为陵川县礼义镇分管领导（秦秀文），无需重复登记" in reply and "登记成功" not in reply
        assert "请回复您的姓名" not in reply
    assert "登记成功" not in (await bot.ask(text_xml(OFFICIAL, "秦秀文")) or "")  # no name is awaited
    assert await _linked(bot) == {OFFICIAL: [("礼义镇", "分管领导", "秦秀文")]}


async def test_another_townships_code_asks_to_confirm_the_switch(bot, fake):
    wire(bot, fake)
    liyi, chongwen = await _units(bot, "礼义镇", "崇文镇")
    await bot.ask(event_xml(OFFICIAL, "SCAN", _code(bot, liyi), create_time=next(_TIMES)))
    await bot.ask(text_xml(OFFICIAL, "秦秀文"))
    reply = await bot.ask(event_xml(OFFICIAL, "SCAN", _code(bot, chongwen, "clerk"), create_time=next(_TIMES)))
    assert "您正在登记为陵川县崇文镇经办人" in reply
    assert "这个微信目前已登记为陵川县礼义镇分管领导（秦秀文）" in reply and "原登记同时解除" in reply
    assert "已取消登记" in await bot.ask(text_xml(OFFICIAL, "取消"))
    assert await _linked(bot) == {OFFICIAL: [("礼义镇", "分管领导", "秦秀文")]}  # kept as it was

    await bot.ask(event_xml(OFFICIAL, "SCAN", _code(bot, chongwen, "clerk"), create_time=next(_TIMES)))
    reply = await bot.ask(text_xml(OFFICIAL, "秦秀文"))
    assert "登记成功：秦秀文，陵川县崇文镇经办人" in reply
    assert "原登记陵川县礼义镇分管领导（秦秀文）已解除" in reply
    assert await _linked(bot) == {OFFICIAL: [("崇文镇", "经办人", "秦秀文")]}


async def test_a_second_account_cannot_take_over_a_registered_name(bot, fake):
    """Another WeChat account replying the name already registered there is refused: the first keeps the
    digests, the second is told why and what to do, the bureau's audit log shows it; the bureau can release
    the first link (`yibao contacts --unlink`), after which the second registers."""
    wire(bot, fake)
    (liyi,) = await _units(bot, "礼义镇")
    other = "o-official-other"
    await bot.ask(event_xml(OFFICIAL, "SCAN", _code(bot, liyi), create_time=next(_TIMES)))
    await bot.ask(text_xml(OFFICIAL, "秦秀文"))
    await bot.ask(event_xml(other, "SCAN", _code(bot, liyi), create_time=next(_TIMES)))
    reply = await bot.ask(text_xml(other, "秦秀文"))
    assert "登记成功" not in reply
    assert "陵川县礼义镇分管领导“秦秀文”已由另一个微信登记，本微信未登记" in reply and "联系县医保局" in reply
    assert await _linked(bot) == {OFFICIAL: [("礼义镇", "分管领导", "秦秀文")]}
    async with bot.app[SESSIONS]() as session:
        (entry,) = (await session.execute(select(AuditLog).where(AuditLog.action == "contact.refused"))).scalars()
    assert entry.detail["township"] == "礼义镇" and entry.detail["openid"] == other

    # a different person of that township replies their own name: registered beside the first
    assert "登记成功：李明，陵川县礼义镇分管领导" in await bot.ask(text_xml(other, "李明"))
    assert await _linked(bot) == {OFFICIAL: [("礼义镇", "分管领导", "秦秀文")],
                                  other: [("礼义镇", "分管领导", "李明")]}


async def test_the_bureau_releases_a_link_and_the_new_account_registers(bot, fake):
    wire(bot, fake)
    (liyi,) = await _units(bot, "礼义镇")
    other = "o-official-new-phone"
    await bot.ask(event_xml(OFFICIAL, "SCAN", _code(bot, liyi), create_time=next(_TIMES)))
    await bot.ask(text_xml(OFFICIAL, "秦秀文"))
    out = io.StringIO()
    assert await unlink_command(bot.settings, "陵川", "礼义", "秦秀文", out, actor="张敏") == 0
    assert "已解除微信绑定：陵川县 礼义镇 分管领导 秦秀文" in out.getvalue()
    with pytest.raises(CommandError) as refused:  # nothing left to release
        await unlink_command(bot.settings, "陵川县", "礼义镇", "秦秀文", io.StringIO(), actor="张敏")
    assert "没有已绑定微信的联系人“秦秀文”" in str(refused.value)
    await bot.ask(event_xml(other, "SCAN", _code(bot, liyi), create_time=next(_TIMES)))
    assert "登记成功：秦秀文" in await bot.ask(text_xml(other, "秦秀文"))
    assert await _linked(bot) == {other: [("礼义镇", "分管领导", "秦秀文")]}


async def test_the_fake_scan_answers_readable_json(bot, fake):
    """/_fake/scan is read by people trying the demo: Chinese as itself, and the reply's text decrypted."""
    wire(bot, fake)
    async with wechat(bot) as client:
        code = await make_qrcode(bot.app[SESSIONS], client, bot.settings, "陵川县", "礼义镇", "leader", "张敏",
                                 TODAY)
    body = {"openid": OFFICIAL, "ticket": code.ticket, "new": True}
    async with aiohttp.ClientSession() as http, http.post(fake.make_url("/_fake/scan"), json=body) as resp:
        raw = await resp.read()
        assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert b"\\u" not in raw
    text = raw.decode("utf-8")
    assert "您正在登记为陵川县礼义镇分管领导" in text


async def test_a_wechat_api_never_reached_is_said_so_in_chinese(bot):
    """`yibao qrcode` in a terminal without the demo's YIBAO_WECHAT_API_BASE: it said 微信返回 0
    ClientConnectorDNSError…, as if WeChat had answered; it now says WeChat was not reached and what to check."""
    from tests.commands.processes import free_port

    sessions = bot.app[SESSIONS]
    async with aiohttp.ClientSession() as http:
        s = bot.settings
        client = WeChatClient(http, appid=s.wechat_appid, secret=s.wechat_secret,
                              base=f"http://127.0.0.1:{free_port()}", sessions=sessions, backoff_s=0.01)
        with pytest.raises(WeChatAPIError) as failed:
            await make_qrcode(sessions, client, bot.settings, "陵川县", "礼义镇", "leader", "张敏", TODAY)
    message = t("qrcode.failed", why=failed.value.for_staff())  # as `yibao qrcode` says it
    assert message.startswith("生成二维码失败：没有连上微信接口（") and "YIBAO_WECHAT_API_BASE" in message
    assert "微信返回 0" not in message
    assert WeChatAPIError(45009, "reach max api daily quota limit").for_staff() == (
        "微信返回 45009 reach max api daily quota limit")
