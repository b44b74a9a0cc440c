"""Fixtures of the outreach tests: the webhook app (SQLite and PostgreSQL) and the fake WeChat pushing its
receipts and scans back to it (tests/wechat/conftest.py provides both). The webhook runs in safe mode, as a
county's account should; the other message modes are the webhook tests' concern."""

from __future__ import annotations

import pytest

from tests.wechat.conftest import (  # noqa: F401  (fixtures; database_url and registry are tests/conftest.py's)
    bot,
    fake,
    make_bot,
    settings,
)

pytest.register_assert_rewrite("tests.outreach.helpers")


@pytest.fixture
def mode() -> str:
    return "safe"
