"""CI replays the same hypothesis examples on every run (the `ci` profile of tests/conftest.py)."""

from __future__ import annotations

from hypothesis import settings


def test_ci_profile_is_deterministic_and_bounded_when_registered() -> None:
    ci = settings.get_profile("ci")

    assert (ci.derandomize, ci.max_examples, ci.deadline, ci.database) == (True, 100, None, None)
