"""What the tests of notices no code was written against share: the registry with the fixture folder added (as
bureau staff add a policy folder), asking as a follower of the notice's region, and the checks every answer
must pass (its header and source, the parts it must and must not say, no other county's name)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.config import Settings
from bot.pipeline import respond
from bot.rules.loader import load_registry
from bot.types import Context, Speaker

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "policies"
REGISTRY = load_registry([FIXTURES])
OUR_COUNTIES = ("青禾", "陵川", "罗山", "乐至", "周集")


def asker(home: str) -> Callable[..., Awaitable[str]]:
    """`ask(on, text, region=home)`: the reply a follower of `region` (None: of no region) gets on the day `on`
    (YYYY-MM-DD)."""

    async def ask(on: str, text: str, region: str | None = home) -> str:
        ctx = Context(today=dt.date.fromisoformat(on), registry=REGISTRY, speaker=Speaker(region=region),
                      settings=Settings(answer_cache=0))
        return (await respond(text, ctx)).text

    return ask


def check_answer(text: str, question: str, *, header: str, doc: str, must: list[str], must_not: list[str],
                 others: tuple[str, ...]) -> None:
    """The answer opens with `header` and cites `doc` (unless it says the year is not on file), says every part
    of `must`, and none of `must_not`, of a template's leftovers, or of the names in `others`."""
    if "暂时没有" not in text:
        assert text.startswith(header), text
        assert f"依据：{doc}" in text, text
    for part in must:
        assert part in text, f"{question}: missing {part!r} in\n{text}"
    for part in [*must_not, "None", "{{", *others]:
        assert part not in text, f"{question}: {part!r} in\n{text}"
