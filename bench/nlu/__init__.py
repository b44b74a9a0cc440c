"""Benchmark of the understanding layer: accuracy on the phrasing table, and latency."""
