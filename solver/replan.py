"""Re-plan one person (or one household) while every other placement stays as it is.

After a decline, an expiry or a compromised shelter, the coordinator needs a new place for
the people concerned without moving anyone else. With everyone else fixed, the best plan for
one unit is found exactly by looking at each admissible shelter in turn: it either has room
on every night of the stay (capacity, keep-apart and network cap checked against the fixed
placements) or not, and among those with room the lowest secondary cost wins (ties: nearest,
then id). No solver call is needed, so this stays fast at national scale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from placement.admissibility import admissible_mask, mask_indices
from placement.context import Assignment, Context
from placement.costs import placement_cost
from placement.models import Arrival
from placement.rules import CapacityRule, HouseholdRule, KeepApartRule, NetworkCapRule


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
    members: list[Arrival] = [a]
    if a.household is not None:
        ids = HouseholdRule.groups(ctx).get(a.household, [a.id])
        members = [ctx.arrivals[i] for i in ids]
    member_ids = {m.id for m in members}
    others = {k: v for k, v in fixed.items() if k not in member_ids}

    need: dict[int, int] = defaultdict(int)
    for m in members:
        for n in ctx.stay(m):
            need[n] += CapacityRule.places(m)
    mask = admissible_mask(ctx, members[0])
    for m in members[1:]:
        mask &= admissible_mask(ctx, m)
    shelters = ctx.scenario.shelters
    candidates = [shelters[i] for i in mask_indices(mask) if shelters[i].id not in exclude]

    # What the fixed placements use, only in the candidate shelters.
    wanted = {s.id for s in candidates}
    used: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    network_there: dict[tuple[str, str], int] = defaultdict(int)
    present: dict[str, set[str]] = defaultdict(set)
    for other_id, sid in others.items():
        if sid not in wanted:
            continue
        other = ctx.arrivals[other_id]
        for n in ctx.stay(other):
            used[sid][n] += CapacityRule.places(other)
        if other.network is not None:
            network_there[(other.network, sid)] += 1
        present[sid].add(other_id)
    apart = {y for x, y in KeepApartRule.pairs(ctx) if x in member_ids} | {
        x for x, y in KeepApartRule.pairs(ctx) if y in member_ids
    }
    cap = NetworkCapRule.cap(ctx)
    mine: dict[str, int] = defaultdict(int)
    for m in members:
        if m.network is not None:
            mine[m.network] += 1

    best: tuple[int, float, str] | None = None
    with_room = 0
    for s in candidates:
        places = ctx.nightly_places(s)
        if any(places[n] - used[s.id][n] < k for n, k in need.items()):
            continue
        if apart & present[s.id]:
            continue
        if cap is not None and any(network_there[(net, s.id)] + k > cap for net, k in mine.items()):
            continue
        with_room += 1
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
        with_room=with_room,
    )
