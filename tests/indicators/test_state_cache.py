"""The state cache keeps the most recently saved states up to its limit."""

from __future__ import annotations

from services.indicators.adapters.state_cache import StateCache
from services.indicators.domain.dossier import DossierState

TOKEN = (1, 1, None)


def state(code: str) -> DossierState:
    return DossierState(dossier_code=code, procedure_code="1.001193", agency="UBND-LAMTHAO")


def cached_codes(cache: StateCache, codes: list[str]) -> list[str]:
    return [code for code in codes if cache.take(code) is not None]


def test_least_recently_saved_states_are_evicted_when_over_the_limit() -> None:
    cache = StateCache(limit=3)
    cache.remember([state("A"), state("B"), state("C")], TOKEN)
    cache.remember([state("A"), state("D")], TOKEN)  # A saved again: B is now the oldest
    assert cached_codes(cache, ["A", "B", "C", "D"]) == ["A", "C", "D"]
    assert len(cache) == 3


def test_the_saved_object_is_handed_out_when_a_state_is_saved_again() -> None:
    cache = StateCache(limit=2)
    first, second = state("A"), state("A")
    cache.remember([first], TOKEN)
    cache.remember([second], TOKEN)
    assert cache.take("A") is second
    assert len(cache) == 1


def test_nothing_is_kept_when_the_limit_is_zero() -> None:
    cache = StateCache(limit=0)
    cache.remember([state("A")], TOKEN)
    assert cache.take("A") is None
