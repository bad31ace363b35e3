"""A three-node cluster (three nats-server processes, R3 streams): the node leading DVC_EVENTS is SIGKILLed
mid-stream and restarted. Ingest and the consumers move to the other nodes; a stored event has two more
copies, so nothing is lost, and deduplication keeps retried batches from counting twice."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.processes import wait_for
from tests.faults.conftest import MakeSystem
from tests.faults.history import History
from tests.faults.outcome import assert_clean, measure
from tests.faults.system import FaultSystem, RetryingSender

pytestmark = [pytest.mark.faults, pytest.mark.e2e]


def _events_leader(system: FaultSystem) -> str:
    async def leader(js: Any) -> str:
        info = await js.stream_info("DVC_EVENTS")
        return str(info.cluster.leader or "")

    return str(system._jetstream_call(leader))


def _replicas(system: FaultSystem) -> int:
    async def replicas(js: Any) -> int:
        return int((await js.stream_info("DVC_EVENTS")).config.num_replicas)

    return int(system._jetstream_call(replicas))


def test_nothing_lost_when_a_cluster_node_is_sigkilled_and_restarted_mid_stream(
    make_system: MakeSystem, history: History
) -> None:
    system = make_system("sqlite", cluster=True)
    assert system.nodes is not None
    assert _replicas(system) == 3
    batches = history.batches(25)
    sender = RetryingSender(system, batches, pause=0.25)
    with sender.running():
        sender.wait_sent(len(batches) // 3)
        leader = _events_leader(system)
        node = next(node for node in system.nodes.nodes if node.name == leader)
        node.kill()
        wait_for(lambda: _events_leader(system) not in ("", leader), 30, "another node to lead DVC_EVENTS")
        sender.wait_sent(len(batches) // 3 + 2)  # events keep being stored on the two remaining nodes
        node.start()
    outcome = measure(
        system, history, sender.acknowledged, fault="cluster node SIGKILLed and restarted (R3)", backend="sqlite"
    )
    assert_clean(outcome)
    assert system.dead_letters() == 0
