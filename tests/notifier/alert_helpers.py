"""Alerts and the staff directory that officer reminders need, shared by the notifier's tests."""

from __future__ import annotations

from pathlib import Path

from services.contracts.alerts import DossierAlertKind, DossierAlertRaised
from tests.notifier.helpers import vn


def at_risk_alert(dossier_code: str, risk: float | None = 0.9) -> DossierAlertRaised:
    """Dossier `dossier_code` of officer CB-001 at risk on 4/3/2026 09:00, due 5/3/2026 17:00."""
    return DossierAlertRaised(
        alert_id=f"at_risk:{dossier_code}",
        kind=DossierAlertKind.AT_RISK,
        dossier_code=dossier_code,
        procedure_code="1.001193",
        agency="UBND-LAMTHAO",
        officer="CB-001",
        due_at=vn("2026-03-05T17:00:00"),
        risk=risk,
        raised_at=vn("2026-03-04T09:00:00"),
    )


def staff_directory(directory: Path, units: str = "") -> Path:
    """A staff file with officer CB-001's phone (and `units`, YAML lines under `units:`, when given)."""
    path = directory / "staff.yaml"
    text = 'officers:\n  CB-001: "0987 654 321"\n' + (f"units:\n{units}" if units else "")
    path.write_text(text, encoding="utf-8")
    return path
