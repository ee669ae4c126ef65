"""Capacity advice: the cheapest set of candidate additions with which the draws meet the
target, found by a sample-average optimisation over all the draws together
(:mod:`solver.saa`, one CP-SAT model), confirmed by the engine, then checked on fresh draws.

The rounds: the model (a relaxation of the engine: it places whoever fits, where the engine
places by priority levels) proposes its cheapest set; the engine solves the draws with it; if
the target is met, that set is the answer (the cheapest, when the model proved its optimum);
if not, the set is cut off and the model solved again. A cut also removes the set's subsets
when fewer places can only do worse: for "everyone placed" with nobody left out, the engine's
lexicographic optimum places everyone whenever anyone could. The model runs on the cluster
(a worker process, stopped with the sweep): its draws and their bounds are prepared once per
advice run, kept on the cluster, and every round reads them there.

The model is a relaxation, and its time may run out: unless it proved its set the cheapest,
the search in cost order (:func:`solver.saa.search_by_cost`, the engine as judge) then
tries every cheaper set within what is left of ``advice.time_limit``. The advice is the
cheapest set the engine confirmed, whichever found it, never dearer than that search's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from placement.i18n import N_
from placement.models import Arrival, Scenario, Shelter
from solver.saa import (
    Addition,
    SaaOptions,
    SaaResult,
    SaaSample,
    SaaTarget,
    SetSearch,
    Verdict,
    cut_off,
    prepare_saa,
    saa_draw,
    search_by_cost,
    solve_saa,
)
from stress.draws import categories, draw_scenario, profile_of
from stress.evaluate import DrawOutcome, with_changes
from stress.report import AdviceResult, CandidateSet, NetworkResult, unplaced_result
from stress.spec import Advice, Candidate, StressSpec, Target
from stress.sweep import Job, Sweep

#: float slack when comparing a share or a mean with the target
TOLERANCE = 1e-9
#: model solves at most (each followed by the engine's check of its set)
MAX_ROUNDS = 20
#: share of ``advice.time_limit`` for the model's rounds; the search in cost order by the
#: engine has the rest (and whatever the rounds leave)
MODEL_SHARE = 0.5


def meets(target: Target, unplaced: Sequence[int]) -> bool:
    """Whether per-draw unplaced counts meet the target."""
    if target.all_placed_share is not None:
        share = sum(u == 0 for u in unplaced) / len(unplaced)
        return share >= target.all_placed_share - TOLERANCE
    assert target.mean_unplaced is not None  # guaranteed by Target validation
    return sum(unplaced) / len(unplaced) <= target.mean_unplaced + TOLERANCE


def counted(target: Target, outcome: DrawOutcome) -> int:
    """The unplaced persons the target counts in a draw: everyone's, or its group's."""
    if target.group is None:
        return outcome.unplaced
    return outcome.unplaced_by_group.get(target.group, 0)


def monotone(target: Target) -> bool:
    """Whether a set that misses the target rules out its subsets too: true for "everyone
    placed" counting everyone (more places never leave anyone out where all fit); a group's
    count or a mean can move either way under the engine's priorities."""
    return target.all_placed_share is not None and target.group is None


def saa_target(target: Target, draws: int, modelled: int) -> SaaTarget:
    """The target over the ``modelled`` draws of ``draws`` (the others leave no one out)."""
    if target.all_placed_share is not None:
        needed = math.ceil(target.all_placed_share * draws - TOLERANCE)
        return SaaTarget(all_placed_draws=max(0, needed - (draws - modelled)))
    assert target.mean_unplaced is not None  # guaranteed by Target validation
    return SaaTarget(unplaced_total=math.floor(target.mean_unplaced * draws + TOLERANCE))


def _without(network: Scenario, candidates: Sequence[Candidate]) -> tuple[Shelter, ...]:
    """The network's shelters, then each new shelter of the candidates with no place."""
    new = [
        c.new_shelter.shelter(c.id).model_copy(update={"capacity": 0})
        for c in candidates
        if c.new_shelter is not None
    ]
    return (*network.shelters, *new)


