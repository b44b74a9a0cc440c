"""The command tests that touch a database run on SQLite and PostgreSQL, with the store suite's fixtures."""

import pytest

pytest.register_assert_rewrite("tests.store.backends")

from tests.store.backends import backend, database_url, pg_database  # noqa: E402, F401 - fixtures
