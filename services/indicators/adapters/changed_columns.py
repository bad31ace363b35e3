"""Write only the columns an event changed: one UPDATE per set of changed columns, many rows each.

Most events change two to five of the 40 columns of a dossier row. Rewriting the whole row cost the encoding
of every value (asyncpg's COPY, SQLite's text times) and, on SQLite, an update of every index of the table;
a narrow UPDATE touches only the indexes of the columns it sets. Rows that are new, or were refolded, are
still written whole (`fastsql.upsert`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.adapters import fastsql
from services.indicators.adapters.fastsql import RawTable

Columns = tuple[int, ...]


def changed_columns(before: Sequence[Any], after: Sequence[Any]) -> Columns:
    """Indexes of the values that differ (identity first: most values are the very same objects)."""
    return tuple(
        index for index, (old, new) in enumerate(zip(before, after, strict=True)) if old is not new and old != new
    )


class ColumnUpdates:
    """Narrow UPDATEs of one table keyed by one column, for SQLite (executemany) or PostgreSQL (unnest)."""

    def __init__(self, table: RawTable, key: str) -> None:
        self.table = table
        self.key = key
        self.key_index = table.columns.index(key)
        self._sql: dict[Columns, str] = {}

    def sql(self, columns: Columns) -> str:
        text = self._sql.get(columns)
        if text is None:
            text = self._sqlite_sql(columns) if self.table.sqlite else self._postgres_sql(columns)
            self._sql[columns] = text
        return text

    def _sqlite_sql(self, columns: Columns) -> str:
        names = self.table.columns
        assignments = ", ".join(f"{names[index]} = ?" for index in columns)
        return f"UPDATE {self.table.name} SET {assignments} WHERE {self.key} = ?"

    def _postgres_sql(self, columns: Columns) -> str:
        names, types = self.table.columns, self.table.pg_types
        assignments = ", ".join(f"{names[index]} = u.c{index}" for index in columns)
        arrays = ", ".join(
            [f"$1::{types[self.key_index]}[]"]
            + [f"${position}::{types[index]}[]" for position, index in enumerate(columns, start=2)]
        )
        aliases = ", ".join(["k"] + [f"c{index}" for index in columns])
        return (
            f"UPDATE {self.table.name} AS t SET {assignments} FROM unnest({arrays}) AS u({aliases}) "
            f"WHERE t.{self.key} = u.k"
        )

    async def write(self, session: AsyncSession, changes: Iterable[tuple[Sequence[Any], Sequence[Any]]]) -> int:
        """`changes`: (values before, values after) of existing rows, in column order. Returns rows updated."""
        groups: dict[Columns, list[Sequence[Any]]] = defaultdict(list)
        for before, after in changes:
            columns = changed_columns(before, after)
            if columns:
                groups[columns].append(after)
        for columns, rows in groups.items():
            if self.table.sqlite:
                convert = self.table.value_to_db
                parameters = [(*(convert(index, row[index]) for index in columns), row[self.key_index]) for row in rows]
                connection = await session.connection()
                await connection.exec_driver_sql(self.sql(columns), parameters)
            else:
                arrays = [[row[self.key_index] for row in rows]]
                convert = self.table.value_to_db
                arrays.extend([convert(index, row[index]) for row in rows] for index in columns)
                driver = await fastsql.driver_connection(session)
                await driver.execute(self.sql(columns), *arrays)
        return sum(len(rows) for rows in groups.values())
