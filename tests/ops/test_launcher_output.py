"""`make up`'s output keeps every address whole on a narrow terminal and when it goes to a file or a pipe
(rich would otherwise fit its table to 80 columns and cut the URLs in their cells)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from services.ops.launcher import Child, Launcher
from services.ops.launcher_status import KpiLine

NOTIFIER_METRICS = 'dvc_notifier_sent_messages 12345\ndvc_notifier_queue_depth{state="scheduled"} 7\n'
INDICATORS_METRICS = "dvc_indicators_events_applied_total 987654\ndvc_dossiers_overdue 3\n"
ROWS = '[{"code": "I20", "denominator": 4321, "value": 97.5}, {"code": "ONTIME", "value": 91.25}]'


@pytest.mark.parametrize("width", [20, 80, None], ids=["narrow-terminal", "80-columns", "not-a-terminal"])
def test_banner_and_status_line_show_whole_urls_when_the_output_is_narrow_or_not_a_terminal(
    width: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    output = io.StringIO()
    console = Console(file=output, width=width, highlight=False, soft_wrap=True)  # a StringIO is not a terminal
    launcher = Launcher(nats_port=14999, simulate=False, var_dir=tmp_path / "var", console=console)
    (launcher.var_dir).mkdir(parents=True)
    (launcher.var_dir / "demo-ingest-key").write_text("dvc_ingest_" + "k" * 60 + "\n")
    for name, port in launcher.ports.items():
        launcher.children.append(
            Child(name, [], launcher.var_dir / "logs" / f"a-rather-long-log-name-{name}.log", port)
        )
    pages = {":8082/v1/indicators": ROWS, ":8082/metrics": INDICATORS_METRICS, ":8084/metrics": NOTIFIER_METRICS}
    launcher.status = KpiLine(8082, 8084, get=lambda url: next(v for k, v in pages.items() if url.endswith(k)))

    launcher._print_banner()
    launcher._print_status()
    lines = output.getvalue().splitlines()

    for name, port in launcher.ports.items():
        row = next(line for line in lines if f"http://127.0.0.1:{port}/docs" in line)
        assert f"http://127.0.0.1:{port}/metrics" in row
        assert f"a-rather-long-log-name-{name}.log" in row
    assert any(("dvc_ingest_" + "k" * 60) in line for line in lines)
    status = lines[-1]
    assert "events 987,654" in status
    assert "accepted 4,321" in status
    assert "SMS 12,345 sent, 7 held" in status
