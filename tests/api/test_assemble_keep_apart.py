"""Regression: keep-apart links to people already placed were dropped from later solves."""

from __future__ import annotations

from datetime import date

from api.assemble import Stay, solve_scenario
from placement.models import Policy, Shelter

SHELTERS = [
    Shelter(id="S", department="69", accepts=("woman",), capacity=2),
    Shelter(id="T", department="29", accepts=("woman",), capacity=2),
]
DANGER = [{"department": "93"}]


def _arrival(aid: str, keep_apart: list[str]) -> dict:
    return {
        "id": aid,
        "gender": "woman",
        "languages": ["en"],
        "danger": DANGER,
        "keep_apart": keep_apart,
    }


def test_partner_already_placed_excludes_their_shelter_both_directions():
    placed = [Stay(_arrival("madam", ["victim"]), "S", date(2026, 12, 1), date(2026, 12, 5))]
    for new in (_arrival("victim", []), _arrival("victim", ["madam"])):
        sc = solve_scenario("t", SHELTERS, [new], date(2026, 12, 1), 5, Policy(), "fr", placed)
        assert sc.arrivals[0].exclude_shelters == ("S",)
        assert sc.arrivals[0].keep_apart == ()


def test_unrelated_placed_people_exclude_nothing():
    placed = [Stay(_arrival("other", []), "S", date(2026, 12, 1), date(2026, 12, 5))]
    sc = solve_scenario(
        "t", SHELTERS, [_arrival("victim", [])], date(2026, 12, 1), 5, Policy(), "fr", placed
    )
    assert sc.arrivals[0].exclude_shelters == ()
