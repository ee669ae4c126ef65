"""Capacity advice as one sample-average model (solver/saa.py) against the search it replaced:
every candidate set in increasing cost, each judged by the engine on every draw."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from placement.models import Scenario
from stress.advice import advise, counted, meets
from stress.evaluate import DrawOutcome, solve_draw
from stress.spec import StressSpec, spec_from_data
from stress.sweep import Job, SweepProgress
from tests.stress.conftest import TINY_NETWORK, tiny_spec

# Two shelters with one place each and operations of 1 to 4 women: four women need two more
# places. Brest +1 (3) and Lille +1 (2) together cost 5, less than any single candidate that
# brings two places (Lille +2 at 6, a new shelter in Lyon for two at 5.5, Brest +2 at 5.5):
# the cheapest set is a pair, which a search over single candidates would not find.
PAIR_CANDIDATES: list[dict[str, Any]] = [
    {"id": "brest-plus-one", "cost": 3, "add_places": {"shelter": "brest"}},
    {"id": "lille-plus-one", "cost": 2, "add_places": {"shelter": "lille"}},
    {"id": "lille-plus-two", "cost": 6, "add_places": {"shelter": "lille", "places": 2}},
    {"id": "brest-plus-two", "cost": 5.5, "add_places": {"shelter": "brest", "places": 2}},
    {"id": "new-lyon", "cost": 5.5, "new_shelter": {"department": "69", "accepts": ["woman"],
                                                   "languages": ["fr", "en"], "capacity": 2}},
]  # fmt: skip
# More candidates than the old search's limit (12): new shelters elsewhere, all dearer.
DECOYS: list[dict[str, Any]] = [
    {"id": f"new-{dep}", "cost": 7 + k, "new_shelter": {"department": dep, "accepts": ["woman"],
                                                       "languages": ["fr", "en"], "capacity": 3}}
    for k, dep in enumerate(["75", "33", "31", "67", "44", "35", "21", "87", "63", "14", "76"])
]  # fmt: skip
SIZES = [{"name": "op", "where": [{"department": "13"}], "size": {"min": 1, "max": 4}}]


class InProcess:
    """The sweep's interface, solving here, one job after the other (no cluster)."""

    def __init__(self, network: Scenario, spec: StressSpec) -> None:
        self.networks = {"base": network}
        self.spec = spec
        self.events: list[SweepProgress] = []
        #: the tasks run through ``keep`` and ``call``, by function name
        self.kept: list[str] = []
        self.called: list[str] = []

    def run(
        self,
        phase: str,
        jobs: Sequence[Job],
        enough: Callable[[DrawOutcome], bool] | None = None,
    ) -> list[DrawOutcome]:
        out = []
        for job in jobs:
            net = self.networks[job.network]
            out.append(solve_draw(net, self.spec, job.index, job.changes, job.detail))
            if enough is not None and enough(out[-1]):
                break
        return out

    def call(self, phase: str, fn: Callable[..., Any], *args: Any) -> Any:
        self.called.append(fn.__name__)
        return fn(self.networks, self.spec, *args)

    def keep(self, fn: Callable[..., Any], *args: Any) -> Any:
        self.kept.append(fn.__name__)
        return fn(self.networks, self.spec, *args)

    def wait(self, phase: str, kept: Any) -> None:
        pass


def cost_order_search(network: Scenario, spec: StressSpec) -> tuple[list[str], float] | None:
    """The reference: every set in increasing cost (then size), judged by the engine on
    every draw; the first that meets the target."""
    assert spec.advice is not None
    advice = spec.advice
    candidates = advice.candidates
    sets = [c for k in range(len(candidates) + 1) for c in itertools.combinations(candidates, k)]
    sets.sort(key=lambda s: (sum(c.cost for c in s), len(s)))
    for chosen in sets:
        if sum(c.cost for c in chosen) > 6:  # dearer than a known answer: stop
            break
        unplaced = [
            counted(advice.target, solve_draw(network, spec, i, tuple(chosen), detail=True))
            for i in range(spec.draws)
        ]
        if meets(advice.target, unplaced):
            return sorted(c.id for c in chosen), sum(c.cost for c in chosen)
    return None


def _spec(candidates: list[dict[str, Any]], **target: Any) -> StressSpec:
    advice = {
        "target": target or {"all_placed_share": 1.0},
        "check_draws": 30,
        "candidates": candidates,
        "time_limit": 30,
        "workers": 1,
    }
    return spec_from_data(tiny_spec(draws=30, profiles=SIZES, advice=advice))


def _advise(spec: StressSpec, sweep: InProcess | None = None) -> Any:
    network = Scenario.model_validate(TINY_NETWORK)
    sweep = sweep or InProcess(network, spec)
    outcomes = sweep.run("draws", [Job(i, detail=True) for i in range(spec.draws)])
    return advise(sweep, spec.advice, outcomes, spec.draws)  # type: ignore[arg-type]


