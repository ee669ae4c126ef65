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

import numpy as np

from placement.admissibility import admissible_for_all
from placement.context import Context
from placement.costs import placement_costs
from placement.models import Arrival
from placement.rules import CapacityRule, HouseholdRule, KeepApartRule, Load, load_of


@dataclass
class Unit(Load):
    """A household, or a group of ``count`` interchangeable arrivals. As a :class:`Load`:
    the arrivals one copy consists of, the places a copy uses per night, its people per
    network."""

    index: int = 0
    arrival_ids: list[str] = field(default_factory=list)  # household: its members; group:
    # the interchangeable people
    count: int = 1  # copies: 1 for a household, the group size for a group
    persons_by_priority: dict[int, int] = field(default_factory=dict)  # per copy
    #: admissible shelters (positions in scenario.shelters, ascending), the cost per copy of
    #: each, and the copies each could take when empty (1..count): arrays, so that national
    #: instances never hold one Python object per pair
    shelter_index: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    costs: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    most: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def cost_in(self, shelters: np.ndarray | int) -> np.ndarray:
        """The cost per copy in each of ``shelters`` (admissible positions; one position:
        a 0-d array)."""
        found: np.ndarray = self.costs[np.searchsorted(self.shelter_index, shelters)]
        return found

    @property
    def is_household(self) -> bool:
        return len(self.members) > 1

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

    def pair_count(self) -> int:
        """How many admissible (unit, shelter) pairs there are: what building the models on
        them costs (the flow relaxation's network, the linear model)."""
        return sum(len(u.shelter_index) for u in self.units)

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every admissible (unit index, shelter position) pair, by unit then shelter."""
        empty = np.empty(0, dtype=np.int32)
        index = np.fromiter((u.index for u in self.units), dtype=np.int64, count=len(self.units))
        sizes = np.fromiter(
            (len(u.shelter_index) for u in self.units), dtype=np.int64, count=len(self.units)
        )
        shelter = np.concatenate([u.shelter_index for u in self.units] or [empty])
        return np.repeat(index, sizes), shelter.astype(np.int64)


def _group_key(a: Arrival) -> str:
    return json.dumps(a.model_dump(mode="json", exclude={"id"}), sort_keys=True)


def build_units(
    ctx: Context, exclude_shelters: dict[str, set[str]] | None = None, group: bool = True
) -> Units:
    """Group the arrivals into units and compute each unit's admissible shelters and costs.

    ``exclude_shelters`` maps an arrival id to shelters it must not use (used for re-plans).
    ``group=False`` makes every arrival outside a household its own unit (the naive model).
    """
    exclude_shelters = exclude_shelters or {}
    units: list[Unit] = []
    unit_of: dict[str, int] = {}
    # Shelters with no place on any night can take no one: cut them before anything else.
    open_shelters = ctx.places_matrix().max(axis=1, initial=0) > 0
    for index, (arrival_ids, members, count) in enumerate(
        _unit_members(ctx, exclude_shelters, group)
    ):
        load = load_of(ctx, members)
        unit = Unit(
            members=load.members,
            usage=load.usage,
            networks=load.networks,
            index=index,
            arrival_ids=arrival_ids,
            count=count,
        )
        for m in members:
            unit.persons_by_priority[m.priority] = (
                unit.persons_by_priority.get(m.priority, 0) + m.persons
            )
        mask = open_shelters & admissible_for_all(ctx, members)
        for i in arrival_ids:
            for sid in exclude_shelters.get(i, ()):
                if sid in ctx.shelters:
                    mask[ctx.index(sid)] = False
        _set_shelters(ctx, unit, np.flatnonzero(mask))
        units.append(unit)
        for i in arrival_ids:
            unit_of[i] = index
    return Units(units=units, unit_of=unit_of)


def _unit_members(
    ctx: Context, exclude_shelters: dict[str, set[str]], group: bool
) -> list[tuple[list[str], list[Arrival], int]]:
    """(arrival ids, the members of one copy, copies) of every unit, by first arrival id:
    households, then people who must stay alone (linked, excluded shelters, or no
    grouping), then groups of identical people."""
    linked = {i for pair in KeepApartRule.pairs(ctx) for i in pair}
    households = HouseholdRule.groups(ctx)
    in_household = {m for members in households.values() for m in members}
    buckets: dict[str, list[Arrival]] = defaultdict(list)
    raw: list[tuple[list[str], list[Arrival], int]] = []
    for hh_id in sorted(households):
        members = [ctx.arrivals[m] for m in households[hh_id]]
        raw.append(([m.id for m in members], members, 1))
    for a in ctx.scenario.arrivals:
        if a.id in in_household:
            continue
        if a.id in linked or a.id in exclude_shelters or not group:
            raw.append(([a.id], [a], 1))
        else:
            buckets[_group_key(a)].append(a)
    for people in buckets.values():
        raw.append(([p.id for p in people], [people[0]], len(people)))
    raw.sort(key=lambda r: r[0][0])
    return raw


def _set_shelters(ctx: Context, unit: Unit, index_array: np.ndarray) -> None:
    """The unit's columns: its admissible shelters that could take a copy when empty, the
    copies each could take, and the cost per copy."""
    most = copies_when_empty(ctx, unit, index_array)
    keep = most > 0  # too small on some night of the stay even when empty: cut
    unit.shelter_index = index_array[keep].astype(np.int32)
    unit.most = most[keep]
    unit.costs = sum(
        (placement_costs(ctx, m, index_array[keep]) for m in unit.members),
        start=np.zeros(int(keep.sum()), dtype=np.int64),
    )


def copies_when_empty(ctx: Context, unit: Unit, shelters: np.ndarray) -> np.ndarray:
    """How many copies of ``unit`` each of ``shelters`` (positions) could take when empty,
    at most ``unit.count``: its fewest places over the stay, divided by what a copy uses."""
    if not unit.usage:
        return np.full(len(shelters), unit.count, dtype=np.int64)
    if len(unit.members) == 1:  # one stay: the fewest places over it, cached per stay
        stay = ctx.stay(unit.members[0])
        fewest = ctx.fewest_places(stay.start, stay.stop)[shelters]
        fit = fewest // CapacityRule.places(unit.members[0])
    else:
        nights = np.fromiter(unit.usage, dtype=np.int64)
        need = np.fromiter(unit.usage.values(), dtype=np.int64)
        fit = (ctx.places_matrix()[np.ix_(shelters, nights)] // need).min(axis=1)
    result: np.ndarray = np.minimum(unit.count, fit)
    return result
