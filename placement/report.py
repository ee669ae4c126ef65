"""Turning an assignment into a :class:`Plan` a coordinator can read."""

from __future__ import annotations

from dataclasses import dataclass

from placement.context import Context, persons_by_priority
from placement.costs import placement_cost
from placement.languages import has_close_language, shared_language
from placement.plan import Placement, Plan, Status, Unplaced


@dataclass(frozen=True)
class Solved:
    """Who goes where, how sure, in how long, and what is proven: the best proven bound on
    persons per level (priority p -> persons the lexicographically best plan places at
    priority >= p), the levels proven optimal, a lower bound on the secondary cost."""

    assignment: dict[str, str]
    status: Status
    seconds: float
    bound: dict[int, int] | None = None
    proven_levels: tuple[int, ...] = ()
    cost_lower_bound: int | None = None


def build_plan(ctx: Context, solved: Solved, solver: str, unplaced: list[Unplaced]) -> Plan:
    """A plan from who-goes-where; ``unplaced`` must cover every arrival not assigned."""
    sc = ctx.scenario
    assignment = solved.assignment
    upper_bound = solved.bound
    placements = []
    for a in sc.arrivals:
        sid = assignment.get(a.id)
        if sid is None:
            continue
        s = ctx.shelters[sid]
        stay = ctx.stay(a)
        shared = shared_language(a.languages, s.languages)
        close = shared is None and has_close_language(a.languages, s.languages)
        placements.append(
            Placement(
                arrival=a.id,
                shelter=sid,
                first_night=sc.night(stay.start),
                last_night=sc.night(stay.stop - 1),
                persons=a.persons,
                distance_km=round(ctx.distance_km(a, s), 1),
                shared_language=shared,
                language_match="shared" if shared else "close" if close else "interpreter",
                cost=placement_cost(ctx, a, s).total,
            )
        )
    requested = persons_by_priority(ctx, [a.id for a in sc.arrivals])
    return Plan(
        scenario=sc.name,
        solver=solver,
        status=solved.status,
        solve_seconds=round(solved.seconds, 3),
        placed_persons_by_priority=persons_by_priority(ctx, list(assignment)),
        requested_persons_by_priority=requested,
        secondary_cost=sum(p.cost for p in placements),
        placements=placements,
        unplaced=unplaced,
        upper_bound_persons_at_or_above=(
            None
            if upper_bound is None
            else {str(p): upper_bound[p] for p in sorted(upper_bound, reverse=True)}
        ),
        proven_levels=list(solved.proven_levels),
        secondary_cost_lower_bound=solved.cost_lower_bound,
    )
