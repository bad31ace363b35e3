"""Indicators partitioned by entity over DVC_EVENTS (docs/performance.md, "Scaling out").

`DVC_INDICATORS_PARTITIONS=n` splits the events into n durable consumers (`<consumer>-p<i>-of-<n>`), each
filtering its share of the stream's 64 slots (`services.contracts.partitioning`); a replica runs the
partitions of `DVC_INDICATORS_OWNED_PARTITIONS` (all when empty). Every partition writes the same PostgreSQL:
they take the projection lock shared (a rebuild takes it exclusive), since no two partitions ever write the same
dossier, procedure or document row, and a lock of their own partition exclusive. Each partition keeps its own
consumer-state row, which is also its state cache's token. SQLite has a single writer, so it stays one consumer.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

from services.contracts.partitioning import partition_durable, partition_filters
from services.contracts.subjects import EVENTS_PREFIX
from services.indicators.adapters.store import SqlProjections
from services.indicators.adapters.unit_of_work import SqlUnitsOfWork
from services.indicators.service_layer.handlers import IndicatorsService


@dataclass(frozen=True)
class Partition:
    durable: str
    filter_subjects: tuple[str, ...]
    subject: str = f"{EVENTS_PREFIX}.>"


def owned_partitions(base_durable: str, partitions: int, owned: Sequence[int]) -> list[Partition]:
    """The consumers this replica runs; one partition is the classic single consumer on `dvc.events.>`."""
    if partitions == 1:
        return [Partition(base_durable, ())]
    indexes = sorted(set(owned)) if owned else list(range(partitions))
    return [
        Partition(partition_durable(base_durable, index, partitions), partition_filters(index, partitions))
        for index in indexes
    ]


def publishes_snapshots(partitions: int, owned: Sequence[int]) -> bool:
    """Snapshots are of the whole store: only the replica running partition 0 publishes them (one a tick)."""
    return partitions == 1 or not owned or 0 in owned


def partition_service(service: IndicatorsService, partition: Partition, partitions: int) -> IndicatorsService:
    """`service` applying for one partition: its own consumer-state row and state cache, the lock shared when
    several partitions write. One partition is `service` itself."""
    if partitions == 1:
        return service
    units = service.units
    if not isinstance(units, SqlUnitsOfWork):
        raise TypeError("partitions need the SQL units of work")
    shared = units.projections
    projections = SqlProjections(shared.tables, shared.dialect, shared.cache.limit)
    projections.partition = partition.durable
    clone = copy.copy(service)
    clone.consumer = partition.durable
    clone.units = SqlUnitsOfWork(units.sessions, projections)
    return clone
