"""A shared simulated quarter (generated once) for the simulator tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from services.simulator.calendar import VN_TIMEZONE, LegalCalendar
from services.simulator.generator import FAR_FUTURE, Simulation, generate

START = datetime(2026, 1, 1, tzinfo=VN_TIMEZONE)  # includes Tết Nguyên Đán 2026 (16-20 February)
END = datetime(2026, 4, 1, tzinfo=VN_TIMEZONE)


@pytest.fixture(scope="session")
def quarter() -> Simulation:
    """Every planned event of the dossiers submitted in Q1 2026 (lifecycles complete)."""
    return generate(7, START, END, cutoff=FAR_FUTURE)


@pytest.fixture(scope="session")
def quarter_at_end(quarter: Simulation) -> Simulation:
    """The same quarter as the services would know it at its end (events after END not yet happened)."""
    events = [event for event in quarter.events if event.time <= END]
    pending = [event for event in quarter.events if event.time > END]
    return replace(quarter, cutoff=END, events=events, pending=pending, truth=quarter.truth.as_of(END))


@pytest.fixture(scope="session")
def legal() -> LegalCalendar:
    return LegalCalendar()
