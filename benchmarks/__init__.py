"""Benchmarks run by `make bench`: each `benchmarks/bench_*.py` module has `main(argv) -> int`."""
