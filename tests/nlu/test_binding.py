"""The binding parser (bot.nlu.binding) through understand(): every way a resident writes an ID number is read
as the same number, and none stays whole in Query.text."""

from __future__ import annotations

import pytest

from bot.nlu import Intent, understand
from bot.rules.loader import PolicyRegistry
from bot.store import ids
from tests.store.variants import id_variants, id_with_x

BINDING = {"binding": "1"}
NUMBERS = ("410521199001011234", id_with_x())  # fictional
VARIANTS = {f"{n}: {k}": (v, n) for n in NUMBERS for k, v in id_variants(n).items()}


@pytest.mark.parametrize(("written", "number"), VARIANTS.values(), ids=VARIANTS.keys())
def test_every_variant_binds_as_the_same_number(registry: PolicyRegistry, written: str, number: str) -> None:
    q = understand(f"张三 {written}", registry, state=BINDING)
    assert (q.intent, q.extras) == (Intent.BIND, {"name": "张三", "id_number": number})
    assert number not in ids.normalize(q.text.replace("*", "#"))
    assert ids.mask(number) in q.text


def test_id_number_then_phone_in_one_message(registry: PolicyRegistry) -> None:
    q = understand("身份证410521199001011234，电话13912345678，我叫张三", registry, state=BINDING)
    assert q.extras == {"name": "张三", "id_number": "410521199001011234"}
    assert "13912345678" not in q.text and "139****5678" in q.text


def test_seventeen_or_nineteen_characters_are_not_an_id_number(registry: PolicyRegistry) -> None:
    for text in ("张三 41052119900101123", "张三 4105211990010112345"):
        assert "id_number" not in understand(text, registry, state=BINDING).extras


@pytest.mark.parametrize("text", ["绑定 张三 410521199001011234", "绑定张三 410521199001011234",
                                  "我要绑定 身份证 410521199001011234 张三"])
def test_the_command_word_is_not_part_of_the_name(registry: PolicyRegistry, text: str) -> None:
    q = understand(text, registry)
    assert (q.intent, q.extras) == (Intent.BIND, {"name": "张三", "id_number": "410521199001011234"})
