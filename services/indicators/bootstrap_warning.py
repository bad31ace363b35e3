"""Wiring of the early warning into the indicators service (called by `bootstrap.create_app`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.contracts.streams import ALERTS
from services.indicators.adapters.tables import TABLES
from services.indicators.adapters.warning_metrics import register_metrics
from services.indicators.adapters.warning_unit_of_work import SqlWarningReader, SqlWarningUnitOfWork
from services.indicators.domain.calendar import WorkingCalendar
from services.indicators.domain.dossier import DossierState
from services.indicators.domain.warning import AtRiskCriterion, WarningMethod
from services.indicators.entrypoints.api_warning import build_alerts_router
from services.indicators.service_layer.messages import RiskView
from services.indicators.service_layer.warning_sweep import Publisher, SweepLoop, WarningPolicy, WarningSweep
from services.indicators.settings import Settings
from services.runtime.nats.publishing import OutgoingMessage, publish_all

StartupStep = Callable[[AsyncExitStack], Awaitable[None]]


@dataclass(frozen=True)
class EarlyWarning:
    router: APIRouter
    start: StartupStep
    sweep: WarningSweep

    async def risk(self, state: DossierState, at: datetime) -> RiskView | None:
        estimate = await self.sweep.risk_of(state, at)
        if estimate is None:
            return None
        return RiskView(estimate.probability, estimate.basis.value, estimate.sample_size)


def policy_of(settings: Settings) -> WarningPolicy:
    criterion = AtRiskCriterion(
        WarningMethod(settings.warning_method), settings.warning_rule_cut, settings.warning_threshold
    )
    return WarningPolicy(
        criterion=criterion,
        min_samples=settings.warning_min_samples,
        training_days=settings.warning_training_days,
        refit_seconds=settings.warning_refit_seconds,
    )


def wire_early_warning(
    settings: Settings,
    *,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    registry: CollectorRegistry,
    calendar: WorkingCalendar,
    now: Callable[[], datetime],
    js: Callable[[], JetStreamContext],
    publish: Publisher | None = None,
) -> EarlyWarning:
    """`publish` defaults to pipelined JetStream publishing on the service's connection (DVC_ALERTS)."""

    async def publish_to_jetstream(messages: Sequence[OutgoingMessage]) -> None:
        await publish_all(js(), messages, expected_stream=ALERTS.name)

    sweep = WarningSweep(
        units=lambda: SqlWarningUnitOfWork(sessions, TABLES),
        reader=SqlWarningReader(engine, TABLES),
        clock=calendar,
        now=now,
        publish=publish or publish_to_jetstream,
        policy=policy_of(settings),
    )
    register_metrics(registry, sweep.view, settings.metrics_max_agencies)
    loop = SweepLoop(sweep, settings.warning_interval_seconds)

    async def start(stack: AsyncExitStack) -> None:
        await loop.run_once()  # alerts left unpublished before a restart go out now; the gauge is restored
        task = asyncio.create_task(loop.run(), name="indicators-warning-sweep")

        async def stop() -> None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

        stack.push_async_callback(stop)

    return EarlyWarning(build_alerts_router(engine, TABLES, settings.timezone), start, sweep)
