"""Slow and idle clients against `yibao serve` (`python -m bench.hostile`)."""
