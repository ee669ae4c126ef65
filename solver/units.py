"""Units: what the solvers place.

A unit is either a household (its members go to one shelter together, or none does) or a
group of interchangeable arrivals: people with identical attributes who are in no household
and no keep-apart link. A group of k people is one integer decision per shelter instead of
k booleans, which is what keeps large instances small. Everything here is derived from the
rules in :mod:`placement.rules`; nothing is decided here that the rules do not say.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from placement.costs import placement_cost
from placement.models import Arrival
from placement.rules import (
    CapacityRule,
    Context,
    HouseholdRule,
    KeepApartRule,
    admissible_mask,
    mask_indices,
)


@dataclass
class Unit:
    """A household, or a group of ``count`` interchangeable arrivals."""

    index: int
    arrival_ids: list[str]  # household: its members; group: the interchangeable people
    members: list[Arrival]  # the arrivals one copy of the unit consists of
    count: int  # copies: 1 for a household, the group size for a group
    usage: dict[int, int] = field(default_factory=dict)  # night -> places, per copy
    persons_by_priority: dict[int, int] = field(default_factory=dict)  # per copy
    networks: dict[str, int] = field(default_factory=dict)  # network -> people, per copy
    cost: dict[str, int] = field(default_factory=dict)  # admissible shelter -> cost per copy

    @property
    def is_household(self) -> bool:
        return len(self.members) > 1

    @property
    def shelters(self) -> list[str]:
        return list(self.cost)

    @property
    def priority(self) -> int:
        return max(m.priority for m in self.members)

    @property
    def persons(self) -> int:
        """Persons (children included) in one copy."""
        return sum(m.persons for m in self.members)


@dataclass
class Units:
    """The units of a scenario and the index from arrival to unit."""

    units: list[Unit]
    unit_of: dict[str, int]  # arrival id -> unit index

    def keep_apart_unit_pairs(self, ctx: Context) -> list[tuple[int, int]]:
        return sorted({(self.unit_of[x], self.unit_of[y]) for x, y in KeepApartRule.pairs(ctx)})


def _group_key(a: Arrival) -> str:
    return json.dumps(a.model_dump(mode="json", exclude={"id"}), sort_keys=True)


def build_units(
    ctx: Context, exclude_shelters: dict[str, set[str]] | None = None, group: bool = True
) -> Units:
    """Group the arrivals into units and compute each unit's admissible shelters and costs.

    ``exclude_shelters`` maps an arrival id to shelters it must not use (used for re-plans).
    ``group=False`` makes every arrival outside a household its own unit (the naive model).
    """
    sc = ctx.scenario
    linked = {i for pair in KeepApartRule.pairs(ctx) for i in pair}
    households = HouseholdRule.groups(ctx)
    in_household = {m for members in households.values() for m in members}
    exclude_shelters = exclude_shelters or {}

    buckets: dict[str, list[Arrival]] = defaultdict(list)
    raw: list[tuple[list[str], list[Arrival], int]] = []
    for hh_id in sorted(households):
        members = [ctx.arrivals[m] for m in households[hh_id]]
        raw.append(([m.id for m in members], members, 1))
    for a in sc.arrivals:
        if a.id in in_household:
            continue
        if a.id in linked or a.id in exclude_shelters or not group:
            raw.append(([a.id], [a], 1))
        else:
            buckets[_group_key(a)].append(a)
    for people in buckets.values():
        raw.append(([p.id for p in people], [people[0]], len(people)))
    raw.sort(key=lambda r: r[0][0])

    units: list[Unit] = []
    unit_of: dict[str, int] = {}
    shelters = sc.shelters
    fewest = [min(ctx.nightly_places(s)) for s in shelters]
    # Shelters with no place on any night can take no one: cut them before anything else.
    open_shelters = sum(1 << i for i, s in enumerate(shelters) if max(ctx.nightly_places(s)))
    for index, (ids, members, count) in enumerate(raw):
        unit = Unit(index=index, arrival_ids=ids, members=members, count=count)
        for m in members:
            for n in ctx.stay(m):
                unit.usage[n] = unit.usage.get(n, 0) + CapacityRule.places(m)
            unit.persons_by_priority[m.priority] = (
                unit.persons_by_priority.get(m.priority, 0) + m.persons
            )
            if m.network is not None:
                unit.networks[m.network] = unit.networks.get(m.network, 0) + 1
        banned = set().union(*(exclude_shelters.get(i, set()) for i in ids))
        mask = open_shelters & admissible_mask(ctx, members[0])
        for m in members[1:]:
            mask &= admissible_mask(ctx, m)
        usage = sorted(unit.usage.items())
        most = max(unit.usage.values(), default=0)
        for si in mask_indices(mask):
            s = shelters[si]
            if s.id in banned:
                continue
            places = ctx.nightly_places(s)
            if fewest[si] < most and any(places[n] < need for n, need in usage):
                continue  # too small on some night even when empty
            unit.cost[s.id] = sum(placement_cost(ctx, m, s).total for m in members)
        units.append(unit)
        for i in ids:
            unit_of[i] = index
    return Units(units=units, unit_of=unit_of)
