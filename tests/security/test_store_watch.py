"""The JetStream store gauges (alert DvcJetStreamStoreFilling), read as the ingest user of `make up`: its
permissions allow the account info request, the bytes stored grow with what is published, and the limit is the
configured `max_file_store` while the account has no limit of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from services.runtime.nats.store_watch import DEFAULT_STORE_LIMIT_BYTES, JetStreamStoreWatch
from tests.metric_helpers import sample
from tests.security.conftest import SecuredNats

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(60)


async def test_store_gauges_show_the_bytes_stored_when_the_ingest_user_reads_the_account_info(
    fresh_secured: SecuredNats,
) -> None:
    registry = CollectorRegistry()
    watch = JetStreamStoreWatch(registry, configured_limit_bytes=10 * 1024**2)
    async with fresh_secured.connected("ingest") as client:
        await watch.refresh(client)
        before = sample(generate_latest(registry).decode(), "dvc_jetstream_store_bytes")
        await client.jetstream().publish("dvc.events.dossier_received", b"x" * 4096, stream="DVC_EVENTS")
        await watch.refresh(client)
    text = generate_latest(registry).decode()
    after = sample(text, "dvc_jetstream_store_bytes")
    assert before is not None
    assert after is not None
    assert after - before >= 4096
    assert sample(text, "dvc_jetstream_store_limit_bytes") == 10 * 1024**2


def test_store_limit_defaults_to_the_deployed_max_file_store_when_nothing_is_configured() -> None:
    registry = CollectorRegistry()
    JetStreamStoreWatch(registry)
    assert sample(generate_latest(registry).decode(), "dvc_jetstream_store_limit_bytes") == DEFAULT_STORE_LIMIT_BYTES
    for config in ("server.conf", "cluster.conf"):
        text = (ROOT / "deploy/nats" / config).read_text(encoding="utf-8")
        assert "max_file_store: 50GB" in text, f"{config}: keep DEFAULT_STORE_LIMIT_BYTES in step"
