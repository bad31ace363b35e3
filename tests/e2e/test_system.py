"""The four services together, as separate processes, give the simulated commune's exact numbers, even when
two of them are SIGKILLed while events are flowing.

Why the notifier is configured as it is (SERVICE_SETTINGS in system.py): its real clock decides quiet hours
(21:00-07:00 in Asia/Ho_Chi_Minh), the daily caps (per local day of sending) and the maximum event age (24 h),
so with the defaults the outbox would depend on when the test runs. Quiet hours are switched off, the caps
raised out of reach, and the maximum age raised to 20 days because the simulated window is the 14 days that
end at the real now (a window shorter than two weeks could hold no working day at all around Tết). Every
other rule (consent, phone validity, one message per distinct text, exactly-once intake) stays as shipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import POSTGRES_URL
from tests.e2e.expected import LIVE_CODES, SERVICE_CODES, VN, Sms, classify, expected_indicators, expected_sms, per_kind
from tests.e2e.processes import base_env, run_cli, wait_for
from tests.e2e.system import PacedSender, System, superseded_messages
from tests.service_databases import DB_SERVICES, create_service_databases, drop_service_databases

pytestmark = pytest.mark.e2e

SEED = 57  # Kế hoạch 57
BATCH = 250


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def system(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[System]:
    """Each service with its own SQLite file, or its own new PostgreSQL database."""
    names: list[str] = []
    if request.param == "sqlite":
        urls = {name: f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}" for name in DB_SERVICES}
    else:
        if not POSTGRES_URL:
            pytest.skip("DVC_TEST_POSTGRES_URL is not set")
        urls, names = create_service_databases("dvc_e2e")
    running = System(tmp_path, urls)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        drop_service_databases(names)


def _simulate(system: System, start: datetime, end: datetime) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`dvc-pulse simulate` over a fixed window and seed, written to files: the events and the ground truth."""
    events_file, truth_file = system.root / "events.ndjson", system.root / "truth.json"
    window = ("--start", start.isoformat(), "--end", end.isoformat())
    run_cli(
        base_env(system.var_dir),
        "simulate",
        "--seed",
        str(SEED),
        *window,
        "--out",
        str(events_file),
        "--truth",
        str(truth_file),
    )
    events = [orjson.loads(line) for line in events_file.read_bytes().splitlines() if line.strip()]
    return events, orjson.loads(truth_file.read_bytes())


def _year(now: datetime) -> tuple[datetime, datetime]:
    local = now.astimezone(VN)
    return datetime(local.year, 1, 1, tzinfo=VN), datetime(local.year + 1, 1, 1, tzinfo=VN)


def _live(counts: dict[str, tuple[int, int]], codes: tuple[str, ...] = LIVE_CODES) -> dict[str, tuple[int, int]]:
    return {code: counts[code] for code in codes}


def _check_outbox(system: System, expected: list[Sms], consent: dict[str, bool]) -> None:
    """The outbox holds each expected message once, to the applicant's phone, never without consent, unless it
    was superseded. A message the kill caught after its claim ("sending") but before the outbox write stays
    "sending": at most once, never twice; it is accounted for as in doubt."""
    lines = system.outbox_lines()
    assert len({line["notification_id"] for line in lines}) == len(lines), "an SMS was sent twice"
    assert len({(line["to"], line["text"]) for line in lines}) == len(lines), "the same text went twice"
    sent = [classify(line["text"]) for line in lines]
    assert [code for code, _ in sent if not consent.get(code)] == [], "an SMS went without consent"
    phone_of = {message.dossier_code: message.to for message in expected}
    assert [line["to"] for line in lines] == [phone_of.get(code) for code, _ in sent]
    written = {line["notification_id"] for line in lines}
    in_doubt = [classify(row["text"]) for row in system.notifications(status="sending") if row["id"] not in written]
    assert len(in_doubt) <= 100  # at most one dispatcher batch was in flight when the notifier was killed
    wanted = Counter((message.dossier_code, message.kind) for message in expected)
    got = Counter(sent) + Counter(in_doubt)
    assert got - wanted == Counter(), "SMS that should not have been sent"
    superseded = superseded_messages(system, wanted - got)
    missing = wanted - got - superseded
    assert missing == Counter(), f"{sum(missing.values())} SMS missing, e.g. {sorted(missing)[:5]}"
    assert Counter(kind for _, kind in (got + superseded).elements()) == per_kind(expected)


def test_every_number_is_exact_when_two_services_are_killed_while_events_flow(system: System) -> None:
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=14)
    events, truth = _simulate(system, start, end)
    assert len(truth["dossiers"]) > 30, "the window must hold working days"
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    half = len(batches) // 2

    answers = [system.post(batch) for batch in batches[:half]]
    wait_for(lambda: system.metric("indicators", "dvc_indicators_events_applied_total"), 60, "indicators at work")
    replayed = batches[:2]  # sent again at the end: ingest must answer "duplicate", nobody counts them twice
    sender = PacedSender(system, [*batches[half:], *replayed], pause=0.2)
    with sender.running():
        wait_for(lambda: sender.sent >= 2, 60, "the second half to start flowing")
        for name in ("indicators", "notifier"):
            system.services[name].kill()
        sent_before_restart = sender.sent
        for name in ("indicators", "notifier"):
            system.services[name].start()
    assert sent_before_restart < len(sender.batches), "events must keep flowing after the kill"
    for name in ("indicators", "notifier"):
        system.services[name].wait_ready()
    answers += sender.answers
    assert sum(answer["accepted"] for answer in answers) == len(events)
    assert sum(answer["duplicates"] for answer in answers) == sum(len(batch) for batch in replayed)
    wait_for(system.consumers_idle, 120, "every consumer to be done")
    assert system.dead_letters() == 0

    # indicators: the window [start, end), open dossiers judged at `end`; the current year (default period)
    assert system.indicators(start, end) == expected_indicators(truth, start, end, end)
    year_start, year_end = _year(end)
    year = _live(system.indicators(), SERVICE_CODES)
    assert year == _live(expected_indicators(truth, year_start, year_end, end), SERVICE_CODES)

    # /metrics and the tasks service agree with the API (both follow the periodic snapshot)
    def metrics_agree() -> bool:
        numerators = {labels["code"]: v for labels, v in system.samples("indicators", "dvc_indicator_numerator")}
        denominators = {labels["code"]: v for labels, v in system.samples("indicators", "dvc_indicator_denominator")}
        return all((numerators.get(code), denominators.get(code)) == year[code] for code in SERVICE_CODES)

    wait_for(metrics_agree, 60, "dvc_indicator_numerator/denominator to equal the API")
    wait_for(lambda: _live(system.plan_indicators()) == _live(year), 60, "tasks' plan indicators to equal the API")

    # SMS: exactly the expected messages, once each (see _check_outbox)
    expected, consent = expected_sms(events)
    wait_for(lambda: not system.notifications(status="created"), 120, "the notifier to send everything due")
    _check_outbox(system, expected, consent)
