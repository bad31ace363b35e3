"""`make up`'s NATS security: the embedded server runs with the users of `services.contracts.nats_users` and
JetStream encrypted at rest, and each child process connects as its own user (docs/security.md)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from services.contracts.nats_users import ADMIN, SERVICE_USERS
from services.runtime.nats.embedded import EmbeddedNats
from services.runtime.nats.embedded_secrets import CONFIG_FILE, EmbeddedSecrets

NATS_CREDENTIALS = ("DVC_NATS_USER", "DVC_NATS_PASSWORD", "DVC_NATS_PASSWORD_FILE")
# Setup steps and children that connect to NATS, and as whom; the others (simulator, demo keys) get no credentials.
CHILD_USERS = {"streams": ADMIN} | {user.name: user.name for user in SERVICE_USERS}


def secure_embedded_nats(nats: EmbeddedNats, var_dir: Path) -> EmbeddedSecrets:
    """Passwords and the JetStream key from var/nats-secrets.json (generated on the first start, 0600) and the
    server's config var/nats.conf (0600) written from them. An unencrypted store of an older `var/` is encrypted
    by nats-server as it starts."""
    secrets = EmbeddedSecrets.load_or_create(var_dir)
    config = var_dir / CONFIG_FILE
    secrets.write_server_config(config, nats.port, nats.store_dir)
    nats.config_file = config
    return secrets


def child_environment(base: Mapping[str, str], secrets: EmbeddedSecrets | None, name: str) -> dict[str, str]:
    """`base` with the NATS user of child `name` (`DVC_NATS_USER`, `DVC_NATS_PASSWORD`), or with none."""
    env = {key: value for key, value in base.items() if key not in NATS_CREDENTIALS}
    user = CHILD_USERS.get(name)
    if secrets is not None and user is not None:
        env |= secrets.environment(user)
    return env
