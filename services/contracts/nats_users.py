"""Who may do what on NATS: one user per service, the producer systems' request user and the admin (design §3).

The one definition of the NATS permissions. `dvc-pulse nats users-conf` renders it into the server's
`authorization` block (deploy/nats/users.conf, and the embedded server of `make up`); tests check both against
it. A service user may publish only its own subjects, call the JetStream API only for the streams it checks
and the durables it owns, ack only its own durables' messages and receive only on its own inbox prefix
(`_INBOX_<user>.>`, so no user can read another's replies, JetStream deliveries included). Only `admin`
(`dvc-pulse streams apply`, `dlq`, `ingest read`, `indicators rebuild`) may create, update, delete or purge a
stream; no service user can.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.contracts import subjects
from services.contracts.partitioning import partition_durables
from services.contracts.streams import ALERTS, DLQ, EVENTS, NOTIFY

ADMIN = "admin"
JS_API = "$JS.API"
ACCOUNT_INFO = f"{JS_API}.INFO"  # read-only: the account's JetStream usage and limits


@dataclass(frozen=True)
class Durable:
    """A durable pull consumer a service owns (the name is the service's `*_CONSUMER` setting's default)."""

    stream: str
    name: str


@dataclass(frozen=True)
class NatsUser:
    name: str
    description: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    allow_responses: bool = False  # may answer requests it received (ingest on `dvc.ingest`)
    durables: tuple[Durable, ...] = ()


def inbox_prefix(user: str) -> str:
    """The inbox prefix a user's client must use (nats-py `inbox_prefix`); `_INBOX` for an anonymous client."""
    return f"_INBOX_{user}" if user else "_INBOX"


def stream_info(*streams: str) -> tuple[str, ...]:
    return tuple(f"{JS_API}.STREAM.INFO.{stream}" for stream in streams)


def durable_api(durable: Durable) -> tuple[str, ...]:
    """Create (every form nats-py and FastStream send), look up and pull from one durable, and ack its messages."""
    stream, name = durable.stream, durable.name
    return (
        f"{JS_API}.CONSUMER.CREATE.{stream}.{name}",
        f"{JS_API}.CONSUMER.CREATE.{stream}.{name}.>",
        f"{JS_API}.CONSUMER.DURABLE.CREATE.{stream}.{name}",
        f"{JS_API}.CONSUMER.INFO.{stream}.{name}",
        f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{name}",
        f"$JS.ACK.{stream}.{name}.>",
    )


def _service(
    name: str,
    description: str,
    *,
    publish: tuple[str, ...],
    checks: tuple[str, ...],
    durables: tuple[Durable, ...] = (),
    subscribe: tuple[str, ...] = (),
    allow_responses: bool = False,
) -> NatsUser:
    dead_letters = (subjects.dlq_subject(name),) if durables else ()
    api = tuple(subject for durable in durables for subject in durable_api(durable))
    return NatsUser(
        name=name,
        description=description,
        publish=(*publish, *dead_letters, *stream_info(*checks), *api),
        subscribe=(*subscribe, f"{inbox_prefix(name)}.>"),
        allow_responses=allow_responses,
        durables=durables,
    )


INGEST = _service(
    "ingest",
    "Validated events into DVC_EVENTS; answers requests on dvc.ingest",
    publish=(f"{subjects.EVENTS_PREFIX}.>", ACCOUNT_INFO),  # ACCOUNT_INFO: dvc_jetstream_store_bytes
    checks=(EVENTS.name,),
    subscribe=(subjects.INGEST_REQUEST,),
    allow_responses=True,
)
INDICATORS = _service(
    "indicators",
    "Consumes DVC_EVENTS; publishes dossier alerts and indicator snapshots",
    publish=(f"{subjects.ALERTS_PREFIX}.dossier.>", subjects.INDICATORS_SNAPSHOT),
    checks=(EVENTS.name, ALERTS.name, DLQ.name),
    durables=tuple(Durable(EVENTS.name, name) for name in partition_durables("indicators")),
)
TASKS = _service(
    "tasks",
    "Consumes indicator snapshots from DVC_ALERTS; publishes task deadline alerts",
    publish=(f"{subjects.ALERTS_PREFIX}.task.>",),
    checks=(ALERTS.name, DLQ.name),
    durables=(Durable(ALERTS.name, "tasks-snapshots"),),
)
NOTIFIER = _service(
    "notifier",
    "Consumes dossier events and alerts; publishes notification status events",
    publish=(f"{subjects.NOTIFY_PREFIX}.>",),
    checks=(EVENTS.name, ALERTS.name, NOTIFY.name, DLQ.name),
    durables=(Durable(EVENTS.name, "notifier"), Durable(ALERTS.name, "notifier-alerts")),
)
PRODUCER = NatsUser(
    name="producer",
    description="Producer systems sending CloudEvents by request to dvc.ingest (ingest checks their API key)",
    publish=(subjects.INGEST_REQUEST,),
    subscribe=(f"{inbox_prefix('producer')}.>",),
)
ADMIN_USER = NatsUser(
    name=ADMIN,
    description="Operators: streams apply, dlq list/redrive, ingest read, indicators rebuild",
    publish=(">",),
    subscribe=(">",),
)

SERVICE_USERS: tuple[NatsUser, ...] = (INGEST, INDICATORS, TASKS, NOTIFIER)
USERS: tuple[NatsUser, ...] = (*SERVICE_USERS, PRODUCER, ADMIN_USER)


def user(name: str) -> NatsUser:
    for candidate in USERS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no NATS user {name!r}")


def password_variable(name: str) -> str:
    """The environment variable the deployed server config reads the user's password from."""
    return f"DVC_NATS_{name.upper()}_PASSWORD"
