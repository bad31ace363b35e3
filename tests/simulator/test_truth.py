"""The ground truth agrees with the events it describes (so an end-to-end test can trust it)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from services.simulator.calendar import LegalCalendar
from services.simulator.generator import Simulation
from services.simulator.truth import dossier_as_of, expected_indicators, extended_due_at, overdue_from
from tests.simulator.conftest import END, START

MONTH_START, MONTH_END = datetime(2026, 2, 1, tzinfo=START.tzinfo), datetime(2026, 3, 1, tzinfo=START.tzinfo)


def _ratio(rows: list[bool]) -> tuple[int, int]:
    return sum(rows), len(rows)


def _from_events(simulation: Simulation, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """Indicator counts recomputed from the event documents alone (no truth object involved)."""
    facts: dict[str, dict[str, Any]] = defaultdict(dict)
    procedures: dict[str, dict[str, Any]] = {}
    documents = []
    for event in simulation.events:
        document, data = event.document, event.document["data"]
        kind = str(document["type"]).removeprefix("vn.gov.dvc.")
        if kind == "procedure.published":
            procedures[data["procedure_code"]] = data
        elif kind == "document.completed":
            documents.append((event.time, data["fully_electronic"]))
        elif kind.startswith("dossier."):
            facts[data["dossier_code"]][kind] = (event.time, data)

    def within(dossier: dict[str, Any], kind: str) -> bool:
        return kind in dossier and start <= dossier[kind][0] < end

    accepted = [d for d in facts.values() if within(d, "dossier.accepted")]
    level = {code: data["level"] for code, data in procedures.items()}
    partial = [d for d in accepted if level[d["dossier.accepted"][1]["procedure_code"]] in ("full", "partial")]
    returned = [d for d in facts.values() if within(d, "dossier.returned")]
    processed = [d for d in facts.values() if within(d, "dossier.processed")]
    paid = [d for d in facts.values() if within(d, "dossier.paid")]
    return {
        "I17": _ratio(
            [
                d["dossier.accepted"][1]["channel"] in ("online", "postal")
                and d["dossier.returned"][1]["delivery"] in ("electronic", "postal")
                for d in returned
            ]
        ),
        "I18": _ratio(
            [d["dossier.accepted"][1]["digitized"] and d["dossier.processed"][1]["result_digitized"] for d in returned]
        ),
        "I20": _ratio([d["dossier.accepted"][1]["channel"] == "online" for d in accepted]),
        "I21": _ratio([d["dossier.accepted"][1]["channel"] == "online" for d in partial]),
        "I22": _ratio([d["dossier.processed"][1]["result_electronic"] for d in processed]),
        "I23": _ratio([d["dossier.accepted"][1]["reused_data"] for d in accepted]),
        "I24": _ratio([d["dossier.paid"][1]["paid_online"] for d in paid]),
        "I25": _ratio([electronic for time, electronic in documents if start <= time < end]),
        "I15": _ratio([p["boundary_free"] for p in procedures.values()]),
        "I16": _ratio([p["level"] != "none" for p in procedures.values() if p["business_related"]]),
        "I19": _ratio([p["level"] == "full" for p in procedures.values() if p["eligible_full_online"]]),
    }


def test_expected_indicators_match_event_counts_when_month_measured(
    quarter_at_end: Simulation, legal: LegalCalendar
) -> None:
    simulation = quarter_at_end
    expected = expected_indicators(simulation.truth, MONTH_START, MONTH_END, END, legal)
    recomputed = _from_events(simulation, MONTH_START, MONTH_END)
    assert {code: expected[code] for code in recomputed} == recomputed
    assert all(denominator > 0 for _, denominator in expected.values())


def test_later_facts_forgotten_when_truth_taken_as_of_an_instant(quarter: Simulation, legal: LegalCalendar) -> None:
    dossier = next(d for d in quarter.truth.dossiers.values() if d.pauses and d.processed_at is not None)
    assert dossier.accepted_at is not None
    during_pause = dossier.pauses[0].start + timedelta(seconds=1)
    before = dossier_as_of(dossier, during_pause)
    assert (before.processed_at, before.ended_at, before.returned_at) == (None, None, None)
    assert before.pauses[0].end is None
    assert before.accepted_at == dossier.accepted_at
    assert dossier_as_of(dossier, dossier.accepted_at - timedelta(seconds=1)).accepted_at is None


def test_overdue_at_cutoff_when_late_dossier_still_open_past_its_due(
    quarter_at_end: Simulation, legal: LegalCalendar
) -> None:
    simulation = quarter_at_end
    late_open = [
        d
        for d in simulation.truth.dossiers.values()
        if d.accepted_at and d.ended_at is None and d.planned_late and not any(p.end is None for p in d.pauses)
    ]
    overdue = [d for d in late_open if (extended_due_at(d, legal) or END) < END]
    assert overdue
    assert all(overdue_from(d, legal) == extended_due_at(d, legal) for d in overdue)
    on_time_open = [d for d in simulation.truth.dossiers.values() if d.accepted_at and d.ended_at is None]
    counts = expected_indicators(simulation.truth, START, END, END, legal)
    assert counts["ONTIME"][1] - counts["ONTIME"][0] >= len(overdue)
    assert len(on_time_open) > len(overdue)
