"""Runs schemathesis' engine (what its CLI runs: examples, coverage and fuzzing phases, every check) against a
served app and collects what failed, so a test can assert on it. The engine is used rather than schemathesis'
pytest plugin, whose lazy fixtures break with pytest 9.2 (`Function._nodeid`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemathesis import engine
from schemathesis.engine import events
from schemathesis.openapi import from_url

from tests.fuzz import checks as _checks  # noqa: F401  (registers the problem-document check)
from tests.fuzz.known_issues import known_issue
from tests.fuzz.services import ServedApp
from tests.fuzz.settings import schema_config


@dataclass(frozen=True)
class Finding:
    operation: str
    check: str
    title: str
    message: str
    reproduce: str

    def describe(self) -> str:
        reproduce = self.reproduce if len(self.reproduce) <= 600 else self.reproduce[:600] + " [...]"
        return f"{self.operation} [{self.check}] {self.title}: {self.message}\n    {reproduce}"


@dataclass
class FuzzOutcome:
    service: str
    cases: int = 0
    operations: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """What failed, but the findings another branch in flight fixes (tests/fuzz/known_issues.py)."""
        new = [f for f in self.findings if known_issue(self.service, f.operation, f.check) is None]
        return [finding.describe() for finding in new] + self.errors

    def excused(self) -> list[str]:
        return [
            f"{finding.operation} [{finding.check}]: {issue.fixed_by}"
            for finding in self.findings
            if (issue := known_issue(self.service, finding.operation, finding.check)) is not None
        ]


def _record(outcome: FuzzOutcome, recorder: Any) -> None:
    outcome.cases += len(recorder.cases)
    outcome.operations.add(recorder.label)
    seen = {(finding.operation, finding.check, finding.title) for finding in outcome.findings}
    for nodes in recorder.checks.values():
        for node in nodes:
            info = node.failure_info
            if info is None:
                continue
            failure = info.failure
            key = (recorder.label, node.name, failure.title)
            if key not in seen:
                seen.add(key)
                outcome.findings.append(
                    Finding(recorder.label, node.name, failure.title, failure.message.strip(), info.code_sample)
                )


def fuzz(served: ServedApp, **config: Any) -> FuzzOutcome:
    """Every operation of the app's OpenAPI document, with its key on every request."""
    schema = from_url(f"{served.url}/openapi.json", config=schema_config(served.headers, **config))
    outcome = FuzzOutcome(served.name)
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _record(outcome, event.recorder)
        elif isinstance(event, events.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.info.title}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    print(f"\n{served.name}: {outcome.cases} cases over {len(outcome.operations)} operations")
    for line in outcome.excused():
        print(f"  excused (fixed by a branch in flight): {line}")
    return outcome
