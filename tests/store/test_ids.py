"""ID numbers: GB 11643 checksum, birth date, sex, keyed HMAC, masking (pure functions: no backend)."""

from __future__ import annotations

import ast
import datetime as dt
import math
import re
from pathlib import Path

import pytest

from bot.catalogue import t
from bot.store import ids, synthetic

VALID = ids.make_id("140524", dt.date(1990, 1, 1), 123)  # fictional


def test_check_character_of_a_known_number() -> None:
    # The worked example of GB 11643-1999: 11010519491231002X.
    assert ids.check_char("11010519491231002") == "X"
    assert ids.validate("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("14052419900101123", "18位"),
        ("1405241990010112345", "18位"),
        ("14052419900101123A", "18位"),
        ("140524199002301234", "出生日期"),
        ("140524180001011234", "不合理"),
    ],
)
def test_invalid_numbers_say_why(raw: str, reason: str) -> None:
    with pytest.raises(ids.InvalidId, match=reason):
        ids.validate(raw)


def test_wrong_check_digit() -> None:
    wrong = VALID[:17] + ("0" if VALID[17] != "0" else "1")
    with pytest.raises(ids.InvalidId, match="校验位"):
        ids.validate(wrong)
    assert not ids.is_valid(wrong)
    assert ids.is_valid(VALID)


def test_normalises_full_width_and_spaces() -> None:
    full_width = VALID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert ids.validate(f" {full_width[:6]} {full_width[6:]} ") == VALID


def test_birth_date_and_sex() -> None:
    assert ids.birth_date(VALID) == dt.date(1990, 1, 1)
    assert ids.sex(VALID) == "M"  # 17th digit 3: odd
    assert ids.sex(ids.make_id("140524", dt.date(1990, 1, 1), 122)) == "F"


def test_hmac_is_keyed_and_stable() -> None:
    a = ids.id_hmac(VALID, "key-a")
    assert a == ids.id_hmac(VALID, b"key-a")
    assert len(a) == 64 and VALID not in a
    assert a != ids.id_hmac(VALID, "key-b")
    assert ids.id_digest(VALID, b"key-a").hex() == a


def test_mask_hides_the_birth_date() -> None:
    masked = ids.mask(VALID)
    assert masked == VALID[:6] + "*" * 8 + VALID[-4:]
    assert "19900101" not in masked


def test_mask_text_masks_ids_and_phones_in_free_text() -> None:
    text = f"张三 {VALID} 电话 13800001234，订单号 123456789012345678901"
    masked = ids.mask_text(text)
    assert VALID not in masked and "13800001234" not in masked
    assert "138****1234" in masked
    # A longer number may be a bank card, or an ID and a phone typed together: only its last four digits stay.
    assert "123456789012345678901" not in masked and "*****************8901" in masked
    assert ids.mask_text("2024-11-20交了400元，1080元") == "2024-11-20交了400元，1080元"  # dates and amounts stay


def test_mask_text_masks_numbers_typed_in_groups() -> None:
    grouped = f"{VALID[:4]} {VALID[4:8]} {VALID[8:12]} {VALID[12:16]} {VALID[16:]}"
    full_width = VALID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for text in (grouped, VALID.replace("1990", "1990-"), full_width, "138 0000 1234", "138-0000-1234"):
        masked = ids.mask_text(f"我的号码{text}。")
        assert not any(ch.isdigit() for ch in masked.replace(VALID[:6], "").replace(VALID[-4:], "")
                       .replace("138", "").replace("1234", "")), masked
    assert ids.mask_text(grouped) == ids.mask(VALID)


def test_mask_phone() -> None:
    assert ids.mask_phone("138-0000-1234") == "138****1234"
    assert ids.mask_phone("0356-1234567") == "*******4567"


def test_synthetic_ids_are_valid_and_unique() -> None:
    assert math.gcd(synthetic._STRIDE, synthetic._SPACE) == 1
    people = synthetic.People("411521", seed=7)
    numbers = [people.id_number() for _ in range(20_000)]
    assert len(set(numbers)) == len(numbers)
    assert all(ids.is_valid(n) and n.startswith("411521") for n in numbers)
    again = synthetic.People("411521", seed=7)
    assert [again.id_number() for _ in range(5)] == numbers[:5]


@pytest.mark.parametrize(
    ("raw", "key", "fields"),
    [
        ("140524900101123", "old_number", {}),
        ("14052419900101123", "length", {"length": 17}),
        ("140524199002301234", "birth_invalid", {"birth": "19900230"}),
        ("140524180001011234", "birth_implausible", {"birth": "18000101"}),
        (VALID[:17] + ("0" if VALID[17] != "0" else "1"), "check_char", {}),
    ],
)
def test_the_reasons_are_the_catalogues(raw: str, key: str, fields: dict) -> None:
    """What staff (an import report) and residents (binding) read comes from templates/cli/zh.toml."""
    with pytest.raises(ids.InvalidId) as refused:
        ids.validate(raw)
    assert str(refused.value) == t(f"ids.{key}", **fields)


def test_ids_holds_no_chinese_text() -> None:
    tree = ast.parse(Path(ids.__file__).read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and node.body
                  and isinstance(node.body[0], ast.Expr)}
    chinese = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and id(node) not in docstrings
               and isinstance(node.value, str) and re.search(r"[\u4e00-\u9fff]", node.value)]
    assert chinese == []
