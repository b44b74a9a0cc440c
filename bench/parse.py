"""`python -m bench.parse`: µs per parse_xml call on the bodies WeChat sends, best of several runs.

    .venv/bin/python -m bench.parse
    .venv/bin/python -m bench.parse --runs 9 --number 50000
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable
from typing import Any

from bot.wechat import protocol
from bot.wechat.simulate import Signer, text_xml
from tests.wechat import samples

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def bodies() -> dict[str, bytes | str]:
    text = text_xml("oJ3cY5xVbQ2kZ8mWf1nR7tLpA0sE", "陵川县低保户交多少钱", msg_id=24312345678901234)
    _, envelope = Signer("token", "wx1234567890abcdef", AES_KEY).sign(text)
    return {
        "text message (compact, as WeChat sends it)": text.encode(),
        "text message (documented sample, indented)": samples.TEXT.encode(),
        "safe-mode envelope (ToUserName + Encrypt)": envelope,
        "safe-mode decrypted text message (str)": text,
        "click event": samples.CLICK.encode(),
    }


def best_us(parse: Callable[[bytes | str], Any], body: bytes | str, runs: int, number: int) -> float:
    return min(timeit.repeat(lambda: parse(body), repeat=runs, number=number)) / number * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.parse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="runs per figure; the best is reported")
    parser.add_argument("--number", type=int, default=20000, help="calls per run")
    args = parser.parse_args(argv)

    parsers: dict[str, Callable[[bytes | str], Any]] = {"parse_xml": protocol.parse_xml}
    print(f"µs per call, best of {args.runs} runs of {args.number:,} calls")
    for name, body in bodies().items():
        assert all(parse(body) == protocol.parse_xml(body) for parse in parsers.values())
        figures = ", ".join(f"{label} {best_us(parse, body, args.runs, args.number):.2f}"
                            for label, parse in parsers.items())
        print(f"  {name}, {len(body)} {'characters' if isinstance(body, str) else 'bytes'}: {figures}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
