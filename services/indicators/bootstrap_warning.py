"""Wiring of the early warning into the indicators service: `bootstrap.create_app()` calls `extend(context)`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AsyncExitStack, suppress
from datetime import datetime

from services.contracts.streams import ALERTS
from services.indicators.adapters.tables import TABLES
from services.indicators.adapters.warning_metrics import register_metrics
from services.indicators.domain.dossier import DossierState
from services.indicators.domain.warning import AtRiskCriterion, WarningMethod
from services.indicators.entrypoints.api_warning import build_alerts_router
from services.indicators.service_layer.extensions import IndicatorsContext, IndicatorsExtension, RiskView
from services.indicators.service_layer.warning_sweep import Publisher, SweepLoop, WarningPolicy, WarningSweep
from services.runtime.nats.publishing import OutgoingMessage, publish_all


def extend(context: IndicatorsContext, publish: Publisher | None = None) -> IndicatorsExtension:
    """`publish` defaults to pipelined JetStream publishing on the service's connection (DVC_ALERTS)."""
    settings = context.settings

    async def publish_to_jetstream(messages: Sequence[OutgoingMessage]) -> None:
        await publish_all(context.js(), messages, expected_stream=ALERTS.name)

    sweep = WarningSweep(
        engine=context.engine,
        sessions=context.sessions,
        tables=TABLES,
        clock=context.calendar,
        now=context.now,
        publish=publish or publish_to_jetstream,
        policy=WarningPolicy(
            criterion=AtRiskCriterion(
                WarningMethod(settings.warning_method), settings.warning_rule_cut, settings.warning_threshold
            ),
            min_samples=settings.warning_min_samples,
            training_days=settings.warning_training_days,
            refit_seconds=settings.warning_refit_seconds,
        ),
    )
    register_metrics(context.registry, sweep.view, settings.metrics_max_agencies)
    loop = SweepLoop(sweep, settings.warning_interval_seconds)

    async def start(stack: AsyncExitStack) -> None:
        await loop.run_once()  # alerts left unpublished before a restart go out now; the gauge is restored
        task = asyncio.create_task(loop.run(), name="indicators-warning-sweep")

        async def stop() -> None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

        stack.push_async_callback(stop)

    async def risk(state: DossierState, at: datetime) -> RiskView | None:
        estimate = await sweep.risk_of(state, at)
        if estimate is None:
            return None
        return RiskView(estimate.probability, estimate.basis.value, estimate.sample_size)

    return IndicatorsExtension(
        routers=[build_alerts_router(context.engine, TABLES, settings.timezone)],
        on_startup=[start],
        risk=risk,
    )
