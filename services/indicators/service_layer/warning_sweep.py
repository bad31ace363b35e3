"""The early-warning sweep: time passes without events, so a timer re-assesses every open dossier.

One sweep: (re)fit the risk model when stale; read the open dossiers a page at a time (`paging`: the consumer
is never held for long), and for each page read the alert ids already raised for them, decide, and record the
new alerts (an id is recorded once: insert-or-ignore); then publish every unpublished alert
(pipelined, `Nats-Msg-Id` = alert id) and mark it published. A crash between commit and publish leaves
the alert unpublished: the next sweep (or the next start) publishes it with the same id, never a second one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.contracts.alerts import DossierAlertKind
from services.contracts.subjects import ALERT_DOSSIER_AT_RISK, ALERT_DOSSIER_OVERDUE
from services.indicators.domain.calendar import WorkingClock
from services.indicators.domain.dossier import DossierState
from services.indicators.domain.risk import Observation, RiskEstimate, RiskModel
from services.indicators.domain.warning import AtRiskCriterion, assess, decide, observations
from services.indicators.service_layer.warning_ports import WarningReader, WarningUnitOfWork
from services.runtime.nats.publishing import OutgoingMessage, PublishFailed

logger = logging.getLogger("dvc_pulse.indicators.warning")
Publisher = Callable[[Sequence[OutgoingMessage]], Awaitable[None]]
SUBJECTS = {
    DossierAlertKind.AT_RISK.value: ALERT_DOSSIER_AT_RISK,
    DossierAlertKind.OVERDUE.value: ALERT_DOSSIER_OVERDUE,
}
PUBLISH_BATCH = 1000


@dataclass(frozen=True)
class WarningPolicy:
    criterion: AtRiskCriterion = field(default_factory=AtRiskCriterion)
    min_samples: int = 30
    training_days: float = 365.0
    refit_seconds: float = 300.0


@dataclass
class WarningView:
    """What the metrics render: refreshed by every sweep (the first one runs at start-up)."""

    at_risk_by_procedure: dict[tuple[str, str], int] = field(default_factory=dict)  # (agency, procedure code)
    procedure_fields: dict[str, str] = field(default_factory=dict)  # procedure code -> field of the catalogue
    alerts_by_kind: dict[str, int] = field(default_factory=dict)
    unpublished: int = 0
    sweeps: int = 0


@dataclass(frozen=True)
class SweepReport:
    raised: int
    published: int


class WarningSweep:
    def __init__(
        self,
        *,
        units: Callable[[], WarningUnitOfWork],
        reader: WarningReader,
        clock: WorkingClock,
        now: Callable[[], datetime],
        publish: Publisher,
        policy: WarningPolicy,
        view: WarningView | None = None,
    ) -> None:
        self.units = units
        self.reader = reader
        self.clock = clock
        self.now = now
        self.publish = publish
        self.policy = policy
        self.view = view or WarningView()
        self.model: RiskModel | None = None
        self._fitted_at: datetime | None = None
        self._lock = asyncio.Lock()

    async def current_model(self, at: datetime) -> RiskModel:
        """The model fitted at most `refit_seconds` ago (of `now()` time), fitting it when stale."""
        async with self._lock:
            return await self._fit_if_stale(at)

    async def _fit_if_stale(self, at: datetime) -> RiskModel:
        fresh = self._fitted_at is not None and abs((at - self._fitted_at).total_seconds()) < self.policy.refit_seconds
        if self.model is None or not fresh:
            since = at - timedelta(days=self.policy.training_days)
            samples: list[Observation] = []  # a page's states are dropped once turned into samples
            async for page in self.reader.training_dossier_pages(since):
                samples.extend(observations(page, at, self.clock))
            # the curves (sorting every sample) off the event loop
            self.model = await asyncio.to_thread(RiskModel, samples, self.policy.min_samples)
            self._fitted_at = at
        return self.model

    async def risk_of(self, state: DossierState, at: datetime) -> RiskEstimate | None:
        """Risk shown with a dossier (API); None when the dossier is closed or no model has enough data."""
        if state.ended_at is not None or state.accepted_at is None:
            return None
        return assess(state, at, await self.current_model(at), self.clock)

    async def run_once(self) -> SweepReport:
        """One sweep; sweeps are not run concurrently (one timer), the API only reads the model."""
        at = self.now()
        model = await self.current_model(at)
        at_risk: Counter[tuple[str, str]] = Counter()
        raised = 0
        async for states in self.reader.open_dossier_pages():
            raised += await self._decide_page(states, at, model, at_risk)
        self.view.at_risk_by_procedure = dict(at_risk)
        self.view.procedure_fields = await self.reader.procedure_fields()
        published = await self.publish_pending()
        self.view.alerts_by_kind, self.view.unpublished = await self.reader.alert_counts()
        self.view.sweeps += 1
        return SweepReport(raised, published)

    async def _decide_page(
        self, states: list[DossierState], at: datetime, model: RiskModel, at_risk: Counter[tuple[str, str]]
    ) -> int:
        """Record the new alerts of one page of open dossiers; counts its at-risk dossiers into `at_risk`."""
        async with self.units() as uow:
            raised = await uow.alerts.raised_ids(state.dossier_code for state in states)
            decision = decide(states, at, model, self.clock, self.policy.criterion, raised)
            if decision.alerts:
                await uow.alerts.record(decision.alerts)
                await uow.commit()
        at_risk.update(decision.at_risk_by_procedure)
        return len(decision.alerts)

    async def publish_pending(self) -> int:
        """Publish the recorded alerts JetStream has not acknowledged yet; returns how many were acknowledged."""
        done = 0
        while True:
            batch = await self.reader.pending(PUBLISH_BATCH)
            if not batch:
                return done
            messages = [OutgoingMessage(SUBJECTS[item.kind], item.payload, item.alert_id) for item in batch]
            try:
                await self.publish(messages)
            except PublishFailed:
                logger.warning("%d alerts not acknowledged by JetStream; retried next sweep", len(batch), exc_info=True)
                return done
            async with self.units() as uow:
                await uow.alerts.mark_published([item.alert_id for item in batch], self.now())
                await uow.commit()
            done += len(batch)
            if len(batch) < PUBLISH_BATCH:
                return done


class SweepLoop:
    """A sweep every `interval` seconds; a failed sweep is logged and the next tick retries."""

    def __init__(self, sweep: WarningSweep, interval: float) -> None:
        self.sweep = sweep
        self.interval = interval

    async def run_once(self) -> None:
        try:
            await self.sweep.run_once()
        except Exception:  # a DB or broker hiccup never stops the timer
            logger.warning("early-warning sweep failed", exc_info=True)

    async def run(self) -> None:
        """Sweep every `interval` seconds; the caller runs the first sweep (at start-up) itself."""
        while True:
            await asyncio.sleep(self.interval)
            await self.run_once()
