"""`dvc-pulse indicators rebuild`: wires the rebuild to the database and NATS of the settings."""

from __future__ import annotations

import nats

from services.indicators.adapters.calendar_file import load_overrides
from services.indicators.adapters.migrate import upgrade
from services.indicators.adapters.rebuild_target import NatsEventSource, SqlRebuildTarget
from services.indicators.domain.calendar import build_calendar
from services.indicators.entrypoints.decoding import decode
from services.indicators.service_layer.rebuild import Progress, RebuildResult, rebuild_projections
from services.indicators.settings import Settings
from services.runtime.db import create_engine


async def rebuild(settings: Settings, *, batch_size: int = 1000, progress: Progress | None = None) -> RebuildResult:
    """Replay everything into fresh tables, swap, catch up (the service may keep running)."""
    engine = create_engine(settings.resolved_database_url())
    calendar = build_calendar(
        settings.timezone,
        settings.working_hours,
        load_overrides(settings.calendar_overrides),
        settings.calendar_country,
    )
    connection = await nats.connect(settings.nats_servers, connect_timeout=5, **settings.cli_nats_options())
    try:
        await upgrade(engine)
        target = SqlRebuildTarget(engine, calendar, settings.consumer, settings.rebuild_state_cache_size)
        source = NatsEventSource(connection)
        return await rebuild_projections(source, target, decode, batch_size=batch_size, progress=progress)
    finally:
        await connection.close()
        await engine.dispose()
