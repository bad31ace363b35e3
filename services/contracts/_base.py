from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# Identities and codes end up in NATS headers (`Nats-Msg-Id` = `source:id`, alert ids from dossier codes), where a
# CR/LF was folded to spaces: two distinct values deduplicated as one (found by tests/fuzz). No control characters.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]+$"


class ContractModel(BaseModel):
    """Base for every contract payload: unknown fields are errors, so a producer's typo is caught."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)
