"""A whole stress test: the sweep, the marginal value of a place, capacity advice and the
comparison of two networks, all on the same draws.

Capacity advice is a sample-average optimisation over the draws, solved exactly: candidate
sets are tried in increasing cost (then size), each judged by the engine on every draw, and
the first that meets the target is the cheapest. Two facts keep it affordable: a draw where
everyone is placed stays so with more places (monotone), so it is never solved again for a
larger set; and with the "everyone placed" target, when all candidates together fail the
target no set can meet it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

from placement.models import Scenario
from stress.evaluate import DrawOutcome
from stress.report import (
    AdviceResult,
    CandidateSet,
    Comparison,
    MarginalValue,
    NetworkResult,
    StressReport,
    Timing,
    draws_label,
    network_result,
    summarise,
    unplaced_result,
)
from stress.spec import AddPlaces, Advice, Candidate, StressSpec, Target
from stress.stats import mean
from stress.sweep import ClusterOptions, Job, OnProgress, Sweep

#: float slack when comparing a share or a mean with the target
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Networks:
    """The network under test, and the one it is compared with (if any)."""

    base: Scenario
    compare: Scenario | None = None

    def by_name(self) -> dict[str, Scenario]:
        out = {"base": self.base}
        if self.compare is not None:
            out["compare"] = self.compare
        return out


def run_stress(
    spec: StressSpec,
    networks: Networks,
    options: ClusterOptions = ClusterOptions(),
    on_progress: OnProgress | None = None,
) -> StressReport:
    """Every figure the spec asks for, computed on the cluster ``options`` names."""
    started = time.perf_counter()
    with Sweep(networks.by_name(), spec, options, on_progress) as sweep:
        outcomes = sweep.run("draws", [Job(i, detail=True) for i in range(spec.draws)])
        report = summarise(networks.base, spec.name, spec.seed, outcomes)
        solves = len(outcomes)
        marginal, count = marginal_values(sweep, spec, networks.base, outcomes)
        solves += count
        update: dict[str, object] = {
            "marginal_value": marginal,
            "marginal_draws": min(spec.marginal.draws, len(outcomes)),
        }
        if spec.advice is not None:
            advice = advise(sweep, spec.advice, outcomes, spec.draws)
            update["advice"] = advice
            solves += advice.solves
        if spec.compare is not None:
            update["comparison"] = compare(sweep, spec.compare.label, outcomes)
            solves += len(outcomes)
        workers = sweep.workers
    update["timing"] = Timing(
        wall_seconds=round(time.perf_counter() - started, 2),
        workers=workers,
        median_solve_seconds=sorted(o.seconds for o in outcomes)[len(outcomes) // 2],
        solves=solves,
    )
    return report.model_copy(update=update)


def one_more_place(shelter: str) -> Candidate:
    return Candidate(id="one-more-place", cost=1, add_places=AddPlaces(shelter=shelter, places=1))


def marginal_values(
    sweep: Sweep, spec: StressSpec, network: Scenario, outcomes: Sequence[DrawOutcome]
) -> tuple[list[MarginalValue], int]:
    """For each shelter, how many more persons one more place (every night) lets in, on the
    first ``spec.marginal.draws`` draws: a re-solve per shelter of every such draw where
    someone is unplaced (where everyone is placed, the gain is 0 without a re-solve)."""
    sample = outcomes[: spec.marginal.draws]
    short = [o for o in sample if o.unplaced > 0]
    shelters = [s.id for s in network.shelters]
    jobs = [Job(o.index, (one_more_place(sid),)) for o in short for sid in shelters]
    results = sweep.run("marginal value", jobs)
    gains: dict[str, list[int]] = {sid: [0] * (len(sample) - len(short)) for sid in shelters}
    for job, result in zip(jobs, results, strict=True):
        before = next(o for o in short if o.index == job.index)
        assert job.changes[0].add_places is not None
        gains[job.changes[0].add_places.shelter].append(result.total_placed - before.total_placed)
    out = [MarginalValue(shelter=sid, extra_persons=mean(g)) for sid, g in gains.items() if g]
    out.sort(key=lambda m: (-m.extra_persons.value, m.shelter))
    return out, len(jobs)


def meets(target: Target, unplaced: Sequence[int]) -> bool:
    """Whether per-draw unplaced counts meet the target."""
    if target.all_placed_share is not None:
        share = sum(u == 0 for u in unplaced) / len(unplaced)
        return share >= target.all_placed_share - TOLERANCE
    assert target.mean_unplaced is not None  # guaranteed by Target validation
    return sum(unplaced) / len(unplaced) <= target.mean_unplaced + TOLERANCE


def target_text(target: Target) -> str:
    who = "everyone" if target.group is None else f"everyone in '{target.group}'"
    if target.all_placed_share is not None:
        return f"{who} placed in at least {target.all_placed_share:.0%} of draws"
    return f"at most {target.mean_unplaced:g} persons unplaced on average ({who})"


def counted(target: Target, outcome: DrawOutcome) -> int:
    """The unplaced persons the target counts in a draw: everyone's, or its group's."""
    if target.group is None:
        return outcome.unplaced
    return outcome.unplaced_by_group.get(target.group, 0)


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


class _Search:
    """The cheapest set of candidates meeting the target on the sweep's draws."""

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
        #: unplaced persons per draw (in index order) of each set evaluated
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
        results = self.sweep.run("advice, one candidate set at a time", todo, missed.spend)
        for result in results:
            out[result.index] = counted(self.advice.target, result)
            if result.unplaced == 0:
                self.placed_by[result.index].append(chosen)
        self.solves += len(results)
        if missed.exceeded:
            return None
        self.results[chosen] = [out[i] for i in sorted(out)]
        return self.results[chosen]

    def cheapest(self) -> frozenset[int] | None:
        target = self.advice.target
        everything = frozenset(range(len(self.advice.candidates)))
        if meets(target, list(self.base.values())):
            return frozenset()
        if target.all_placed_share is not None and self.unplaced(everything) is None:
            return None  # more places never un-place anyone: no subset does better
        sets = [
            frozenset(c)
            for k in range(1, len(everything) + 1)
            for c in itertools.combinations(sorted(everything), k)
        ]
        sets.sort(key=lambda s: (self.cost(s), len(s), sorted(s)))
        for chosen in sets:
            unplaced = self.unplaced(chosen)
            if unplaced is not None and meets(target, unplaced):
                return chosen
        return None


