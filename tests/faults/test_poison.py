"""Poison messages of each kind while the history flows: bytes that decode to no event (published straight
to DVC_EVENTS, past ingest's validation) and events of one dossier that the indicators service cannot apply
(a database trigger stands in for the bug). Both go to DVC_DLQ with the reason and everything else flows;
once the bug is fixed, `dvc-pulse dlq redrive --all` applies the dossier's events exactly once, and the bytes
that can never decode come back to DVC_DLQ (counted nowhere)."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import nats
import pytest

from tests.e2e.processes import base_env, run_cli, wait_for
from tests.faults.conftest import MakeSystem
from tests.faults.history import History
from tests.faults.outcome import assert_clean, measure
from tests.faults.system import FaultSystem, RetryingSender, sqlite_path

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

UNDECODABLE = (b"{not json", b'{"specversion": "1.0", "type": "vn.gov.dvc.dossier.accepted"}')
FAST_DEAD_LETTERS = {"DVC_INDICATORS_MAX_DELIVER": "3", "DVC_NOTIFIER_MAX_DELIVER": "3"}


def _poisoned_dossier(history: History) -> str:
    """A dossier with several events (accepted and processed), so its whole life goes through the DLQ."""
    kinds: dict[str, set[str]] = {}
    for event in history.events:
        code = event.get("subject")
        if code and str(event["type"]).startswith("vn.gov.dvc.dossier."):
            kinds.setdefault(code, set()).add(str(event["type"]).rsplit(".", 1)[1])
    return sorted(code for code, seen in kinds.items() if {"accepted", "processed"} <= seen)[0]


def _publish_raw(system: FaultSystem, bodies: tuple[bytes, ...]) -> None:
    async def publish() -> None:
        connection = await nats.connect(system.nats_url)
        try:
            js = connection.jetstream()
            for number, body in enumerate(bodies):
                await js.publish("dvc.events.dossier.accepted", body, headers={"Nats-Msg-Id": f"poison-{number}"})
        finally:
            await connection.close()

    asyncio.run(publish())


def _dead_letter_errors(system: FaultSystem) -> list[tuple[str, str]]:
    """(consumer, error) of every record in DVC_DLQ."""

    async def read(js: Any) -> list[tuple[str, str]]:
        info = await js.stream_info("DVC_DLQ")
        rows = []
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                message = await js.get_msg("DVC_DLQ", sequence)
            except Exception:  # deleted by a redrive
                continue
            headers = message.headers or {}
            rows.append((headers.get("Dvc-Consumer", ""), headers.get("Dvc-Error", "")))
        return rows

    return list(system._jetstream_call(read))


def test_poison_messages_are_dead_lettered_and_redriven_once_when_the_rest_flows(
    make_system: MakeSystem, history: History
) -> None:
    system = make_system("sqlite", settings={"indicators": FAST_DEAD_LETTERS, "notifier": FAST_DEAD_LETTERS})
    poisoned = _poisoned_dossier(history)
    its_events = sum(1 for event in history.events if event.get("subject") == poisoned)
    indicators_db = sqlite_path(system.database_urls["indicators"])
    with sqlite3.connect(indicators_db) as connection:
        connection.execute(
            "CREATE TRIGGER fault_poison BEFORE INSERT ON indicators_dossiers "
            f"WHEN NEW.dossier_code = '{poisoned}' BEGIN SELECT RAISE(ABORT, 'injected apply failure'); END"
        )
    batches = history.batches(25)
    sender = RetryingSender(system, batches, pause=0.1)
    with sender.running():
        sender.wait_sent(len(batches) // 2)
        _publish_raw(system, UNDECODABLE)
    wait_for(system.consumers_idle, 120, "every consumer to be done with the poisoned stream")
    letters = _dead_letter_errors(system)
    undecodable = [(consumer, error) for consumer, error in letters if error.startswith("invalid:")]
    failing = [(consumer, error) for consumer, error in letters if error.startswith("failed")]
    assert sorted(consumer for consumer, _ in undecodable) == sorted(["indicators", "notifier"] * len(UNDECODABLE))
    assert failing, "the dossier's events must fail to apply"
    assert len(failing) <= its_events
    assert {consumer for consumer, _ in failing} == {"indicators"}

    with sqlite3.connect(indicators_db) as connection:  # the fix
        connection.execute("DROP TRIGGER fault_poison")
    report = run_cli(base_env(system.var_dir, system.nats_url), "dlq", "redrive", "--all")
    assert f"{len(UNDECODABLE) + len(failing)} republished" in report, report
    wait_for(system.consumers_idle, 60, "every consumer to be done with the redriven copies")
    wait_for(lambda: len(_dead_letter_errors(system)) == 2 * len(UNDECODABLE), 30, "undecodable bytes back in DLQ")
    assert all(error.startswith("invalid:") for _, error in _dead_letter_errors(system))

    outcome = measure(system, history, sender.acknowledged, fault="poison messages, then redrive", backend="sqlite")
    outcome.details = "; ".join(
        filter(None, [outcome.details, f"{len(UNDECODABLE)} undecodable + {len(failing)} unappliable dead-lettered"])
    )
    assert_clean(outcome)
