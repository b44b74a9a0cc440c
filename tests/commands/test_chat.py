"""`yibao chat` with piped input, as a script or a transcript would use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_piped_chat_is_a_clean_transcript(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")} | {"PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--region", "陵川县", "--in-process", "--openid", "o_pipe"],
        cwd=tmp_path, env=env, input="什么时候截止\n/location\n/quit\n", capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Fatal" not in proc.stderr and "Traceback" not in proc.stderr
    out = proc.stdout
    assert "演示时钟：2024-11-20" in out
    # each question, then its answer: never a prompt before the answer has arrived
    question = out.index("您：什么时候截止\n助手：")
    assert "本月截止11月25日" in out[question:out.index("您：/location")]
    assert "您：/location\n助手：（没有回复" in out and "[success]" not in out
