"""Fixtures of the outreach tests: the webhook app (SQLite and PostgreSQL) and the fake WeChat pushing its
receipts and scans back to it (tests/wechat/conftest.py provides both)."""

from __future__ import annotations

import pytest

from tests.wechat.conftest import (  # noqa: F401  (fixtures)
    bot,
    database_url,
    fake,
    make_bot,
    pg_url,
    registry,
    settings,
)

pytest.register_assert_rewrite("tests.outreach.helpers")
