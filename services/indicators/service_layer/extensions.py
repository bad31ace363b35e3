"""Hooks for the early-warning part (indicators-B): see docs/indicators.md, "Early warning (indicators-B)".

`bootstrap.create_app()` imports `services.indicators.bootstrap_warning` when it exists and calls its
`extend(context) -> IndicatorsExtension`; tests may pass extension factories to `create_app` directly.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import APIRouter
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.indicators.domain.calendar import WorkingCalendar
from services.indicators.domain.dossier import DossierState
from services.indicators.settings import Settings


@dataclass(frozen=True)
class RiskView:
    """The `risk` of `GET /v1/dossiers/{code}`: P(ends late), the curve's basis and its sample size."""

    probability: float
    basis: str  # procedure | agency | all
    sample_size: int  # finished dossiers the estimate was learned from


StartupStep = Callable[[AsyncExitStack], Awaitable[None]]
RiskLookup = Callable[[DossierState, datetime], Awaitable[RiskView | None]]
AfterBatch = Callable[[Sequence[str]], Awaitable[None]]
WIRING_MODULE = "services.indicators.bootstrap_warning"


class DossierReader:
    """Read access to the dossier projection for extensions."""

    def __init__(
        self, get: Callable[[str], Awaitable[DossierState | None]], open_: Callable[[], Awaitable[list[DossierState]]]
    ) -> None:
        self._get = get
        self._open = open_

    async def get(self, code: str) -> DossierState | None:
        return await self._get(code)

    async def open_dossiers(self) -> list[DossierState]:
        """Every accepted dossier whose clock still runs."""
        return await self._open()


@dataclass(frozen=True)
class IndicatorsContext:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: NatsBroker
    registry: CollectorRegistry
    calendar: WorkingCalendar
    dossiers: DossierReader
    now: Callable[[], datetime]
    js: Callable[[], JetStreamContext]  # valid once the broker is connected (in startup steps and later)


@dataclass
class IndicatorsExtension:
    routers: Sequence[APIRouter] = ()
    on_startup: Sequence[StartupStep] = ()
    risk: RiskLookup | None = None
    after_batch: Sequence[AfterBatch] = ()


ExtensionFactory = Callable[[IndicatorsContext], IndicatorsExtension]


@dataclass
class Extensions:
    items: list[IndicatorsExtension] = field(default_factory=list)

    @property
    def routers(self) -> list[APIRouter]:
        return [router for item in self.items for router in item.routers]

    @property
    def on_startup(self) -> list[StartupStep]:
        return [step for item in self.items for step in item.on_startup]

    @property
    def after_batch(self) -> list[AfterBatch]:
        return [callback for item in self.items for callback in item.after_batch]

    @property
    def risk(self) -> RiskLookup | None:
        return next((item.risk for item in self.items if item.risk is not None), None)


def discovered_factories() -> list[ExtensionFactory]:
    """`extend` of the early-warning wiring module, when that module exists."""
    try:
        if importlib.util.find_spec(WIRING_MODULE) is None:
            return []
    except ModuleNotFoundError:
        return []
    module = importlib.import_module(WIRING_MODULE)
    factory: ExtensionFactory = module.extend
    return [factory]
