"""Wiring of the ingest service (the only place that builds things)."""

from __future__ import annotations

from fastapi import FastAPI
from nats.aio.client import Client
from prometheus_client import CollectorRegistry

from services.contracts.streams import EVENTS
from services.ingest.adapters.dvcqg_store import DossierStore
from services.ingest.adapters.dvcqg_tables import MappingFile
from services.ingest.adapters.keystore import key_store
from services.ingest.adapters.metrics import IngestMetrics
from services.ingest.adapters.publisher import JetStreamPublisher
from services.ingest.entrypoints.api import EVENTS_PATH, ingest_router
from services.ingest.entrypoints.dvcqg_api import DVCQG_PATH, dvcqg_router
from services.ingest.entrypoints.subscribers import register_ingress
from services.ingest.service_layer.dvcqg_sync import PortalSync
from services.ingest.service_layer.handlers import Ingest
from services.ingest.settings import Settings
from services.runtime.api_keys import usage_file_in
from services.runtime.app import background_task, build_service_app
from services.runtime.gc_tuning import freeze_startup_objects
from services.runtime.http_limits import RateLimit
from services.runtime.logging import configure_logging
from services.runtime.nats.broker import create_broker, current_connection
from services.runtime.nats.store_watch import JetStreamStoreWatch
from services.runtime.serving import serve

DESCRIPTION = """Receives CloudEvents from producer systems (HTTP and NATS request-reply), validates them against
the event contract, authorises each key's sources, and stores them in the JetStream stream DVC_EVENTS. Also takes
the national portal's dossier-sync payloads as they are (POST /v1/dvcqg, docs/integration-dvcqg.md).
Start-up does not wait for NATS: until the broker is connected, /readyz and POST /v1/events answer 503."""


def _ingest(settings: Settings, registry: CollectorRegistry, publisher: JetStreamPublisher) -> Ingest:
    return Ingest(
        keys=key_store(
            settings.keys_path,
            settings.keys,
            check_every=settings.keys_reload_seconds,
            usage_file=usage_file_in(settings.var_dir, "ingest"),
        ),
        publisher=publisher,
        metrics=IngestMetrics(registry),
        max_events=settings.max_batch_events,
        retry_after_seconds=settings.retry_after_seconds,
        time_rules=settings.time_rules,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    registry = CollectorRegistry()
    broker = create_broker(settings.nats_servers, client_name="dvc-ingest", **settings.nats_connect_options())

    def connection() -> Client | None:
        return current_connection(broker)

    publisher = JetStreamPublisher(connection, timeout=settings.publish_timeout)
    ingest = _ingest(settings, registry, publisher)
    store = DossierStore(settings.dvcqg_state_path)
    sync = PortalSync(
        ingest,
        store,
        MappingFile(settings.dvcqg_mapping_path),
        settings.dvcqg_max_records,
        settings.dvcqg_default_source,
    )
    register_ingress(broker, ingest, settings.request_subject, settings.request_queue, settings.max_body_bytes)
    store_watch = JetStreamStoreWatch(
        registry,
        configured_limit_bytes=settings.jetstream_store_limit_bytes,
        refresh_seconds=settings.consumer_info_seconds,
    )
    return build_service_app(
        service="ingest",
        title="DVC Pulse ingest",
        description=DESCRIPTION,
        broker=broker,
        registry=registry,
        streams=[EVENTS.name],
        routers=[
            ingest_router(ingest, settings.max_body_bytes),
            dvcqg_router(ingest, sync, store, settings.max_body_bytes),
        ],
        on_startup=[
            background_task("jetstream-store", lambda: store_watch.run(connection)),
            publisher.closed_at_shutdown,
        ],
        connect_in_background=True,
        body_limits={EVENTS_PATH: settings.max_body_bytes, DVCQG_PATH: settings.max_body_bytes},
        rate_limit=RateLimit(settings.rate_limit_per_second, settings.rate_limit_burst),
    )


def run() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    freeze_startup_objects()
    serve(app, settings.host, settings.port, settings.log_level)
