from __future__ import annotations

import asyncio
import os
import stat
import threading
from pathlib import Path

from services.notifier.adapters.providers import OutboxSettings, read_outbox
from services.notifier.adapters.providers.outbox import OutboxProvider
from services.notifier.domain.sending import Encoding, ReceiptStatus
from tests.notifier.providers.helpers import UNACCENTED_TEXT, VIETNAMESE_TEXT, Receipts, sms


async def test_outbox_writes_one_exact_json_line_when_a_message_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "var" / "sms-outbox.jsonl"
    provider = OutboxProvider(OutboxSettings(path=path, immediate_receipt=False))
    message = sms(VIETNAMESE_TEXT, encoding=Encoding.UCS2, segments=2)

    result = await provider.send(message)
    await provider.close()

    assert result.accepted
    assert result.provider == "outbox"
    [record] = read_outbox(path)
    assert record["notification_id"] == message.notification_id
    assert record["to"] == "+84912345678"
    assert record["text"] == VIETNAMESE_TEXT
    assert record["encoding"] == "UCS-2"
    assert record["segments"] == 2
    assert record["sender"] == "UBND LamThao"
    assert record["provider_reference"] == result.provider_reference
    assert record["sent_at"].endswith("+00:00")
    assert VIETNAMESE_TEXT.encode() in path.read_bytes()  # UTF-8, not \\u escapes


async def test_outbox_reports_delivered_when_immediate_receipts_are_on(tmp_path: Path) -> None:
    receipts = Receipts()
    provider = OutboxProvider(OutboxSettings(path=tmp_path / "o.jsonl"), receipts)

    result = await provider.send(sms(UNACCENTED_TEXT, encoding=Encoding.GSM7, segments=1))
    [receipt] = await receipts.wait(1)
    await provider.close()

    assert receipt.provider == "outbox"
    assert receipt.provider_reference == result.provider_reference
    assert receipt.status is ReceiptStatus.DELIVERED


async def test_outbox_keeps_every_line_whole_when_many_senders_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    first = OutboxProvider(OutboxSettings(path=path, immediate_receipt=False))
    second = OutboxProvider(OutboxSettings(name="outbox-2", path=path, immediate_receipt=False))
    messages = [sms(f"{VIETNAMESE_TEXT} #{index}") for index in range(300)]

    def other_loop() -> None:  # a writer on another thread and event loop, same file
        async def run() -> None:
            third = OutboxProvider(OutboxSettings(path=path, immediate_receipt=False))
            await asyncio.gather(*(third.send(sms(f"thread {index}")) for index in range(100)))
            await third.close()

        asyncio.run(run())

    thread = threading.Thread(target=other_loop)
    thread.start()
    results = await asyncio.gather(
        *((first if index % 2 else second).send(message) for index, message in enumerate(messages))
    )
    await asyncio.to_thread(thread.join)
    await first.close()
    await second.close()

    assert all(result.accepted for result in results)
    records = read_outbox(path)
    assert len(records) == 400
    assert len(path.read_bytes().splitlines()) == 400
    texts = {record["text"] for record in records}
    assert {message.text for message in messages} <= texts


async def test_outbox_starts_a_new_line_when_the_file_ends_with_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    path.write_bytes(b'{"notification_id": "torn", "te')
    provider = OutboxProvider(OutboxSettings(path=path, immediate_receipt=False))

    await provider.send(sms("Xin chào"))
    await provider.close()

    assert [record["text"] for record in read_outbox(path)] == ["Xin chào"]


async def test_outbox_reports_a_temporary_error_when_the_file_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    provider = OutboxProvider(OutboxSettings(path=blocker / "o.jsonl", immediate_receipt=False))

    result = await provider.send(sms())
    await provider.close()

    assert not result.accepted
    assert not result.permanent
    assert result.error is not None
    assert result.error.startswith("outbox write failed")


async def test_outbox_file_is_readable_by_its_owner_only_when_created_or_found_open_to_all(tmp_path: Path) -> None:
    created = tmp_path / "var" / "sms-outbox.jsonl"
    inherited = tmp_path / "old-outbox.jsonl"
    inherited.write_bytes(b"")
    inherited.chmod(0o644)
    for path in (created, inherited):
        provider = OutboxProvider(OutboxSettings(path=path, immediate_receipt=False))
        assert (await provider.send(sms(VIETNAMESE_TEXT, encoding=Encoding.UCS2, segments=2))).accepted
        await provider.close()

    assert stat.S_IMODE(os.stat(created).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(inherited).st_mode) == 0o600
    assert len(read_outbox(created)) == len(read_outbox(inherited)) == 1
