"""The command tests that touch a database run on SQLite and PostgreSQL, with the store suite's fixtures."""

from tests.store.backends import backend, database_url, pg_database  # noqa: F401 - fixtures
