"""Build domain events for fold tests from the shared factories."""

from __future__ import annotations

from typing import Any

from services.contracts.events import parse_event
from services.indicators.domain.dossier import DossierEvent
from services.indicators.domain.events import to_projected
from tests.factories import dossier_event

CODE = "000.00.00.H00-260302-0001"


def event(short_type: str, time: str, code: str = CODE, **data: Any) -> DossierEvent:
    projected = to_projected(parse_event(dossier_event(short_type, code, time=time, **data)))
    assert isinstance(projected, DossierEvent)
    return projected
