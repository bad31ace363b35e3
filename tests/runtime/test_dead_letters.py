"""`dvc-pulse dlq`: dead letters made by BatchProcessor on a real nats-server, listed and redriven."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence

import nats
import orjson
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from pydantic import ValidationError
from typer.testing import CliRunner, Result

from services.contracts.events import parse_event
from services.ops.dlq_cli import app
from services.runtime.nats.consuming import BatchProcessor, InvalidMessage
from services.runtime.nats.dead_letters import (
    DeadLetter,
    RedriveReport,
    plan_redrive,
    read_dead_letters,
    redrive,
)
from services.runtime.nats.embedded import EmbeddedNats, free_port
from services.runtime.nats.publishing import OutgoingMessage, publish_all
from services.runtime.nats.streams import apply_streams
from tests import factories

SUBJECT = "dvc.events.dossier.accepted"
runner = CliRunner()


@pytest.fixture
async def js(private_nats: EmbeddedNats) -> AsyncIterator[JetStreamContext]:
    client: Client = await nats.connect(private_nats.url)
    context = client.jetstream()
    await apply_streams(context)
    yield context
    await client.close()


def _event(event_id: str) -> bytes:
    return orjson.dumps(factories.dossier_event("dossier.accepted", event_id=event_id))


async def _publish_original(js: JetStreamContext, event_id: str) -> tuple[bytes, str]:
    body = _event(event_id)
    msg_id = f"{factories.SOURCE}:{event_id}"
    await js.publish(SUBJECT, body, headers={"Nats-Msg-Id": msg_id})
    return body, msg_id


async def _give_up(js: JetStreamContext, durable: str, service: str = "notifier") -> None:
    """A consumer whose every apply fails: with max_deliver=2 the first failure dead-letters the message."""

    async def failing(items: Sequence[bytes]) -> None:
        raise RuntimeError("SMS provider down")

    subscription = await js.pull_subscribe(SUBJECT, durable=durable, stream="DVC_EVENTS")
    processor = BatchProcessor(service, durable, js, lambda message: message.data, failing, max_deliver=2)
    outcome = await processor.process(await subscription.fetch(1, timeout=2))
    assert outcome.dead_lettered == 1


async def _invoke(private_nats: EmbeddedNats, *args: str) -> Result:
    return await asyncio.to_thread(runner.invoke, app, [*args, "--nats-url", private_nats.url])


async def _last_seq(js: JetStreamContext, stream: str) -> int:
    return (await js.stream_info(stream)).state.last_seq


async def _dlq_size(js: JetStreamContext) -> int:
    return (await js.stream_info("DVC_DLQ")).state.messages


async def test_redrive_puts_the_original_bytes_back_on_its_subject_when_a_consumer_gave_up(
    private_nats: EmbeddedNats, js: JetStreamContext
) -> None:
    body, msg_id = await _publish_original(js, "evt-redrive-1")
    await _give_up(js, "notifier-events")

    listing = await _invoke(private_nats, "list")
    assert listing.exit_code == 0, listing.output
    row = listing.stdout.splitlines()[1]
    assert row.split()[:6] == ["1", "notifier", "notifier-events", "DVC_EVENTS", "#1", SUBJECT]
    assert "failed 1 deliveries" in row
    assert "0912345678" not in listing.output
    assert "Nguyễn" not in listing.output
    assert listing.stdout.splitlines()[-1] == "1 of 1 dead letters shown"

    result = await _invoke(private_nats, "redrive", "--service", "notifier")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "1 selected: 1 republished, 0 already republished by an earlier run, 1 removed from DVC_DLQ, "
        "0 skipped, 0 failed"
    )
    copy = await js.get_msg("DVC_EVENTS", 2)
    assert (copy.subject, copy.data) == (SUBJECT, body)
    assert copy.headers is not None
    assert copy.headers["Nats-Msg-Id"] == f"redrive:1:{msg_id}"
    assert copy.headers["Dvc-Redriven-From"] == msg_id
    assert await _dlq_size(js) == 0

    applied: list[bytes] = []

    async def working(items: Sequence[bytes]) -> None:
        applied.extend(items)

    subscription = await js.pull_subscribe(SUBJECT, durable="notifier-events", stream="DVC_EVENTS")
    processor = BatchProcessor("notifier", "notifier-events", js, lambda m: m.data, working, max_deliver=2)
    await processor.process(await subscription.fetch(1, timeout=2))
    assert applied == [body]

    again = await _invoke(private_nats, "redrive", "--all")
    assert again.stdout.splitlines()[-1].startswith("0 selected: 0 republished")
    assert await _last_seq(js, "DVC_EVENTS") == 2


async def test_dry_run_changes_nothing_when_redrive_is_asked_for_a_preview(
    private_nats: EmbeddedNats, js: JetStreamContext
) -> None:
    _, msg_id = await _publish_original(js, "evt-dry-1")
    await _give_up(js, "notifier-events")

    result = await _invoke(private_nats, "redrive", "--seq", "1", "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"would republish DLQ #1 -> {SUBJECT} (DVC_EVENTS) as redrive:1:{msg_id}",
        "dry run: 1 selected, 1 republishes planned, nothing changed",
    ]
    assert await _dlq_size(js) == 1
    assert await _last_seq(js, "DVC_EVENTS") == 1


async def test_rerun_stores_no_second_copy_when_a_redrive_was_interrupted_after_the_publish(
    js: JetStreamContext,
) -> None:
    await _publish_original(js, "evt-interrupted-1")
    await _give_up(js, "notifier-events")
    interrupted = RedriveReport()
    await plan_redrive(js, await read_dead_letters(js), interrupted)
    await publish_all(js, [item.message for item in interrupted.planned])  # then the process died

    report = await redrive(js, service="notifier")

    assert (report.published, report.already_published, report.removed) == (0, 1, 1)
    assert await _last_seq(js, "DVC_EVENTS") == 2
    assert await _dlq_size(js) == 0


async def test_one_copy_is_republished_when_two_consumers_gave_up_on_the_same_message(js: JetStreamContext) -> None:
    body, _ = await _publish_original(js, "evt-twice-1")
    await _give_up(js, "notifier-events", service="notifier")
    await _give_up(js, "indicators", service="indicators")

    report = await redrive(js, sequences=[1, 2])

    assert (report.selected, report.published, report.removed) == (2, 1, 2)
    assert [item.dead_letters for item in report.planned] == [(1, 2)]
    assert (await js.get_msg("DVC_EVENTS", 2)).data == body
    assert await _last_seq(js, "DVC_EVENTS") == 2


async def test_second_redrive_keeps_the_first_original_id_when_the_copy_failed_again(js: JetStreamContext) -> None:
    _, msg_id = await _publish_original(js, "evt-again-1")
    await _give_up(js, "notifier-events")
    await redrive(js, service="notifier")
    await _give_up(js, "notifier-events")  # the redriven copy (DVC_EVENTS #2) fails too: DLQ #2

    report = await redrive(js, service="notifier")

    assert [item.message.msg_id for item in report.planned] == [f"redrive:2:{msg_id}"]
    copy = await js.get_msg("DVC_EVENTS", 3)
    assert copy.headers is not None
    assert copy.headers["Dvc-Redriven-From"] == msg_id


async def test_original_id_is_read_from_the_stream_when_the_record_predates_it(js: JetStreamContext) -> None:
    body, msg_id = await _publish_original(js, "evt-legacy-1")
    legacy_headers = {
        "Dvc-Original-Subject": SUBJECT,
        "Dvc-Original-Stream": "DVC_EVENTS",
        "Dvc-Original-Sequence": "1",
        "Dvc-Consumer": "notifier-events",
        "Dvc-Error": "failed 7 deliveries",
    }
    await publish_all(js, [OutgoingMessage("dvc.dlq.notifier", body, "DVC_EVENTS:1:notifier-events", legacy_headers)])

    report = await redrive(js, service="notifier")

    assert report.published == 1
    copy = await js.get_msg("DVC_EVENTS", 2)
    assert copy.headers is not None
    assert (copy.headers["Nats-Msg-Id"], copy.headers["Dvc-Redriven-From"]) == (f"redrive:1:{msg_id}", msg_id)


async def test_message_stays_in_the_dlq_when_its_original_subject_has_no_stream(js: JetStreamContext) -> None:
    headers = {"Dvc-Original-Subject": "dvc.gone.x", "Dvc-Original-Stream": "DVC_GONE", "Dvc-Original-Sequence": "3"}
    await publish_all(js, [OutgoingMessage("dvc.dlq.notifier", b"{}", "DVC_GONE:3:n", headers)])

    report = await redrive(js, service="notifier")

    assert [sequence for sequence, _ in report.failed] == [1]
    assert (report.published, report.removed) == (0, 0)
    assert await _dlq_size(js) == 1


async def test_list_hides_validation_inputs_and_show_payload_prints_one_when_asked(
    private_nats: EmbeddedNats, js: JetStreamContext
) -> None:
    bad = factories.dossier_event("dossier.accepted", event_id="evt-bad-1")
    bad["data"]["applicant"]["phone"] = 912345678
    body = orjson.dumps(bad)
    await js.publish(SUBJECT, body)

    def decode(message: Msg) -> bytes:
        try:
            parse_event(message.data)
        except ValidationError as error:
            raise InvalidMessage(str(error)[:900]) from error
        return message.data

    async def apply(items: Sequence[bytes]) -> None:
        return None

    subscription = await js.pull_subscribe(SUBJECT, durable="notifier-events", stream="DVC_EVENTS")
    processor = BatchProcessor("notifier", "notifier-events", js, decode, apply, max_deliver=5)
    await processor.process(await subscription.fetch(1, timeout=2))

    listing = await _invoke(private_nats, "list", "--service", "notifier")
    masked = await _invoke(private_nats, "list", "--show-payload", "--seq", "1")
    shown = await _invoke(private_nats, "list", "--show-payload", "--seq", "1", "--show-personal-data")

    assert "data.applicant.phone Input should be a valid string" in listing.output
    assert "912345678" not in listing.output
    assert "Nguyễn" not in listing.output
    assert masked.exit_code == 0, masked.output
    assert orjson.loads(masked.stdout.splitlines()[-1])["data"]["applicant"]["phone"] == "91*****78"
    assert "912345678" not in masked.output
    assert "Nguyễn" not in masked.output
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines()[-1] == body.decode()


def test_error_summary_hides_input_values_when_the_error_was_cut_mid_value() -> None:
    error = "invalid: x [type=enum, input_value='fax', input_type=str]\ny input_value='Nguyễn Thị H"
    letter = DeadLetter(1, "notifier", None, {"Dvc-Error": error}, b"")

    assert letter.error_summary() == (
        "invalid: x [type=enum, input_value=<hidden>, input_type=str] y input_value=<hidden>"
    )


async def test_list_masks_names_and_phones_when_an_error_quotes_them(
    private_nats: EmbeddedNats, js: JetStreamContext
) -> None:
    error = "invalid: applicant {'name': 'Trần Văn Bình', 'phone': '0912 345 678'} refused; call 0987654321"
    await js.publish("dvc.dlq.notifier", b"{}", headers={"Dvc-Error": error, "Dvc-Consumer": "notifier-events"})

    listing = await _invoke(private_nats, "list")

    assert listing.exit_code == 0, listing.output
    assert "'name': 'T*** V*** B***', 'phone': '09******78'" in listing.output
    assert "09******21" in listing.output
    assert "Bình" not in listing.output
    assert "345 678" not in listing.output


async def test_dead_letters_are_kept_30_days_when_the_streams_are_applied(js: JetStreamContext) -> None:
    info = await js.stream_info("DVC_DLQ")

    assert info.config.max_age == 30 * 86_400


def test_list_exits_1_with_one_line_when_nats_is_unreachable() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["list", "--nats-url", url])

    assert result.exit_code == 1
    said, failed = result.stderr.splitlines()
    assert said == f"NATS: {url} (--nats-url)"  # every command says which server it used, and why
    assert failed.startswith(f"cannot reach NATS at {url}: ")
    assert "Traceback" not in result.output


def test_dlq_command_imports_no_service_package_when_loaded() -> None:
    code = (
        "import sys, services.ops.dlq_cli\n"
        "services = ('ingest', 'indicators', 'tasks', 'notifier', 'simulator')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[:2][-1] in services and m.startswith('services.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
