"""Versioned SMS templates with `{placeholders}`, checked when they are loaded.

A template set that could produce a message longer than its `max_segments` (with the longest allowed
placeholder values), that names an unknown placeholder, or whose sample contains a citizen ID is refused at
start-up with a message naming the template.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.notifier.domain.text import ContentRefused, PreparedText, TextPolicy, clean_value, measure, prepare


class Audience(StrEnum):
    CITIZEN = "citizen"
    OFFICER = "officer"


class ConfigError(ValueError):
    """Templates, triggers or the staff directory cannot be used: the service refuses to start."""


@dataclass(frozen=True)
class Placeholder:
    """A value taken from the event. `max_length` bounds the load-time check; `truncate` cuts longer values
    (free text) while identifiers are never cut (a longer one makes that message `too_long`)."""

    name: str
    max_length: int
    sample: str
    truncate: bool = False
    choices: tuple[str, ...] = ()  # filled from one of these constants


PLACEHOLDERS: dict[str, Placeholder] = {
    p.name: p
    for p in (
        Placeholder("dossier_code", 30, "000.00.12.H07-260302-0001"),
        Placeholder("procedure_code", 20, "1.001193"),
        Placeholder("agency", 30, "UBND-LAMTHAO"),
        Placeholder("due_date", 10, "05/03/2026"),
        Placeholder("due_time", 21, "17:00 ngày 05/03/2026"),
        Placeholder("new_due_date", 10, "09/03/2026"),
        Placeholder("new_due_time", 21, "17:00 ngày 09/03/2026"),
        Placeholder("reason", 80, "Thiếu bản sao giấy khai sinh", truncate=True),
        Placeholder("fee", 25, "50.000 đồng"),
        Placeholder("collect", 160, "", choices=("collect_electronic", "collect_counter", "collect_postal")),
        Placeholder("addressee", 30, "", choices=("addressee_citizen", "addressee_business")),
        Placeholder("delivery", 160, "", choices=("delivery_counter", "delivery_postal", "delivery_electronic")),
        Placeholder("officer", 20, "CB-001"),
        Placeholder("task_title", 60, "Số hóa hồ sơ, kết quả giải quyết TTHC", truncate=True),
        Placeholder("owner_unit", 30, "VP-UBND"),
        Placeholder("deadline", 10, "30/06/2026"),
        Placeholder("progress", 3, "40"),
        Placeholder("alert_name", 40, "DvcPipelineStalled", truncate=True),  # Alertmanager alerts
        Placeholder("severity", 8, "critical", truncate=True),
        Placeholder("summary", 90, "Sự kiện vẫn đến nhưng chỉ tiêu không được cập nhật", truncate=True),
    )
}


class TemplateSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
    version: Annotated[int, Field(ge=1)]
    audience: Audience
    policy: TextPolicy
    max_segments: Annotated[int, Field(ge=1, le=10)]
    body: Annotated[str, Field(min_length=1, max_length=1000)]
    description: str = ""


class TemplateFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    constants: dict[str, Annotated[str, Field(max_length=300)]] = Field(default_factory=dict)
    templates: list[TemplateSpec]


def _fields(body: str) -> tuple[str, ...]:
    names: list[str] = []
    for _literal, name, spec, conversion in string.Formatter().parse(body):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder {{{name}}} must be a plain name such as {{dossier_code}}")
        if name not in names:
            names.append(name)
    return tuple(names)


@dataclass(frozen=True)
class Template:
    spec: TemplateSpec
    placeholders: tuple[str, ...]  # event values the body uses (constants excluded)
    constants: Mapping[str, str]

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> int:
        return self.spec.version

    def render(self, values: Mapping[str, str]) -> PreparedText:
        """Raises ContentRefused (`missing_value`, `citizen_id`, `too_long`, `empty`)."""
        filled: dict[str, str] = dict(self.constants)
        for name in self.placeholders:
            raw = values.get(name)
            if raw is None or not raw.strip():
                raise ContentRefused("missing_value", f"no value for {{{name}}}")
            placeholder = PLACEHOLDERS[name]
            if placeholder.choices:
                if raw not in placeholder.choices:
                    raise ContentRefused("missing_value", f"{{{name}}} has no text for {raw!r}")
                filled[name] = self.constants[raw]
            else:
                filled[name] = clean_value(raw, placeholder.max_length if placeholder.truncate else None)
        return prepare(self.spec.body.format_map(filled), self.spec.policy, self.spec.max_segments)

    def sample_values(self) -> dict[str, str]:
        return {name: _sample(PLACEHOLDERS[name]) for name in self.placeholders}

    def worst_case_segments(self) -> int:
        """Segments with every placeholder at its longest: GSM-7 escape characters (two septets each) and,
        for templates that keep diacritics, Vietnamese letters (which switch the message to UCS-2)."""
        fillers = ["^", "ệ"] if self.spec.policy is TextPolicy.KEEP_DIACRITICS else ["^"]
        worst = 0
        for filler in fillers:
            filled = dict(self.constants)
            for name in self.placeholders:
                placeholder = PLACEHOLDERS[name]
                if placeholder.choices:
                    filled[name] = max((self.constants[choice] for choice in placeholder.choices), key=len)
                else:
                    filled[name] = filler * placeholder.max_length
            text = self.spec.body.format_map(filled)
            if self.spec.policy is TextPolicy.UNACCENTED:
                text = prepare(text, TextPolicy.UNACCENTED).text
            worst = max(worst, measure(text).segments)
        return worst


def _sample(placeholder: Placeholder) -> str:
    return placeholder.choices[0] if placeholder.choices else placeholder.sample


@dataclass(frozen=True)
class TemplateSet:
    templates: Mapping[str, Template]
    constants: Mapping[str, str]

    def get(self, template_id: str) -> Template:
        return self.templates[template_id]

    def __iter__(self) -> Iterator[Template]:
        return iter(self.templates.values())


def build_template_set(raw: object, origin: str = "templates") -> TemplateSet:
    """Validate a decoded templates file (YAML/JSON mapping); raises ConfigError naming what is wrong."""
    try:
        parsed = TemplateFile.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{origin}: {error}") from None
    constants = {name: clean_value(value) for name, value in parsed.constants.items()}
    clashes = sorted(set(constants) & set(PLACEHOLDERS))
    if clashes:
        raise ConfigError(f"{origin}: constants {', '.join(clashes)} clash with event placeholders")
    templates: dict[str, Template] = {}
    for spec in parsed.templates:
        where = f"{origin}: template {spec.id} v{spec.version}"
        if spec.id in templates:
            raise ConfigError(f"{where}: defined twice")
        templates[spec.id] = _checked(spec, constants, where)
    return TemplateSet(templates, constants)


def _checked(spec: TemplateSpec, constants: Mapping[str, str], where: str) -> Template:
    try:
        names = _fields(spec.body)
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None
    unknown = [name for name in names if name not in PLACEHOLDERS and name not in constants]
    if unknown:
        known = ", ".join(sorted({*PLACEHOLDERS, *constants}))
        raise ConfigError(f"{where}: unknown placeholder(s) {', '.join(unknown)} (known: {known})")
    for name in names:
        missing = [
            choice for choice in PLACEHOLDERS.get(name, Placeholder(name, 0, "")).choices if choice not in constants
        ]
        if missing:
            raise ConfigError(f"{where}: {{{name}}} needs the constant(s) {', '.join(missing)}")
    template = Template(spec, tuple(name for name in names if name not in constants), constants)
    try:
        template.render(template.sample_values())
    except ContentRefused as error:
        raise ConfigError(f"{where}: the sample message is refused: {error.detail}") from None
    worst = template.worst_case_segments()
    if worst > spec.max_segments:
        limits = ", ".join(f"{name} {PLACEHOLDERS[name].max_length}" for name in template.placeholders)
        raise ConfigError(
            f"{where}: with the longest placeholder values ({limits or 'none'} characters) the message needs "
            f"{worst} segments, more than max_segments {spec.max_segments}; shorten the body or raise max_segments"
        )
    return template
