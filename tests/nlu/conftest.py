"""A small registry built in memory, so unit tests do not depend on the real policy files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.rules.loader import PolicyRegistry, load_registry
from bot.rules.schema import Policy

SOURCE = {"clause": "一"}


def policy(
    pid: str,
    name: str,
    *,
    short: list[str] | None = None,
    level: str = "county",
    county: str | None = None,
    year: int = 2025,
    tiers: list[dict[str, Any]] | None = None,
    categories: list[dict[str, Any]] | None = None,
    townships: list[str] | None = None,
) -> Policy:
    raw: dict[str, Any] = {
        "id": pid,
        "insurance_year": year,
        "document": {"number": f"{pid}〔2024〕1号", "title": "通知", "issuer": "县政府办公室", "date": "2024-09-01"},
        "region": {
            "name": name,
            "short": short or [],
            "level": level,
            "county": county,
            "province": "某省",
            "enquiry": {"text": "县医保中心", "source": SOURCE},
        },
        "contribution": {
            "tiers": tiers or [{"key": "standard", "name": "个人缴费标准", "amount": 400, "source": SOURCE}]
        },
        "collection": {"start": f"{year - 1}-09-01", "end": f"{year - 1}-12-31", "source": SOURCE},
        "categories": [
            {"source": SOURCE, "subsidy": {"kind": "full"}, **c} for c in (categories or [])
        ],
        "targets": [],
    }
    if townships:
        raw["targets"] = [
            {
                "key": "townships",
                "title": "任务分解表",
                "level": "township",
                "target_column": "target",
                "columns": [{"key": "target", "name": "任务数"}],
                "rows": [{"name": t, "values": {"target": 1}} for t in townships],
                "source": SOURCE,
            }
        ]
    return Policy.model_validate(raw)


@pytest.fixture(scope="session")
def mini_registry() -> PolicyRegistry:
    """Two counties sharing a township name, a town inside a county, tiers, and a few categories."""
    return PolicyRegistry(
        policies=[
            policy(
                "alpha-2025",
                "甲山县",
                short=["甲山"],
                categories=[
                    {"key": "dibao", "name": "城乡低保对象", "aliases": ["低保", "低保户", "农村低保"]},
                    {"key": "tekun", "name": "特困人员", "aliases": ["特困", "五保户"]},
                ],
                townships=["东风镇", "同名乡"],
            ),
            policy(
                "beta-2025",
                "乙水县",
                short=["乙水"],
                tiers=[
                    {"key": "high", "name": "高档次", "amount": 540, "source": SOURCE},
                    {"key": "low", "name": "低档次", "amount": 400, "source": SOURCE},
                ],
                categories=[{"key": "general_disability", "name": "一般残疾", "aliases": ["三级残疾"]}],
                townships=["西湖镇", "同名乡"],
            ),
            policy("gamma-2025", "丙集镇", short=["丙集"], level="town", county="丁河县", townships=["北村"]),
        ]
    )


@pytest.fixture(scope="session")
def make_policy() -> Callable[..., Policy]:
    return policy


@pytest.fixture(scope="session")
def registry() -> PolicyRegistry:
    """The real policy files."""
    return load_registry()
