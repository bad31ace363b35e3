"""`python -m benchmarks [NAME ...]`: run every benchmark, or the named ones (e.g. `ingest_http`)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks


def main(argv: list[str]) -> int:
    available = sorted(
        module.name.removeprefix("bench_")
        for module in pkgutil.iter_modules(benchmarks.__path__)
        if module.name.startswith("bench_")
    )
    selected = argv or available
    unknown = sorted(set(selected) - set(available))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    status = 0
    for name in selected:
        print(f"== {name}")
        status |= importlib.import_module(f"benchmarks.bench_{name}").main([])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
