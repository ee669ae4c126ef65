"""Draws: one random stream per draw index, the same in every process and for every network."""

from __future__ import annotations

from collections import Counter

from placement.context import Context
from placement.models import Scenario
from stress.draws import draw_arrivals, draw_scenario
from stress.spec import spec_from_data
from tests.stress.conftest import TINY_NETWORK, tiny_spec

MIXED = {
    "name": "op",
    "where": [{"department": "13", "weight": 3}, {"location": {"lat": 43.3, "lon": 5.4}}],
    "size": {"min": 20, "max": 40},
    "when": {"from": "2026-12-01", "to": "2026-12-03"},
    "composition": {
        "genders": {"woman": 8, "man": 1, "nonbinary": 1},
        "trans_women": 0.2,
        "minors": 0.1,
        "mothers": 0.3,
        "children": {"min": 1, "max": 3},
        "origins": [{"languages": ["ro"], "weight": 2}, {"languages": ["en", "pcm"]}],
        "needs": {"psychological_support": 0.5},
        "households": 0.3,
        "recruiters": 0.1,
        "language_required": 0.5,
        "priorities": {5: 1, 3: 2, 1: 1},
        "stay": {"min": 2, "max": 5},
    },
}


def test_same_seed_and_index_give_the_same_operation():
    spec = spec_from_data(tiny_spec(profiles=[MIXED]))
    start = Scenario.model_validate(TINY_NETWORK).start
    assert draw_arrivals(spec, start, 7) == draw_arrivals(spec, start, 7)
    assert draw_arrivals(spec, start, 7) != draw_arrivals(spec, start, 8)
    other_seed = spec.model_copy(update={"seed": 2})
    assert draw_arrivals(spec, start, 7) != draw_arrivals(other_seed, start, 7)


def test_a_draw_does_not_depend_on_the_number_of_draws():
    spec = spec_from_data(tiny_spec(profiles=[MIXED]))
    more = spec.model_copy(update={"draws": 5000})
    start = Scenario.model_validate(TINY_NETWORK).start
    assert draw_arrivals(spec, start, 3) == draw_arrivals(more, start, 3)


def test_every_feature_of_a_profile_yields_a_valid_scenario():
    spec = spec_from_data(tiny_spec(profiles=[MIXED]))
    network = Scenario.model_validate(TINY_NETWORK)
    seen: Counter[str] = Counter()
    for i in range(30):
        scenario = draw_scenario(network, spec, i)  # validated: keep-apart ids, dates...
        Context(scenario)
        assert 20 <= len(scenario.arrivals) <= 40
        for a in scenario.arrivals:
            seen["trans"] += a.trans
            seen["minor"] += a.effective_age < 18
            seen["children"] += a.children > 0
            seen["household"] += a.household is not None
            seen["recruiter"] += bool(a.keep_apart)
            seen["danger point"] += a.danger[0].lat is not None
            assert a.network == "p0" and a.nights is not None and 2 <= a.nights <= 5
    assert all(seen[k] > 0 for k in ("trans", "minor", "children", "household", "recruiter"))
    assert seen["danger point"] > 0


def test_sizes_are_uniform_between_min_and_max():
    spec = spec_from_data(tiny_spec())
    start = Scenario.model_validate(TINY_NETWORK).start
    sizes = Counter(len(draw_arrivals(spec, start, i)) for i in range(3000))
    assert set(sizes) == {1, 2, 3}
    assert all(abs(sizes[k] / 3000 - 1 / 3) < 0.04 for k in sizes)
