"""Read a plan file (YAML), validate it, and name the line of every problem (from yaml's node marks)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from services.runtime.problems import field_path
from services.tasks.domain.plan import Location, PlanFile, cross_check
from services.tasks.service_layer.messages import LoadedPlan

PACKAGED_PLANS = Path(__file__).resolve().parent.parent / "plans"
DEFAULT_PLAN_FILE = PACKAGED_PLANS / "lam-thao-2026.yaml"


@dataclass(frozen=True)
class PlanProblem:
    line: int | None
    path: str
    reason: str


class PlanFileError(Exception):
    """The file cannot be used; `problems` says where (line) and why, in file order."""

    def __init__(self, source: str, problems: list[PlanProblem]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda problem: (problem.line or 0, problem.path))
        super().__init__(self.describe())

    def describe(self) -> str:
        lines = []
        for problem in self.problems:
            where = f"{self.source}:{problem.line}" if problem.line else self.source
            lines.append(f"{where}: {problem.path + ': ' if problem.path else ''}{problem.reason}")
        return "\n".join(lines)


def read_plan_file(path: Path) -> LoadedPlan:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise PlanFileError(str(path), [PlanProblem(None, "", f"cannot read the file: {error.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise PlanFileError(str(path), [PlanProblem(line, "", "the file is not UTF-8")]) from None
    return LoadedPlan(parse_plan(text, str(path)), str(path), hashlib.sha256(raw).hexdigest())


def parse_plan(text: str, source: str = "<plan>") -> PlanFile:
    node, data = _compose(text, source)
    problems = _duplicate_keys(node)
    if problems:
        raise PlanFileError(source, problems)
    try:
        plan = PlanFile.model_validate(data)
    except ValidationError as error:
        problems = [_problem(node, tuple(item["loc"]), _reason(item)) for item in error.errors()]
        raise PlanFileError(source, problems) from None
    issues = cross_check(plan)
    if issues:
        raise PlanFileError(source, [_problem(node, issue.location, issue.reason) for issue in issues])
    return plan


def _compose(text: str, source: str) -> tuple[yaml.Node, Any]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise PlanFileError(source, [PlanProblem(1, "", "the file is empty")])
        return node, loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = f"invalid YAML: {error.problem or error.context}"
        raise PlanFileError(source, [PlanProblem(line, "", reason)]) from None
    except yaml.YAMLError as error:
        raise PlanFileError(source, [PlanProblem(None, "", f"invalid YAML: {error}")]) from None
    finally:
        loader.dispose()


def _duplicate_keys(node: yaml.Node, path: Location = ()) -> list[PlanProblem]:
    """YAML silently keeps the last of two equal keys; a plan file must not."""
    problems: list[PlanProblem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                problems.append(PlanProblem(key.start_mark.line + 1, field_path(path), f"key {name!r} appears twice"))
            seen.add(name)
            problems.extend(_duplicate_keys(value, (*path, name)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems.extend(_duplicate_keys(item, (*path, index)))
    return problems


def _node_at(node: yaml.Node, location: Location) -> yaml.Node:
    """The deepest node along `location` (a pydantic error location); stops where the path leaves the file."""
    for part in location:
        if isinstance(node, yaml.MappingNode):
            match = next((value for key, value in node.value if str(key.value) == str(part)), None)
            if match is None:
                return node
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def _problem(root: yaml.Node, location: Location, reason: str) -> PlanProblem:
    visible = tuple(part for part in location if part != "[key]")
    return PlanProblem(_node_at(root, visible).start_mark.line + 1, field_path(list(visible)), reason)


def _reason(error: Any) -> str:
    message = str(error["msg"])
    return message.removeprefix("Value error, ")
