"""Each hard rule, in pairs: placed when the rule allows it, refused when it does not.

The refusing case is checked twice: the solver leaves the person out, and the plan
validator rejects a hand-made plan that places them anyway.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from placement.context import Context
from placement.validation import plan_violations
from tests.builders import arrival, placed, scenario, shelter, solve


def _placed_in_only_shelter(
    shelter_kw: dict[str, Any], arrival_kw: dict[str, Any], **sc_kw: Any
) -> bool:
    sc = scenario([shelter("S", **shelter_kw)], [arrival("A", **arrival_kw)], **sc_kw)
    plan = solve(sc, explain=False)
    in_plan = placed(plan).get("A") == "S"
    # The validator agrees with the solver about this single pair.
    forced = plan_violations(Context(sc), {"A": "S"})
    assert in_plan == (forced == [])
    return in_plan


CASES = [
    # (rule, shelter fields, arrival fields, scenario fields, placed?)
    ("gender allowed", {"accepts": ["woman", "man"]}, {"gender": "man"}, {}, True),
    ("gender refused", {"accepts": ["woman"]}, {"gender": "man"}, {}, False),
    ("nonbinary allowed", {"accepts": ["nonbinary"]}, {"gender": "nonbinary"}, {}, True),
    ("trans woman, inclusive", {"trans_inclusive": True}, {"trans": True}, {}, True),
    ("trans woman, not inclusive", {"trans_inclusive": False}, {"trans": True}, {}, False),
    ("cis woman, not inclusive", {"trans_inclusive": False}, {}, {}, True),
    ("minor in minors' shelter", {"age_min": 13, "age_max": 17}, {"minor": True}, {}, True),
    ("minor in adults' shelter", {}, {"age": 16}, {}, False),
    ("adult in minors' shelter", {"age_min": 13, "age_max": 17}, {"age": 19}, {}, False),
    ("age at the upper bound", {"age_max": 25}, {"age": 25}, {}, True),
    ("children where taken", {"children": True, "capacity": 3}, {"children": 2}, {}, True),
    ("children where not taken", {"children": False, "capacity": 3}, {"children": 2}, {}, False),
    ("children need a place each", {"children": True, "capacity": 2}, {"children": 2}, {}, False),
    (
        "need met",
        {"services": ["psychological_support"]},
        {"needs": ["psychological_support"]},
        {},
        True,
    ),
    ("need unmet", {"services": ["medical"]}, {"needs": ["psychological_support"]}, {}, False),
    ("wish unmet is only a cost", {}, {"wishes": ["medical"]}, {}, True),
    # Lyon (69) is about 390 km from Bobigny (93).
    ("far enough", {}, {}, {"policy": {"safety_distance_km": 350}}, True),
    ("too close", {}, {}, {"policy": {"safety_distance_km": 400}}, False),
    ("personal distance overrides", {}, {"safety_distance_km": 400}, {}, False),
    (
        "lat/lon danger measured from the point",
        {},
        {"danger": [{"lat": 45.76, "lon": 4.84}]},  # central Lyon
        {"policy": {"avoid_neighbouring_departments": False}},
        False,
    ),
    (
        "danger département itself",
        {},
        {"danger": [{"department": "69"}]},
        {"policy": {"safety_distance_km": 0}},
        False,
    ),
    (
        "bordering département (01 borders 69)",
        {},
        {"danger": [{"department": "01"}]},
        {"policy": {"safety_distance_km": 0}},
        False,
    ),
    (
        "bordering allowed when the policy says so",
        {},
        {"danger": [{"department": "01"}]},
        {"policy": {"safety_distance_km": 0, "avoid_neighbouring_departments": False}},
        True,
    ),
    # 04 and 13 do not touch in the polygons but lie ~0.4 km apart: treated as bordering.
    (
        "near-touching pair counts as bordering",
        {"department": "04"},
        {"danger": [{"department": "13"}]},
        {"policy": {"safety_distance_km": 0}},
        False,
    ),
    (
        "shared language required, present",
        {"languages": ["fr", "en"]},
        {"languages": ["en-NG"]},
        {"policy": {"language_required": True}},
        True,
    ),
    (
        "shared language required, absent",
        {"languages": ["fr"]},
        {"languages": ["ro"]},
        {"policy": {"language_required": True}},
        False,
    ),
    (
        "close language does not satisfy the rule",
        {"languages": ["en"]},
        {"languages": ["pcm"]},
        {"policy": {"language_required": True}},
        False,
    ),
    ("language not required", {"languages": ["fr"]}, {"languages": ["ro"]}, {}, True),
    (
        "personal language requirement",
        {"languages": ["fr"]},
        {"languages": ["ro"], "language_required": True},
        {},
        False,
    ),
]


@pytest.mark.parametrize(
    "shelter_kw, arrival_kw, sc_kw, expected",
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_pair_rule(shelter_kw, arrival_kw, sc_kw, expected):
    assert _placed_in_only_shelter(shelter_kw, arrival_kw, **sc_kw) is expected


def test_capacity_by_night_allows_consecutive_stays():
    # One place; A stays nights 1-3, B arrives on night 4: both fit.
    sc = scenario(
        [shelter("S")],
        [arrival("A", nights=3), arrival("B", arrives="2026-12-04")],
    )
    assert placed(solve(sc)) == {"A": "S", "B": "S"}


def test_capacity_by_night_refuses_overlap():
    sc = scenario(
        [shelter("S")],
        [arrival("A", nights=4, priority=2), arrival("B", arrives="2026-12-04")],
    )
    assert placed(solve(sc)) == {"A": "S"}
    assert plan_violations(Context(sc), {"A": "S", "B": "S"}) != []


def test_capacity_follows_availability_calendar():
    # The place exists only from night 5: a stay from night 1 cannot use it; one from 5 can.
    cal = [{"from": "2026-12-05", "places": 1}]
    sc = scenario(
        [shelter("S", availability=cal)],
        [arrival("early"), arrival("late", arrives="2026-12-05")],
    )
    assert placed(solve(sc)) == {"late": "S"}


def test_household_placed_together():
    sc = scenario(
        [shelter("S", capacity=2), shelter("T", "29")],
        [arrival("sis1", household="h"), arrival("sis2", household="h")],
    )
    assert placed(solve(sc)) == {"sis1": "S", "sis2": "S"}


def test_household_not_split_when_no_shelter_holds_both():
    # Two shelters of one place each: the sisters would fit apart, but never are.
    sc = scenario(
        [shelter("S"), shelter("T", "29")],
        [arrival("sis1", household="h"), arrival("sis2", household="h")],
    )
    plan = solve(sc)
    assert placed(plan) == {}
    assert plan_violations(Context(sc), {"sis1": "S", "sis2": "T"}) != []
    assert "placed together" in plan.unplaced[0].reasons[0]


def test_keep_apart_separate_shelters():
    sc = scenario(
        [shelter("S", capacity=2), shelter("T", "29")],
        [arrival("madam", keep_apart=["victim"]), arrival("victim")],
    )
    plan = placed(solve(sc))
    assert set(plan) == {"madam", "victim"} and plan["madam"] != plan["victim"]


def test_keep_apart_refuses_same_shelter():
    # Only one shelter: one of the two stays out, even though there are 2 places.
    sc = scenario(
        [shelter("S", capacity=2)],
        [arrival("victim", priority=3), arrival("madam", keep_apart=["victim"])],
    )
    assert placed(solve(sc)) == {"victim": "S"}
    assert plan_violations(Context(sc), {"victim": "S", "madam": "S"}) != []


def test_network_cap_allows_up_to_cap():
    sc = scenario(
        [shelter("S", capacity=3)],
        [arrival(f"A{i}", network="n1") for i in range(2)],
        policy={"max_per_network_per_shelter": 2},
    )
    assert len(placed(solve(sc))) == 2


def test_network_cap_refuses_beyond_cap_children_not_counted():
    # Cap 2 people per network per shelter; children do not count toward the cap.
    sc = scenario(
        [shelter("S", capacity=6, children=True)],
        [
            arrival("mother", network="n1", children=2, priority=2),
            arrival("B", network="n1", priority=2),
            arrival("C", network="n1"),
            arrival("D", network="n2"),
        ],
        policy={"max_per_network_per_shelter": 2},
    )
    assert placed(solve(sc)) == {"mother": "S", "B": "S", "D": "S"}
    assert plan_violations(Context(sc), {"mother": "S", "B": "S", "C": "S"}) != []


@pytest.mark.parametrize("family", ["standard", "hard"])
def test_admissibility_masks_agree_with_the_rules_pair_by_pair(family: str):
    # The solver uses masks computed once per distinct rule key (each rule evaluated on one
    # shelter per class of equal shelter keys); the validator calls the rules pair by pair.
    # On a generated instance both must give the same answer everywhere.
    from placement.admissibility import admissible, admissible_mask
    from placement.generate import generate_scenario

    sc = generate_scenario(60, 200, seed=3, family=family)
    ctx = Context(sc)
    admitted = 0
    for a in sc.arrivals:
        mask = admissible_mask(ctx, a)
        for i, s in enumerate(sc.shelters):
            assert bool(mask[i]) == admissible(ctx, a, s), (a.id, s.id)
            admitted += bool(mask[i])
    assert 0 < admitted < len(sc.arrivals) * len(sc.shelters)


def test_stale_places_used_only_after_fresh_ones():
    # Both shelters fit; S is stale, so A goes to T. With two women, both are placed: stale
    # places still count when they place more people.
    sc = scenario([shelter("S", stale=True), shelter("T", "29")], [arrival("A")])
    assert placed(solve(sc)) == {"A": "T"}
    sc2 = scenario([shelter("S", stale=True), shelter("T", "29")], [arrival("A"), arrival("B")])
    assert sorted(placed(solve(sc2)).values()) == ["S", "T"]


def test_a_danger_location_shared_by_two_sets_gives_the_same_distances() -> None:
    # Each location's row is computed once and shared by every set it is in: the nearest
    # danger of a set is still the smaller of its locations' distances, to the last bit.
    from placement.geography import haversine_km_many

    sc = scenario(
        [shelter("S1", department="13"), shelter("S2", department="59")],
        [
            arrival("A", danger=[{"department": "93"}, {"department": "69"}]),
            arrival("B", danger=[{"department": "69"}]),
            arrival("C", danger=[{"department": "93"}]),
        ],
    )
    ctx = Context(sc)
    lat = np.array([sc.shelter_point(s).lat for s in sc.shelters])
    lon = np.array([sc.shelter_point(s).lon for s in sc.shelters])
    rows = {
        a.id: [haversine_km_many(lat, lon, sc.danger_point(d)) for d in a.danger]
        for a in sc.arrivals
    }
    got = {a.id: ctx.distances(a).copy() for a in sc.arrivals}
    assert (got["A"] == np.minimum(*rows["A"])).all()
    assert (got["B"] == rows["B"][0]).all() and (got["C"] == rows["C"][0]).all()
    assert ctx.distances(sc.arrivals[1]) is ctx.distances(sc.arrivals[1])  # cached
