"""Regression: keep-apart links to people already placed were dropped from later solves
(``api.services.scenarios.build_scenario``)."""

from __future__ import annotations

from datetime import date

from api.services.scenarios import Horizon, build_scenario
from api.store import Stay
from placement.models import Arrival, Policy, Shelter

SHELTERS = [
    Shelter(id="S", department="69", accepts=("woman",), capacity=2),
    Shelter(id="T", department="29", accepts=("woman",), capacity=2),
]
DANGER = [{"department": "93"}]
HORIZON = Horizon(date(2026, 12, 1), 5, "fr")


def _arrival(aid: str, keep_apart: list[str]) -> Arrival:
    return Arrival.model_validate(
        {
            "id": aid,
            "gender": "woman",
            "languages": ["en"],
            "danger": DANGER,
            "keep_apart": keep_apart,
        }
    )


def test_partner_already_placed_excludes_their_shelter_both_directions():
    placed = [Stay(_arrival("madam", ["victim"]), "S", date(2026, 12, 1), date(2026, 12, 5))]
    for new in (_arrival("victim", []), _arrival("victim", ["madam"])):
        sc = build_scenario("t", HORIZON, SHELTERS, [new], Policy(), placed)
        assert sc.arrivals[0].exclude_shelters == ("S",)
        assert sc.arrivals[0].keep_apart == ()


def test_unrelated_placed_people_exclude_nothing():
    placed = [Stay(_arrival("other", []), "S", date(2026, 12, 1), date(2026, 12, 5))]
    sc = build_scenario("t", HORIZON, SHELTERS, [_arrival("victim", [])], Policy(), placed)
    assert sc.arrivals[0].exclude_shelters == ()
