"""The fake WeChat's outbound rules (mass send, tags, QR codes, subscription notices, receipts) through our
async client, as WeChat enforces them (/work/shared/WECHAT.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from wechatpy.utils import check_signature

from bot.wechat.client import WeChatClient
from bot.wechat.errors import UserRefusedError, WeChatAPIError
from bot.wechat.fake import FAKE, FakeWeChat, create_fake_app
from bot.wechat.protocol import parse_xml

APPID, SECRET, CALLBACK_TOKEN = "wx-outreach", "outreach-secret", "callback-token"


class Env:
    def __init__(self, server: TestServer, http: aiohttp.ClientSession):
        self.server = server
        self.fake: FakeWeChat = server.app[FAKE]
        self.client = WeChatClient(http, appid=APPID, secret=SECRET, base=str(server.make_url("")).rstrip("/"))
        self.http = http

    async def post(self, path: str, body: dict) -> dict:
        async with self.http.post(self.server.make_url(path), json=body) as resp:
            return await resp.json()


@pytest.fixture
async def env(aiohttp_server) -> AsyncIterator[Env]:
    server = await aiohttp_server(create_fake_app(APPID, SECRET))
    async with aiohttp.ClientSession() as http:
        yield Env(server, http)


async def test_mass_send_takes_two_to_ten_thousand_openids(env):
    with pytest.raises(ValueError):
        await env.client.mass_send_text(["o1"], "通知", "c1")
    with pytest.raises(ValueError):
        await env.client.mass_send_text([f"o{i}" for i in range(10_001)], "通知", "c1")
    with pytest.raises(WeChatAPIError) as exc:  # the fake refuses it too, had we sent it
        await env.client.call("POST", "/cgi-bin/message/mass/send",
                              json={"touser": ["o1"], "msgtype": "text", "text": {"content": "x"}})
    assert exc.value.errcode == 40130


async def test_a_repeated_clientmsgid_is_refused_and_delivers_nothing(env):
    first = await env.client.mass_send_text(["o1", "o2"], "通知", "job-1")
    with pytest.raises(WeChatAPIError) as exc:
        await env.client.mass_send_text(["o1", "o2"], "通知", "job-1")
    assert exc.value.errcode == 45065
    assert env.fake.mass_received[("o1", env.fake.month())] == 1
    sends = [c for c in env.fake.calls if c["endpoint"] == "message/mass/send"]
    assert [c["delivered"] for c in sends] == [True, False]
    assert sends[0]["recipients"] == ["o1", "o2"] and first["msg_id"]


async def test_a_service_account_follower_gets_at_most_four_a_month(env):
    for i in range(5):
        await env.client.mass_send_text(["o1", "o2"] if i < 4 else ["o1", "o3"], "通知", f"job-{i}")
    last = [c for c in env.fake.calls if c["endpoint"] == "message/mass/send"][-1]
    assert last["recipients"] == ["o3"] and last["filtered"] == 1
    await env.fake.settle()
    receipt = parse_xml(env.fake.pushed[-1]["xml"].encode())
    assert (receipt["Event"], receipt["TotalCount"], receipt["FilterCount"], receipt["SentCount"]) == (
        "MASSSENDJOBFINISH", "2", "1", "1")


async def test_a_subscription_account_mass_sends_once_a_day(aiohttp_server):
    server = await aiohttp_server(create_fake_app(APPID, SECRET, account_type="subscription"))
    async with aiohttp.ClientSession() as http:
        env = Env(server, http)
        await env.client.mass_send_text(["o1", "o2"], "通知", "a")
        with pytest.raises(WeChatAPIError) as exc:
            await env.client.mass_send_text(["o1", "o2"], "通知", "b")
    assert exc.value.errcode == 45028


async def test_tags_limits(env):
    tag = await env.client.create_tag("陵川县礼义镇")
    assert (await env.client.get_tags()) == {"陵川县礼义镇": tag}
    with pytest.raises(WeChatAPIError) as exc:
        await env.client.create_tag("陵川县礼义镇")
    assert exc.value.errcode == 45157
    with pytest.raises(ValueError):
        await env.client.tag_users(tag, [f"o{i}" for i in range(51)])
    await env.client.tag_users(tag, [f"o{i}" for i in range(50)])
    assert await env.client.user_tags("o7") == [tag]
    await env.client.mass_send_text_to_tag(tag, "通知", "by-tag")
    assert len(next(c for c in env.fake.calls if c["endpoint"] == "message/mass/sendall")["recipients"]) == 50
    for i in range(99):
        await env.client.create_tag(f"t{i}")
    with pytest.raises(WeChatAPIError) as exc:
        await env.client.create_tag("one too many")
    assert exc.value.errcode == 45056
    ids = sorted(env.fake.tags)
    for tag_id in ids[:20]:
        await env.client.tag_users(tag_id, ["heavy"])
    with pytest.raises(WeChatAPIError) as exc:  # the 21st tag of one follower
        await env.client.tag_users(ids[20], ["heavy"])
    assert exc.value.errcode == 45059


async def test_qr_codes_temporary_and_permanent(env):
    temp = await env.client.create_qrcode("t:礼义镇", expire_s=90 * 24 * 3600)
    assert temp["ticket"] and temp["url"].startswith("http") and temp["expire_seconds"] == 30 * 24 * 3600
    perm = await env.client.create_qrcode("p", expire_s=None)
    assert "expire_seconds" not in perm and env.fake.qrcodes[perm["ticket"]]["expires_at"] is None
    with pytest.raises(ValueError):
        await env.client.create_qrcode("x" * 65, expire_s=60)
    with pytest.raises(WeChatAPIError):
        await env.client.call("POST", "/cgi-bin/qrcode/create", json={
            "action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": ""}}})


async def test_bizsend_needs_the_users_acceptance(env):
    with pytest.raises(UserRefusedError):
        await env.client.send_subscribe_notice("o1", "tpl", {"thing1": "缴费提醒"})
    await env.post("/_fake/popup", {"openid": "o1", "template_id": "tpl", "accept": True})
    assert await env.client.send_subscribe_notice("o1", "tpl", {"thing1": "缴费提醒"}) > 0
    popup = parse_xml(env.fake.pushed[-1]["xml"].encode())
    assert popup["Event"] == "subscribe_msg_popup_event"
    assert popup["SubscribeMsgPopupEvent"]["List"]["SubscribeStatusString"] == "accept"


async def test_receipts_are_pushed_to_the_callback_signed(env, aiohttp_server):
    got: list[tuple[dict, bytes]] = []

    async def webhook(request: web.Request) -> web.Response:
        got.append((dict(request.query), await request.read()))
        return web.Response(text="success")

    app = web.Application()
    app.router.add_post("/wechat", webhook)
    hook = await aiohttp_server(app)
    await env.post("/_fake/callback", {"url": str(hook.make_url("/wechat")), "token": CALLBACK_TOKEN})
    env.fake.blocked.add("o-block")
    ok = await env.client.send_template("o-ok", "tpl", {"thing1": "x"})
    blocked = await env.client.send_template("o-block", "tpl", {"thing1": "x"})
    await env.fake.settle()
    assert len(got) == 2
    statuses = {}
    for query, body in got:
        check_signature(CALLBACK_TOKEN, query["signature"], query["timestamp"], query["nonce"])  # raises if bad
        fields = parse_xml(body)
        statuses[int(fields["MsgID"])] = fields["Status"]
    assert statuses == {ok: "success", blocked: "failed:user block"}


async def test_a_template_value_not_of_its_keywords_kind_is_refused(env):
    """As WeChat does (47003): Chinese in a character_string, words in an amount."""
    with pytest.raises(WeChatAPIError) as refused:
        await env.client.send_template("o-ok", "tpl", {"thing1": "医保征缴进度", "character_string3": "267/518人"})
    assert refused.value.errcode == 47003 and "character_string3" in refused.value.errmsg
    with pytest.raises(WeChatAPIError):
        await env.client.send_template("o-ok", "tpl", {"amount3": "高档次540元或低档次400元"})
    assert await env.client.send_template("o-ok", "tpl", {"character_string3": "267/518,51.5%", "amount3": "80元"})