def _chosen(result: Any) -> tuple[list[str], float]:
    assert result.chosen is not None
    return sorted(result.chosen.candidates), result.chosen.cost


@pytest.mark.slow
def test_the_model_finds_the_known_cheapest_pair_and_the_cost_order_search_agrees():
    spec = _spec(PAIR_CANDIDATES)
    result = _advise(spec)
    assert _chosen(result) == (["brest-plus-one", "lille-plus-one"], 5)
    assert result.met and result.proven and result.cost_bound == 5
    assert result.model_draws > 0 and result.model_rounds >= 1
    assert result.out_of_sample_after is not None
    assert result.out_of_sample_after.all_placed.value == 1.0
    network = Scenario.model_validate(TINY_NETWORK)
    reference = cost_order_search(network, spec)
    assert reference is not None
    assert _chosen(result)[1] <= reference[1]
    assert _chosen(result) == reference


@pytest.mark.slow
def test_more_candidates_than_the_old_limit_still_give_the_cheapest_set():
    spec = _spec(PAIR_CANDIDATES + DECOYS)
    assert spec.advice is not None and len(spec.advice.candidates) == 16
    result = _advise(spec)
    assert _chosen(result) == (["brest-plus-one", "lille-plus-one"], 5)
    assert result.proven


@pytest.mark.slow
def test_a_mean_target_can_leave_some_out():
    # At most 0.2 persons unplaced per draw: one more place in Lille (the cheapest candidate)
    # leaves out only the fourth woman of the draws of 4.
    spec = _spec(PAIR_CANDIDATES, mean_unplaced=0.2)
    network = Scenario.model_validate(TINY_NETWORK)
    base = [solve_draw(network, spec, i).unplaced for i in range(spec.draws)]
    # The premises: the network alone misses the target, and Lille +1 meets it.
    assert sum(base) / spec.draws > 0.2
    assert sum(u == 2 for u in base) / spec.draws <= 0.2
    result = _advise(spec)
    assert _chosen(result) == (["lille-plus-one"], 2)
    assert result.proven


@pytest.mark.slow
def test_no_set_meets_an_unreachable_target_and_the_model_proves_it():
    # Only Lille +1: four women never fit, and some draws have four.
    spec = _spec(PAIR_CANDIDATES[1:2])
    result = _advise(spec)
    assert not result.met and result.chosen is None and result.proven


# Women of priority 5 or 1, half each, 1 to 4 per operation; the target counts only those of
# priority 1. The model may leave out whoever the target does not count, so it lets the
# priority-1 women have every place: a loose relaxation, since the engine places the
# priority-5 women first. Its cheapest set (fewer places) is then refused by the engine.
MIXED = [
    {
        "name": "op",
        "where": [{"department": "13"}],
        "size": {"min": 1, "max": 4},
        "composition": {"priorities": {5: 0.5, 1: 0.5}},
    }
]


def _mixed_spec(seed: int) -> StressSpec:
    advice = {
        "target": {"all_placed_share": 1.0, "group": "priority 1"},
        "check_draws": 10,
        "candidates": PAIR_CANDIDATES,
        "time_limit": 30,
        "workers": 1,
    }
    return spec_from_data(tiny_spec(draws=30, seed=seed, profiles=MIXED, advice=advice))


@pytest.mark.slow
def test_a_loose_group_relaxation_still_gives_the_cheaper_set_found_in_cost_order(monkeypatch):
    # One model round only (as when its time runs out): the set it proposes is refused by
    # the engine, and the search over sets in cost order, the engine as judge, finds the
    # cheapest set; the advice is that set, never the model's dearer one or none.
    monkeypatch.setattr("stress.advice.MAX_ROUNDS", 1)
    spec = _mixed_spec(seed=1)
    result = _advise(spec)
    reference = cost_order_search(Scenario.model_validate(TINY_NETWORK), spec)
    assert reference is not None
    assert result.model_rounds == 1 and result.sets_evaluated >= 2
    assert result.found_by == "search"
    assert _chosen(result) == reference
    assert result.proven and result.cost_bound == reference[1]
    # With its rounds, the model finds it too: each set the engine refused is cut off.
    monkeypatch.setattr("stress.advice.MAX_ROUNDS", 20)
    sweep = InProcess(Scenario.model_validate(TINY_NETWORK), spec)
    again = _advise(spec, sweep)
    assert _chosen(again) == reference and again.proven and again.model_rounds >= 2
    # The draws and their bounds were prepared once, for every round.
    assert sweep.kept == ["prepare_model"]
    assert sweep.called == ["solve_model"] * again.model_rounds
