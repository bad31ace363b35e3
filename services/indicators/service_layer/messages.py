"""Messages the indicators' use cases take and give back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from services.indicators.domain.dossier import DossierState
from services.indicators.domain.events import ProjectedEvent


@dataclass(frozen=True, slots=True)
class Incoming:
    """A decoded event with its identity and, when it came from the stream, its sequence."""

    source: str
    id: str
    projected: ProjectedEvent
    sequence: int | None = None


@dataclass
class AppliedBatch:
    received: int = 0
    new_events: int = 0
    dossier_codes: list[str] = field(default_factory=list)
    refolded: int = 0
    last_sequence: int | None = None


@dataclass(frozen=True)
class RiskView:
    """The `risk` of `GET /v1/dossiers/{code}`: P(ends late), the curve's basis and its sample size."""

    probability: float
    basis: str  # procedure | agency | all
    sample_size: int  # finished dossiers the estimate was learned from


RiskLookup = Callable[[DossierState, datetime], Awaitable[RiskView | None]]
