"""Ejection chains: place an unplaced copy by moving placed copies one after another.

The one-step moves of :func:`solver.packing.augment` make room for an unplaced copy in a
shelter by moving one placed copy out of it to a shelter with room. When the moved copy
finds no shelter with room either, a chain goes on: the copy put out of shelter A goes into
B in place of a copy put out of B, which goes into C, ..., until the last copy lands in a
shelter with room. The search is breadth first over shelters, shortest chains first, each
shelter in at most one step of a chain.

Why a chain found this way keeps every plan rule: its shelters are distinct, so in each of
them exactly one copy leaves and one enters (the last shelter: one enters), and every plan
rule (capacity by night, keep-apart, network cap) is a condition on one shelter at a time.
Each step is checked with :meth:`placement.occupancy.Occupancy.copies_fitting` with the
leaving copy taken out, when searching and again when the chain is applied (from its last
step back). Nobody placed is ever unplaced, so no priority level loses anyone.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from placement.context import Context
from solver.allocation import Allocation
from solver.packing import Edit, hardest_first, shelter_pressure
from solver.units import Unit, Units


@dataclass(frozen=True)
class ChainLimits:
    """How far one search for a chain goes."""

    #: most copies moved for one unplaced copy (1: the one-step moves of ``augment``)
    depth: int = 6
    #: most shelters looked into by one search (each at most once): bounds a failed search,
    #: which at national scale is the common case for people no free place can ever reach
    shelters: int = 3_000


@dataclass(frozen=True)
class _Node:
    """A shelter that copy ``incoming`` (a unit index) is to enter, reached from ``parent``
    (a node index; -1: the unplaced copy itself enters here)."""

    shelter: int
    incoming: int
    parent: int
    depth: int


#: one move of a chain: (unit index, shelter it leaves or -1 for the unplaced copy, shelter
#: it enters)
Step = tuple[int, int, int]


class _Search:
    """One breadth-first search for a chain that places one more copy of ``unit``."""

    def __init__(self, edit: Edit, unit: Unit, pressure: np.ndarray, limits: ChainLimits):
        self.edit = edit
        self.units = edit.units.units
        self.limits = limits
        self.nodes: list[_Node] = []
        self.queue: deque[int] = deque()
        self.seen = np.zeros(len(edit.ctx.scenario.shelters), dtype=bool)
        index = unit.shelter_index
        for si in index[np.argsort(pressure[index], kind="stable")].tolist():
            self._push(si, unit.index, -1, 1)

    def _push(self, si: int, incoming: int, parent: int, depth: int) -> None:
        self.seen[si] = True
        self.nodes.append(_Node(si, incoming, parent, depth))
        self.queue.append(len(self.nodes) - 1)

    def run(self, deadline: float | None) -> list[Step] | None:
        """The chain's moves, from the unplaced copy's to the last, or None."""
        looked = 0
        while self.queue and looked < self.limits.shelters:
            if deadline is not None and time.monotonic() > deadline:
                return None
            n = self.queue.popleft()
            looked += 1
            found = self._expand(n)
            if found is not None:
                return found
        return None

    def _expand(self, n: int) -> list[Step] | None:
        """Copies that can leave node ``n``'s shelter to let its incoming copy in: the chain
        when one of them has a shelter with room, else their shelters as new nodes."""
        node = self.nodes[n]
        incoming = self.units[node.incoming]
        occupancy = self.edit.occupancy
        if node.parent < 0 and occupancy.copies_fitting(incoming, node.shelter, 1) >= 1:
            return self._steps(n, None)
        for vi in sorted(self.edit.in_shelter.get(node.shelter, ())):
            if vi == node.incoming or not self._makes_room(vi, node.shelter, incoming):
                continue
            leaving = self.units[vi]
            others = leaving.shelter_index[~self.seen[leaving.shelter_index]]
            room = others[occupancy.fits(leaving, others)]
            if len(room):
                return self._steps(n, (vi, _cheapest(leaving, room)))
            if node.depth < self.limits.depth:
                for sj in others.tolist():
                    self._push(sj, vi, n, node.depth + 1)
        return None

    def _makes_room(self, vi: int, si: int, incoming: Unit) -> bool:
        """Whether one copy of unit ``vi`` leaving shelter ``si`` lets ``incoming`` in."""
        occupancy, leaving = self.edit.occupancy, self.units[vi]
        occupancy.place(leaving, si, -1)
        fits = occupancy.copies_fitting(incoming, si, 1) >= 1
        occupancy.place(leaving, si, 1)
        return fits

    def _steps(self, n: int, last: tuple[int, int] | None) -> list[Step]:
        """The moves from the root to node ``n``, then ``last`` (a unit leaving ``n``'s
        shelter, and the shelter with room it goes to)."""
        steps: list[Step] = []
        if last is not None:
            steps.append((last[0], self.nodes[n].shelter, last[1]))
        while n >= 0:
            node = self.nodes[n]
            source = self.nodes[node.parent].shelter if node.parent >= 0 else -1
            steps.append((node.incoming, source, node.shelter))
            n = node.parent
        steps.reverse()
        return steps


def _cheapest(unit: Unit, shelters: np.ndarray) -> int:
    """The cheapest of ``shelters`` (admissible for ``unit``) for one copy of it."""
    costs = unit.costs[np.searchsorted(unit.shelter_index, shelters)]
    return int(shelters[int(np.argmin(costs))])


def apply_chain(edit: Edit, steps: list[Step]) -> bool:
    """Make the chain's moves, the last first (each into a shelter the next move has made
    room in), every one checked against every plan rule; on a refusal undo them all."""
    done: list[Step] = []
    for ui, source, target in reversed(steps):
        unit = edit.units.units[ui]
        if source >= 0:
            edit.move(unit, source, -1)
        if edit.occupancy.copies_fitting(unit, target, 1) < 1:
            if source >= 0:
                edit.move(unit, source, 1)
            for uj, s, t in reversed(done):
                edit.move(edit.units.units[uj], t, -1)
                if s >= 0:
                    edit.move(edit.units.units[uj], s, 1)
            return False
        edit.move(unit, target, 1)
        done.append((ui, source, target))
    return True


def chain_moves(
    ctx: Context,
    units: Units,
    alloc: Allocation,
    deadline: float | None = None,
    limits: ChainLimits = ChainLimits(),
) -> Allocation:
    """Place more people with ejection chains: units by priority, hardest first, one copy
    at a time while a chain is found. Nobody placed is unplaced, so no level loses anyone;
    stops at ``deadline`` (``time.monotonic()``) with what it has."""
    edit = Edit(ctx, units, alloc)
    pressure = shelter_pressure(ctx, units)
    for unit in hardest_first(units):
        missing = unit.count - sum(alloc.get(unit.index, {}).values())
        while missing > 0 and len(unit.shelter_index):
            if deadline is not None and time.monotonic() > deadline:
                return edit.allocation()
            steps = _Search(edit, unit, pressure, limits).run(deadline)
            if steps is None or not apply_chain(edit, steps):
                break
            missing -= 1
    return edit.allocation()
