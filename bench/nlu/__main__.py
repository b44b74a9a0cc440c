"""`python -m bench.nlu`: accuracy of bot.nlu on the phrasing table (tests/nlu/phrasings.yaml) and on the blind
sets (tests/nlu/unseen.yaml; then tests/nlu/fresh.yaml, written in session 4 once unseen.yaml had been looked at;
then tests/nlu/fresh2.yaml, written in session 5 once fresh.yaml had been; then tests/nlu/fresh3.yaml, written in
session 6 once fresh2.yaml had been; then tests/nlu/fresh4.yaml, written in session 7 once fresh3.yaml had been;
then tests/nlu/fresh5.yaml, written in session 8 once fresh4.yaml had been; per kind) against the real policy files,
the length of fee and deadline answers, understanding latency and full answer latency. Exits 1 when the table's
accuracy is under target or a fee or deadline answer is over 6 lines.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from bot.config import Settings
from bot.nlu import Query, extractor_for, understand
from bot.pipeline import respond
from bot.rules.loader import PolicyRegistry, load_registry
from bot.types import Context, Speaker
from tests.handlers.lengths import MAX_LINES, questions
from tests.nlu.table import (
    FRESH,
    FRESH2,
    FRESH3,
    FRESH4,
    FRESH5,
    KINDS,
    TABLE,
    UNSEEN,
    UNSEEN_TODAY,
    actual,
    expected,
    load_unseen,
    today_of,
    turns,
)

SLOTS = ("region", "township", "year", "categories", "tier", "topic", "extras")
TARGET = 0.97
TABLE_TODAY = dt.date(2024, 11, 10)
LENGTH_INTENTS = ("fee", "deadline")
_MARKUP = re.compile(r"<[^>]+>")


@dataclass
class Scored:
    text: str
    want: dict[str, Any]
    got: dict[str, Any]
    kind: str = ""
    turn: int = 0  # position in its conversation (0: the first, or a single message)

    @property
    def intent_ok(self) -> bool:
        return self.got["intents"] == self.want["intents"]

    @property
    def exact(self) -> bool:
        return self.intent_ok and all(self.got[k] == self.want[k] for k in SLOTS)

    def miss(self, label: str) -> str:
        diff = {k: (self.want[k], self.got[k]) for k in ("intents", *SLOTS) if self.want[k] != self.got[k]}
        wrong = "; ".join(f"{k} want {w!r} got {g!r}" for k, (w, g) in diff.items())
        return f"  {label} {self.text[:60]!r}: {wrong}"


def _share(ok: int, n: int) -> str:
    return f"{ok}/{n} = {ok / n:.1%}" if n else "0/0"


def _percentiles(samples_ns: list[int]) -> str:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    mean = statistics.fmean(ordered)
    return (
        f"mean {mean / 1000:.1f} µs, p50 {p50 / 1000:.1f} µs, p99 {p99 / 1000:.1f} µs, "
        f"max {ordered[-1] / 1000:.1f} µs"
    )


def accuracy(rows: list[dict[str, Any]], registry: PolicyRegistry) -> tuple[float, list[str]]:
    """The phrasing table, read by `understand` alone (a row's state as given)."""
    scored = [
        Scored(row["text"], expected(row), actual(understand(row["text"], registry, state=row.get("state"))))
        for row in rows
    ]
    n = len(scored)
    intent_ok = sum(s.intent_ok for s in scored)
    slots_ok = sum(all(s.got[k] == s.want[k] for k in SLOTS) for s in scored)
    exact_ok = sum(s.exact for s in scored)
    print(f"intent accuracy:            {_share(intent_ok, n)}")
    print(f"slot accuracy:              {_share(slots_ok, n)}")
    print(f"intent-and-slot (exact):    {_share(exact_ok, n)}  (target ≥ {TARGET:.0%})")
    misses = [s.miss(f"#{i:03d}") for i, s in enumerate(scored) if not s.exact]
    return exact_ok / n, misses


def _in_context(query: Query, speaker: Speaker) -> Query:
    """The reading an answer acted on: the Query, with the region and township the follower is remembered by
    where the message named none (a follow-up that stays with the county named before)."""
    if query.region is None and speaker.region is not None:
        return replace(query, region=speaker.region, township=query.township or speaker.township)
    if query.township is None and speaker.township is not None and query.region == speaker.region:
        return replace(query, township=speaker.township)
    return query


async def read_unseen(items: list[dict[str, Any]], registry: PolicyRegistry) -> list[Scored]:
    """Each item through bot.pipeline.respond as `yibao ask` would (no database, the item's date), a fresh
    follower per item; a conversation's turns in order, each with the follower the previous reply left."""
    scored: list[Scored] = []
    for item in items:
        speaker = Speaker()
        for position, turn in enumerate(turns(item)):
            ctx = Context(today=today_of(item), registry=registry, speaker=speaker)
            reply = await respond(turn["text"], ctx)
            speaker = reply.speaker
            got = actual(_in_context(reply.query, speaker))
            scored.append(Scored(turn["text"], expected(turn), got, item["kind"], position))
    return scored


def unseen_accuracy(items: list[dict[str, Any]], registry: PolicyRegistry, label: str = "unseen") -> list[str]:
    """A blind set's accuracy, overall and per kind, its lines labelled with the set's name; its misses."""
    scored = asyncio.run(read_unseen(items, registry))
    n = len(scored)
    print(f"{label} intent accuracy:".ljust(33) + f"{_share(sum(s.intent_ok for s in scored), n)}")
    print(f"{label} intent-and-slot (exact):".ljust(33) + f"{_share(sum(s.exact for s in scored), n)}")
    print(f"  {'kind':<15} {'n':>4} {'intent':>8} {'intent+slots':>13}")
    for kind in KINDS:
        of_kind = [s for s in scored if s.kind == kind]
        k = len(of_kind)
        intent = sum(s.intent_ok for s in of_kind)
        exact = sum(s.exact for s in of_kind)
        print(f"  {kind:<15} {k:>4} {intent / k:>8.0%} {exact / k:>13.0%}")
    two = [s for s in scored if s.kind == "two_questions"]
    first = sum(s.got["intents"][0] == s.want["intents"][0] for s in two)
    print(f"  two_questions, the first question's intent right: {_share(first, len(two))}")
    later = [s for s in scored if s.kind == "follow_up" and s.turn > 0]
    later_ok = sum(s.exact for s in later)
    print(f"  follow_up, later turns (depending on earlier ones) exact: {_share(later_ok, len(later))}")
    conversations: dict[int, bool] = {}
    index = -1
    for s in scored:
        if s.kind == "follow_up":
            index += s.turn == 0
            conversations[index] = conversations.get(index, True) and s.exact
    print(f"  follow_up, whole conversations exact: {_share(sum(conversations.values()), len(conversations))}")
    return [s.miss(f"{s.kind}{'+' + str(s.turn) if s.turn else ''}") for s in scored if not s.exact]


def blind_set_report(label: str, path: Path, items: list[dict[str, Any]], registry: PolicyRegistry) -> None:
    messages = sum(len(turns(item)) for item in items)
    print(f"\n{label} set: {messages} messages in {len(items)} items from {path.relative_to(path.parents[2])}, "
          f"read through bot.pipeline.respond (no database; today {UNSEEN_TODAY} unless the item names a date)")
    misses = unseen_accuracy(items, registry, label)
    print(f"{label} misses:" if misses else f"{label} misses: none")
    for line in misses:
        print(line)


def _length_questions(
    rows: list[dict[str, Any]], items: list[dict[str, Any]]
) -> list[tuple[str, str, str, str | None, dt.date]]:
    """(set, intent, text, named region, date) of every single-question fee or deadline message of both sets (a
    table row reading as several questions, `intents`, is left out as an unseen item with `intents` is: several
    answers in one reply have the pipeline's own limit, bot/pipeline.py)."""
    found = [("phrasing table", r["intent"], r["text"], r.get("region"), TABLE_TODAY) for r in rows
             if len(r.get("intents", [r["intent"]])) == 1]
    found += [
        ("unseen", item["intent"], item["text"], item.get("region"), today_of(item))
        for item in items
        if "text" in item and "intent" in item
    ]
    return [f for f in found if f[1] in LENGTH_INTENTS]


def every_combination_lengths(registry: PolicyRegistry) -> int:
    """Lines of the answer to every fee and deadline question the policy files allow (tests/handlers/lengths.py:
    every policy, group alone and in pairs, tier, with and without the year, on a day in each part of the
    calendar); the longest."""

    async def run() -> dict[str, list[int]]:
        lines: dict[str, list[int]] = defaultdict(list)
        for asked in questions(registry):
            ctx = Context(today=asked.on, registry=registry, speaker=Speaker(),
                          settings=Settings(answer_cache=0))
            lines[asked.query.intent.value].append(len((await respond(asked.query, ctx)).text.splitlines()))
        return lines

    lines = asyncio.run(run())
    print("every fee and deadline question the policy files allow (each policy, group alone and in pairs, tier,")
    print("year named or not, a day in each part of the calendar):")
    for intent, counts in sorted(lines.items()):
        print(f"  {intent:<9} {len(counts):>6} answers: lines median {statistics.median(counts):g}, "
              f"max {max(counts)}; over {MAX_LINES} lines: {sum(n > MAX_LINES for n in counts)}")
    return max(max(c) for c in lines.values())


def answer_lengths(rows: list[dict[str, Any]], items: list[dict[str, Any]], registry: PolicyRegistry) -> int:
    """Lines and characters of the rendered answer to each fee and deadline question, through the pipeline as
    `yibao ask` builds its Context. A message naming no region is asked once by a follower of each region (as
    one who never named a county would only be asked which)."""

    async def run() -> dict[tuple[str, str], list[tuple[int, int]]]:
        lengths: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        for which, intent, text, region, on in _length_questions(rows, items):
            for speaker_region in [None] if region else registry.regions():
                ctx = Context(today=on, registry=registry, speaker=Speaker(region=speaker_region))
                answer = (await respond(text, ctx)).text
                shown = _MARKUP.sub("", answer)  # a link (有用/没用) shows its text only
                lengths[(which, intent)].append((len(answer.splitlines()), len(shown)))
        return lengths

    lengths = asyncio.run(run())
    print(f"answer length for fee and deadline questions (at most {MAX_LINES} lines; rendered through")
    print("bot.pipeline.respond; characters as shown, links' markup left out; a question naming no region")
    print("asked by a follower of each region):")
    for which in ("phrasing table", "unseen", "both"):
        for intent in (*LENGTH_INTENTS, "fee+deadline"):
            sample = [
                pair
                for (w, i), pairs in lengths.items()
                if which in (w, "both") and intent in (i, "fee+deadline")
                for pair in pairs
            ]
            lines = [n for n, _ in sample]
            chars = [c for _, c in sample]
            over = sum(n > MAX_LINES for n in lines)
            print(
                f"  {which:<14} {intent:<12} {len(sample):>4} answers: lines median {statistics.median(lines):g}, "
                f"max {max(lines)}; characters median {statistics.median(chars):g}, max {max(chars)}; "
                f"over {MAX_LINES} lines: {over}"
            )
    return max(n for pairs in lengths.values() for n, _ in pairs)


def understanding_latency(rows: list[dict[str, Any]], registry: PolicyRegistry, repeat: int) -> None:
    """A first reading (the kept readings dropped before each call), and a question asked again (kept)."""
    readings = extractor_for(registry).readings
    clock = time.perf_counter_ns
    for label, forget in (("first reading", True), ("asked again", False)):
        samples: list[int] = []
        for _ in range(repeat):
            for row in rows:
                text, state = row["text"], row.get("state")
                if forget:
                    readings.clear()
                start = clock()
                understand(text, registry, state=state)
                samples.append(clock() - start)
        print(f"understanding latency, {label}, over {len(samples)} calls: {_percentiles(samples)}")


def pipeline_latency(rows: list[dict[str, Any]], registry: PolicyRegistry, repeat: int) -> None:
    async def run() -> tuple[list[int], Counter[tuple[str, str]]]:
        samples: list[int] = []
        raised: Counter[tuple[str, str]] = Counter()
        clock = time.perf_counter_ns
        for _ in range(repeat):
            for row in rows:
                speaker = Speaker(state=dict(row.get("state") or {}))
                ctx = Context(today=TABLE_TODAY, registry=registry, speaker=speaker)
                start = clock()
                try:
                    await respond(row["text"], ctx)
                except Exception as exc:  # e.g. a handler that needs the database
                    raised[(row["intent"], type(exc).__name__)] += 1
                    continue
                samples.append(clock() - start)
        return samples, raised

    samples, raised = asyncio.run(run())
    if not samples:
        print("answer latency: skipped, every message raised in the pipeline")
        return
    print(
        f"answer latency through bot.pipeline.respond over {len(samples)} calls "
        f"(today {TABLE_TODAY}, no database): {_percentiles(samples)}"
    )
    if raised:
        listed = ", ".join(f"{intent} {name} x{n}" for (intent, name), n in sorted(raised.items()))
        print(f"  not timed (raised in the pipeline): {listed}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.nlu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=40, help="passes over the table for understanding latency")
    parser.add_argument("--answer-repeat", type=int, default=2, help="passes over the table through the pipeline")
    args = parser.parse_args(argv)

    registry = load_registry()
    rows: list[dict[str, Any]] = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    items = load_unseen()
    print(f"NLU benchmark: {len(rows)} phrasings from {TABLE.relative_to(TABLE.parents[2])}, "
          f"policies {', '.join(p.id for p in registry.policies)}")
    start = time.perf_counter()
    understand("预热", registry)  # compile the registry's patterns and load the conversion tables
    print(f"first call (compile patterns, load tables): {(time.perf_counter() - start) * 1000:.0f} ms")

    exact, misses = accuracy(rows, registry)
    print("misses:" if misses else "misses: none")
    for line in misses:
        print(line)

    blind_sets = (
        ("unseen", UNSEEN, items),
        ("fresh", FRESH, load_unseen(FRESH)),
        ("fresh2", FRESH2, load_unseen(FRESH2)),
        ("fresh3", FRESH3, load_unseen(FRESH3)),
        ("fresh4", FRESH4, load_unseen(FRESH4)),
        ("fresh5", FRESH5, load_unseen(FRESH5)),
    )
    for label, path, blind_items in blind_sets:
        blind_set_report(label, path, blind_items, registry)

    print()
    longest = max(answer_lengths(rows, items, registry), every_combination_lengths(registry))
    print(f"longest fee or deadline answer: {longest} lines (limit {MAX_LINES}: "
          f"{'ok' if longest <= MAX_LINES else 'OVER'})")
    understanding_latency(rows, registry, args.repeat)
    pipeline_latency(rows, registry, args.answer_repeat)
    return 0 if exact >= TARGET and longest <= MAX_LINES else 1


if __name__ == "__main__":
    sys.exit(main())