def additions(network: Scenario, candidates: Sequence[Candidate]) -> list[Addition]:
    """Each candidate's cost and places per shelter position (network, then new shelters)."""
    position = {s.id: i for i, s in enumerate(_without(network, candidates))}
    out = []
    for c in candidates:
        if c.new_shelter is not None:
            out.append(Addition(c.cost, {position[c.id]: c.new_shelter.capacity}))
        else:
            assert c.add_places is not None  # guaranteed by Candidate validation
            out.append(Addition(c.cost, {position[c.add_places.shelter]: c.add_places.places}))
    return out


def _counter(spec: StressSpec, group: str | None):  # type: ignore[no-untyped-def]
    def persons(a: Arrival) -> int:
        if group is None or group in categories(a, spec.profiles[profile_of(a.id)].name):
            return a.persons
        return 0

    return persons


def prepare_model(
    networks: dict[str, Scenario], spec: StressSpec, indices: tuple[int, ...], seconds: float
) -> SaaSample:
    """On a worker, once per advice run: the draws ``indices`` as the model reads them, with
    each one's most persons placed with every candidate (:func:`solver.saa.prepare_saa`;
    ``seconds``: the model's share of the advice's time, of which it takes a part)."""
    assert spec.advice is not None  # only called for a spec with advice
    network, advice = networks["base"], spec.advice
    full = with_changes(network, advice.candidates)
    without = _without(network, advice.candidates)
    count = _counter(spec, advice.target.group)
    draws = [
        saa_draw(
            draw_scenario(network, spec, i, full), draw_scenario(network, spec, i, without), count
        )
        for i in indices
    ]
    options = SaaOptions(time_limit=seconds, workers=advice.workers, seed=spec.seed)
    return prepare_saa(draws, additions(network, advice.candidates), options)


def solve_model(
    networks: dict[str, Scenario],
    spec: StressSpec,
    sample: SaaSample,
    target: SaaTarget,
    cuts: tuple[tuple[frozenset[int], bool], ...],
    seconds: float,
) -> SaaResult:
    """On a worker: one round of the model over the prepared ``sample`` (see
    :mod:`solver.saa`)."""
    assert spec.advice is not None  # only called for a spec with advice
    options = SaaOptions(time_limit=seconds, workers=spec.advice.workers, seed=spec.seed)
    return solve_saa(sample, target, options, cuts)


class _Check:
    """The engine's verdict on candidate sets, draw by draw, remembering what it learnt."""

    def __init__(self, sweep: Sweep, advice: Advice, outcomes: Sequence[DrawOutcome]) -> None:
        self.sweep = sweep
        self.advice = advice
        self.base = {o.index: counted(advice.target, o) for o in outcomes}
        #: draws where everyone is placed: so they stay with any set (more places)
        self.everyone = {o.index for o in outcomes if o.unplaced == 0}
        self.detail = advice.target.group is not None
        self.placed_by: dict[int, list[frozenset[int]]] = {i: [] for i in self.base}
        self.evaluated = 0
        self.solves = 0
        #: unplaced persons per draw (in index order) of each set confirmed
        self.results: dict[frozenset[int], list[int]] = {}

    def changes(self, chosen: frozenset[int]) -> tuple[Candidate, ...]:
        return tuple(self.advice.candidates[i] for i in sorted(chosen))

    def cost(self, chosen: frozenset[int]) -> float:
        return sum(c.cost for c in self.changes(chosen))

    def unplaced(self, chosen: frozenset[int]) -> list[int] | None:
        """Unplaced persons per draw with ``chosen`` added, or None as soon as the draws
        solved so far show that it misses the target (the other draws are not solved)."""
        self.evaluated += 1
        out = dict(self.base)
        todo = []
        for i in self.base:
            if i in self.everyone or any(t <= chosen for t in self.placed_by[i]):
                out[i] = 0
            else:
                todo.append(Job(i, self.changes(chosen), detail=self.detail))
        # The draws that left the most people out first: a set that misses the target
        # shows it soonest there.
        todo.sort(key=lambda job: (-self.base[job.index], job.index))
        missed = _Budget(self.advice.target, len(out))
        results = self.sweep.run(N_("advice: the engine checks a set"), todo, missed.spend)
        for result in results:
            out[result.index] = counted(self.advice.target, result)
            if result.unplaced == 0:
                self.placed_by[result.index].append(chosen)
        self.solves += len(results)
        if missed.exceeded:
            return None
        self.results[chosen] = [out[i] for i in sorted(out)]
        return self.results[chosen] if meets(self.advice.target, self.results[chosen]) else None


