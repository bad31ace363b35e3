"""nats-server stopped and restarted mid-stream: meanwhile ingest answers 503 (nothing is acknowledged that
was not stored) and the sender retries the same bytes; consumers reconnect and nothing is lost or doubled."""

from __future__ import annotations

import pytest

from tests.e2e.processes import wait_for
from tests.faults.conftest import MakeSystem
from tests.faults.history import History
from tests.faults.outcome import assert_clean, measure
from tests.faults.system import RetryingSender

pytestmark = [pytest.mark.faults, pytest.mark.e2e]


def test_nothing_lost_when_nats_server_stops_and_restarts_mid_stream(make_system: MakeSystem, history: History) -> None:
    system = make_system("sqlite")
    batches = history.batches(25)
    sender = RetryingSender(system, batches, pause=0.2)
    with sender.running():
        sender.wait_sent(len(batches) // 3)
        system.nats.stop()
        wait_for(lambda: sender.unavailable >= 2, 30, "ingest to answer 503 while NATS is down")
        system.nats.start()
    outcome = measure(system, history, sender.acknowledged, fault="nats-server stopped and restarted", backend="sqlite")
    assert_clean(outcome)
    assert system.dead_letters() == 0
