"""How much the fuzzer tries. `make test` runs a bounded, deterministic pass (fixed seed, few examples per
operation); `make fuzz` raises the count with DVC_FUZZ_EXAMPLES and picks a new seed (DVC_FUZZ_SEED, printed)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, seed, settings
from schemathesis.config import SchemathesisConfig

BOUNDED_EXAMPLES = 8
FIXED_SEED = 20261204
EXAMPLES = int(os.environ.get("DVC_FUZZ_EXAMPLES") or BOUNDED_EXAMPLES)
SEED = int(os.environ.get("DVC_FUZZ_SEED") or FIXED_SEED)


# Seconds a fuzz test may take: the bounded run needs well under a minute per service.
TIMEOUT = max(900, EXAMPLES * 20)
T = TypeVar("T", bound=Callable[..., Any])


def hypothesis_fuzz(examples_scale: int = 10) -> Callable[[T], T]:
    """For the contract properties: cheap, so `examples_scale` times the API's count; the run's seed and no
    example database, so a run depends only on the seed."""
    chosen = settings(
        max_examples=EXAMPLES * examples_scale,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )

    def apply(test: T) -> T:
        return seed(SEED)(chosen(test))  # type: ignore[no-any-return]

    return apply


# Checks of how precisely the OpenAPI documents describe the answers, not of how the services behave: FastAPI
# documents every 422 as application/json (the services answer application/problem+json, which
# `rejections_are_problem_documents` checks on every error), does not list 404/403 on reads, and cannot express
# the rules beyond types (an unknown unit, evidence required), so schema-valid data may rightly get a 422.
DOCUMENTATION_CHECKS = (
    "status_code_conformance",
    "content_type_conformance",
    "positive_data_acceptance",
    "allow_header_conformance",
    "response_headers_conformance",
)


REJECTION_STATUSES = (400, 401, 403, 404, 405, 406, 409, 415, 422, 428, 429)


def schema_config(headers: dict[str, str], **extra: Any) -> SchemathesisConfig:
    """Examples, coverage and fuzzing phases (no stateful phase: the documents declare no links), the given
    headers (the service's key) on every request, no example database, every check but the documentation ones."""
    data: dict[str, Any] = {
        "seed": SEED,
        "headers": headers,
        "generation": {"max-examples": EXAMPLES, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            **{name: {"enabled": False} for name in DOCUMENTATION_CHECKS},
            # 413: ingest refuses a batch over its event limit (maxItems) as content too large, as documented.
            "negative_data_rejection": {"expected-statuses": [*REJECTION_STATUSES, 413]},
        },
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        **extra,
    }
    return SchemathesisConfig.from_dict(data)
