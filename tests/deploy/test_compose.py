"""docker-compose.yml is not run here (no Docker engine): these tests keep it consistent with the code."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.cli import SERVICES
from services.contracts.streams import ALL_STREAMS
from services.launcher import SERVICE_PORTS

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_is_deployed_on_its_port_when_compose_is_read() -> None:
    compose = _compose()["services"]
    for name in SERVICES:
        service = compose[name]
        port = SERVICE_PORTS[name]
        assert service["command"] == ["serve", name]
        assert f"{port}:{port}" in service["ports"]
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"])


def test_every_service_waits_for_streams_when_compose_starts() -> None:
    compose = _compose()["services"]
    assert compose["streams"]["command"] == ["streams", "apply", "--replicas", "3"]
    for name in SERVICES:
        assert compose[name]["depends_on"]["streams"]["condition"] == "service_completed_successfully"


def test_nats_cluster_has_three_nodes_when_streams_are_replicated() -> None:
    compose = _compose()["services"]
    nodes = [name for name in compose if name.startswith("nats-")]
    assert len(nodes) == 3
    url = compose["ingest"]["environment"]["DVC_NATS_URL"]
    assert url == ",".join(f"nats://{node}:4222" for node in nodes)
    assert len(ALL_STREAMS) == 4


@pytest.mark.parametrize("service", SERVICES)
def test_service_environment_names_exist_in_settings_when_deployed(service: str) -> None:
    settings_module = importlib.import_module(f"services.{service}.settings")
    fields = set(settings_module.Settings.model_fields)
    prefix = f"DVC_{service.upper()}_"
    for variable in _compose()["services"][service]["environment"]:
        if variable.startswith(prefix):
            assert variable.removeprefix(prefix).lower() in fields, f"{variable} is not a setting of {service}"


def test_prometheus_scrapes_every_service_when_configured() -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = {target for job in config["scrape_configs"] for c in job["static_configs"] for target in c["targets"]}
    assert targets == {f"{name}:{port}" for name, port in SERVICE_PORTS.items()}
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert re.fullmatch(r"[A-Za-z]+", rule["alert"])
            assert rule["annotations"]["summary"]


def test_every_file_a_service_reads_is_mounted_when_deployed() -> None:
    compose = _compose()["services"]
    for name in SERVICES:
        service = compose[name]
        mounts = [volume.split(":")[1] for volume in service.get("volumes", [])]
        assert "/var/lib/dvc" in mounts, f"{name} keeps state in DVC_VAR_DIR without a volume"
        for value in service["environment"].values():
            if str(value).startswith("/run/secrets/"):
                assert "/run/secrets" in mounts, f"{name} reads {value} but nothing is mounted there"
                host_dir = next(v.split(":")[0] for v in service["volumes"] if ":/run/secrets" in v)
                assert (ROOT / host_dir).is_dir()
