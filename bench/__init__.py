"""Benchmarks: ``python -m bench.modes``."""
