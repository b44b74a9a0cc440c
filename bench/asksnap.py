"""`yibao ask` answers on the phrasing table and the scenario files, printed for a byte-for-byte comparison.

    .venv/bin/python -m bench.asksnap > before.txt   # ... change the code ...
    .venv/bin/python -m bench.asksnap | cmp - before.txt

Every phrasing (tests/nlu/phrasings.yaml) is asked without a region and as a 陵川县 resident, and every
scenario (tests/rules/scenarios/*.yaml) gets a fixed set of questions plus its own categories' aliases, in
its region on its date; each through `yibao ask` (bot.commands.ask.ask, in-process), without a database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from pathlib import Path

import yaml

from bot.commands import ask as ask_command
from bot.config import Settings
from bot.rules import loader

ROOT = Path(__file__).resolve().parent.parent
DATE = dt.date(2024, 11, 20)
QUESTIONS = ["交多少钱", "什么时候截止", "怎么交", "在哪交", "新生儿怎么参保", "外出务工回来还能交吗",
             "手续费", "什么时候开始享受待遇", "财政补助多少", "我交了吗", "你好", "帮助", "天气怎么样"]


async def main() -> None:
    settings = Settings.from_env()
    registry = loader.load_registry(settings.policy_dirs)
    loader.load_registry = functools.cache(lambda dirs=None: registry)  # loaded once, not per question

    async def ask(text: str, region: str | None, on: dt.date) -> None:
        answer = await ask_command.ask(text, region=region, on=on, openid=None, settings=settings)
        print(f"=== {text!r} region={region} date={on}\n{answer}")

    for row in yaml.safe_load((ROOT / "tests/nlu/phrasings.yaml").read_text(encoding="utf-8")):
        if row.get("state"):
            continue
        for region in (None, "陵川县"):
            await ask(str(row["text"]), region, DATE)
    categories = {c.key: c for p in registry.policies for c in p.categories}
    for path in sorted((ROOT / "tests/rules/scenarios").glob("*.yaml")):
        for sc in yaml.safe_load(path.read_text(encoding="utf-8")):
            on = sc["date"] if isinstance(sc["date"], dt.date) else dt.date.fromisoformat(sc["date"])
            texts = list(QUESTIONS)
            for key in (sc.get("input") or {}).get("categories", []):
                category = categories.get(key)
                texts.append(f"{category.aliases[0] if category and category.aliases else key}交多少")
            if (tier := (sc.get("input") or {}).get("tier")) is not None:
                texts.append(f"{tier}档交多少")
            for text in texts:
                await ask(text, sc["region"], on)


if __name__ == "__main__":
    asyncio.run(main())
