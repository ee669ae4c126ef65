"""Re-plan one person (or one household) while every other placement stays as it is.

After a decline, an expiry or a compromised shelter, the coordinator needs a new place for
the people concerned without moving anyone else. With everyone else fixed, the best plan for
one unit is found exactly by looking at each admissible shelter in turn: it either has room
on every night of the stay (capacity, keep-apart and network cap checked against the fixed
placements) or not, and among those with room the lowest secondary cost wins (ties: nearest,
then id). No solver call is needed, so this stays fast at national scale.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from placement.admissibility import admissible_for_all
from placement.context import Assignment, Context
from placement.costs import placement_cost
from placement.occupancy import Occupancy
from placement.rules import HouseholdRule, load_of


@dataclass(frozen=True)
class Replan:
    """Where the unit goes (None when nowhere), and the shelters that were considered."""

    arrival_ids: tuple[str, ...]
    shelter: str | None
    admissible: int  # shelters every rule admits, minus the excluded ones
    with_room: int  # of those, shelters with room for the whole stay


def replan_unit(
    ctx: Context,
    fixed: Assignment,
    arrival_id: str,
    exclude: Collection[str] = (),
) -> Replan:
    """Best shelter for ``arrival_id`` (and its household) given the ``fixed`` placements.

    ``fixed`` must not contain the unit's members. ``exclude`` lists shelters the unit must
    not use (the one that declined, a compromised one).
    """
    a = ctx.arrivals[arrival_id]
    members = HouseholdRule.members_of(ctx, a)
    member_ids = {m.id for m in members}
    mask = admissible_for_all(ctx, members)
    for sid in exclude:
        if sid in ctx.shelters:
            mask[ctx.index(sid)] = False
    candidates = np.flatnonzero(mask)
    # What the fixed placements use, only in the candidate shelters; every plan rule checked
    # by its own incremental checker.
    wanted = {ctx.scenario.shelters[i].id for i in candidates.tolist()}
    others = {k: v for k, v in fixed.items() if k not in member_ids}
    occupancy = Occupancy.of_assignment(ctx, others, only=wanted)
    load = load_of(ctx, members)
    with_room = candidates[occupancy.fits(load, candidates)]
    best: tuple[int, float, str] | None = None
    for si in with_room.tolist():
        s = ctx.scenario.shelters[si]
        key = (
            sum(placement_cost(ctx, m, s).total for m in members),
            ctx.distance_km(a, s),
            s.id,
        )
        if best is None or key < best:
            best = key
    return Replan(
        arrival_ids=tuple(sorted(member_ids)),
        shelter=None if best is None else best[2],
        admissible=len(candidates),
        with_room=len(with_room),
    )
