"""Which event kinds send which templates (configuration, defaults shipped in config/triggers.yaml)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from services.notifier.domain.incoming import PROVIDED
from services.notifier.domain.templates import Audience, ConfigError, Template, TemplateSet


class TriggerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str
    urgent: bool = False  # urgent messages are not held during quiet hours


class TriggerFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    triggers: dict[str, list[TriggerSpec]]


@dataclass(frozen=True)
class Trigger:
    template: Template
    urgent: bool

    @property
    def audience(self) -> Audience:
        return self.template.spec.audience


@dataclass(frozen=True)
class Triggers:
    by_kind: Mapping[str, tuple[Trigger, ...]]

    def for_kind(self, kind: str) -> tuple[Trigger, ...]:
        return self.by_kind.get(kind, ())


def _shorthand(raw: Any) -> Any:
    """`kind: template_id` and `kind: [template_id, ...]` are accepted as well as full mappings."""
    if not isinstance(raw, dict) or not isinstance(raw.get("triggers"), dict):
        return raw
    expanded: dict[str, Any] = {}
    for kind, value in raw["triggers"].items():
        items = value if isinstance(value, list) else [value]
        expanded[kind] = [{"template": item} if isinstance(item, str) else item for item in items]
    return {**raw, "triggers": expanded}


def build_triggers(raw: object, templates: TemplateSet, origin: str = "triggers") -> Triggers:
    try:
        parsed = TriggerFile.model_validate(_shorthand(raw))
    except ValidationError as error:
        raise ConfigError(f"{origin}: {error}") from None
    by_kind: dict[str, tuple[Trigger, ...]] = {}
    for kind, specs in parsed.triggers.items():
        provided = PROVIDED.get(kind)
        if provided is None:
            raise ConfigError(f"{origin}: unknown event kind {kind!r} (known: {', '.join(sorted(PROVIDED))})")
        triggers = []
        for spec in specs:
            template = templates.templates.get(spec.template)
            if template is None:
                raise ConfigError(f"{origin}: {kind} names an unknown template {spec.template!r}")
            if template.spec.audience is Audience.CITIZEN and not kind.startswith("dossier."):
                raise ConfigError(f"{origin}: {kind} has no applicant; {spec.template} is a citizen template")
            missing = [name for name in template.placeholders if name not in provided]
            if missing:
                raise ConfigError(
                    f"{origin}: template {spec.template} uses {', '.join(missing)}, which {kind} does not carry"
                )
            triggers.append(Trigger(template, spec.urgent))
        ids = [trigger.template.id for trigger in triggers]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"{origin}: {kind} names the same template twice")
        by_kind[kind] = tuple(triggers)
    return Triggers(by_kind)
