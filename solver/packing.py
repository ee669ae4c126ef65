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

from placement.rules import Context
from solver.allocation import Allocation, Occupancy, place_in_order
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


def packing_allocation(ctx: Context, units: Units, fixed: Allocation | None = None) -> Allocation:
    """Place units hardest first, each in the least pressed shelter with room (then the
    cheapest). ``fixed`` copies are placed first, as they are."""
    pressure = shelter_pressure(ctx, units)

    def least_pressed(unit: Unit) -> np.ndarray:
        index = unit.shelter_index
        ordered: np.ndarray = index[np.lexsort((unit.costs, pressure[index]))]
        return ordered

    order = sorted(
        units.units,
        key=lambda u: (-u.priority, len(u.shelter_index), -u.persons, u.arrival_ids[0]),
    )
    return place_in_order(ctx, units, order, least_pressed, fixed)


def first_plan(ctx: Context, units: Units) -> Allocation:
    """The plan shown first, and the incumbent the exact path starts from."""
    return packing_allocation(ctx, units)


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
    occupancy = Occupancy(ctx, units)
    copies: dict[tuple[int, int], int] = {}  # (unit, shelter position) -> copies there
    for ui, where in alloc.items():
        for sid, n in where.items():
            occupancy.place(units.units[ui], ctx.index(sid), n)
            copies[(ui, ctx.index(sid))] = n
    in_shelter: dict[int, set[int]] = {}
    for ui, si in copies:
        in_shelter.setdefault(si, set()).add(ui)
    pressure = shelter_pressure(ctx, units)

    def move(unit: Unit, si: int, delta: int) -> None:
        occupancy.place(unit, si, delta)
        n = copies.get((unit.index, si), 0) + delta
        copies[(unit.index, si)] = n
        if n:
            in_shelter.setdefault(si, set()).add(unit.index)
        else:
            del copies[(unit.index, si)]
            in_shelter[si].discard(unit.index)
            occupancy.units_in[si].discard(unit.index)

    order = sorted(
        units.units,
        key=lambda u: (-u.priority, len(u.shelter_index), -u.persons, u.arrival_ids[0]),
    )
    for unit in order:
        if deadline is not None and time.monotonic() > deadline:
            break
        placed = sum(alloc.get(unit.index, {}).values())
        index = unit.shelter_index
        if placed == unit.count or not len(index):
            continue
        for si in index[np.argsort(pressure[index], kind="stable")][:tries].tolist():
            if placed == unit.count:
                break
            for vi in sorted(in_shelter.get(si, ())):
                other = units.units[vi]
                if vi == unit.index:
                    continue
                move(other, si, -1)
                if occupancy.copies_fitting(unit, si) >= 1:
                    options = other.shelter_index[other.shelter_index != si]
                    free = options[occupancy.room(other, options)].tolist()
                    target = next((sj for sj in free if occupancy.copies_fitting(other, sj)), None)
                    if target is not None:
                        move(other, target, 1)
                        move(unit, si, 1)
                        placed += 1
                        break
                move(other, si, 1)  # undo
    ids = [s.id for s in ctx.scenario.shelters]
    out: Allocation = {}
    for (ui, si), n in sorted(copies.items()):
        out.setdefault(ui, {})[ids[si]] = n
    return out
