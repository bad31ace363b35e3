from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ContractModel(BaseModel):
    """Base for every contract payload: unknown fields are errors, so a producer's typo is caught."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)
