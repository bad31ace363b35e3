"""Write docs/schemas/ from the models, or list how the files drifted from them."""

from __future__ import annotations

from pathlib import Path

from services.ingest.domain.schemas import render, schema_documents

SCHEMA_SUFFIX = ".schema.json"


def expected_files() -> dict[str, str]:
    return {name: render(document) for name, document in schema_documents().items()}


def write_schemas(directory: Path) -> list[str]:
    """Write every schema, remove stale ones; returns the files that changed."""
    expected = expected_files()
    changed = schema_drift(directory, expected)
    for name, text in expected.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    for stale in _present(directory) - expected.keys():
        (directory / stale).unlink()
    return changed


def schema_drift(directory: Path, expected: dict[str, str] | None = None) -> list[str]:
    """`missing x`, `changed x`, `stale x` for every difference between the files and the models."""
    expected = expected if expected is not None else expected_files()
    present = _present(directory)
    drift = [f"missing {name}" for name in sorted(expected.keys() - present)]
    drift += [f"stale {name}" for name in sorted(present - expected.keys())]
    drift += [
        f"changed {name}"
        for name in sorted(expected.keys() & present)
        if (directory / name).read_text(encoding="utf-8") != expected[name]
    ]
    return drift


def _present(directory: Path) -> set[str]:
    if not directory.is_dir():
        return set()
    return {path.relative_to(directory).as_posix() for path in directory.rglob(f"*{SCHEMA_SUFFIX}")}
