"""`python -m bench.nlu`: accuracy of bot.nlu on tests/nlu/phrasings.yaml against the real policy files,
understanding latency, and (when the pipeline runs) full answer latency.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from collections import Counter
from typing import Any

import yaml

from bot.nlu import understand
from bot.rules.loader import PolicyRegistry, load_registry
from tests.nlu.table import TABLE, actual, expected

SLOTS = ("region", "township", "year", "categories", "tier", "topic", "extras")
TARGET = 0.97


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
    n = len(rows)
    intent_ok = slots_ok = exact_ok = 0
    misses: list[str] = []
    for i, row in enumerate(rows):
        want = expected(row)
        got = actual(understand(row["text"], registry, state=row.get("state")))
        same_intent = got["intent"] == want["intent"]
        same_slots = all(got[k] == want[k] for k in SLOTS)
        intent_ok += same_intent
        slots_ok += same_slots
        exact_ok += same_intent and same_slots
        if not (same_intent and same_slots):
            diff = {k: (want[k], got[k]) for k in ("intent", *SLOTS) if want[k] != got[k]}
            wrong = "; ".join(f"{k} want {w!r} got {g!r}" for k, (w, g) in diff.items())
            misses.append(f"  #{i:03d} {row['text'][:60]!r}: {wrong}")
    print(f"intent accuracy:            {intent_ok}/{n} = {intent_ok / n:.1%}")
    print(f"slot accuracy:              {slots_ok}/{n} = {slots_ok / n:.1%}")
    print(f"intent-and-slot (exact):    {exact_ok}/{n} = {exact_ok / n:.1%}  (target ≥ {TARGET:.0%})")
    return exact_ok / n, misses


def understanding_latency(rows: list[dict[str, Any]], registry: PolicyRegistry, repeat: int) -> None:
    samples: list[int] = []
    clock = time.perf_counter_ns
    for _ in range(repeat):
        for row in rows:
            text, state = row["text"], row.get("state")
            start = clock()
            understand(text, registry, state=state)
            samples.append(clock() - start)
    print(f"understanding latency over {len(samples)} calls: {_percentiles(samples)}")


def pipeline_latency(rows: list[dict[str, Any]], registry: PolicyRegistry, repeat: int) -> None:
    try:
        from bot.pipeline import Context, Speaker, respond
    except Exception as exc:  # the pipeline is someone else's work in progress
        print(f"answer latency: skipped, bot.pipeline is not importable ({type(exc).__name__}: {exc})")
        return

    async def run() -> tuple[list[int], Counter[tuple[str, str]]]:
        samples: list[int] = []
        raised: Counter[tuple[str, str]] = Counter()
        clock = time.perf_counter_ns
        for _ in range(repeat):
            for row in rows:
                speaker = Speaker(state=dict(row.get("state") or {}))
                ctx = Context(today=dt.date(2024, 11, 10), registry=registry, speaker=speaker)
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
        f"(today 2024-11-10, no database): {_percentiles(samples)}"
    )
    if raised:
        listed = ", ".join(f"{intent} {name} x{n}" for (intent, name), n in sorted(raised.items()))
        print(f"  not timed (raised in the pipeline): {listed}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.nlu", description=__doc__)
    parser.add_argument("--repeat", type=int, default=40, help="passes over the table for understanding latency")
    parser.add_argument("--answer-repeat", type=int, default=2, help="passes over the table through the pipeline")
    args = parser.parse_args(argv)

    registry = load_registry()
    rows: list[dict[str, Any]] = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    print(f"NLU benchmark: {len(rows)} phrasings from {TABLE.relative_to(TABLE.parents[2])}, "
          f"policies {', '.join(p.id for p in registry.policies)}")
    start = time.perf_counter()
    understand("预热", registry)  # compile the registry's patterns and load the conversion tables
    print(f"first call (compile patterns, load tables): {(time.perf_counter() - start) * 1000:.0f} ms")

    exact, misses = accuracy(rows, registry)
    print("misses:" if misses else "misses: none")
    for line in misses:
        print(line)
    understanding_latency(rows, registry, args.repeat)
    pipeline_latency(rows, registry, args.answer_repeat)
    return 0 if exact >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