class _Budget:
    """What the target allows over ``n`` draws, spent draw by draw: persons unplaced (mean
    target) or draws where someone is unplaced (share target). Exceeded: the target is
    missed whatever the draws not yet solved give (at best 0 more)."""

    def __init__(self, target: Target, n: int) -> None:
        self.target = target
        if target.all_placed_share is not None:
            self.left = (1 - target.all_placed_share) * n + TOLERANCE
            self.per_draw = False
        else:
            assert target.mean_unplaced is not None  # guaranteed by Target validation
            self.left = target.mean_unplaced * n + TOLERANCE
            self.per_draw = True
        self.exceeded = False

    def spend(self, outcome: DrawOutcome) -> bool:
        """Count one solved draw; True once the target is out of reach."""
        unplaced = counted(self.target, outcome)
        self.left -= unplaced if self.per_draw else unplaced > 0
        self.exceeded = self.left < 0
        return self.exceeded


class _Rounds:
    """Model, engine check, cut; until the engine confirms a set or the model has none."""

    def __init__(
        self, sweep: Sweep, advice: Advice, outcomes: Sequence[DrawOutcome], deadline: float
    ) -> None:
        self.sweep = sweep
        self.advice = advice
        self.deadline = deadline
        self.check = _Check(sweep, advice, outcomes)
        modelled = tuple(o.index for o in outcomes if counted(advice.target, o) > 0)
        self.indices = modelled
        self.target = saa_target(advice.target, len(outcomes), len(modelled))
        self.cuts: list[tuple[frozenset[int], bool]] = []
        #: sets (and their subsets) the model found to miss the target: the engine would too
        self.missed: set[frozenset[int]] = set()
        self.last: SaaResult | None = None
        #: the model's prepared draws, on the cluster (``_sample``)
        self.sample: Any = None
        self.rounds = 0
        self.model_seconds = 0.0

    def _sample(self) -> Any:
        """The model's draws and their bounds, prepared on the cluster at the first round and
        kept there for the others (a handle to pass to the model's task); None when the
        model's time ran out while it was prepared."""
        if self.sample is None:
            seconds = self.deadline - time.perf_counter()
            if seconds <= 0:
                return None
            started = time.perf_counter()
            sample = self.sweep.keep(prepare_model, self.indices, seconds)
            self.sweep.wait(N_("advice: the sample-average model"), sample)
            self.model_seconds += time.perf_counter() - started
            self.sample = sample
        return self.sample

    def cheapest(self) -> tuple[frozenset[int] | None, bool]:
        """The cheapest set the engine confirms, and whether it is proven the cheapest (or,
        with no set, proven that none meets the target)."""
        if meets(self.advice.target, list(self.check.base.values())):
            return frozenset(), True
        for _ in range(MAX_ROUNDS):
            sample = self._sample()
            seconds = self.deadline - time.perf_counter()
            if sample is None or seconds <= 0:
                break
            self.rounds += 1
            result = self.sweep.call(
                N_("advice: the sample-average model"),
                solve_model,
                sample,
                self.target,
                # and what the model already found to miss: not judged again
                (*self.cuts, *((m, True) for m in sorted(self.missed, key=sorted))),
                seconds,
            )
            self.last = result
            self.missed.update(result.missed)
            self.model_seconds += result.seconds
            if result.chosen is None:
                return None, result.status == "infeasible"
            # Cuts only remove sets the engine refused: a model optimum is the cheapest.
            if self.check.unplaced(result.chosen) is not None:
                return result.chosen, result.status == "optimal"
            self.cuts.append((result.chosen, monotone(self.advice.target)))
        return None, False


