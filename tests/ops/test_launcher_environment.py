"""`make up`'s children run with glibc malloc bounded (two arenas, large blocks returned) unless the environment
already chose its own settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.ops.launcher import Launcher


def test_children_get_two_malloc_arenas_and_fixed_thresholds_when_the_environment_sets_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(name, raising=False)
    env = Launcher(nats_port=14999, simulate=False, var_dir=tmp_path / "var").env

    assert env["MALLOC_ARENA_MAX"] == "2"
    assert env["MALLOC_MMAP_THRESHOLD_"] == env["MALLOC_TRIM_THRESHOLD_"] == "131072"


def test_children_keep_the_operators_malloc_setting_when_the_environment_sets_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    env = Launcher(nats_port=14999, simulate=False, var_dir=tmp_path / "var").env

    assert env["MALLOC_ARENA_MAX"] == "4"
