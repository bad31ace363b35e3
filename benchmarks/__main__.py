"""`python -m benchmarks [NAME ...]`: run every benchmark (the raw NATS anchors first), or the named ones
(e.g. `ingest_http`), then print one table with each figure's ratio to its anchor measured in the same run.

A run of every benchmark writes `benchmarks/results/latest.json` and the table of `docs/performance.md`; a run
of some only prints (ratios need the anchors: name `nats_anchors` too)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback

import benchmarks
from benchmarks import results

ORDER = ("nats_anchors", "ingest_http", "indicators_apply", "notifier_dispatch", "e2e_latency")


def available() -> list[str]:
    found = {
        module.name.removeprefix("bench_")
        for module in pkgutil.iter_modules(benchmarks.__path__)
        if module.name.startswith("bench_")
    }
    return [name for name in ORDER if name in found] + sorted(found - set(ORDER))


def main(argv: list[str]) -> int:
    names = available()
    selected = [name for name in names if name in argv] if argv else names
    unknown = sorted(set(argv) - set(names))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(names)}")
        return 2
    status = 0
    for name in selected:
        print(f"== {name}", flush=True)
        try:
            status |= importlib.import_module(f"benchmarks.bench_{name}").main([])
        except Exception:  # one benchmark failing (a timeout on a loaded machine) keeps the others' rows
            traceback.print_exc()
            print(f"== {name} FAILED; its rows recorded so far are kept", flush=True)
            status = 1
    print()
    print(results.table(results.RECORDED))
    if selected == names:
        results.write(results.RECORDED)
        print(f"\nwritten: {results.RESULTS_FILE} and the table of {results.DOC_FILE}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
