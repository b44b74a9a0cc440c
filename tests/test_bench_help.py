"""Every benchmark's --help reads whole: its module description as written, and a help line per option."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHES = ["nlu", "import", "webhook", "parse", "fanout", "hostile"]


@pytest.mark.parametrize("name", BENCHES)
def test_help_reads_whole(name: str) -> None:
    module = importlib.import_module(f"bench.{name}" if name == "parse" else f"bench.{name}.__main__")
    proc = subprocess.run([sys.executable, "-m", f"bench.{name}", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for line in (module.__doc__ or "").strip().splitlines():
        assert line.rstrip() in proc.stdout  # every line of the description, not its first sentence
    lines = proc.stdout.split("options:", 1)[1].splitlines()[1:]
    for i, line in enumerate(lines):
        if not line.startswith("  -"):
            continue
        helped = re.search(r"\S\s{2,}\S", line.strip()) is not None  # "--rows ROWS   rows in the ..."
        continued = i + 1 < len(lines) and lines[i + 1].startswith(" " * 8) and lines[i + 1].strip() != ""
        assert helped or continued, f"bench.{name}: no help for {line.strip()}"
