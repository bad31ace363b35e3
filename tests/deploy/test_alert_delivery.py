"""Alert delivery as deployed: a real Prometheus evaluates a rule and sends the alert to a real Alertmanager, whose
webhook receiver is the notifier's `POST /v1/alerts/alertmanager` (operator key as bearer credentials), and the
officer gets exactly one SMS in the outbox although Alertmanager notifies again on every repeat interval.
Both binaries are Debian packages (`prometheus`, `prometheus-alertmanager`) that `.ci/run` installs."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
import yaml

from services.notifier.bootstrap import create_app
from services.runtime.nats.embedded import EmbeddedNats, free_port
from tests.notifier.helpers import OPERATOR_KEY, FakeClock, connected, eventually, settings_for
from tests.notifier.test_alertmanager import STAFF

PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

pytestmark = [
    pytest.mark.skipif(PROMETHEUS is None, reason="no prometheus binary (apt-get install prometheus)"),
    pytest.mark.skipif(ALERTMANAGER is None, reason="no alertmanager binary (apt-get install prometheus-alertmanager)"),
    pytest.mark.timeout(180),
]


def _process(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log.open("wb"))


def _stopped(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


@contextmanager
def alertmanager(tmp_path: Path, notifier_port: int) -> Iterator[str]:
    """Alertmanager whose only route posts every alert to the notifier at `notifier_port`."""
    assert ALERTMANAGER is not None
    directory = tmp_path / "alertmanager"
    directory.mkdir()
    config = {
        "route": {
            "receiver": "officers",
            "group_by": ["alertname"],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "2s",
        },
        "receivers": [
            {
                "name": "officers",
                "webhook_configs": [
                    {
                        "url": f"http://127.0.0.1:{notifier_port}/v1/alerts/alertmanager",
                        "send_resolved": False,
                        "http_config": {"authorization": {"type": "Bearer", "credentials": OPERATOR_KEY}},
                    }
                ],
            }
        ],
    }
    (directory / "alertmanager.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    process = _process(
        [
            ALERTMANAGER,
            f"--config.file={directory / 'alertmanager.yml'}",
            f"--storage.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        directory / "alertmanager.log",
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stopped(process)


@contextmanager
def prometheus(tmp_path: Path, alertmanager_url: str) -> Iterator[str]:
    """Prometheus with one rule that fires at once (`for: 0s`), sending to the Alertmanager above."""
    assert PROMETHEUS is not None
    directory = tmp_path / "prometheus"
    directory.mkdir()
    rules = {
        "groups": [
            {
                "name": "delivery",
                "interval": "1s",
                "rules": [
                    {
                        "alert": "DvcPipelineStalled",
                        "expr": "vector(1)",
                        "for": "0s",
                        "labels": {"severity": "critical"},
                        "annotations": {"summary": "Sự kiện vẫn đến nhưng chỉ tiêu không được cập nhật"},
                    }
                ],
            }
        ]
    }
    (directory / "rules.yml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    target = alertmanager_url.removeprefix("http://")
    config = {
        "global": {"evaluation_interval": "1s"},
        "rule_files": ["rules.yml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [target]}]}]},
    }
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    process = _process(
        [
            PROMETHEUS,
            f"--config.file={directory / 'prometheus.yml'}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            # an alert evaluated before the Alertmanager target is discovered is dropped; resend it soon
            "--rules.alert.resend-delay=1s",
        ],
        directory / "prometheus.log",
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stopped(process)


@asynccontextmanager
async def served_notifier(app: object, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started, timeout=60)
        yield
    finally:
        server.should_exit = True
        await task


async def _webhook_notifications(alertmanager_url: str) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{alertmanager_url}/metrics", timeout=5)).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("alertmanager_notifications_total{") and 'integration="webhook"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_one_sms_reaches_the_officer_when_prometheus_fires_an_alert_through_alertmanager(
    private_nats: EmbeddedNats,
    database_url: str,
    tmp_path: Path,
) -> None:
    staff = tmp_path / "staff.yaml"
    staff.write_text(STAFF, encoding="utf-8")
    settings = settings_for(private_nats.url, database_url, tmp_path, staff_directory=staff)
    now = datetime.now(UTC)
    clock = FakeClock(now.replace(hour=3, minute=0))  # 10:00 in Vietnam: outside quiet hours
    async with connected(private_nats.url):
        pass
    port = free_port()
    async with served_notifier(create_app(settings, now=clock), port):  # first: Alertmanager backs off on errors
        with alertmanager(tmp_path, port) as alertmanager_url, prometheus(tmp_path, alertmanager_url):
            outbox = settings.var_dir / "sms-outbox.jsonl"
            await eventually(lambda: outbox.exists() and outbox.read_text(encoding="utf-8").strip(), timeout=90)
            # Alertmanager notified again on its repeat interval: still one SMS
            await eventually(lambda: _repeated(alertmanager_url), timeout=60)
            lines = outbox.read_text(encoding="utf-8").strip().splitlines()

    assert len(lines) == 1
    assert "DvcPipelineStalled" in lines[0]
    assert "+84987654321" in lines[0]


async def _repeated(alertmanager_url: str) -> bool:
    return await _webhook_notifications(alertmanager_url) >= 2


@pytest.mark.skipif(shutil.which("amtool") is None, reason="no amtool (apt-get install prometheus-alertmanager)")
def test_deployed_alertmanager_config_is_valid_when_checked_with_amtool() -> None:
    amtool = shutil.which("amtool")
    assert amtool is not None
    config = Path(__file__).resolve().parents[2] / "deploy/alertmanager/alertmanager.yml"
    result = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "http://notifier:8084/v1/alerts/alertmanager" in config.read_text(encoding="utf-8")
