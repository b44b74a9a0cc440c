"""Answers longer than WeChat's 2,048-byte text limit are cut between lines, nothing lost or reordered."""

from __future__ import annotations

import pytest

from bot.wechat.textparts import MAX_TEXT_BYTES, parts


def test_a_text_within_the_limit_is_one_part_unchanged() -> None:
    text = "【陵川县 2025年度】\n一档：400元/人/年。\n" * 20
    assert len(text.encode()) <= MAX_TEXT_BYTES
    assert parts(text) == [text]


@pytest.mark.parametrize("lines", [200, 401, 1000])
def test_a_long_text_is_cut_between_lines_within_the_limit(lines: int) -> None:
    text = "\n".join(f"第{i}行：低保对象个人缴费80元，特困人员全额资助。" for i in range(lines))
    cut = parts(text)
    assert len(cut) > 1
    assert all(len(p.encode()) <= MAX_TEXT_BYTES for p in cut)
    assert "\n".join(cut) == text  # every line, in order, none split
    assert all(p.startswith("第") and p.endswith("。") for p in cut)


def test_a_single_line_longer_than_the_limit_is_cut_between_characters() -> None:
    line = "医" * 1000  # 3,000 bytes
    text = f"开头\n{line}\n结尾"
    cut = parts(text)
    assert all(len(p.encode()) <= MAX_TEXT_BYTES for p in cut)
    assert "".join(cut).replace("\n", "") == text.replace("\n", "")
    assert cut[0] == "开头" and cut[-1].endswith("结尾")
