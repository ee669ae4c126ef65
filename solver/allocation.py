"""Allocations (copies of each unit per shelter) and the bookkeeping both solvers share."""

from __future__ import annotations

from collections import defaultdict

from placement.rules import Assignment, Context, NetworkCapRule
from solver.units import Unit, Units

Allocation = dict[int, dict[str, int]]  # unit index -> shelter id -> copies placed there


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


class Occupancy:
    """Places left per shelter and night, people per network and shelter, and who is where.

    Used by the greedy solver to place one copy at a time without breaking a plan rule.
    """

    def __init__(self, ctx: Context, units: Units) -> None:
        self.ctx = ctx
        self.units = units
        self.left = {s.id: list(ctx.nightly_places(s)) for s in ctx.scenario.shelters}
        self.network_count: dict[tuple[str, str], int] = defaultdict(int)
        self.network_cap = NetworkCapRule.cap(ctx)
        self.units_in: dict[str, set[int]] = defaultdict(set)
        self.apart: dict[int, set[int]] = defaultdict(set)
        for x, y in units.keep_apart_unit_pairs(ctx):
            self.apart[x].add(y)
            self.apart[y].add(x)

    def fits(self, unit: Unit, sid: str) -> bool:
        left = self.left[sid]
        if any(left[n] < need for n, need in unit.usage.items()):
            return False
        if self.apart[unit.index] & self.units_in[sid]:
            return False
        cap = self.network_cap
        return cap is None or all(
            self.network_count[(net, sid)] + k <= cap for net, k in unit.networks.items()
        )

    def place(self, unit: Unit, sid: str) -> None:
        left = self.left[sid]
        for n, need in unit.usage.items():
            left[n] -= need
        for net, k in unit.networks.items():
            self.network_count[(net, sid)] += k
        self.units_in[sid].add(unit.index)
