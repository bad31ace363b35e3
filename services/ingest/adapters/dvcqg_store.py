"""What the ingest remembers of the portal's dossiers, in a SQLite file of its own (var/dvcqg.sqlite): each
dossier's memo (services.ingest.domain.dvcqg.DossierMemo) and the national procedure codes the mapping table
lacks. Synchronous (sqlite3): the service calls it in a worker thread, the import command directly."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from services.ingest.domain.dvcqg import DossierMemo, Status, Unmapped

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS dvcqg_dossiers (source TEXT NOT NULL, dossier_code TEXT NOT NULL, "
    "memo TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (source, dossier_code))",
    "CREATE TABLE IF NOT EXISTS dvcqg_unmapped (source TEXT NOT NULL, procedure_code TEXT NOT NULL, "
    "dossier_code TEXT NOT NULL, name TEXT NOT NULL, seen_at TEXT NOT NULL, "
    "PRIMARY KEY (source, procedure_code, dossier_code))",
)


@dataclass(frozen=True)
class UnmappedProcedure:
    source: str
    procedure_code: str
    name: str
    dossiers: int
    first_seen: str
    last_seen: str


@dataclass(frozen=True)
class RegressedDossier:
    source: str
    dossier_code: str
    status: str | None
    anomalies: int
    last_anomaly: str | None
    updated_at: str


def _memo_from(text: str) -> DossierMemo:
    values = json.loads(text)
    values["status"] = None if values.get("status") is None else Status(values["status"])
    return DossierMemo(**values)


class DossierStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as connection:
            if not self._ready:
                connection.execute("PRAGMA journal_mode=WAL")
                for statement in _SCHEMA:
                    connection.execute(statement)
                self._ready = True
            with connection:
                yield connection

    def load(self, source: str, codes: Iterable[str]) -> dict[str, DossierMemo]:
        wanted = sorted(set(codes))
        found: dict[str, DossierMemo] = {}
        with self._connection() as connection:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT dossier_code, memo FROM dvcqg_dossiers WHERE source = ? AND dossier_code IN ({marks})",
                    (source, *chunk),
                )
                found.update((code, _memo_from(memo)) for code, memo in rows)
        return found

    def save(self, source: str, memos: Mapping[str, DossierMemo], unmapped: Iterable[Unmapped], at: datetime) -> None:
        stamp = at.isoformat()
        with self._connection() as connection:
            connection.executemany(
                "INSERT INTO dvcqg_dossiers (source, dossier_code, memo, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (source, dossier_code) DO UPDATE SET memo = excluded.memo, "
                "updated_at = excluded.updated_at",
                [(source, code, json.dumps(asdict(memo), ensure_ascii=False), stamp) for code, memo in memos.items()],
            )
            connection.executemany(
                "INSERT INTO dvcqg_unmapped (source, procedure_code, dossier_code, name, seen_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(source, item.procedure_code, item.dossier_code, item.name, stamp) for item in unmapped],
            )

    def unmapped(self, sources: Iterable[str] | None = None) -> list[UnmappedProcedure]:
        """The unmapped national codes with how many dossiers used them, per source (all sources when None)."""
        with self._connection() as connection:
            rows = connection.execute(
                "SELECT source, procedure_code, MAX(name), COUNT(*), MIN(seen_at), MAX(seen_at) FROM dvcqg_unmapped "
                "GROUP BY source, procedure_code ORDER BY COUNT(*) DESC, source, procedure_code"
            ).fetchall()
        allowed = None if sources is None else set(sources)
        return [UnmappedProcedure(*row) for row in rows if allowed is None or row[0] in allowed]

    def regressed(self, limit: int) -> list[RegressedDossier]:
        """Dossiers whose snapshots went back at least once, the most recently updated first."""
        with self._connection() as connection:
            rows = connection.execute(
                "SELECT source, dossier_code, memo, updated_at FROM dvcqg_dossiers "
                "WHERE memo NOT LIKE '%\"anomalies\": 0,%' ORDER BY updated_at DESC, source, dossier_code"
            )
            found = []
            for source, code, text, updated_at in rows:
                memo = _memo_from(text)
                if memo.anomalies:
                    status = None if memo.status is None else memo.status.value
                    found.append(RegressedDossier(source, code, status, memo.anomalies, memo.last_anomaly, updated_at))
                if len(found) >= limit:
                    break
        return found
