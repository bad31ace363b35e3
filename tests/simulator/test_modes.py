"""The CLI's NDJSON output and the clocked modes (accelerated, live) against real sinks."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

import typer
from typer.testing import CliRunner

from services.contracts.events import parse_event
from services.simulator.calendar import VN_TIMEZONE
from services.simulator.cli import TOP_LEVEL_COMMANDS, parse_duration
from services.simulator.generator import default_world
from services.simulator.progress import Reporter
from services.simulator.runner import Run, run_accelerated, run_live
from services.simulator.sender import NdjsonSink
from tests.simulator.fake_ingest import Script, fake_ingest

END = "2026-03-06T17:00:00+07:00"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("simulate")(TOP_LEVEL_COMMANDS["simulate"])
    app.command("noop")(lambda: None)
    return app


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_ndjson_written_when_out_given(tmp_path: Path) -> None:
    out, truth = tmp_path / "events.ndjson", tmp_path / "truth.json"
    args = ["simulate", "--history", "5d", "--end", END, "--seed", "3", "--out", str(out), "--truth", str(truth)]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    events = _lines(out)
    assert all(parse_event(event) for event in events)
    assert max(datetime.fromisoformat(str(event["time"])) for event in events) <= datetime.fromisoformat(END)
    recorded = json.loads(truth.read_text(encoding="utf-8"))
    submitted = [event for event in events if event["type"] == "vn.gov.dvc.dossier.submitted"]
    assert len(recorded["dossiers"]) == len(submitted) > 0


def test_same_file_when_cli_run_twice_with_same_seed(tmp_path: Path) -> None:
    for name in ("a", "b"):
        args = ["simulate", "--start", "2026-03-02", "--end", END, "--out", str(tmp_path / f"{name}.ndjson")]
        assert CliRunner().invoke(_app(), args).exit_code == 0
    assert (tmp_path / "a.ndjson").read_bytes() == (tmp_path / "b.ndjson").read_bytes()


def test_events_sent_to_ingest_when_history_over_http(tmp_path: Path) -> None:
    script = Script([(202, {})])
    with fake_ingest(script) as url:
        args = [
            "simulate",
            "--history",
            "2d",
            "--end",
            END,
            "--ingest-url",
            url,
            "--api-key",
            "secret",
            "--batch-size",
            "100",
        ]
        result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    sent = [event_id for request in script.requests for event_id in request["ids"]]
    assert len(sent) == len(set(sent)) > 41
    assert script.requests[0]["ids"][0].startswith("procedure/")


def test_key_read_from_var_dir_when_no_key_given(tmp_path: Path) -> None:
    (tmp_path / "demo-ingest-key").write_text("from-file\n", encoding="utf-8")
    script = Script([(202, {})])
    with fake_ingest(script) as url:
        result = CliRunner(env={"DVC_VAR_DIR": str(tmp_path)}).invoke(
            _app(), ["simulate", "--history", "1d", "--end", END, "--ingest-url", url]
        )
    assert result.exit_code == 0, result.output
    assert {request["authorization"] for request in script.requests} == {"Bearer from-file"}


async def test_simulated_clock_stamps_events_when_accelerated(tmp_path: Path) -> None:
    """One simulated working day at 200,000 x: about half a second of real time."""
    start = datetime(2026, 3, 3, 7, 0, tzinfo=VN_TIMEZONE)
    end = start + timedelta(hours=12)
    async with NdjsonSink(tmp_path / "fast.ndjson") as sink:
        run = Run(default_world(), 8, sink, Reporter())
        await run_accelerated(run, start, 200_000.0, end, asyncio.Event())
    events = _lines(tmp_path / "fast.ndjson")
    times = [datetime.fromisoformat(str(event["time"])) for event in events]
    assert len(events) > 41
    assert min(times) == start
    assert max(times) <= end
    truth = run.final_truth()
    assert truth is not None
    assert len(truth.dossiers) == sum(event["type"] == "vn.gov.dvc.dossier.submitted" for event in events)


async def test_live_events_stamped_near_real_now_when_live(tmp_path: Path) -> None:
    now = datetime.now(VN_TIMEZONE).replace(microsecond=0)
    end = now + timedelta(seconds=2)
    async with NdjsonSink(tmp_path / "live.ndjson") as sink:
        run = Run(default_world(), 8, sink, Reporter())
        await run_live(run, now, timedelta(days=1), 40_000.0, end, asyncio.Event())
    events = _lines(tmp_path / "live.ndjson")
    times = [datetime.fromisoformat(str(event["time"])) for event in events]
    after_backfill = [t for t in times if t > now]
    assert min(times) == now - timedelta(days=1)
    assert after_backfill
    assert max(times) <= datetime.now(VN_TIMEZONE)
    assert all(parse_event(event) for event in events)


def test_durations_parsed_when_given_with_units() -> None:
    assert parse_duration("365d") == timedelta(days=365)
    assert parse_duration("1.5h") == timedelta(minutes=90)
    assert parse_duration("2w") == timedelta(days=14)


def test_usage_error_when_out_given_without_window(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["simulate", "--out", str(tmp_path / "x.ndjson")])
    assert result.exit_code == 2
    assert "--history" in result.output
    assert not (tmp_path / "x.ndjson").exists()
