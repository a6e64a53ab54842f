"""Issue 13 hot-path benchmarks: see ``python -m bench.hotpaths --help``."""
