"""A placement heuristic that looks at competition: scarce places go to who needs them.

The telephone baseline (:mod:`solver.greedy`) sends everyone to the nearest shelter with
room, and so fills versatile places with people who had other options. Here units are taken
by priority, then fewest admissible shelters first (the hardest to place), and each goes to
the admissible shelter with room under the least pressure: the place-nights all units could
ask of it, each unit's demand spread over its options, per place-night offered. Cost breaks
ties. It is the seed of the exact path and the plan for levels no proof reaches.
"""

from __future__ import annotations

import time

import numpy as np

from placement.context import Context
from placement.occupancy import Occupancy
from solver.allocation import Allocation, place_in_order
from solver.units import Unit, Units


def shelter_pressure(ctx: Context, units: Units) -> np.ndarray:
    """Place-nights requested of each shelter (spread over each unit's options) per
    place-night it offers."""
    n = len(ctx.scenario.shelters)
    demand = np.zeros(n)
    for unit in units.units:
        options = len(unit.shelter_index)
        if options:
            asked = unit.count * sum(unit.usage.values()) / options
            demand[unit.shelter_index] += asked
    offered = ctx.places_matrix().sum(axis=1)
    pressure: np.ndarray = demand / np.maximum(offered, 1)
    return pressure


def hardest_first(units: Units) -> list[Unit]:
    """Units by priority, then fewest admissible shelters first (the hardest to place),
    then the largest: the order the heuristics place them in."""
    return sorted(
        units.units,
        key=lambda u: (-u.priority, len(u.shelter_index), -u.persons, u.arrival_ids[0]),
    )


def packing_allocation(ctx: Context, units: Units, fixed: Allocation | None = None) -> Allocation:
    """Place units hardest first, each in the least pressed shelter with room (then the
    cheapest). ``fixed`` copies are placed first, as they are."""
    pressure = shelter_pressure(ctx, units)
    # each shelter's rank by pressure (equal pressures, equal ranks): one integer key of rank
    # and cost sorts a unit's shelters as (pressure, then cost) does, in half the time
    rank = np.unique(pressure, return_inverse=True)[1].reshape(-1)

    def least_pressed(unit: Unit) -> np.ndarray:
        index, costs = unit.shelter_index, unit.costs
        if not len(index):
            return index
        low = int(costs.min())
        key = rank[index] * (int(costs.max()) - low + 1) + (costs - low)
        ordered: np.ndarray = index[np.argsort(key, kind="stable")]
        return ordered

    return place_in_order(ctx, units, hardest_first(units), least_pressed, fixed)


def first_plan(ctx: Context, units: Units) -> Allocation:
    """The plan shown first, and the incumbent the exact path starts from."""
    return packing_allocation(ctx, units)


class Edit:
    """An allocation edited copy by copy, with its occupancy, so that every move can be
    checked against every plan rule (``Occupancy.copies_fitting``)."""

    def __init__(self, ctx: Context, units: Units, alloc: Allocation) -> None:
        self.ctx = ctx
        self.units = units
        self.occupancy = Occupancy(ctx)
        self.copies: dict[tuple[int, int], int] = {}  # (unit, shelter position) -> copies
        self.in_shelter: dict[int, set[int]] = {}
        self.placed: dict[int, int] = {}  # unit -> copies placed anywhere
        for ui, where in alloc.items():
            for sid, n in where.items():
                self.move(units.units[ui], ctx.index(sid), n)

    def move(self, unit: Unit, si: int, delta: int) -> None:
        """Add (or with a negative ``delta`` take out) copies of ``unit`` in shelter ``si``."""
        self.occupancy.place(unit, si, delta)
        self.placed[unit.index] = self.placed.get(unit.index, 0) + delta
        n = self.copies.get((unit.index, si), 0) + delta
        if n:
            self.copies[(unit.index, si)] = n
            self.in_shelter.setdefault(si, set()).add(unit.index)
        else:
            self.copies.pop((unit.index, si), None)
            self.in_shelter[si].discard(unit.index)

    def first_fitting(self, unit: Unit, shelters: np.ndarray) -> int | None:
        """The first of ``shelters`` (positions, in order) that takes one more copy."""
        for sj in shelters[self.occupancy.room(unit, shelters)].tolist():
            if self.occupancy.copies_fitting(unit, sj, 1):
                return int(sj)
        return None

    def allocation(self) -> Allocation:
        ids = [s.id for s in self.ctx.scenario.shelters]
        out: Allocation = {}
        for (ui, si), n in sorted(self.copies.items()):
            out.setdefault(ui, {})[ids[si]] = n
        return out