def _search(rounds: _Rounds, found: frozenset[int] | None, deadline: float) -> SetSearch | None:
    """Every set cheaper than ``found`` (every set, with none), in cost order, judged by the
    engine on the draws until ``deadline``; the sets the engine already refused, and those
    the model (a relaxation) found to miss the target with their subsets, are not judged."""
    check, advice = rounds.check, rounds.advice

    def judge(chosen: frozenset[int]) -> Verdict:
        if time.perf_counter() >= deadline:
            return None
        return check.unplaced(chosen) is not None

    below = math.inf if found is None else check.cost(found)
    refused = cut_off(rounds.cuts)

    def ruled_out(chosen: frozenset[int]) -> bool:
        return refused(chosen) or any(chosen <= m for m in rounds.missed)

    costs = [c.cost for c in advice.candidates]
    return search_by_cost(costs, below, judge, monotone(advice.target), ruled_out)


def _cheapest(
    rounds: _Rounds, deadline: float
) -> tuple[frozenset[int] | None, bool, str | None, float | None]:
    """The cheapest set the engine confirmed, whether it is proven the cheapest, which method
    found it (``model`` or ``search``) and the bound on the cost of any set meeting the target."""
    chosen, proven = rounds.cheapest()
    last = rounds.last
    bound = None if last is None or last.bound is None else last.bound
    by = None if chosen is None else "model"
    if proven:
        return chosen, proven, by, bound
    search = _search(rounds, chosen, deadline)
    if search is None:
        return chosen, False, by, bound
    if search.chosen is not None:
        chosen, by = search.chosen, "search"
    bound = max(bound or 0.0, search.bound)
    return chosen, search.complete, by, bound


def advise(
    sweep: Sweep, advice: Advice, outcomes: Sequence[DrawOutcome], first_fresh: int
) -> AdviceResult:
    """The cheapest set meeting the target on the draws, checked on ``advice.check_draws``
    fresh draws (indices from ``first_fresh`` on) that it was not chosen on."""
    started = time.perf_counter()
    rounds = _Rounds(sweep, advice, outcomes, started + MODEL_SHARE * advice.time_limit)
    chosen, proven, found_by, bound = _cheapest(rounds, started + advice.time_limit)
    check = rounds.check
    fresh = range(first_fresh, first_fresh + advice.check_draws)
    detail = advice.target.group is not None
    before = sweep.run(N_("advice: fresh draws, before"), [Job(i, detail=detail) for i in fresh])
    after: list[DrawOutcome] | None = None
    in_sample: NetworkResult | None = None
    chosen_set = None
    if chosen is not None:
        changes = check.changes(chosen)
        chosen_set = CandidateSet(candidates=[c.id for c in changes], cost=check.cost(chosen))
        after = sweep.run(
            N_("advice: fresh draws, after"), [Job(i, changes, detail=detail) for i in fresh]
        )
        in_sample = unplaced_result(check.results.get(chosen, list(check.base.values())))
        if proven:
            bound = check.cost(chosen)
    last = rounds.last
    return AdviceResult(
        target=advice.target,
        met=chosen is not None,
        proven=proven,
        found_by=found_by,
        cost_bound=None if bound is None else round(bound, 6),
        chosen=chosen_set,
        model_rounds=rounds.rounds,
        model_draws=len(rounds.indices),
        model_variables=0 if last is None else last.variables,
        model_seconds=round(rounds.model_seconds, 2),
        sets_evaluated=check.evaluated,
        solves=check.solves + len(before) + len(after or []),
        in_sample=in_sample,
        out_of_sample_before=unplaced_result([counted(advice.target, o) for o in before]),
        out_of_sample_after=(
            None if after is None else unplaced_result([counted(advice.target, o) for o in after])
        ),
        out_of_sample_first=fresh.start,
        out_of_sample_last=fresh.stop - 1,
        out_of_sample_target_met=(
            None
            if after is None
            else meets(advice.target, [counted(advice.target, o) for o in after])
        ),
    )
