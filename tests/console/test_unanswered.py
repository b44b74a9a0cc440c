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
