"""Import benchmark: `python -m bench.import` (600,000 residents, SQLite and PostgreSQL)."""
