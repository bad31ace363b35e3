"""The shared API-key file: atomic 0600 writes, reload on change, last good keys kept, any key model, demo keys."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from services.contracts.keys import StoredKey
from services.runtime.api_keys import (
    KeyFiles,
    KeysFileError,
    KeyStore,
    bearer_token,
    ensure_demo_key,
    hash_key,
    new_key,
    read_keys,
    with_key,
    write_keys,
)


class SourceKey(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    sha256: str
    sources: tuple[str, ...]


class UnitKey(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    sha256: str
    unit: str | None = None
    admin: bool = False


def _touch_later(path: Path) -> None:
    """Move the mtime forward so a rewrite is seen even on coarse file-system clocks."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 2_000_000_000))


def test_keys_file_is_written_owner_only_when_replaced(tmp_path: Path) -> None:
    path = tmp_path / "var" / "keys.json"
    write_keys(path, [SourceKey(name="a", sha256=hash_key("k"), sources=("urn:x",))])
    write_keys(path, [SourceKey(name="b", sha256=hash_key("k2"), sources=("urn:y",))])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [key.name for key in read_keys(path, SourceKey)] == ["b"]
    assert [entry.name for entry in path.parent.iterdir()] == ["keys.json"]


def test_store_sees_a_new_key_when_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    store = KeyStore(path, UnitKey, check_every=0)
    assert store.ring().authenticate("k1") is None
    write_keys(path, [UnitKey(name="vhxh", sha256=hash_key("k1"), unit="VHXH")])
    _touch_later(path)
    found = store.ring().authenticate("k1")
    assert found is not None
    assert (found.name, found.unit) == ("vhxh", "VHXH")


def test_store_keeps_the_last_good_keys_when_the_file_is_broken(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "keys.json"
    write_keys(path, [SourceKey(name="a", sha256=hash_key("k"), sources=("urn:x",))])
    store = KeyStore(path, SourceKey, check_every=0)
    path.write_text('{"keys": [{"name": "a"}]}')
    _touch_later(path)
    with caplog.at_level(logging.ERROR):
        found = store.ring().authenticate("k")
    assert found is not None
    assert found.sources == ("urn:x",)
    assert "keeping the previous keys" in caplog.text
    with pytest.raises(KeysFileError, match="error"):
        read_keys(path, SourceKey)


def test_store_serves_each_model_when_two_services_use_it(tmp_path: Path) -> None:
    write_keys(tmp_path / "a.json", [SourceKey(name="gw", sha256=hash_key("a"), sources=("urn:pay",))])
    write_keys(tmp_path / "b.json", [UnitKey(name="boss", sha256=hash_key("b"), admin=True)], exclude_none=True)
    extra = [UnitKey(name="env", sha256=hash_key("c"), unit="KT")]
    sources = KeyStore(tmp_path / "a.json", SourceKey).ring().authenticate("a")
    units = KeyStore(tmp_path / "b.json", UnitKey, extra).ring()
    assert isinstance(sources, SourceKey)
    assert [type(units.authenticate(key)).__name__ for key in ("b", "c")] == ["UnitKey", "UnitKey"]
    assert len(units) == 2
    assert "null" not in (tmp_path / "b.json").read_text()
    with pytest.raises(KeysFileError):
        read_keys(tmp_path / "a.json", UnitKey)


def test_with_key_replaces_a_key_when_its_name_or_hash_repeats() -> None:
    old = [UnitKey(name="a", sha256=hash_key("1"), unit="X"), UnitKey(name="b", sha256=hash_key("2"), unit="X")]
    new = UnitKey(name="a", sha256=hash_key("3"), unit="Y")
    assert [(key.name, key.unit) for key in with_key(old, new)] == [("b", "X"), ("a", "Y")]


def test_helpers_parse_and_generate_keys_when_asked() -> None:
    assert new_key("dvcxk_").startswith("dvcxk_")
    assert len(hash_key("k")) == 64
    assert (bearer_token("bearer  abc "), bearer_token("Basic abc"), bearer_token(None)) == ("abc", None, None)


class ScopedKey(StoredKey):
    scope: str = "all"


def test_file_written_before_the_shared_key_model_loads_when_its_fields_are_in_the_old_order(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    sha = hash_key("k")
    path.write_text(f'{{"keys": [{{"name": "a", "sha256": "{sha}", "scope": "x", "created_at": null}}]}}\n')
    files = KeyFiles(ScopedKey, exclude_none=True, logger=logging.getLogger("test"))
    assert files.read(path) == [ScopedKey(name="a", sha256=sha, scope="x")]
    assert files.store(path, check_every=0).ring().authenticate("k") == ScopedKey(name="a", sha256=sha, scope="x")


def test_demo_key_is_kept_when_stored_and_stored_again_when_its_rights_changed(tmp_path: Path) -> None:
    key_file, path = tmp_path / "var" / "demo-key", tmp_path / "keys.json"
    files = KeyFiles(ScopedKey, exclude_none=True, logger=logging.getLogger("test"))
    scope = "all"

    def spec_of(key: str) -> ScopedKey:
        return ScopedKey(name="demo", sha256=hash_key(key), scope=scope)

    def ensure() -> str:
        return ensure_demo_key(key_file, files.read(path), "dvcxk_", spec_of, lambda keys: files.write(path, keys))

    key = ensure()
    written = path.stat().st_ino
    assert key.startswith("dvcxk_")
    assert ensure() == key
    assert path.stat().st_ino == written
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    scope = "some"
    assert ensure() == key
    assert files.read(path) == [ScopedKey(name="demo", sha256=hash_key(key), scope="some")]
