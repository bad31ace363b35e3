"""How a citizen message addresses its reader and tells them how to collect the result.

Businesses are addressed as "Quý tổ chức/doanh nghiệp", citizens as "ông/bà" (the applicant's `kind` from the
dossier's submitted/accepted event). The collection sentence of a processed dossier follows how the result
leaves: electronically, by post (the dossier came by post), or at the counter. Values are constant NAMES
(`addressee_business`, `collect_postal`, ...): the templates file holds the wording.
"""

from __future__ import annotations

from collections.abc import Mapping

CITIZEN, BUSINESS = "addressee_citizen", "addressee_business"


def addressed(values: Mapping[str, str], applicant_kind: str | None, channel: str | None) -> dict[str, str]:
    """`values` with `addressee` for the applicant and `collect` for the dossier's channel."""
    chosen = dict(values)
    chosen["addressee"] = BUSINESS if applicant_kind == "business" else CITIZEN
    if chosen.get("collect") == "collect_counter" and channel == "postal":
        chosen["collect"] = "collect_postal"
    return chosen
