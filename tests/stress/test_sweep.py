"""The sweep's figures on the tiny network, whose answers are known by hand (conftest)."""

from __future__ import annotations

import pytest

from placement.models import Scenario
from stress.evaluate import solve_draw
from stress.report import summarise
from stress.run import Networks, run_stress
from stress.spec import spec_from_data
from stress.sweep import ClusterOptions
from tests.stress.conftest import TINY_ADVICE, TINY_NETWORK, tiny_spec

TWO_THIRDS = 2 / 3


def _network(lille_places: int = 1) -> Scenario:
    data = {**TINY_NETWORK, "shelters": [dict(s) for s in TINY_NETWORK["shelters"]]}
    data["shelters"][1]["capacity"] = lille_places
    return Scenario.model_validate(data)


@pytest.mark.slow
def test_probability_everyone_placed_is_two_thirds_within_the_interval():
    spec = spec_from_data(tiny_spec(draws=400))
    network = _network()
    outcomes = [solve_draw(network, spec, i) for i in range(spec.draws)]
    report = summarise(network, spec.name, spec.seed, outcomes)
    assert report.all_placed.low <= TWO_THIRDS <= report.all_placed.high
    assert report.all_placed.high - report.all_placed.low < 0.1  # 400 draws: about ±4.6 %
    # The unplaced are women who speak English, kept out because both shelters are full.
    women = next(g for g in report.expected_unplaced if g.group == "women")
    assert women.unplaced.low <= 1 / 3 <= women.unplaced.high  # one woman in a third of draws
    assert {b.reason for b in report.bottlenecks} == {"full: brest", "full: lille"}
    assert report.proven_optimal_draws == spec.draws


@pytest.mark.slow
def test_same_seed_same_outcomes_other_seed_others():
    spec = spec_from_data(tiny_spec())
    network = _network()
    first = [solve_draw(network, spec, i) for i in range(40)]
    again = [solve_draw(network, spec, i) for i in range(40)]
    other = spec.model_copy(update={"seed": 2})
    assert [o.unplaced for o in first] == [o.unplaced for o in again]
    assert [o.bottlenecks for o in first] == [o.bottlenecks for o in again]
    assert [o.unplaced for o in first] != [
        solve_draw(network, other, i).unplaced for i in range(40)
    ]


@pytest.mark.slow
def test_one_and_two_workers_give_the_same_report():
    spec = spec_from_data(tiny_spec(draws=80, marginal={"draws": 20}))
    networks = Networks(_network())
    one = run_stress(spec, networks, ClusterOptions(workers=1))
    two = run_stress(spec, networks, ClusterOptions(workers=2))
    assert one.timing is not None and one.timing.workers == 1
    assert two.timing is not None and two.timing.workers == 2
    assert one.numbers() == two.numbers()
    # One more place in either shelter places the third woman where there is one (a third of
    # the draws): 1/3 of a person per draw on average.
    assert {m.shelter for m in one.marginal_value} == {"brest", "lille"}
    assert all(m.extra_persons.low <= 1 / 3 <= m.extra_persons.high for m in one.marginal_value)


@pytest.mark.slow
def test_advice_finds_the_cheapest_addition_and_the_comparison_pairs_draws():
    spec = spec_from_data(
        tiny_spec(advice=TINY_ADVICE, compare={"network": {"scenario": "x.yaml"}, "label": "+1"})
    )
    report = run_stress(spec, Networks(_network(), _network(lille_places=2)))
    advice = report.advice
    assert advice is not None and advice.chosen is not None
    assert advice.chosen.candidates == ["lille-plus-one"] and advice.chosen.cost == 2
    assert (advice.out_of_sample_first, advice.out_of_sample_last) == (60, 119)
    assert advice.out_of_sample_after is not None
    assert advice.out_of_sample_after.all_placed.value == 1.0
    assert advice.out_of_sample_target_met
    comparison = report.comparison
    assert comparison is not None and comparison.after.all_placed.value == 1.0
    # Common random numbers: the same draws, so the difference is exactly the draws of 3.
    before = comparison.before.all_placed.value
    assert comparison.all_placed_difference.value == pytest.approx(1 - before, abs=1e-6)
    assert comparison.unplaced_difference.value == pytest.approx(
        -comparison.before.unplaced_mean.value, abs=1e-6
    )


@pytest.mark.slow
def test_advice_says_when_no_candidate_set_meets_the_target():
    # Only Brest can grow, by one place: 4 women never fit, so with sizes 1 to 4 the target
    # "everyone placed in every draw" is out of reach.
    advice = {**TINY_ADVICE, "candidates": TINY_ADVICE["candidates"][:1]}
    profiles = [{"name": "op", "where": [{"department": "13"}], "size": {"min": 1, "max": 4}}]
    spec = spec_from_data(tiny_spec(draws=40, profiles=profiles, advice=advice))
    report = run_stress(spec, Networks(_network()), ClusterOptions(workers=1))
    assert report.advice is not None and not report.advice.met and report.advice.chosen is None
    # The model proves it: even with every candidate the draws of 4 do not fit.
    assert report.advice.proven and report.advice.sets_evaluated == 0


@pytest.mark.slow
def test_advice_for_a_group_target_counts_that_group_only():
    # Every person is a woman who speaks English: "at most 0 unplaced on average among the
    # English speakers" is "everyone placed", so the answer is Lille's place again.
    advice = {**TINY_ADVICE, "target": {"mean_unplaced": 0, "group": "speaks en"}}
    spec = spec_from_data(tiny_spec(draws=40, advice=advice))
    report = run_stress(spec, Networks(_network()), ClusterOptions(workers=1))
    assert report.advice is not None and report.advice.chosen is not None
    assert report.advice.chosen.candidates == ["lille-plus-one"]
    assert report.advice.target.group == "speaks en" and report.advice.proven
    assert report.advice.in_sample is not None
    assert report.advice.in_sample.unplaced_mean.value == 0
