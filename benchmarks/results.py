"""Result rows of one `make bench` run: each benchmark records rows here, `python -m benchmarks` prints them as
one table (ratios to the anchors measured in the same run), writes `benchmarks/results/latest.json` and the
table of `docs/performance.md`."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson

RESULTS_FILE = Path(__file__).parent / "results" / "latest.json"
DOC_FILE = Path(__file__).parent.parent / "docs" / "performance.md"
ANCHOR_PUBLISH = "anchor_publish"  # keys of the raw nats-py rows (bench_nats_anchors)
ANCHOR_CONSUME = "anchor_consume"
TABLE_START = "<!-- bench-table:start -->"
TABLE_END = "<!-- bench-table:end -->"


@dataclass(frozen=True)
class Target:
    """`figure` (or `ratio`, the figure over its anchor's) `at_least` / `at_most` `value`."""

    bound: Literal["at_least", "at_most"]
    value: float
    of: Literal["figure", "ratio"] = "figure"

    def met(self, figure: float, ratio: float | None) -> bool | None:
        measured = figure if self.of == "figure" else ratio
        if measured is None:
            return None
        return measured >= self.value if self.bound == "at_least" else measured <= self.value

    def text(self, unit: str) -> str:
        sign = ">=" if self.bound == "at_least" else "<="
        return f"{sign} {self.value:g}x anchor" if self.of == "ratio" else f"{sign} {self.value:,g} {unit}"


@dataclass(frozen=True)
class Row:
    key: str
    benchmark: str
    label: str
    figure: float
    unit: str
    anchor: str | None = None
    target: Target | None = None
    note: str = ""


RECORDED: list[Row] = []


def record(row: Row) -> Row:
    RECORDED.append(row)
    print(f"  {row.label}: {_number(row.figure)} {row.unit}" + (f" ({row.note})" if row.note else ""), flush=True)
    return row


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def evaluated(rows: list[Row]) -> list[dict[str, Any]]:
    """Rows with the ratio to their anchor (when it was measured in this run) and whether the target was met."""
    figures = {row.key: row.figure for row in rows}
    out = []
    for row in rows:
        anchor = figures.get(row.anchor) if row.anchor else None
        ratio = row.figure / anchor if anchor else None
        met = row.target.met(row.figure, ratio) if row.target else None
        item = asdict(row) | {"ratio": ratio, "met": met}
        item["target"] = row.target.text(row.unit) if row.target else None
        out.append(item)
    return out


def table(rows: list[Row]) -> str:
    lines = [
        "| measurement | figure | ratio to anchor | target | met? |",
        "|---|---:|---:|---|---|",
    ]
    for item in evaluated(rows):
        ratio = f"{item['ratio']:.2f}x {item['anchor']}" if item["ratio"] is not None else ""
        met = {True: "yes", False: "**no**", None: ""}[item["met"]]
        label = item["label"] + (f" ({item['note']})" if item["note"] else "")
        lines.append(
            f"| {label} | {_number(item['figure'])} {item['unit']} | {ratio} | {item['target'] or ''} | {met} |"
        )
    return "\n".join(lines)


def write(rows: list[Row], results_file: Path = RESULTS_FILE, doc_file: Path | None = DOC_FILE) -> None:
    """latest.json, and the table between the markers of docs/performance.md (when `doc_file` is given)."""
    document = {
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": _cpus(),
            "python": platform.python_version(),
            "system": platform.platform(),
            "load_average_at_end": [round(value, 2) for value in os.getloadavg()],  # other work on the machine
        },
        "rows": evaluated(rows),
    }
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    if doc_file is None or not doc_file.exists():
        return
    text = doc_file.read_text(encoding="utf-8")
    if TABLE_START in text and TABLE_END in text:
        head, rest = text.split(TABLE_START, 1)
        tail = rest.split(TABLE_END, 1)[1]
        machine: dict[str, Any] = document["machine"]  # type: ignore[assignment]
        load = ", ".join(f"{value:g}" for value in machine["load_average_at_end"])
        stamp = (
            f"Measured {document['taken_at']} ({machine['cpus']} CPUs, Python {machine['python']}; load average "
            f"over 1, 5, 15 min at the end: {load})."
        )
        doc_file.write_text(f"{head}{TABLE_START}\n{stamp}\n\n{table(rows)}\n{TABLE_END}{tail}", encoding="utf-8")


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0
