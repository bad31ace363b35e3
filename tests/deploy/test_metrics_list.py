"""Every metric every service exports, read from `/metrics` of each app built in-process (as the security tests
build them, without NATS or a database): names, types, units and label sets follow the Prometheus conventions,
`promtool check metrics` finds nothing, and no label can grow without bound (no phone, dossier or free text)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.security.apps import BUILDERS

PROMTOOL = shutil.which("promtool")
# Label names allowed on dvc_* metrics, each with a bounded set of values (codes, states, enum members);
# agency values pass the LabelGuard (at most max_agencies, the rest is `other`), field values (the catalogue's
# lĩnh vực) the FieldLabelGuard (printable, at most 100 characters and 80 fields, the rest is `other`).
BOUNDED_LABELS = {
    "service", "method", "route", "status", "le", "consumer", "ingress", "type", "outcome", "reason", "result",
    "code", "agency", "channel", "timeliness", "kind", "plan", "indicator", "owner_unit", "template", "provider",
    "encoding", "state", "check", "field",
}  # fmt: skip
# Histograms are measured in seconds unless they count things (events per batch).
COUNT_HISTOGRAMS = {"dvc_ingest_batch_events"}


async def _exposition(service: str, tmp_path: Path) -> str:
    app, _keys = BUILDERS[service](tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get("/metrics")
    assert answer.status_code == 200
    return answer.text


@pytest.mark.parametrize("service", sorted(BUILDERS))
async def test_exported_metrics_follow_conventions_when_each_service_is_scraped(service: str, tmp_path: Path) -> None:
    text = await _exposition(service, tmp_path)
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert any(name.startswith("dvc_") for name in families)
    problems: list[str] = []
    for name, family in families.items():
        if not name.startswith("dvc_"):
            continue
        samples = {sample.name for sample in family.samples}
        if family.type == "counter" and not all(sample.endswith("_total") for sample in samples):
            problems.append(f"{name}: counter samples without _total: {sorted(samples)}")
        if name.endswith(("_p95_seconds", "_p99_seconds", "_error_rate", "_rate")):
            problems.append(f"{name}: a pre-computed quantile or rate (export counters or a histogram)")
        if family.type == "histogram" and name not in COUNT_HISTOGRAMS and not name.endswith("_seconds"):
            problems.append(f"{name}: a histogram not in seconds")
        if family.type == "summary":
            problems.append(f"{name}: a summary (quantiles cannot be aggregated; use a histogram)")
        for sample in family.samples:
            unknown = set(sample.labels) - BOUNDED_LABELS
            if unknown:
                problems.append(f"{name}: unbounded or unknown labels {sorted(unknown)}")
    created = [line for line in text.splitlines() if "_created" in line.split(" ")[0 if line[0] != "#" else 2]]
    assert created == [], "counters expose _created series on some counters only"
    assert problems == []


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not on PATH (apt-get install prometheus)")
@pytest.mark.parametrize("service", sorted(BUILDERS))
async def test_promtool_finds_no_problem_when_checking_the_exposition(service: str, tmp_path: Path) -> None:
    assert PROMTOOL is not None
    text = await _exposition(service, tmp_path)
    result = await asyncio.to_thread(
        subprocess.run,
        [PROMTOOL, "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("dvc_")]
    assert findings == [], "\n".join(findings)


@pytest.mark.parametrize("service", sorted(BUILDERS))
async def test_label_sets_stay_small_when_each_service_is_scraped(service: str, tmp_path: Path) -> None:
    text = await _exposition(service, tmp_path)
    for family in text_string_to_metric_families(text):
        if family.name.startswith("dvc_"):
            assert len(family.samples) <= 2000, f"{family.name}: {len(family.samples)} series"
