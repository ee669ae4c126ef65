"""Tiny scenarios whose optimum is worked out by hand, and the objective's order."""

from __future__ import annotations

from placement.context import Context, persons_by_priority
from tests.builders import arrival, placed, scenario, shelter, solve


def test_most_urgent_first_even_if_fewer_people():
    # One place. A priority-5 woman against three priority-1 women: she takes it.
    sc = scenario(
        [shelter("S")],
        [arrival("P5", priority=5), arrival("x1"), arrival("x2"), arrival("x3")],
    )
    assert placed(solve(sc)) == {"P5": "S"}


def test_lexicographic_counts_persons_not_arrivals():
    # Three places that take children. A priority-2 mother with 2 children (3 persons) beats
    # two priority-2 single women (2 persons): optimum = 3 persons at priority 2.
    sc = scenario(
        [shelter("S", capacity=3, children=True)],
        [
            arrival("mother", children=2, priority=2),
            arrival("w1", priority=2),
            arrival("w2", priority=2),
        ],
    )
    plan = solve(sc)
    assert placed(plan) == {"mother": "S"}
    assert plan.placed_persons_by_priority["2"] == 3


def test_higher_level_never_traded_for_lower():
    # S (1 place) is the only shelter for the priority-4 woman; the two priority-3 women could
    # use S or T (1 place). Optimum: P4 in S, one P3 in T. Greedy-by-priority gets it too.
    sc = scenario(
        [shelter("S", services=["medical"]), shelter("T", "29")],
        [
            arrival("P4", priority=4, needs=["medical"]),
            arrival("P3a", priority=3),
            arrival("P3b", priority=3),
        ],
    )
    plan = solve(sc)
    assert plan.placed_persons_by_priority["4"] == 1
    assert plan.placed_persons_by_priority["3"] == 1
    assert placed(plan)["P4"] == "S"


def test_cpsat_beats_greedy_when_nearest_shelter_is_the_wrong_one():
    # Danger in 93. Rouen (76) is nearer than Brest (29). A (priority 2) may use both; B
    # (priority 2) needs medical care, which only Rouen offers. Greedy puts A in the nearer
    # Rouen, so B has nowhere to go; the optimum sends A to Brest and B to Rouen: 2 persons.
    sc = scenario(
        [shelter("rouen", "76", services=["medical"]), shelter("brest", "29")],
        [arrival("A", priority=2), arrival("B", priority=2, needs=["medical"])],
        policy={"safety_distance_km": 50},
    )
    greedy = solve(sc, solver="greedy", explain=False)
    best = solve(sc)
    assert len(placed(greedy)) == 1
    assert placed(best) == {"A": "brest", "B": "rouen"}


def test_secondary_cost_prefers_shared_language():
    # Two equally valid shelters; only Brest speaks Romanian: no interpreter needed there.
    sc = scenario(
        [shelter("lyon"), shelter("brest", "29", languages=["fr", "ro"])],
        [arrival("A", languages=["ro"])],
    )
    plan = solve(sc)
    assert placed(plan) == {"A": "brest"}
    assert plan.placements[0].shared_language == "ro"


def test_secondary_cost_keeps_child_places_for_mothers():
    # Both shelters fit the single woman; the one that takes children is the scarce one.
    sc = scenario(
        [shelter("kids", children=True), shelter("plain", "29")],
        [arrival("A")],
    )
    assert placed(solve(sc)) == {"A": "plain"}


def test_identical_people_are_grouped_and_spread():
    # Five identical women, places 2 + 2: four are placed, the validator checks the counts.
    sc = scenario(
        [shelter("S", capacity=2), shelter("T", "29", capacity=2)],
        [arrival(f"W{i}") for i in range(5)],
    )
    plan = solve(sc)
    assert len(plan.placements) == 4
    assert sorted(p.shelter for p in plan.placements) == ["S", "S", "T", "T"]


def test_placed_persons_count_children():
    sc = scenario([shelter("S", capacity=3, children=True)], [arrival("M", children=2)])
    plan = solve(sc)
    assert plan.placed_persons_by_priority == persons_by_priority(Context(sc), ["M"])
    assert plan.placed_persons_by_priority["1"] == 3


def test_held_places_are_used_first():
    # Lyon is nearer and would be cheaper, but Brest holds places for this operation.
    sc = scenario([shelter("lyon"), shelter("brest", "29", held=True)], [arrival("A")])
    assert placed(solve(sc)) == {"A": "brest"}
    # Holds never cost anyone a place: with two women both shelters are used.
    sc2 = scenario(
        [shelter("lyon"), shelter("brest", "29", held=True)], [arrival("A"), arrival("B")]
    )
    assert sorted(placed(solve(sc2)).values()) == ["brest", "lyon"]
