"""How long a dossier's handling takes, as a share of its allotted working time (docs/simulator.md, "Lateness").

The share is continuous: `share = base x pace x exp(SPREAD x Z)`, Z standard normal, drawn from the dossier's
own random stream. The dossier is planned late when `share > 1`; an on-time dossier can use any part of its
allotted time, up to all of it. `pace` multiplies the risk factors a real centre has:
- the procedure's field (land and construction are slow and risky, certification quick);
- the handling officer's workload: some officer-weeks are overloaded (a colleague on leave, a campaign),
  deterministic per seed, officer and ISO week, so any window of the same seed sees the same weeks; the
  services see it as a growing backlog of that officer's open dossiers;
- a public holiday inside the window (acceptance -> due date): staff absences and the backlog after it.
`base` is set so that a dossier with `pace = 1` is late with probability `Config.late_share` x LATE_CALIBRATION
(the mix of paces above then gives an overall late share near `late_share`).
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from statistics import NormalDist

from services.simulator.calendar import LegalCalendar

SPREAD = 0.4  # standard deviation of log(share)
QUICK_BASE_FACTOR = 0.3  # a short procedure handled at the counter is usually done on the spot
FIELD_PACE = {
    "Đất đai": 1.35,
    "Hoạt động xây dựng": 1.3,
    "Bảo trợ xã hội": 1.15,
    "Người có công": 1.15,
    "Thành lập và hoạt động của hộ kinh doanh": 1.1,
    "Chứng thực": 0.85,
}
BUSY_WEEK_SHARE = 0.15  # officer-weeks that are overloaded
BUSY_WEEK_PACE = 1.4
HOLIDAY_PACE = 1.25
LATE_CALIBRATION = 0.75  # the mix above raises the late share: aim lower for pace 1
OVERRUN_CAP_DAYS = 10.0


def base_share(late_share: float) -> float:
    """Median share of a dossier with pace 1, so that P(share > 1) = late_share x LATE_CALIBRATION."""
    target = min(max(late_share * LATE_CALIBRATION, 1e-6), 1 - 1e-6)
    return math.exp(-SPREAD * NormalDist().inv_cdf(1.0 - target))


def officer_week_pace(seed: int, officer: str | None, at: datetime) -> float:
    """BUSY_WEEK_PACE in an overloaded week of this officer, 1 otherwise (same answer in every window)."""
    if officer is None:
        return 1.0
    year, week, _ = at.isocalendar()
    draw = random.Random(f"{seed}:workload:{officer}:{year}-W{week:02d}").random()
    return BUSY_WEEK_PACE if draw < BUSY_WEEK_SHARE else 1.0


def holiday_inside(legal: LegalCalendar, start: datetime, end: datetime) -> bool:
    """A public holiday (a weekday that is not worked) between `start` and `end`, local dates."""
    day, last = start.astimezone(legal.timezone).date(), end.astimezone(legal.timezone).date()
    while day <= last:
        if day.weekday() < 5 and not legal.is_working_day(day):
            return True
        day += timedelta(days=1)
    return False


def pace(field: str, seed: int, officer: str | None, legal: LegalCalendar, accepted: datetime, due: datetime) -> float:
    workload = officer_week_pace(seed, officer, accepted)
    holiday = HOLIDAY_PACE if holiday_inside(legal, accepted, due) else 1.0
    return FIELD_PACE.get(field, 1.0) * workload * holiday


def handling_share(rng: random.Random, late_share: float, factor: float, quick: bool) -> float:
    """The working time the handling will take, as a share of the allotted time (> 1: late)."""
    base = base_share(late_share) * (QUICK_BASE_FACTOR if quick else 1.0)
    return base * factor * math.exp(SPREAD * rng.gauss(0.0, 1.0))


def overrun_seconds(share: float, limit: float, day_seconds: float) -> float:
    """Working seconds past the extended due date for a late share: proportional to `share - 1`, capped."""
    return max(600.0, min((share - 1.0) * limit, OVERRUN_CAP_DAYS * day_seconds))
