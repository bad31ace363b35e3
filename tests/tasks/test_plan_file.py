"""The Lâm Thao plan as data: 38 indicators with the seed's targets, the tasks of section III and Phụ lục II,
and a broken file rejected with its line and reason."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from services.tasks.adapters.plan_file import DEFAULT_PLAN_FILE, PlanFileError, parse_plan, read_plan_file
from services.tasks.domain.plan import Comparator, PlanFile, ValueKind

# The plan's published indicator table (Phụ lục I), carried beside the tests as it reads in the plan.
SEED_TABLE = Path(__file__).with_name("data") / "plan-indicators-table.tsv"


@pytest.fixture(scope="module")
def plan() -> PlanFile:
    return read_plan_file(DEFAULT_PLAN_FILE).plan


def test_plan_has_38_numbered_indicators_when_the_lam_thao_file_is_read(plan: PlanFile) -> None:
    assert [indicator.number for indicator in plan.indicators] == list(range(1, 39))
    assert (plan.plan.id, plan.plan.year, plan.plan.horizon_year) == ("lam-thao-2026", 2026, 2030)


@pytest.mark.parametrize(
    ("number", "name", "unit", "owners", "target_2026", "target_2030"),
    [
        (
            3,
            "Tỷ lệ chi ngân sách địa phương chi cho khoa học, công nghệ, đổi mới sáng tạo/ tổng chi ngân sách",
            "% ngân sách",
            ["KT"],
            (">=", 1.1, "≥ 1,1 và không thấp hơn chỉ tiêu tỉnh giao"),
            (">=", 1.5, "≥ 1,5"),
        ),
        (
            9,
            "Xếp hạng PII Các địa phương trong cả tỉnh",
            "Thứ bậc",
            ["VHXH"],
            ("top", 20, "Top 20"),
            ("top", 10, "Top 10"),
        ),
        (10, "Tỷ lệ doanh nghiệp có hoạt động đổi mới sáng tạo", "%", ["VHXH"], ("none", None, ""), ("none", None, "")),
        (
            11,
            "Số sáng kiến trong khu vực công được công nhận mỗi năm",
            "Sáng kiến",
            ["VHXH"],
            ("=", 10, "10"),
            (">=", 20, "≥ 20"),
        ),
        (12, "Chỉ số phát triển con người (HDI)", "Giá trị", ["VHXH"], (">=", 0.79, "≥ 0.79"), (">", 0.8, "> 0.8")),
        (20, "Tỷ lệ hồ sơ thủ tục hành chính xử lý trực tuyến.", "%", ["HCC"], (">=", 95, "≥ 95"), ("=", 100, "100")),
        (30, "Tỷ lệ người dân trưởng thành có chữ ký số", "%", ["DOANXA"], (">=", 70, "≥ 70"), (">=", 70, "≥ 70")),
        (
            33,
            "Triển khai kết nối, chia sẻ đồng bộ cơ sở dữ liệu quốc gia, cơ sở dữ liệu các ngành",
            "%",
            ["CAX"],
            ("=", 80, "80"),
            ("=", 100, "100"),
        ),
        (34, "Tỷ lệ người dân có Sổ sức khỏe điện tử", "%", ["VHXH"], ("=", 95, "95"), (">=", 95, "≥ 95")),
        (38, "Bệnh viện không giấy tờ", "%", ["TYT", "VHXH"], ("=", 100, "100"), ("=", 100, "100")),
    ],
)
def test_row_matches_the_seed_when_checked_by_hand(
    plan: PlanFile,
    number: int,
    name: str,
    unit: str,
    owners: list[str],
    target_2026: tuple[str, float | None, str],
    target_2030: tuple[str, float | None, str],
) -> None:
    indicator = plan.indicators[number - 1]
    assert (indicator.number, indicator.name, indicator.unit, indicator.owners) == (number, name, unit, owners)
    for year, (comparator, value, text) in ((2026, target_2026), (2030, target_2030)):
        target = indicator.targets[year]
        assert (target.comparator.value, target.value, target.text) == (comparator, value, text)


def test_owner_units_are_named_as_the_table_writes_them_when_rows_are_printed(plan: PlanFile) -> None:
    labels = {unit.code: unit.label for unit in plan.units}
    assert labels["HCC"] == "Trung tâm Phục vụ HCC"
    assert labels["VHXH"] == "Phòng Văn hóa - Xã hội"
    assert ", ".join(labels[code] for code in plan.indicators[37].owners) == "Trạm Y tế, Phòng Văn hóa - Xã hội"


def test_every_row_matches_the_published_table_when_the_plan_is_read(plan: PlanFile) -> None:
    labels = {unit.code: unit.label for unit in plan.units}
    rows = [line.split("\t") for line in SEED_TABLE.read_text().splitlines() if re.match(r"^\d+\t.*\t.*\t", line)]
    assert len(rows) == 38
    for row, indicator in zip(rows, plan.indicators, strict=True):
        number, name, unit, owners, target_2026, target_2030 = row[:6]
        clean = [text.replace("$\\geq ", "≥ ").replace("$", "").strip() for text in (target_2026, target_2030)]
        assert (int(number), name, unit) == (indicator.number, indicator.name, indicator.unit)
        assert owners == ", ".join(labels[code] for code in indicator.owners)
        assert clean == [indicator.targets[2026].text, indicator.targets[2030].text]


def test_indicators_15_to_25_are_live_when_the_plan_is_read(plan: PlanFile) -> None:
    live = {indicator.number: indicator.live_code for indicator in plan.indicators if indicator.live_code}
    assert live == {number: f"I{number}" for number in range(15, 26)}
    kinds = {indicator.number: indicator.kind for indicator in plan.indicators}
    assert (kinds[9], kinds[11], kinds[12], kinds[14], kinds[20]) == (
        ValueKind.RANK,
        ValueKind.COUNT,
        ValueKind.NUMBER,
        ValueKind.NUMBER,
        ValueKind.PERCENT,
    )
    assert plan.indicators[9].targets[2026].comparator is Comparator.NONE


def test_tasks_cover_section_iii_and_annex_ii_when_the_plan_is_read(plan: PlanFile) -> None:
    tasks = {task.id: task for task in plan.tasks}
    assert [f"III.{n}" in tasks for n in range(1, 11)] == [True] * 10
    children = {parent: sum(1 for task in plan.tasks if task.parent == parent) for parent in tasks}
    assert [children[f"III.{n}"] for n in range(1, 10)] == [4, 5, 6, 4, 8, 8, 3, 2, 6]
    assert (children["III.7.1"], children["III.7.2"], children["III.7.3"]) == (7, 5, 5)
    assert len(tasks["PL2.NV3"].scale_and_products) == 11
    assert tasks["PL2.NV2"].funding == "Ngân sách xã"
    assert tasks["PL2.NV1"].time_frame == "Năm 2026"
    assert tasks["III.7.1.b"].owner == "HCC"
    assert tasks["III.10"].content.endswith("dựa trên dữ liệu theo thời gian thực.")
    assert {task.deadline for task in plan.tasks} == {date(2026, 12, 31)}


def _broken(old: str, new: str) -> str:
    text = DEFAULT_PLAN_FILE.read_text()
    assert old in text
    return text.replace(old, new, 1)


def _line_of(text: str, needle: str) -> int:
    return next(index for index, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_target_without_value_is_rejected_with_its_line_when_the_file_is_broken() -> None:
    text = _broken('2026: {comparator: ">=", value: 90, text: "≥ 90"}', '2026: {comparator: ">=", text: "≥ 90"}')
    with pytest.raises(PlanFileError) as caught:
        parse_plan(text, "plan.yaml")
    problem = caught.value.problems[0]
    assert problem.line == _line_of(text, '2026: {comparator: ">=", text: "≥ 90"}')
    assert (problem.path, problem.reason) == ("indicators[6].targets[2026]", "comparator '>=' needs a value")
    assert str(caught.value).startswith(f"plan.yaml:{problem.line}: indicators[6].targets[2026]: ")


def test_unknown_unit_is_rejected_with_its_line_when_cross_checked() -> None:
    text = _broken("    owners: [CAX]\n", "    owners: [CAX, POLICE]\n")
    with pytest.raises(PlanFileError) as caught:
        parse_plan(text)
    problem = caught.value.problems[0]
    assert (problem.line, problem.reason) == (_line_of(text, "[CAX, POLICE]"), "unknown unit 'POLICE'")


def test_percent_value_of_wrong_type_is_rejected_when_the_file_is_broken() -> None:
    text = _broken('value: 70, text: "70"', 'value: seventy, text: "70"')
    with pytest.raises(PlanFileError) as caught:
        parse_plan(text)
    problem = caught.value.problems[0]
    assert problem.line == _line_of(text, "value: seventy")
    assert problem.path == "indicators[1].targets[2026].value"
    assert "valid number" in problem.reason


def test_repeated_key_is_rejected_when_yaml_would_keep_the_last() -> None:
    text = _broken("    kind: rank\n", "    kind: rank\n    kind: percent\n")
    with pytest.raises(PlanFileError) as caught:
        parse_plan(text)
    problem = caught.value.problems[0]
    assert (problem.line, problem.reason) == (_line_of(text, "kind: rank") + 1, "key 'kind' appears twice")


def test_duplicate_task_and_missing_parent_are_rejected_when_cross_checked() -> None:
    text = _broken('  - id: "III.1.2"\n    parent: "III.1"', '  - id: "III.1.1"\n    parent: "III.0"')
    with pytest.raises(PlanFileError) as caught:
        parse_plan(text)
    reasons = [problem.reason for problem in caught.value.problems]
    assert reasons == ["task 'III.1.1' is defined twice", "parent 'III.0' is not a task defined above this one"]


def test_syntax_error_is_reported_with_its_line_when_yaml_is_invalid() -> None:
    with pytest.raises(PlanFileError) as caught:
        parse_plan("schema_version: 1\nplan:\n  id: [unclosed\n", "x.yaml")
    assert caught.value.problems[0].line == 4
    assert caught.value.problems[0].reason.startswith("invalid YAML: ")
