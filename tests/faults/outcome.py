"""What a fault case measures once the system has converged, compared with the simulator's ground truth:
events lost, counted twice, SMS sent twice or wrong. Written to the results file the report renders."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from tests.e2e.expected import LIVE_CODES, classify, expected_indicators, expected_sms
from tests.e2e.processes import wait_for
from tests.e2e.system import System, superseded_messages
from tests.faults.history import History

RESULTS_ENV = "DVC_FAULTS_RESULTS"
DEFAULT_RESULTS = Path(__file__).resolve().parents[2] / "var" / "faults-results.json"


def results_path() -> Path:
    return Path(os.environ.get(RESULTS_ENV) or DEFAULT_RESULTS)


@dataclass
class Outcome:
    """One row of docs/reliability.md. `lost`: events ingest acknowledged that indicators never applied, plus
    indicator units below the truth, plus expected SMS never sent. `double_counted`: indicator units above the
    truth. `sms_duplicated`: messages a phone got more than once. `sms_wrong`: messages the truth does not
    call for (wrong dossier, wrong trigger, wrong phone, no consent)."""

    fault: str
    backend: str
    events_sent: int
    lost: int
    double_counted: int
    sms_expected: int
    sms_duplicated: int
    sms_wrong: int
    details: str = ""

    @property
    def key(self) -> str:
        return f"{self.fault} [{self.backend}]"

    def clean(self) -> bool:
        return self.lost == self.double_counted == self.sms_duplicated == self.sms_wrong == 0


def record(outcome: Outcome) -> None:
    """Merge this case's row into the results file (one row per fault and backend, the latest run wins)."""
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    rows: dict[str, Any] = orjson.loads(path.read_bytes()) if path.exists() else {}
    rows[outcome.key] = asdict(outcome)
    path.write_bytes(orjson.dumps(rows, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


def applied_identities(database_url: str) -> set[tuple[str, str]]:
    """(source, id) of every event the indicators service recorded as applied, read from its database."""
    query = "SELECT source, id FROM indicators_events"
    if database_url.startswith("sqlite"):
        with sqlite3.connect(f"file:{database_url.split(':///', 1)[1]}?mode=ro", uri=True) as connection:
            return {(str(source), str(id_)) for source, id_ in connection.execute(query)}

    async def read() -> set[tuple[str, str]]:
        import asyncpg

        connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            return {(row["source"], row["id"]) for row in await connection.fetch(query)}
        finally:
            await connection.close()

    return asyncio.run(read())


def _unit_differences(got: Mapping[str, tuple[int, int]], wanted: Mapping[str, tuple[int, int]]) -> tuple[int, int]:
    """(units below the truth, units above it), over every code's numerator and denominator."""
    below = above = 0
    for code, (numerator, denominator) in wanted.items():
        have = got.get(code, (0, 0))
        for value, expected in ((have[0], numerator), (have[1], denominator)):
            below += max(0, expected - value)
            above += max(0, value - expected)
    return below, above


PENDING = ("created", "temporary-failure")  # still to be sent (or retried)
NOT_DELIVERED = ("created", "temporary-failure", "sending", "technical-failure", "permanent-failure", "skipped")


def _pending(system: System) -> int:
    return sum(len(system.notifications(status=status)) for status in PENDING)


def _tasks_disagreement(system: System) -> int:
    """Codes on which the tasks service's plan indicators differ from the indicators service's year (0 once
    tasks folded the latest snapshot; waited for, bounded)."""

    def differing() -> int:
        live = {row[0]: row[1] for row in system.indicators().items() if row[0] in LIVE_CODES}
        plan = system.plan_indicators()
        return sum(1 for code, value in live.items() if plan.get(code) != value)

    try:
        wait_for(lambda: differing() == 0, 60, "tasks' plan indicators to equal the indicators service")
    except AssertionError:
        return differing()
    return 0


def delivered_sms(
    system: System, extra: Callable[[], Iterable[Mapping[str, Any]]] | None = None
) -> list[dict[str, Any]]:
    """What reached phones: the outbox lines, plus what another provider (a test's gateway) accepted."""
    return [*system.outbox_lines(), *(extra() if extra is not None else ())]


@dataclass
class SmsCounts:
    expected: int
    duplicated: int
    wrong: int
    missing: int


def _sms_counts(
    system: System,
    history: History,
    gateway_deliveries: Callable[[], Iterable[Mapping[str, Any]]] | None,
    timeout: float,
) -> SmsCounts:
    """Once nothing is due any more (bounded waits): what reached phones against what the truth calls for."""
    with contextlib.suppress(AssertionError):  # what is still pending is named in the details
        wait_for(lambda: not _pending(system), timeout, "the notifier to send all due")
    with contextlib.suppress(AssertionError):  # in flight; one a kill caught stays "sending" (named)
        wait_for(lambda: not system.notifications(status="sending"), 15, "the provider calls in flight to end")
    expected, _consent = expected_sms(history.events)
    texts = Counter((line["to"], line["text"]) for line in delivered_sms(system, gateway_deliveries))
    wanted: Counter[tuple[str, str, str]] = Counter((sms.dossier_code, sms.kind, sms.to) for sms in expected)
    got: Counter[tuple[str, str, str]] = Counter()
    for to, text in texts:
        code, kind = classify(text)
        got[(code, kind, to)] += 1
    unsent = Counter({(code, kind): n for (code, kind, _to), n in (wanted - got).items()})
    superseded = superseded_messages(system, unsent)  # a newer step came first: not sent, by design
    return SmsCounts(
        expected=len(expected),
        duplicated=sum(count - 1 for count in texts.values()),
        wrong=sum((got - wanted).values()),  # includes any message to a dossier without consent
        missing=sum((unsent - superseded).values()),
    )


def measure(
    system: System,
    history: History,
    acknowledged: set[tuple[str, str]],
    *,
    fault: str,
    backend: str,
    gateway_deliveries: Callable[[], Iterable[Mapping[str, Any]]] | None = None,
    converge_timeout: float = 120.0,
) -> Outcome:
    """Wait until every consumer is done and the notifier sent everything due (bounded), then compare."""
    wait_for(system.consumers_idle, converge_timeout, "every consumer to be done")
    wanted = expected_indicators(history.truth, history.start, history.end, history.end)
    with contextlib.suppress(AssertionError):  # a difference is measured below, not raised here
        wait_for(lambda: system.indicators(history.start, history.end) == wanted, 30, "indicators to equal the truth")
    below, above = _unit_differences(system.indicators(history.start, history.end), wanted)
    not_applied = len(acknowledged - applied_identities(system.database_urls["indicators"]))
    tasks_behind = _tasks_disagreement(system)
    sms = _sms_counts(system, history, gateway_deliveries, converge_timeout)
    details = []
    if not_applied or below or above:
        details.append(f"{not_applied} events not applied, indicators {below} units below / {above} above")
    if sms.missing:
        counts = {status: len(system.notifications(status=status)) for status in NOT_DELIVERED}
        details.append(f"{sms.missing} SMS missing ({', '.join(f'{k} {v}' for k, v in counts.items() if v)})")
    if tasks_behind:
        details.append(f"tasks differ from indicators on {tasks_behind} codes")
    return Outcome(
        fault=fault,
        backend=backend,
        events_sent=len(acknowledged),
        lost=not_applied + below + sms.missing + tasks_behind,
        double_counted=above,
        sms_expected=sms.expected,
        sms_duplicated=sms.duplicated,
        sms_wrong=sms.wrong,
        details="; ".join(details),
    )


def assert_clean(outcome: Outcome) -> None:
    record(outcome)
    assert outcome.events_sent > 0
    assert outcome.clean(), f"{outcome.key}: {outcome}"
