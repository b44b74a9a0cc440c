"""The one normaliser of ID and phone numbers (bot.store.digits): every variant folds to the same digits, and
the masker masks every variant the binding parser accepts."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.nlu import binding
from bot.store import digits, ids
from tests.store.variants import id_variants, id_with_x, phone_variants

ID = ids.make_id("140524", dt.date(1990, 1, 1), 123)  # fictional
ID_X = id_with_x()
PHONE = "13912345678"  # fictional
IDS = {f"{n}: {k}": (v, n) for n in (ID, ID_X) for k, v in id_variants(n).items()}
PHONES = phone_variants(PHONE)


@pytest.mark.parametrize(("written", "number"), IDS.values(), ids=IDS.keys())
def test_every_id_variant_folds_parses_and_is_masked(written: str, number: str) -> None:
    assert ids.normalize(written) == number
    assert ids.validate(f" {written} ") == number
    assert binding.id_number_in(f"我叫张三，身份证{written}。") == number
    masked = ids.mask_text(f"我叫张三，身份证{written}。")
    assert masked == f"我叫张三，身份证{ids.mask(number)}。"
    assert binding.mask_ids(f"张三 {written}") == f"张三 {ids.mask(number)}"


@pytest.mark.parametrize("written", PHONES.values(), ids=PHONES.keys())
def test_every_phone_variant_folds_and_is_masked(written: str) -> None:
    assert digits.mobile(digits.fold(written)) == PHONE
    assert ids.mask_phone(written) == "139****5678"
    assert ids.mask_text(f"电话：{written}，谢谢") == "电话：139****5678，谢谢"


def test_numbers_in_finds_each_run() -> None:
    text = f"张三\u3000{ID[:6]}\u3000{ID[6:]}，电话 139-1234-5678；2024年11月20日交了400元"
    assert [digits.fold(m[0]) for m in digits.numbers_in(text)] == [ID, PHONE, "2024", "11", "20", "400"]


def test_short_numbers_and_words_stay() -> None:
    for text in ("2024-11-20 交了 400 元", "第3村 12号", "1080元", "0356-12345"):  # under 11 digits
        assert ids.mask_text(text) == text


def test_numbers_typed_together_are_masked_whole() -> None:
    # An ID and a phone typed one after the other are one run: it keeps only its last four digits.
    masked = ids.mask_text(f"{ID} {PHONE}")
    assert masked == "*" * 25 + PHONE[-4:]
    assert binding.id_number_in(f"{ID}，{PHONE}") == ID  # a comma separates two numbers


def test_other_unicode_digits_fold() -> None:
    arabic_indic = PHONE.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert digits.fold(arabic_indic) == PHONE
    assert ids.mask_text(arabic_indic) == "139****5678"


def test_landline_and_foreign_text() -> None:
    assert ids.mask_text("座机 0356-6221234") == "座机 *******1234"
    assert digits.mobile("12345678901") is None and digits.mobile("8613912345678") == PHONE
    assert digits.fold("ABC-123") == "ABC123"  # letters stay, so a validator can say what is wrong
