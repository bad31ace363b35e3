"""A service whose configuration is refused at start-up exits with status 2 and one line saying why."""

from __future__ import annotations

import pytest
from starlette.types import ASGIApp

from services.runtime.serving import app_or_exit


def test_start_exits_2_with_one_line_when_the_configuration_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    def build() -> ASGIApp:
        raise ValueError("DVC_CONSOLE_LOOKUP_KEY is not set")

    with pytest.raises(SystemExit) as exited:
        app_or_exit("console", build, ValueError)

    assert exited.value.code == 2
    assert capsys.readouterr().err == "console: cannot start: DVC_CONSOLE_LOOKUP_KEY is not set\n"


def test_start_lets_other_errors_through_when_they_are_not_a_refused_configuration() -> None:
    def build() -> ASGIApp:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        app_or_exit("notifier", build, ValueError)
