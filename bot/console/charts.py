"""Server-side SVG charts: the geometry is worked out here, the templates only draw it (no script, no CDN,
works offline). Coordinates are in a fixed viewBox that the page scales to its width (360 px and up)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.catalogue import t
from bot.store.progress import TownshipProgress

WIDTH = 480
LABEL_W = 96  # room for a township's name left of its bar
ROW_H = 24


@dataclass(frozen=True)
class Bar:
    label: str
    value: str  # the figure printed beside the bar
    x: float
    y: float
    width: float
    height: float
    behind: bool = False  # below the expected share: drawn in the warning colour


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    marker_x: float | None = None  # the expected share, a vertical line
    marker_label: str = ""
    title: str = ""


def progress_chart(units: Sequence[TownshipProgress], expected: float | None) -> Chart:
    """One horizontal bar per unit: paid as a share of its target (capped at 100% wide), the expected
    share of today as a line."""
    span = WIDTH - LABEL_W - 64
    bars = []
    for i, u in enumerate(units):
        share = min((u.percent or 0.0) / 100, 1.0)
        value = f"{u.percent:.1f}%" if u.percent is not None else t("console.chart_people", n=u.paid)
        bars.append(Bar(u.name, value, LABEL_W, 8 + i * ROW_H, round(span * share, 1), ROW_H - 8,
                        behind=expected is not None and u.percent is not None and u.percent < expected))
    marker = None if expected is None else round(LABEL_W + span * min(expected, 100) / 100, 1)
    expected_label = t("console.chart_expected", percent=expected) if expected is not None else ""
    return Chart(WIDTH, 16 + len(bars) * ROW_H, bars, marker, expected_label)


def week_chart(weeks: Sequence[tuple[str, int]]) -> Chart:
    """One vertical bar per week: residents who paid in it."""
    height, base, top = 200, 170, 20
    top_value = max((n for _, n in weeks), default=0) or 1
    step = (WIDTH - 20) / max(len(weeks), 1)
    bars = []
    for i, (label, n) in enumerate(weeks):
        h = round((base - top) * n / top_value, 1)
        bars.append(Bar(label, str(n), round(10 + i * step + step * 0.15, 1), base - h, round(step * 0.7, 1), h))
    return Chart(WIDTH, height, bars)
