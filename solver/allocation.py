"""Allocations (copies of each unit per shelter), and placing units one after another
without breaking a plan rule (what the heuristics share)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

import numpy as np

from placement.context import Assignment, Context
from placement.occupancy import Occupancy
from solver.units import Unit, Units

Allocation = dict[int, dict[str, int]]  # unit index -> shelter id -> copies placed there
#: whether an allocation is good enough for a search to stop (:mod:`solver.lns`)
Enough = Callable[[Allocation], bool]


def to_assignment(units: Units, allocation: Allocation) -> dict[str, str]:
    """Name who goes where: a group's copies are handed out to its people in id order."""
    out: dict[str, str] = {}
    for unit in units.units:
        where = allocation.get(unit.index, {})
        if unit.is_household or unit.count == 1:
            for sid, copies in where.items():
                if copies:
                    out.update({i: sid for i in unit.arrival_ids})
            continue
        people = iter(unit.arrival_ids)
        for sid in sorted(where):
            for _ in range(where[sid]):
                out[next(people)] = sid
    return out


def to_allocation(units: Units, assignment: Assignment) -> Allocation:
    """The allocation an assignment corresponds to (households counted once)."""
    alloc: Allocation = defaultdict(dict)
    for unit in units.units:
        if unit.is_household:
            sid = assignment.get(unit.arrival_ids[0])
            if sid is not None and all(assignment.get(i) == sid for i in unit.arrival_ids):
                alloc[unit.index][sid] = 1
            continue
        for i in unit.arrival_ids:
            sid = assignment.get(i)
            if sid is not None:
                alloc[unit.index][sid] = alloc[unit.index].get(sid, 0) + 1
    return dict(alloc)


#: how many of a unit's ranked shelters :func:`place_in_order` checks for room first (then
#: twice as many, and so on)
FIRST_SLICE = 32


def place_in_order(
    ctx: Context,
    units: Units,
    order: Iterable[Unit],
    ranked: Callable[[Unit], np.ndarray],
    fixed: Allocation | None = None,
) -> Allocation:
    """Place the units one after another, each in its shelters in the order ``ranked(unit)``
    gives (positions in the scenario), as many copies as fit without breaking a plan rule.
    ``fixed`` copies are placed first, as they are. What the heuristics share."""
    occupancy = Occupancy(ctx)
    alloc: Allocation = {}
    for ui, where in (fixed or {}).items():
        for sid, copies in where.items():
            occupancy.place(units.units[ui], ctx.index(sid), copies)
            alloc.setdefault(ui, {})[sid] = copies
    ids = [s.id for s in ctx.scenario.shelters]
    for unit in order:
        placed = sum(alloc.get(unit.index, {}).values())
        if placed == unit.count or not len(unit.shelter_index):
            continue
        shelters = ranked(unit)
        # the shelters with room, a slice at a time (a copy placed changes only its own
        # shelter's room): at 10,000 x 20,000 most units fit in their first few shelters,
        # and checking all their thousands took 1.9 s of the first plan's 4 s
        start, size = 0, FIRST_SLICE
        while placed < unit.count and start < len(shelters):
            ranked_slice = shelters[start : start + size]
            start, size = start + size, 2 * size
            for si in ranked_slice[occupancy.room(unit, ranked_slice)].tolist():
                copies = occupancy.copies_fitting(unit, si, unit.count - placed)
                if copies <= 0:
                    continue
                occupancy.place(unit, si, copies)
                where = alloc.setdefault(unit.index, {})
                where[ids[si]] = where.get(ids[si], 0) + copies
                placed += copies
                if placed == unit.count:
                    break
    return alloc