class Journal:
    """Moves made on an :class:`Edit`, so that an attempt that fails half-way is undone."""

    def __init__(self, edit: Edit) -> None:
        self.edit = edit
        self.moves: list[tuple[Unit, int, int]] = []

    def move(self, unit: Unit, si: int, delta: int) -> None:
        self.edit.move(unit, si, delta)
        self.moves.append((unit, si, delta))

    def undo(self) -> None:
        for unit, si, delta in reversed(self.moves):
            self.edit.move(unit, si, -delta)
        self.moves.clear()


def lacking_least(edit: Edit, unit: Unit, pressure: np.ndarray, most: int) -> np.ndarray:
    """At most ``most`` of the unit's shelters, those that lack the fewest place-nights for
    one more copy (then the least pressed): where making room costs the fewest moves."""
    index = unit.shelter_index
    nights = np.fromiter(unit.usage, dtype=np.int64)
    need = np.fromiter(unit.usage.values(), dtype=np.int64)
    left = edit.occupancy.capacity.left[np.ix_(index, nights)]
    lacking = np.clip(need - left, 0, None).sum(axis=1)
    chosen: np.ndarray = index[np.lexsort((pressure[index], lacking))[:most]]
    return chosen


def augment(
    ctx: Context,
    units: Units,
    alloc: Allocation,
    tries: int = 20,
    deadline: float | None = None,
) -> Allocation:
    """Place more people by moving one placed copy each: for an unplaced copy of a unit, look
    at its ``tries`` least pressed shelters; if moving one copy of another unit out of one of
    them to a shelter with room makes room, do it. Nobody placed is unplaced, so no priority
    level loses anyone, and every move keeps every plan rule. Stops at ``deadline``
    (``time.monotonic()``) with what it has."""
    edit = Edit(ctx, units, alloc)
    pressure = shelter_pressure(ctx, units)
    for unit in hardest_first(units):
        if deadline is not None and time.monotonic() > deadline:
            break
        placed = sum(alloc.get(unit.index, {}).values())
        index = unit.shelter_index
        if placed == unit.count or not len(index):
            continue
        for si in index[np.argsort(pressure[index], kind="stable")][:tries].tolist():
            if placed == unit.count:
                break
            for vi in sorted(edit.in_shelter.get(si, ())):
                other = units.units[vi]
                if vi == unit.index:
                    continue
                edit.move(other, si, -1)
                if edit.occupancy.copies_fitting(unit, si, 1) >= 1:
                    target = edit.first_fitting(
                        other, other.shelter_index[other.shelter_index != si]
                    )
                    if target is not None:
                        edit.move(other, target, 1)
                        edit.move(unit, si, 1)
                        placed += 1
                        break
                edit.move(other, si, 1)  # undo
    return edit.allocation()


def cheaper_moves(
    ctx: Context, units: Units, alloc: Allocation, deadline: float | None = None
) -> Allocation:
    """Lower the secondary cost without touching who is placed: move each placed copy to the
    cheapest admissible shelter with room that costs less, until no move helps (or the
    ``deadline``). Every priority level keeps exactly its persons."""
    edit = Edit(ctx, units, alloc)
    improved = True
    while improved and (deadline is None or time.monotonic() < deadline):
        improved = False
        for (ui, si), n in sorted(edit.copies.items()):
            if deadline is not None and time.monotonic() > deadline:
                break
            unit = units.units[ui]
            here = unit.cost_in(si)
            cheaper = unit.costs < here
            if not cheaper.any():
                continue
            options = unit.shelter_index[cheaper][np.argsort(unit.costs[cheaper], kind="stable")]
            for _ in range(n):
                edit.move(unit, si, -1)
                target = edit.first_fitting(unit, options)
                if target is None:
                    edit.move(unit, si, 1)  # undo
                    break
                edit.move(unit, target, 1)
                improved = True
    return edit.allocation()
