"""SIGKILL of indicators, notifier and tasks at seeded random points while events flow; each is restarted
at once. Nothing may be lost (unacknowledged work comes back), counted twice (each service records what it
applied in the same transaction) or sent twice (the SMS claim is committed before the provider is called)."""

from __future__ import annotations

import random
import time

import pytest

from tests.faults.conftest import MakeSystem
from tests.faults.history import History
from tests.faults.outcome import assert_clean, measure
from tests.faults.system import RetryingSender

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

KILL_SEED = 9
KILLED = ("indicators", "notifier", "tasks")


def test_nothing_lost_or_doubled_when_consumers_are_sigkilled_at_random_points(
    make_system: MakeSystem, history: History
) -> None:
    """SQLite only: tests/e2e/test_system.py kills services on PostgreSQL too, and the suite's time is bounded."""
    backend = "sqlite"
    system = make_system(backend)
    rng = random.Random(KILL_SEED)
    batches = history.batches(25)
    replayed = batches[:2]  # sent again at the end: ingest answers duplicate, nobody counts them twice
    sender = RetryingSender(system, [*batches, *replayed], pause=0.25)
    rounds = sorted(rng.sample(range(1, len(batches) - 1), 4))
    with sender.running():
        for number, at_batch in enumerate(rounds):
            sender.wait_sent(at_batch)
            time.sleep(rng.uniform(0.0, 0.4))  # somewhere inside a batch's processing, not only between
            victims = KILLED if number == 0 else rng.sample(KILLED, rng.randint(1, 2))
            for name in victims:
                system.services[name].kill()
            for name in victims:
                system.services[name].start()
    for service in system.services.values():
        service.wait_ready()
    fault = "SIGKILL indicators, notifier, tasks"
    outcome = measure(system, history, sender.acknowledged, fault=fault, backend=backend)
    assert_clean(outcome)
    assert system.dead_letters() == 0
