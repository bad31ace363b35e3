"""Driver-level SQL for the hot apply path: values converted once per row in plain Python, statements
sent with the driver's executemany (MEASURED: SQLAlchemy's per-parameter processing dominated the cost).

Values written here read back identically through the SQLAlchemy tables (`UtcDateTime` stores naive UTC
`YYYY-MM-DD HH:MM:SS.ffffff` on SQLite and `timestamptz` on PostgreSQL; JSON is serialised text).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from operator import attrgetter, itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Table
from sqlalchemy.ext.asyncio import AsyncSession

from services.runtime.sqltypes import UtcDateTime

MAX_PARAMETERS = 30_000  # below asyncpg's 32,767 and SQLite's 32,766


def _kind(column_type: Any) -> str:
    if isinstance(column_type, UtcDateTime):
        return "time"
    if isinstance(column_type, Boolean):
        return "bool"
    if isinstance(column_type, JSON):
        return "json"
    return "plain"


class RawTable:
    """Column order, converters and SQL text of one table for one dialect."""

    def __init__(self, table: Table, dialect: str) -> None:
        self.name = table.name
        self.dialect = dialect
        self.columns = [column.name for column in table.columns]
        self.values_of = attrgetter(*self.columns)  # object -> its column values, in order
        self._items = itemgetter(*self.columns)
        self.kinds = [_kind(column.type) for column in table.columns]
        self.sqlite = dialect == "sqlite"
        self._time_texts: dict[datetime, str] = {}
        self._parsed_times: dict[str, datetime] = {}
        # StrEnum -> str for sqlite3; asyncpg takes a str subclass as it is
        self.enum_indexes = {index for index, name in enumerate(self.columns) if name == "status" and self.sqlite}
        # columns whose values need converting for the driver (asyncpg takes datetimes as they are)
        self._converted = [
            index
            for index, kind in enumerate(self.kinds)
            if (kind == "time" and self.sqlite) or kind == "json" or index in self.enum_indexes
        ]

    def placeholders(self, count: int, start: int = 0) -> str:
        if self.sqlite:
            return ", ".join("?" * count)
        return ", ".join(f"${index}" for index in range(start + 1, start + count + 1))

    def to_db(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(self.values_to_db(list(self._items(row))))

    def object_to_db(self, item: Any) -> tuple[Any, ...]:
        """Same as `to_db` for an object whose attributes are named like the columns."""
        if not self._converted:
            return self.values_of(item)
        return tuple(self.values_to_db(list(self.values_of(item))))

    def values_to_db(self, values: list[Any]) -> list[Any]:
        for index in self._converted:
            if values[index] is not None:
                values[index] = self.value_to_db(index, values[index])
        return values

    def value_to_db(self, index: int, value: Any) -> Any:
        """One value of column `index`, converted as `values_to_db` does."""
        if value is None:
            return None
        kind = self.kinds[index]
        if kind == "time" and self.sqlite:
            return self.time_text(value)
        if kind == "json":
            return orjson.dumps(value).decode()
        return str(value) if index in self.enum_indexes else value

    def time_text(self, value: datetime) -> str:
        texts = self._time_texts
        text = texts.get(value)  # a dossier's times repeat from one write to the next
        if text is None:
            if len(texts) > 10_000:
                texts.clear()
            text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            texts[value] = text
        return text

    def from_db(self, record: Sequence[Any]) -> dict[str, Any]:
        return dict(zip(self.columns, self.values_from_db(record), strict=True))

    def values_from_db(self, record: Sequence[Any]) -> list[Any]:
        """The Python values of a driver record, in column order."""
        values = list(record)
        for index, kind in enumerate(self.kinds):
            value = values[index]
            if value is None or kind == "plain":
                continue
            if kind == "time":
                if isinstance(value, str):
                    values[index] = self.parse_time(value)
                elif value.tzinfo is not UTC:
                    values[index] = _utc(value)
            elif kind == "bool":
                values[index] = bool(value)
            elif isinstance(value, str | bytes):
                values[index] = orjson.loads(value)
        return values

    def parse_time(self, text: str) -> datetime:
        """SQLite's text of a time. Equal texts give one shared object: a row repeats its times (due, extended
        due, overdue from; processed, ended) and rows share due dates, and the states read stay in memory."""
        times = self._parsed_times
        value = times.get(text)
        if value is None:
            if len(times) > 10_000:
                times.clear()
            value = datetime.fromisoformat(text).replace(tzinfo=UTC)
            times[text] = value
        return value

    @property
    def stage(self) -> str:
        """PostgreSQL: the session's temporary staging table that binary COPY fills."""
        return f"stage_{self.name}"

    def upsert_sql(self, keys: Sequence[str]) -> str:
        """One row of parameters per execution on SQLite; from the COPY-filled staging table on PostgreSQL."""
        updates = ", ".join(f"{name} = excluded.{name}" for name in self.columns if name not in keys)
        return f"{self._insert_head()} ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"

    def _insert_head(self) -> str:
        columns = ", ".join(self.columns)
        if self.sqlite:
            return f"INSERT INTO {self.name} ({columns}) VALUES ({self.placeholders(len(self.columns))})"
        return f"INSERT INTO {self.name} ({columns}) SELECT {columns} FROM {self.stage}"

    def select_in_sql(self, key: str, count: int) -> str:
        """Rows whose `key` is among the parameters: an IN list on SQLite; on PostgreSQL one array parameter
        joined through unnest (a hash or index join whatever the table statistics say; one prepared plan)."""
        if self.sqlite:
            return f"SELECT {', '.join(self.columns)} FROM {self.name} WHERE {key} IN ({self.placeholders(count)})"
        columns = ", ".join(f"t.{name}" for name in self.columns)
        return f"SELECT {columns} FROM unnest($1::varchar[]) AS k(code) JOIN {self.name} AS t ON t.{key} = k.code"

    def select_in_parameters(self, keys: Sequence[str]) -> tuple[Any, ...]:
        return tuple(keys) if self.sqlite else (list(keys),)

    def insert_new_sql(self, rows: int, keys: Sequence[str]) -> str:
        """INSERT ... ON CONFLICT DO NOTHING RETURNING the keys of the rows actually inserted: multi-row VALUES
        on SQLite (`rows` rows), unnest of column arrays on PostgreSQL (any number of rows)."""
        tail = f"ON CONFLICT ({', '.join(keys)}) DO NOTHING RETURNING {', '.join(keys)}"
        if not self.sqlite:
            return f"{self._insert_head()} {tail}"
        width = len(self.columns)
        groups = ", ".join(f"({self.placeholders(width, index * width)})" for index in range(rows))
        return f"INSERT INTO {self.name} ({', '.join(self.columns)}) VALUES {groups} {tail}"

    def max_rows(self) -> int:
        """Rows per statement under the bind-parameter limits (unbounded with PostgreSQL COPY)."""
        return MAX_PARAMETERS // len(self.columns) if self.sqlite else 1_000_000


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def driver_connection(session: AsyncSession) -> Any:
    """PostgreSQL: the session's asyncpg connection (for COPY and array parameters)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def _stage(session: AsyncSession, table: RawTable, rows: Sequence[tuple[Any, ...]]) -> Any:
    """PostgreSQL: binary COPY of `rows` into the transaction's staging table (emptied at commit)."""
    driver = await driver_connection(session)
    await driver.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table.stage} (LIKE {table.name}) ON COMMIT DELETE ROWS")
    await driver.copy_records_to_table(table.stage, records=rows, columns=table.columns)
    return driver


async def upsert(session: AsyncSession, table: RawTable, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """executemany on SQLite; COPY into a staging table, then one INSERT ... SELECT on PostgreSQL."""
    if not rows:
        return
    if table.sqlite:
        connection = await session.connection()
        await connection.exec_driver_sql(sql, list(rows))
        return
    driver = await _stage(session, table, rows)
    await driver.execute(sql)


async def insert_new(
    session: AsyncSession, table: RawTable, keys: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> list[Any]:
    """Insert rows whose keys are absent; returns the keys of the rows inserted."""
    if not rows:
        return []
    if table.sqlite:
        inserted: list[Any] = []
        for chunk in chunks(rows, table.max_rows()):
            parameters = tuple(value for row in chunk for value in row)
            inserted.extend(await fetch(session, table.insert_new_sql(len(chunk), keys), parameters))
        return inserted
    driver = await _stage(session, table, rows)
    records = await driver.fetch(table.insert_new_sql(len(rows), keys))
    return [tuple(record) for record in records]


async def fetch(session: AsyncSession, sql: str, parameters: tuple[Any, ...]) -> list[Sequence[Any]]:
    connection = await session.connection()
    result = await connection.exec_driver_sql(sql, parameters)
    return list(result.all())


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + size]