def advise(
    sweep: Sweep, advice: Advice, outcomes: Sequence[DrawOutcome], first_fresh: int
) -> AdviceResult:
    """The cheapest set meeting the target on the draws, checked on ``advice.check_draws``
    fresh draws (indices from ``first_fresh`` on) that it was not chosen on."""
    search = _Search(sweep, advice, outcomes)
    chosen = search.cheapest()
    fresh = range(first_fresh, first_fresh + advice.check_draws)
    detail = advice.target.group is not None
    before = sweep.run("advice check, before", [Job(i, detail=detail) for i in fresh])
    after_outcomes: list[DrawOutcome] | None = None
    in_sample: NetworkResult | None = None
    chosen_set = None
    if chosen is not None:
        changes = search.changes(chosen)
        chosen_set = CandidateSet(candidates=[c.id for c in changes], cost=search.cost(chosen))
        after_outcomes = sweep.run(
            "advice check, after", [Job(i, changes, detail=detail) for i in fresh]
        )
        in_sample = unplaced_result(search.results.get(chosen, list(search.base.values())))
    return AdviceResult(
        target=target_text(advice.target),
        met=chosen is not None,
        chosen=chosen_set,
        sets_evaluated=search.evaluated,
        solves=search.solves + len(before) + len(after_outcomes or []),
        in_sample=in_sample,
        out_of_sample_before=unplaced_result([counted(advice.target, o) for o in before]),
        out_of_sample_after=(
            None
            if after_outcomes is None
            else unplaced_result([counted(advice.target, o) for o in after_outcomes])
        ),
        out_of_sample_draws=draws_label(fresh.start, fresh.stop),
        out_of_sample_target_met=(
            None
            if after_outcomes is None
            else meets(advice.target, [counted(advice.target, o) for o in after_outcomes])
        ),
    )


def compare(sweep: Sweep, label: str, outcomes: Sequence[DrawOutcome]) -> Comparison:
    """The second network on the same draws: each draw's difference, then its mean."""
    after = sweep.run("comparison", [Job(o.index, network="compare") for o in outcomes])
    return Comparison(
        label=label,
        before=network_result(outcomes),
        after=network_result(after),
        all_placed_difference=mean(
            [(b.unplaced == 0) - (a.unplaced == 0) for a, b in zip(outcomes, after, strict=True)]
        ),
        unplaced_difference=mean(
            [b.unplaced - a.unplaced for a, b in zip(outcomes, after, strict=True)]
        ),
    )
