"""Alembic revisions, numbered in order."""
