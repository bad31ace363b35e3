"""Failover: try providers in the configured order, skipping one whose recent error rate is too high.

Each provider has a circuit: closed (used), open (skipped for `open_seconds` after its error rate over the
sliding window crossed the threshold), half-open (one probe message is let through; success closes the
circuit, failure opens it again). When every circuit is open the providers are still tried in order, as a
last resort, rather than failing the message outright.

An error is an exception or a temporary rejection (`accepted=False, permanent=False`). A permanent rejection
(invalid number, blocked content) is the message's fault: it is returned at once and counts as a success for
the provider's health. An unknown outcome (the request was written, no answer came: the provider may have
the message) is returned at once too, never tried on the next provider (the citizen would get it twice); it
counts as an error for the provider's health.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from services.notifier.adapters.providers.config import FailoverSettings
from services.notifier.domain.sending import OutgoingSms, SendResult, SmsProvider

log = logging.getLogger(__name__)


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass(frozen=True)
class ProviderHealth:
    """One provider's health, for metrics (`dvc_notifier_provider_*`) and /readyz detail."""

    provider: str
    position: int  # 0 = preferred
    state: CircuitState
    window_requests: int
    window_errors: int
    error_rate: float | None  # None while the window is empty
    latency_avg_seconds: float | None
    latency_p95_seconds: float | None
    sent_total: int
    errors_total: int
    last_error: str | None


class _Circuit:
    def __init__(self, provider: SmsProvider, position: int, settings: FailoverSettings) -> None:
        self.provider = provider
        self.position = position
        self.settings = settings
        self.samples: deque[tuple[float, float, bool]] = deque()  # (at, latency, ok)
        self.opened_at: float | None = None
        self.probing = False
        self.sent_total = 0
        self.errors_total = 0
        self.last_error: str | None = None

    def _trim(self, now: float) -> None:
        while self.samples and self.samples[0][0] < now - self.settings.window_seconds:
            self.samples.popleft()

    def state(self, now: float) -> CircuitState:
        if self.opened_at is None:
            return CircuitState.CLOSED
        if now - self.opened_at >= self.settings.open_seconds:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    def admit(self, now: float) -> bool:
        """Whether a message may be sent now (a half-open circuit admits one probe at a time)."""
        state = self.state(now)
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and not self.probing:
            self.probing = True
            return True
        return False

    def record(self, now: float, latency: float, ok: bool, error: str | None) -> None:
        self.sent_total += 1
        self.samples.append((now, latency, ok))
        self._trim(now)
        if not ok:
            self.errors_total += 1
            self.last_error = error
        was_probe, self.probing = self.probing, False
        if was_probe or self.opened_at is not None:
            if ok:
                self.opened_at = None
                self.samples.clear()  # a fresh start: old errors no longer count
            else:
                self.opened_at = now
            return
        requests = len(self.samples)
        errors = sum(1 for sample in self.samples if not sample[2])
        if requests >= self.settings.min_requests and errors / requests >= self.settings.error_rate_threshold:
            self.opened_at = now
            log.warning("provider %s skipped: %d errors in %d recent sends", self.provider.name, errors, requests)

    def health(self, now: float) -> ProviderHealth:
        self._trim(now)
        latencies = sorted(sample[1] for sample in self.samples)
        errors = sum(1 for sample in self.samples if not sample[2])
        count = len(latencies)
        return ProviderHealth(
            provider=self.provider.name,
            position=self.position,
            state=self.state(now),
            window_requests=count,
            window_errors=errors,
            error_rate=errors / count if count else None,
            latency_avg_seconds=sum(latencies) / count if count else None,
            latency_p95_seconds=latencies[min(count - 1, int(count * 0.95))] if count else None,
            sent_total=self.sent_total,
            errors_total=self.errors_total,
            last_error=self.last_error,
        )


class FailoverProvider:
    """An SmsProvider over several providers; `SendResult.provider` names the one that answered."""

    def __init__(
        self,
        providers: Sequence[SmsProvider],
        settings: FailoverSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not providers:
            raise ValueError("at least one SMS provider is required")
        self.settings = settings or FailoverSettings()
        self._circuits = [_Circuit(provider, index, self.settings) for index, provider in enumerate(providers)]
        self._clock = clock
        self.name = "+".join(provider.name for provider in providers)

    @property
    def providers(self) -> list[SmsProvider]:
        return [circuit.provider for circuit in self._circuits]

    async def send(self, message: OutgoingSms) -> SendResult:
        result = SendResult(accepted=False, error="no provider answered")
        tried = False
        for circuit in self._circuits:
            if not circuit.admit(self._clock()):
                continue
            tried = True
            result = await self._send_one(circuit, message)
            if result.accepted or result.permanent or result.unknown:
                return result
        if tried:
            return result
        for circuit in self._circuits:  # every provider is skipped: try them anyway, in order
            result = await self._send_one(circuit, message)
            if result.accepted or result.permanent or result.unknown:
                return result
        return result

    async def _send_one(self, circuit: _Circuit, message: OutgoingSms) -> SendResult:
        started = self._clock()
        try:
            result = await circuit.provider.send(message)
        except Exception as exc:
            log.warning("provider %s failed: %s", circuit.provider.name, type(exc).__name__)
            result = SendResult(accepted=False, error=f"{type(exc).__name__}: {exc}")
        except BaseException:  # cancelled: free the probe slot, record nothing
            circuit.probing = False
            raise
        ok = result.accepted or result.permanent
        circuit.record(self._clock(), self._clock() - started, ok, None if ok else result.error)
        if result.provider is None:
            result = replace(result, provider=circuit.provider.name)
        return result

    def health(self) -> list[ProviderHealth]:
        now = self._clock()
        return [circuit.health(now) for circuit in self._circuits]

    async def start(self) -> None:
        """Lets providers that hold a session (SMPP) connect now, so receipts flow before the first send."""
        for circuit in self._circuits:
            start = getattr(circuit.provider, "start", None)
            if start is not None:
                await start()

    async def close(self) -> None:
        for circuit in self._circuits:
            try:
                await circuit.provider.close()
            except Exception:
                log.exception("closing provider %s failed", circuit.provider.name)
