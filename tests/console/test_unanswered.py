"""Unanswered questions: the fallback's messages grouped by similar text, counted, masked."""

from __future__ import annotations

from bot.console.unanswered import group_texts

from .conftest import Console


def test_similar_texts_are_one_group() -> None:
    rows = [("医保卡丢了怎么补办？", "fallback", None), ("医保卡丢了怎么补办", "fallback", None),
            ("醫保卡丟了怎麼補辦啊", "fallback", None), ("养老保险交多少", "out_of_scope", None)]
    groups = group_texts([(t, i, None) for t, i, _ in rows])
    assert [(g.count, g.intent) for g in groups] == [(3, "fallback"), (1, "out_of_scope")]


async def test_page_lists_what_the_bot_could_not_answer(console: Console) -> None:
    for i, text in enumerate(["医保卡丢了怎么补办？", "医保卡丢了怎么补办", "我的身份证140524194710061498丢了怎么办",
                              "低保户交多少"]):
        await console.ask_webhook(text, openid=f"o-unanswered-{i}")
    assert await console.login("staff") == 303
    html = await (await console.client.get("/console/unanswered")).text()
    assert "医保卡丢了怎么补办" in html
    assert '<td class="num">2</td><td style="white-space:normal">医保卡丢了怎么补办' in html
    assert "140524194710061498" not in html
    assert "低保户交多少" not in html  # answered


async def test_page_shows_what_the_bot_tried_and_the_residents_verdicts(console: Console) -> None:
    await console.ask_webhook("我是陵川县的", openid="o-tried")
    menu = await console.ask_webhook("医保的事咋整", openid="o-tried")
    assert menu is not None and menu.startswith("您是想问")
    await console.ask_webhook("养老保险交多少", openid="o-tried")
    await console.ask_webhook("交多少钱", openid="o-tried")
    await console.ask_webhook("有用", openid="o-tried")
    await console.ask_webhook("什么时候截止", openid="o-tried")
    await console.ask_webhook("没用", openid="o-tried")
    assert await console.login("staff") == 303
    html = await (await console.client.get("/console/unanswered")).text()
    assert "医保的事咋整" in html and "猜测：交多少钱、截止时间" in html  # the menu it offered
    assert "话题：养老保险" in html
    feedback = html[html.index('id="feedback"'):]
    assert '<td>交多少钱</td><td class="num">1</td><td class="num">0</td>' in feedback
    assert '<td>截止时间</td><td class="num">0</td><td class="num">1</td>' in feedback


def test_tried_is_kept_per_group_newest_first() -> None:
    rows = [("医保的事", "fallback", None, {"intent": "fallback", "candidates": ["fee"]}),
            ("医保的事呢", "fallback", None, {"intent": "fallback", "candidates": ["fee"]}),
            ("医保的事啊", "fallback", None, {"intent": "fallback", "candidates": ["deadline"]})]
    (group,) = group_texts(rows)
    assert group.count == 3
    assert group.tried == [{"intent": "fallback", "candidates": ["fee"]},
                           {"intent": "fallback", "candidates": ["deadline"]}]
