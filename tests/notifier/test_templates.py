"""Templates and triggers: loading refuses what could go wrong; rendering; Vietnamese formats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.notifier.adapters.config_files import load_templates, load_triggers
from services.notifier.domain import formatting
from services.notifier.domain.templates import ConfigError, build_template_set
from services.notifier.domain.text import ContentRefused
from services.notifier.domain.triggers import build_triggers


def template(**overrides: Any) -> dict[str, Any]:
    spec = {
        "id": "citizen.accepted",
        "version": 1,
        "audience": "citizen",
        "policy": "keep-diacritics",
        "max_segments": 2,
        "body": "Hồ sơ {dossier_code} của ông/bà đã được tiếp nhận, hẹn trả ngày {due_date}.",
    }
    spec.update(overrides)
    return spec


def templates_file(*specs: dict[str, Any], constants: dict[str, str] | None = None) -> dict[str, Any]:
    return {"constants": constants or {}, "templates": list(specs)}


@pytest.mark.parametrize(
    ("amount", "text"), [(0, "0 đồng"), (500, "500 đồng"), (50000, "50.000 đồng"), (1250000, "1.250.000 đồng")]
)
def test_money_is_written_the_vietnamese_way_when_formatted(amount: int, text: str) -> None:
    assert formatting.vnd(amount) == text


def test_dates_are_local_and_day_first_when_formatted() -> None:
    moment = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    assert formatting.day(moment, "Asia/Ho_Chi_Minh") == "05/03/2026"
    assert formatting.moment(moment, "Asia/Ho_Chi_Minh") == "17:00 ngày 05/03/2026"
    assert formatting.day(moment + timedelta(hours=15), "Asia/Ho_Chi_Minh") == "06/03/2026"


def test_shipped_templates_and_triggers_load_when_the_service_starts() -> None:
    templates = load_templates()
    triggers = load_triggers(templates)
    assert {t.template.id for t in triggers.for_kind("dossier.accepted")} == {"citizen.accepted"}
    assert triggers.for_kind("dossier.paid") == ()
    assert all(t.worst_case_segments() <= t.spec.max_segments for t in templates)


def test_start_up_fails_naming_the_template_when_it_could_need_too_many_segments() -> None:
    body = "Hồ sơ {dossier_code} cần bổ sung: {reason}. Đề nghị ông/bà bổ sung."  # the sample needs 2
    expected = (
        r"templates\.yaml: template citizen\.accepted v1: .*reason 80.*needs 3 segments, more than max_segments 2"
    )
    with pytest.raises(ConfigError, match=expected):
        build_template_set(templates_file(template(body=body)), "templates.yaml")


def test_start_up_fails_when_a_template_names_an_unknown_placeholder() -> None:
    with pytest.raises(ConfigError, match=r"unknown placeholder\(s\) citizen_name"):
        build_template_set(templates_file(template(body="Chào {citizen_name}")))


def test_start_up_fails_when_a_sample_message_holds_a_citizen_id() -> None:
    with pytest.raises(ConfigError, match="12-digit citizen ID"):
        build_template_set(templates_file(template(body="CCCD 001203004567: {dossier_code}")))


def test_start_up_fails_when_a_trigger_uses_a_value_its_event_does_not_carry() -> None:
    templates = build_template_set(templates_file(template()))
    with pytest.raises(ConfigError, match=r"uses due_date, which dossier\.returned does not carry"):
        build_triggers({"triggers": {"dossier.returned": "citizen.accepted"}}, templates)


def test_start_up_fails_when_a_citizen_template_is_triggered_by_an_alert() -> None:
    templates = build_template_set(templates_file(template(body="Hồ sơ {dossier_code} sắp quá hạn")))
    with pytest.raises(ConfigError, match="has no applicant"):
        build_triggers({"triggers": {"alerts.dossier.at_risk": ["citizen.accepted"]}}, templates)


def test_start_up_fails_when_a_trigger_names_an_unknown_kind_or_template() -> None:
    templates = build_template_set(templates_file(template()))
    with pytest.raises(ConfigError, match=r"unknown event kind 'dossier\.acepted'"):
        build_triggers({"triggers": {"dossier.acepted": "citizen.accepted"}}, templates)
    with pytest.raises(ConfigError, match=r"unknown template 'citizen\.acepted'"):
        build_triggers({"triggers": {"dossier.accepted": "citizen.acepted"}}, templates)


def test_free_text_is_cut_and_identifiers_kept_when_a_template_is_rendered() -> None:
    templates = build_template_set(
        templates_file(
            template(id="citizen.supplement", max_segments=4, body="Hồ sơ {dossier_code} cần bổ sung: {reason}.")
        )
    )
    rendered = templates.get("citizen.supplement").render({"dossier_code": "HS-1", "reason": "Thiếu giấy tờ " * 20})
    assert rendered.text.startswith("Hồ sơ HS-1 cần bổ sung: Thiếu giấy tờ Thiếu")
    assert rendered.text.endswith("….")
    assert len(rendered.text) == len("Hồ sơ HS-1 cần bổ sung: .") + 80


def test_rendering_is_refused_when_an_identifier_makes_the_message_too_long() -> None:
    templates = build_template_set(templates_file(template()))
    with pytest.raises(ContentRefused) as refused:
        templates.get("citizen.accepted").render({"dossier_code": "HS-" + "9" * 120, "due_date": "05/03/2026"})
    assert refused.value.reason == "too_long"


def test_unaccented_template_is_sent_without_marks_when_rendered() -> None:
    templates = build_template_set(templates_file(template(policy="unaccented", max_segments=1)))
    rendered = templates.get("citizen.accepted").render({"dossier_code": "HS-1", "due_date": "05/03/2026"})
    assert rendered.text == "Ho so HS-1 cua ong/ba da duoc tiep nhan, hen tra ngay 05/03/2026."
    assert (rendered.length.encoding.value, rendered.length.segments) == ("GSM-7", 1)


def test_docs_show_every_template_as_rendered_when_the_packaged_templates_change() -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "notifier.md").read_text(encoding="utf-8")
    for template in load_templates():
        variants = [template.sample_values()]
        if "addressee" in template.placeholders:
            variants.append({**variants[0], "addressee": "addressee_business"})
        for values in variants:
            assert f"| {template.render(values).text} |" in docs, f"docs/notifier.md lacks {template.id}'s sample"


def test_day_is_the_centres_date_when_no_time_zone_is_given() -> None:
    evening_in_utc = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)  # 01:00 on 5/3 in Vietnam

    assert (formatting.day(evening_in_utc), formatting.day(evening_in_utc, "UTC")) == ("05/03/2026", "04/03/2026")
