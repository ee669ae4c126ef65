"""The stress report: aggregates over the draws, with confidence intervals.

Only aggregates: no arrival, and shelters by id. Everything but ``timing`` depends only on
the spec, the networks and the seed (``same_numbers`` compares two reports on that).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from placement.explain import night_ranges
from placement.models import PRIORITIES, Scenario
from stress.evaluate import DrawOutcome
from stress.spec import Target
from stress.stats import Estimate, mean, proportion

#: bottlenecks, shelters and départements listed in a report, at most
TOP = 15
#: a shelter's "usual full nights" are those it is full on in at least this share of the
#: draws where it is full at all
USUAL_NIGHT_SHARE = 0.5


class Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GroupUnplaced(Out):
    group: str
    requested_mean: float = Field(description="persons of this group per draw, on average")
    unplaced: Estimate = Field(description="persons of this group left unplaced per draw")


class Bottleneck(Out):
    reason: str
    draws_share: float = Field(description="share of draws where it kept someone out")
    persons_mean: float = Field(description="persons it kept out per draw, on average")


class NightRange(Out):
    first: date
    last: date


class Saturation(Out):
    shelter: str
    department: str
    full_share: Estimate = Field(description="probability that it is full on some night")
    usual_full_nights: list[NightRange] = Field(
        description="nights it is usually full on, when full"
    )


class DepartmentSaturation(Out):
    department: str
    name: str
    full_share: Estimate = Field(
        description="probability that all its places are used on some night"
    )


class MarginalValue(Out):
    shelter: str
    extra_persons: Estimate = Field(description="more persons placed with one more place, per draw")


class NetworkResult(Out):
    """One network's figures on a set of draws."""

    all_placed: Estimate
    unplaced_mean: Estimate


class CandidateSet(Out):
    candidates: list[str]
    cost: float


class AdviceResult(Out):
    """The cheapest set of candidates; its figures count the target's group (everyone by
    default): in sample (the sweep's draws), and before/after on fresh draws."""

    target: Target
    met: bool = Field(description="whether a set of candidates meets the target on the draws")
    proven: bool = Field(
        description="met: the set is proven the cheapest; not met: proven that no set meets "
        "the target (else the model's time limit or rounds ran out)"
    )
    found_by: Literal["model", "search"] | None = Field(
        default=None,
        description="which method found the set: the sample-average model, or the search "
        "over sets in cost order (each judged by the engine on the draws)",
    )
    cost_bound: float | None = Field(
        description="no set meeting the target costs less (the model's and the search's bound)"
    )
    chosen: CandidateSet | None
    model_rounds: int = Field(description="solves of the sample-average model")
    model_draws: int = Field(description="draws in the model (those leaving someone out)")
    model_variables: int
    model_seconds: float = Field(description="varies with timing")
    sets_evaluated: int = Field(description="sets the engine checked on the draws")
    solves: int = Field(
        description="engine solves it took; varies with timing (a set is dropped as soon as "
        "it misses the target, whichever draws came back first)"
    )
    in_sample: NetworkResult | None
    out_of_sample_before: NetworkResult
    out_of_sample_after: NetworkResult | None
    out_of_sample_first: int = Field(description="the first fresh draw it was checked on")
    out_of_sample_last: int = Field(description="the last fresh draw it was checked on")
    out_of_sample_target_met: bool | None


class Comparison(Out):
    label: str
    before: NetworkResult
    after: NetworkResult
    all_placed_difference: Estimate = Field(description="after minus before, paired by draw")
    unplaced_difference: Estimate = Field(description="after minus before, paired by draw")


class Timing(Out):
    """The only part of a report that changes from run to run."""

    wall_seconds: float
    workers: int
    median_solve_seconds: float
    solves: int


class StressReport(Out):
    name: str
    network: str
    seed: int
    draws: int
    proven_optimal_draws: int
    persons_requested_mean: float
    all_placed: Estimate
    all_placed_at_or_above: dict[str, Estimate] = Field(
        description="probability that everyone at priority >= p is placed"
    )
    expected_unplaced: list[GroupUnplaced]
    bottlenecks: list[Bottleneck]
    shelters_saturated: list[Saturation]
    departments_saturated: list[DepartmentSaturation]
    marginal_value: list[MarginalValue]
    marginal_draws: int
    advice: AdviceResult | None = None
    comparison: Comparison | None = None
    timing: Timing | None = None

    def numbers(self) -> dict[str, object]:
        """Everything but the timing: equal for equal spec, networks and seed."""
        return self.model_dump(exclude={"timing": True, "advice": {"solves", "model_seconds"}})


