"""nats-server configuration text rendered from the permissions table (`services.contracts.nats_users`).

`render_users()` is deploy/nats/users.conf (passwords read from `$DVC_NATS_<USER>_PASSWORD` when the server
starts); `render_embedded()` is the whole config of the embedded server of `make up`, with the generated
passwords and the JetStream encryption key written in (the file is private to its owner, mode 0600).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping, Sequence
from pathlib import Path

import orjson

from services.contracts.nats_users import USERS, NatsUser, password_variable

USERS_HEADER = (
    "# GENERATED from services/contracts/nats_users.py by `dvc-pulse nats users-conf`: do not edit by hand\n"
    "# (tests/security/test_nats_config.py fails when this file and the table disagree).\n"
    "# Included inside `authorization { }`; each password comes from the server's environment,\n"
    "# e.g. $DVC_NATS_INGEST_PASSWORD (a missing variable stops the server).\n"
)
JETSTREAM_CIPHER = "chachapoly"
JETSTREAM_KEY_VARIABLE = "DVC_NATS_JETSTREAM_KEY"


def quoted(value: str) -> str:
    """A NATS config string (JSON quoting is valid; quoted strings are never variable references)."""
    return orjson.dumps(value).decode()


def _list(values: Sequence[str], indent: str) -> str:
    if len(values) <= 2:
        return "[" + ", ".join(quoted(value) for value in values) + "]"
    return "[\n" + "".join(f"{indent}  {quoted(value)},\n" for value in values) + indent + "]"


def _user_block(user: NatsUser, password: str) -> list[str]:
    lines = [f"  # {user.description}", "  {", f"    user: {quoted(user.name)}", f"    password: {password}"]
    if user.publish != (">",) or user.subscribe != (">",):
        lines += [
            "    permissions: {",
            f"      publish: {{ allow: {_list(user.publish, '      ')} }}",
            f"      subscribe: {{ allow: {_list(user.subscribe, '      ')} }}",
        ]
        if user.allow_responses:
            lines.append("      allow_responses: true")
        lines.append("    }")
    lines.append("  }")
    return lines


def render_users(passwords: Mapping[str, str] | None = None) -> str:
    """The `users: [...]` of the server's authorization block; without `passwords`, environment references."""
    lines = ["users: ["]
    for user in USERS:
        password = f"${password_variable(user.name)}" if passwords is None else quoted(passwords[user.name])
        lines += _user_block(user, password)
    lines.append("]")
    return ("" if passwords is not None else USERS_HEADER) + "\n".join(lines) + "\n"


def render_embedded(port: int, store_dir: Path, passwords: Mapping[str, str], jetstream_key: str) -> str:
    """Loopback only, the same users as production, JetStream encrypted at rest."""
    return (
        "# Written by `dvc-pulse up` on every start from var/nats-secrets.json: edits are overwritten.\n"
        f"listen: {quoted(f'127.0.0.1:{port}')}\n"
        "jetstream {\n"
        f"  store_dir: {quoted(str(store_dir))}\n"
        f"  cipher: {JETSTREAM_CIPHER}\n"
        f"  key: {quoted(jetstream_key)}\n"
        "}\n"
        "authorization {\n" + render_users(passwords) + "}\n"
    )


def new_secret(length: int = 40) -> str:
    """A random password or key that nats-server reads back as the same string from an environment variable:
    it parses a variable's value like config text, so `-x...` or `12k` would become a number or a size.
    Letters and digits only, starting with a letter."""
    alphabet = string.ascii_letters + string.digits
    return secrets.choice(string.ascii_letters) + "".join(secrets.choice(alphabet) for _ in range(length - 1))


def render_env_file(passwords: Mapping[str, str], jetstream_key: str) -> str:
    """The deployed servers' environment (`env_file` of the nats-N containers): every user's password and the
    JetStream encryption key."""
    lines = [f"{password_variable(user.name)}={passwords[user.name]}" for user in USERS]
    return "\n".join([*lines, f"{JETSTREAM_KEY_VARIABLE}={jetstream_key}"]) + "\n"
