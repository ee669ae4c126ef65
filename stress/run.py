"""A whole stress test: the sweep, the marginal value of a place, capacity advice
(:mod:`stress.advice`) and the comparison of two networks, all on the same draws."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from placement.i18n import N_
from placement.models import Scenario
from stress.advice import advise
from stress.evaluate import DrawOutcome
from stress.report import (
    Comparison,
    MarginalValue,
    StressReport,
    Timing,
    network_result,
    summarise,
)
from stress.spec import AddPlaces, Candidate, StressSpec
from stress.stats import mean
from stress.sweep import ClusterOptions, Job, OnProgress, Sweep


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
        outcomes = sweep.run(N_("draws"), [Job(i, detail=True) for i in range(spec.draws)])
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
    results = sweep.run(N_("marginal value"), jobs)
    gains: dict[str, list[int]] = {sid: [0] * (len(sample) - len(short)) for sid in shelters}
    for job, result in zip(jobs, results, strict=True):
        before = next(o for o in short if o.index == job.index)
        assert job.changes[0].add_places is not None
        gains[job.changes[0].add_places.shelter].append(result.total_placed - before.total_placed)
    out = [MarginalValue(shelter=sid, extra_persons=mean(g)) for sid, g in gains.items() if g]
    out.sort(key=lambda m: (-m.extra_persons.value, m.shelter))
    return out, len(jobs)


def compare(sweep: Sweep, label: str, outcomes: Sequence[DrawOutcome]) -> Comparison:
    """The second network on the same draws: each draw's difference, then its mean."""
    after = sweep.run(N_("comparison"), [Job(o.index, network="compare") for o in outcomes])
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