def unplaced_result(unplaced: Sequence[int]) -> NetworkResult:
    """A network's figures from the unplaced persons of each draw."""
    return NetworkResult(
        all_placed=proportion(sum(u == 0 for u in unplaced), len(unplaced)),
        unplaced_mean=mean(list(unplaced)),
    )


def network_result(outcomes: Sequence[DrawOutcome]) -> NetworkResult:
    return unplaced_result([o.unplaced for o in outcomes])


def summarise(
    network: Scenario, name: str, seed: int, outcomes: Sequence[DrawOutcome]
) -> StressReport:
    """The main sweep's figures (marginal value, advice and comparison are added later)."""
    n = len(outcomes)
    at_or_above = {}
    for p in PRIORITIES:
        ok = sum(all(o.placed[q] == o.requested[q] for q in PRIORITIES if q >= p) for o in outcomes)
        at_or_above[str(p)] = proportion(ok, n)
    return StressReport(
        name=name,
        network=network.name,
        seed=seed,
        draws=n,
        proven_optimal_draws=sum(o.status == "optimal" for o in outcomes),
        persons_requested_mean=round(
            statistics.fmean(sum(o.requested.values()) for o in outcomes), 6
        ),
        all_placed=proportion(sum(o.unplaced == 0 for o in outcomes), n),
        all_placed_at_or_above=at_or_above,
        expected_unplaced=_groups(outcomes),
        bottlenecks=_bottlenecks(outcomes),
        shelters_saturated=_shelters(network, outcomes),
        departments_saturated=_departments(network, outcomes),
        marginal_value=[],
        marginal_draws=0,
    )


def _groups(outcomes: Sequence[DrawOutcome]) -> list[GroupUnplaced]:
    groups = sorted({g for o in outcomes for g in o.requested_by_group})
    n = len(outcomes)
    out = [
        GroupUnplaced(
            group=g,
            requested_mean=round(sum(o.requested_by_group.get(g, 0) for o in outcomes) / n, 6),
            unplaced=mean([o.unplaced_by_group.get(g, 0) for o in outcomes]),
        )
        for g in groups
    ]
    return sorted(out, key=lambda x: (-x.unplaced.value, x.group))


def _bottlenecks(outcomes: Sequence[DrawOutcome]) -> list[Bottleneck]:
    draws: Counter[str] = Counter()
    persons: Counter[str] = Counter()
    for o in outcomes:
        for reason, count in o.bottlenecks.items():
            draws[reason] += 1
            persons[reason] += count
    n = len(outcomes)
    out = [
        Bottleneck(
            reason=r,
            draws_share=round(draws[r] / n, 6),
            persons_mean=round(persons[r] / n, 6),
        )
        for r in draws
    ]
    return sorted(out, key=lambda b: (-b.persons_mean, -b.draws_share, b.reason))[:TOP]


def _shelters(network: Scenario, outcomes: Sequence[DrawOutcome]) -> list[Saturation]:
    n = len(outcomes)
    out = []
    for s in network.shelters:
        full = [o.full_nights[s.id] for o in outcomes if s.id in o.full_nights]
        if not full:
            continue
        nights = Counter(night for draw in full for night in draw)
        usual = [k for k, c in nights.items() if c >= USUAL_NIGHT_SHARE * len(full)]
        out.append(
            Saturation(
                shelter=s.id,
                department=s.department,
                full_share=proportion(len(full), n),
                usual_full_nights=[
                    NightRange(first=a, last=b) for a, b in night_ranges(network, usual)
                ],
            )
        )
    return sorted(out, key=lambda x: (-x.full_share.value, x.shelter))[:TOP]


def _departments(network: Scenario, outcomes: Sequence[DrawOutcome]) -> list[DepartmentSaturation]:
    n = len(outcomes)
    counts = Counter(d for o in outcomes for d in o.full_departments)
    geo = network.geo
    out = [
        DepartmentSaturation(department=d, name=geo.area(d).name, full_share=proportion(c, n))
        for d, c in counts.items()
    ]
    return sorted(out, key=lambda x: (-x.full_share.value, x.department))
