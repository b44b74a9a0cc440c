"""Policy files for the publishing tests, made from the encoded notices."""

from __future__ import annotations

from bot.rules.loader import BUILTIN_DIR

LINGCHUAN_2025 = (BUILTIN_DIR / "lingchuan-2025.yaml").read_text(encoding="utf-8")
STANDARD = "      amount: 400\n"  # 陵川县 2025's one tier, the first `amount` of the file


def lingchuan_2025_at(amount: int) -> str:
    """陵川县 2025 with its standard contribution changed (a correction the bureau publishes)."""
    assert LINGCHUAN_2025.count(STANDARD) >= 1
    return LINGCHUAN_2025.replace(STANDARD, f"      amount: {amount}\n", 1)


BAD = "id: lingchuan-2026\ninsurance_year: 二零二六\nregion:\n  name: 陵川县\n"
