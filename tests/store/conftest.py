"""One contract test suite, every backend: every test here runs on SQLite and on PostgreSQL (see backends.py)."""

import pytest

pytest.register_assert_rewrite("tests.store.backends")

from tests.store.backends import (  # noqa: E402, F401 - fixtures
    backend,
    database_url,
    engine,
    pg_database,
    registry,
    sessions,
    settings,
    store,
)
