"""Two questions in one message where the second is a bare how (低保户交多少，怎么交): both are answered in one
reply, the channels in their brief form (their names in one line, with the source), not offered for later."""

from __future__ import annotations

import pytest

from bot.cli import main


def ask(capsys: pytest.CaptureFixture[str], region: str, text: str, on: str = "2024-11-20") -> str:
    assert main(["ask", "--region", region, "--date", on, text]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(("region", "text", "first", "channels", "source"), [
    # 陵川县 四、4: 低保 个人缴纳80元; 三（二）: 微信、手机APP.
    ("陵川县", "低保户交多少，怎么交", "您个人缴纳80元",
     "缴费渠道：线上缴费有微信、手机APP；替家人缴费有山西医保公众号",
     "依据：陵政办函〔2024〕16号 三（二），三（三）"),
    ("陵川县", "交多少钱 咋交", "个人缴费标准：400元/人/年。", "缴费渠道：线上缴费有微信、手机APP",
     "依据：陵政办函〔2024〕16号 三（二）"),
    # 周集镇 4: 低保对象 个人缴纳40元; 6（一）、6（二）.
    ("周集镇", "低保户交多少，怎么交", "您个人缴纳40元", "线下缴费有村便民服务站",
     "依据：周办〔2024〕46号 6（一），6（二）"),
    # 乐至县 二（四）: 2025年2月28日; 三（二）.
    ("乐至县", "什么时候截止，在哪交", "截止2025年2月28日", "银行缴费有代收银行",
     "依据：乐府办发〔2024〕16号 三（二）"),
    ("罗山县", "低保户交多少钱？怎么缴费？", "城乡低保对象", "线上缴费有微信、支付宝",
     "依据：罗政办〔2024〕42号 三（二）1"),
])
def test_a_bare_how_after_another_question_is_answered_too(capsys, region, text, first, channels, source):
    out = ask(capsys, region, text)
    assert first in out and channels in out and source in out
    assert "接着回答" not in out and out.count("【") == 1
    assert len(out.splitlines()) <= 10


def test_how_alone_still_gets_every_channel_with_its_detail(capsys):
    out = ask(capsys, "陵川县", "怎么交")
    assert "线上缴费：" in out and "· 微信、手机APP：自主缴费" in out and "缴费渠道：" not in out
