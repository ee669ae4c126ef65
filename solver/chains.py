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
from solver.packing import Edit, Journal, hardest_first, lacking_least, shelter_pressure
from solver.units import Unit, Units


@dataclass(frozen=True)
class ChainLimits:
    """How far one search for a chain goes."""

    #: most copies moved for one unplaced copy (1: the one-step moves of ``augment``)
    depth: int = 6
    #: most shelters looked into by one search (each at most once): bounds a failed search,
    #: which at national scale is the common case for people no free place can ever reach
    shelters: int = 3_000
    #: most shelters tried for taking several copies out at once, per unplaced copy
    roots: int = 20
    #: most copies taken out of one shelter at once (each then moved on by a chain)
    evictions: int = 4


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

    def __init__(
        self, edit: Edit, unit: Unit, pressure: np.ndarray, limits: ChainLimits, locked: int
    ) -> None:
        self.edit = edit
        self.units = edit.units.units
        self.limits = limits
        self.nodes: list[_Node] = []
        self.queue: deque[int] = deque()
        self.seen = np.zeros(len(edit.ctx.scenario.shelters), dtype=bool)
        if locked >= 0:  # a shelter no step may use
            self.seen[locked] = True
        index = unit.shelter_index[~self.seen[unit.shelter_index]]
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


def apply_chain(journal: Journal, steps: list[Step]) -> bool:
    """Make the chain's moves, the last first (each into a shelter the next move has made
    room in), every one checked against every plan rule; False at the first refusal (the
    journal then holds what was done, for the caller to undo)."""
    units = journal.edit.units.units
    for ui, source, target in reversed(steps):
        if source >= 0:
            journal.move(units[ui], source, -1)
        if journal.edit.occupancy.copies_fitting(units[ui], target, 1) < 1:
            return False
        journal.move(units[ui], target, 1)
    return True


class _Chains:
    """Ejection chains on one allocation, and the searches' shared settings."""

    def __init__(self, edit: Edit, limits: ChainLimits, deadline: float | None) -> None:
        self.edit = edit
        self.units = edit.units.units
        self.limits = limits
        self.deadline = deadline
        self.pressure = shelter_pressure(edit.ctx, edit.units)

    def chain(self, unit: Unit, locked: int = -1) -> bool:
        """One more copy of ``unit`` placed by a chain (no step in ``locked``)."""
        steps = _Search(self.edit, unit, self.pressure, self.limits, locked).run(self.deadline)
        if steps is None:
            return False
        journal = Journal(self.edit)
        if apply_chain(journal, steps):
            return True
        journal.undo()
        return False

    def evicting(self, unit: Unit) -> bool:
        """One more copy of ``unit`` placed in a shelter by taking several copies out of it,
        each then placed elsewhere by its own chain (that never enters this shelter)."""
        journal = Journal(self.edit)
        for si in lacking_least(self.edit, unit, self.pressure, self.limits.roots).tolist():
            taken = self._evictions(unit, si)
            if not taken:
                continue
            for vi in taken:
                journal.move(self.units[vi], si, -1)
            journal.move(unit, si, 1)
            if all(self.chain(self.units[vi], locked=si) for vi in taken):
                return True
            journal.undo()
        return False

    def _evictions(self, unit: Unit, si: int) -> list[int]:
        """Copies (unit indices) whose leaving shelter ``si`` lets one copy of ``unit`` in,
        chosen greedily (most place-nights freed where they lack, then fewest persons), at
        most ``limits.evictions``; empty when no such set is found."""
        occupancy, taken = self.edit.occupancy, list[int]()
        while occupancy.copies_fitting(unit, si, 1) < 1 and len(taken) < self.limits.evictions:
            vi = self._most_freeing(unit, si, taken)
            if vi is None:
                break
            occupancy.place(self.units[vi], si, -1)
            taken.append(vi)
        fits = occupancy.copies_fitting(unit, si, 1) >= 1
        for vi in taken:
            occupancy.place(self.units[vi], si, 1)
        return taken if fits else []

    def _most_freeing(self, unit: Unit, si: int, taken: list[int]) -> int | None:
        """The copy in shelter ``si`` (not yet in ``taken``) that frees the most places on
        the nights ``unit`` lacks (ties: fewest persons), or None when none frees any."""
        left = self.edit.occupancy.capacity.left[si]
        lacking = {n: need - int(left[n]) for n, need in unit.usage.items() if need > left[n]}
        best: tuple[int, int, int] | None = None
        for vi in sorted(self.edit.in_shelter.get(si, ())):
            if vi == unit.index or taken.count(vi) >= self.edit.copies[(vi, si)]:
                continue
            usage = self.units[vi].usage
            freed = sum(min(usage.get(n, 0), k) for n, k in lacking.items())
            key = (freed, -self.units[vi].persons, -vi)
            if freed and (best is None or key > best):
                best = key
        return None if best is None else -best[2]


def chain_moves(
    ctx: Context,
    units: Units,
    alloc: Allocation,
    deadline: float | None = None,
    limits: ChainLimits | None = None,
) -> Allocation:
    """Place more people with ejection chains: units by priority, hardest first, one copy
    at a time while a chain (or several copies taken out of one shelter, each moved on by
    a chain) is found. Nobody placed is unplaced, so no level loses anyone; stops at
    ``deadline`` (``time.monotonic()``) with what it has."""
    chains = _Chains(Edit(ctx, units, alloc), limits or ChainLimits(), deadline)
    for unit in hardest_first(units):
        missing = unit.count - sum(alloc.get(unit.index, {}).values())
        while missing > 0 and len(unit.shelter_index):
            if deadline is not None and time.monotonic() > deadline:
                return chains.edit.allocation()
            if not (chains.chain(unit) or chains.evicting(unit)):
                break
            missing -= 1
    return chains.edit.allocation()
