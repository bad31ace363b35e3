"""The known history every fault case drives through the services: a simulated week of xã Lâm Thao at a
small volume (a few hundred events), with the simulator's ground truth as JSON (what tests/e2e/expected.py
reads), generated in-process once per session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from services.simulator.generator import default_world, generate
from services.simulator.model import Config
from services.simulator.truth import truth_document

SEED = 11  # issue 11
DAYS = 7
DAILY_DOSSIERS = 10.0


@dataclass(frozen=True)
class History:
    start: datetime
    end: datetime
    events: list[dict[str, Any]]
    truth: dict[str, Any]

    def batches(self, size: int) -> list[list[dict[str, Any]]]:
        return [self.events[i : i + size] for i in range(0, len(self.events), size)]

    def identities(self) -> set[tuple[str, str]]:
        return {(event["source"], event["id"]) for event in self.events}


def make_history(seed: int = SEED, days: int = DAYS, daily_dossiers: float = DAILY_DOSSIERS) -> History:
    """Dossiers submitted in the `days` before now (the services judge open dossiers against their real
    clock, the truth against `end`: the test asks for the period [start, end))."""
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=days)
    world = default_world(Config(daily_dossiers=daily_dossiers))
    simulation = generate(seed, start, end, world=world)
    events = [orjson.loads(orjson.dumps(event.document)) for event in simulation.events]
    truth = orjson.loads(orjson.dumps(truth_document(simulation.truth, world.legal)))
    return History(start, end, events, truth)
