"""Alembic migrations of the store (env.py; versions/ one file per revision)."""
