"""One dossier's life: submission, intake, handling with pauses and transfers, result, return, feedback.

Staff actions happen on the staff clock (the legal working calendar, or `AlwaysOpen` for the compressed
live demo, with durations divided by `Config.time_scale`); due dates always follow the legal calendar.
"""

from __future__ import annotations

from datetime import datetime

from services.contracts.events import EventType
from services.simulator.envelopes import SimEvent
from services.simulator.lateness import handling_share, overrun_seconds, pace
from services.simulator.model import DossierTruth
from services.simulator.steps import REJECT_REASONS, STEPS
from services.simulator.timeline import DAY, DossierContext, Life, due_at_for

__all__ = ["DossierContext", "due_at_for", "plan_dossier"]


def plan_dossier(ctx: DossierContext) -> tuple[list[SimEvent], DossierTruth]:
    """Plan the whole life of one dossier; events are in time order."""
    life, rng, cfg = Life(ctx), ctx.rng, ctx.config
    truth = life.truth
    life.emit(EventType.DOSSIER_SUBMITTED, "submitted", {"channel": ctx.channel, "applicant": life.applicant()})
    receiver = rng.choice(ctx.commune.receivers)
    intake = {"direct": rng.uniform(180, 1500), "online": rng.uniform(600, 21_600), "postal": rng.uniform(1800, DAY)}
    life.after(intake[ctx.channel])
    if rng.random() < cfg.reject_share:
        truth.rejected_at = life.t
        life.emit(EventType.DOSSIER_REJECTED, "rejected", {"officer": receiver, "reason": rng.choice(REJECT_REASONS)})
        return life.events, truth
    _accept(life, receiver)
    _handle(life)
    return life.events, truth


def _accept(life: Life, receiver: str) -> None:
    ctx, rng, truth = life.ctx, life.rng, life.truth
    truth.accepted_at = life.t
    truth.due_at = due_at_for(ctx.legal, life.t, ctx.procedure.time_limit)
    truth.officer = truth.assigned_officer = rng.choice(ctx.commune.handlers(ctx.procedure.agency))
    online = ctx.channel == "online"
    truth.digitized = online or rng.random() < 0.88
    truth.reused_data = rng.random() < {"online": 0.85, "direct": 0.6, "postal": 0.5}[ctx.channel]
    life.emit(
        EventType.DOSSIER_ACCEPTED,
        "accepted",
        {
            "channel": ctx.channel,
            "applicant": life.applicant(),
            "receiving_agency": truth.receiving_agency,
            "officer": receiver,
            "due_at": truth.due_at.isoformat(),
            "digitized": truth.digitized,
            "reused_data": truth.reused_data,
        },
    )


def _handle(life: Life) -> None:
    ctx, rng, cfg, truth = life.ctx, life.rng, life.ctx.config, life.truth
    assert truth.accepted_at is not None
    assert truth.due_at is not None
    limit = ctx.legal.working_seconds_between(truth.accepted_at, truth.due_at)
    fate = rng.random()
    withdraw, stop = fate < cfg.withdraw_share, cfg.withdraw_share <= fate < cfg.withdraw_share + cfg.stop_share
    quick = ctx.channel == "direct" and limit <= DAY
    factor = pace(ctx.procedure.field, ctx.seed, truth.officer, ctx.legal, truth.accepted_at, truth.due_at)
    share = handling_share(rng, cfg.late_share, factor, quick)
    late = not (withdraw or stop) and share > 1.0
    truth.planned_late = late
    active = limit * min(share, 1.0)
    steps: list[tuple[float, str]] = []
    if rng.random() < cfg.transfer_share:
        steps.append((rng.uniform(0.05, 0.3), "transfer"))
    if ctx.procedure.fee > 0:
        steps.append((0.0 if ctx.channel == "direct" else rng.uniform(0.0, 0.15), "payment"))
    if stop or rng.random() < cfg.supplement_share:
        steps.append((rng.uniform(0.2, 0.6), "stop" if stop else "supplement"))
    if withdraw:
        steps.append((rng.uniform(0.2, 0.8), "withdraw"))
    if late and rng.random() < cfg.reschedule_share:
        steps.append((rng.uniform(0.6, 0.95), "reschedule"))
    done = 0.0
    for fraction, step in sorted(steps):
        life.after(max(60.0, (fraction - done) * active))
        done = max(done, fraction)
        if STEPS[step](life) == "ended":
            return
    if late:
        _overrun(life, overrun_seconds(share, limit, DAY))
    else:
        life.after(max(60.0, (1.0 - done) * active))
        # a share close to 1 plus the unpaused gaps between steps can still end past the due date
        truth.planned_late = life.t > _extended_due(life)
    _finish(life)


def _extended_due(life: Life) -> datetime:
    legal, truth = life.ctx.legal, life.truth
    assert truth.due_at is not None
    paused = sum(legal.working_seconds_between(p.start, p.end) for p in truth.pauses if p.end is not None)
    return legal.add_working_time(truth.due_at, paused)


def _overrun(life: Life, overrun: float) -> None:
    """Process a late dossier `overrun` working seconds after its extended due date (legal calendar)."""
    legal = life.ctx.legal
    target = legal.add_working_time(_extended_due(life), float(round(overrun)))  # whole seconds: in working hours
    life.t = max(target, legal.add_working_time(life.t, 60.0))


def _finish(life: Life) -> None:
    ctx, rng, truth = life.ctx, life.rng, life.truth
    channel = ctx.channel
    truth.processed_at = life.t
    truth.result_electronic = rng.random() < {"online": 0.97, "postal": 0.85, "direct": 0.8}[channel]
    truth.result_digitized = rng.random() < 0.93
    life.emit(
        EventType.DOSSIER_PROCESSED,
        "processed",
        {
            "officer": truth.officer,
            "result_electronic": truth.result_electronic,
            "result_digitized": truth.result_digitized,
        },
    )
    options = {"online": (0.75, 0.1), "postal": (0.2, 0.8), "direct": (0.15, 0.05)}[channel]
    draw = rng.random()
    delivery = "electronic" if draw < options[0] else "postal" if draw < options[0] + options[1] else "counter"
    if delivery == "electronic" and not truth.result_electronic:
        delivery = "counter"
    wait = {"electronic": rng.uniform(60, 1800), "postal": rng.uniform(0.5, 2) * DAY}.get(delivery)
    truth.returned_at = life.after(wait if wait is not None else rng.uniform(0.05, 2) * DAY)
    truth.delivery = delivery
    life.emit(EventType.DOSSIER_RETURNED, "returned", {"delivery": delivery})
    if rng.random() < ctx.config.feedback_share:
        on_time = not truth.planned_late and truth.late_by_rule_at is None
        truth.feedback_satisfied = rng.random() < (0.95 if on_time else 0.6)
        truth.feedback_at = life.after(rng.uniform(30, 900))
        life.emit(EventType.FEEDBACK_SUBMITTED, "feedback", {"satisfied": truth.feedback_satisfied})
