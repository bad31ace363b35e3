"""Templates and triggers files: the packaged defaults (services/notifier/config/) or the configured ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from services.notifier.domain.templates import ConfigError, TemplateSet, build_template_set
from services.notifier.domain.triggers import Triggers, build_triggers

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULT_TEMPLATES = DEFAULT_DIR / "templates.yaml"
DEFAULT_TRIGGERS = DEFAULT_DIR / "triggers.yaml"


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None


def load_templates(path: Path | None = None, centre_name: str | None = None) -> TemplateSet:
    """`centre_name` (the setting) replaces the file's `centre` constant: the name every citizen SMS starts with."""
    source = path or DEFAULT_TEMPLATES
    raw = read_yaml(source)
    if centre_name is not None and isinstance(raw, dict):
        raw = {**raw, "constants": {**(raw.get("constants") or {}), "centre": centre_name}}
    return build_template_set(raw, str(source))


def load_triggers(templates: TemplateSet, path: Path | None = None) -> Triggers:
    source = path or DEFAULT_TRIGGERS
    return build_triggers(read_yaml(source), templates, str(source))
