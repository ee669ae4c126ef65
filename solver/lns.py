"""Large-neighbourhood search: CP-SAT on a few dozen shelters around the unplaced.

Where the exact path cannot run (at 10,000 x 20,000 its linear model would have 11.8 M
columns), the plan of the packing heuristic and its moves is improved piece by piece. A
*neighbourhood* is aimed at a batch of units with copies unplaced: the shelters where they
lack the fewest place-nights for one more copy, where everything may move, and *escape*
shelters, those with room for the most units placed in the first ones. Its sub-problem holds
the units aimed at (their unplaced copies), every unit with a copy in the first shelters
(free to move among all the neighbourhood's shelters it may use) and every unit with a copy
in an escape shelter (which stays there, or leaves the plan for someone else when no level
loses a person); everything outside stays as it is.

Why the sub-problem is the real problem restricted: every plan rule is a condition on one
shelter at a time (capacity by night, keep-apart, network cap), and everyone placed in a
neighbourhood shelter is in the sub-problem, so its rows (:class:`solver.linear.LinearModel`,
written by the rules themselves) are exactly the rules on those shelters. A keep-apart
partner outside the sub-problem is in no neighbourhood shelter and cannot enter one: every
such arrival is mapped to one unit without columns. Rows keep, at every level p, at least
the persons of priority >= p the neighbourhood holds now. CP-SAT
(:class:`solver.cpsat.PlacementModel`, an explicit time limit and worker count) maximises
the persons placed, priority by priority (weights that make one more person at a level worth
more than every person below it), from the current plan as a hint. Its result is applied
copy by copy with :meth:`placement.occupancy.Occupancy.copies_fitting` after taking the
neighbourhood's copies out (each state on the way holds a subset of the final one, so the
final one is checked whole), and kept only when some level gains a person and none loses
one; else it is undone.

:func:`cost_moves` uses the same sub-problems to lower the secondary cost: a neighbourhood
around the placements that cost the most above their cheapest admissible shelter, CP-SAT
minimising the cost with at least the persons each level holds there now, kept when no
level loses a person and it costs less (the cost stage's search, :mod:`solver.cpsat`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from itertools import accumulate

import numpy as np
from ortools.sat.python import cp_model

from placement.context import Context
from placement.models import PRIORITIES
from solver.allocation import Allocation, Enough
from solver.cpsat import PlacementModel, configured_solver
from solver.linear import INF, LinearModel
from solver.options import SolveOptions
from solver.packing import Edit, Journal, hardest_first, lacking_least, shelter_pressure
from solver.units import Unit, Units

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LnsLimits:
    """The size of each neighbourhood and the time of each CP-SAT call."""

    #: units aimed at per neighbourhood (unplaced copies, by priority, hardest first)
    targets: int = 30
    #: shelters per target unit: those that lack the fewest place-nights for one copy
    shelters_per_target: int = 5
    #: each pass looks at the next ``shelters_per_target`` of each unit's shelters, in the
    #: order of what they lack, then after this many passes at the first ones again
    windows: int = 4
    #: shelters with room added for the units placed in the first ones
    escape_shelters: int = 300
    #: most columns (unit-shelter pairs) of a neighbourhood's model: measured at 10,000 x
    #: 20,000, CP-SAT proves neighbourhoods of 1,000-4,000 columns in 0.2-1.5 s and gets
    #: nowhere in 4 s on 160,000
    columns: int = 8_000
    #: seconds of each CP-SAT call (its model's building not counted: that is measured
    #: apart, and the whole search stops at its deadline)
    seconds: float = 1.5
    #: passes over the units still missing copies (each batch shifted by half a batch)
    passes: int = 20
    #: share of the time left that the search gets; the moves to cheaper places that
    #: follow get the rest
    share: float = 0.8
    #: the search stops once the plan satisfies this (None: at its deadline or stall)
    enough: Enough | None = None


class _Neighbourhood:
    """The sub-problem of one set of shelters: its units (copies in those shelters, plus
    unplaced copies), renumbered, with a map back to the real units."""

    def __init__(
        self, edit: Edit, shelters: tuple[np.ndarray, np.ndarray], targets: list[Unit]
    ) -> None:
        """``shelters``: the shelters where copies may move (their units and the targets
        move among all the neighbourhood's shelters), and the escape shelters (the copies
        there stay, or leave for someone with more persons at no level's loss)."""
        self.edit = edit
        first, escape = shelters
        self.inside = np.zeros(len(edit.ctx.scenario.shelters), dtype=bool)
        self.inside[first] = self.inside[escape] = True
        mobile = {vi for si in first.tolist() for vi in edit.in_shelter.get(si, ())}
        mobile |= {u.index for u in targets}
        pinned = {vi for si in escape.tolist() for vi in edit.in_shelter.get(si, ())} - mobile
        self.real = sorted(mobile | pinned)
        self.sub: list[Unit] = []
        self.held: list[int] = []  # copies of each sub-unit in the neighbourhood now
        for k, ui in enumerate(self.real):
            self._add(k, edit.units.units[ui], ui in mobile)
        self.units = self._units()
        self.columns = sum(len(u.shelter_index) for u in self.sub)

    def _add(self, k: int, unit: Unit, mobile: bool) -> None:
        """Unit ``unit`` as sub-unit ``k``: its copies inside and (``mobile``) its unplaced
        copies, over the neighbourhood's shelters (else only those it is in)."""
        copies, ui = self.edit.copies, unit.index
        inside = np.flatnonzero(self.inside[unit.shelter_index])  # positions in its arrays
        here = np.array(
            [copies.get((ui, si), 0) for si in unit.shelter_index[inside].tolist()], dtype=np.int64
        )
        keep = inside if mobile else inside[here > 0]
        held = int(here.sum())
        count = held + (unit.count - self.edit.placed.get(ui, 0) if mobile else 0)
        self.held.append(held)
        self.sub.append(
            replace(
                unit,
                index=k,
                count=count,
                shelter_index=unit.shelter_index[keep],
                costs=unit.costs[keep],
                most=np.minimum(unit.most[keep], count),
            )
        )

    def _units(self) -> Units:
        """The sub-units, and one unit without columns for every other arrival."""
        outside = Unit(members=[], usage={}, networks={}, index=len(self.sub), count=0)
        unit_of = {a.id: outside.index for a in self.edit.ctx.scenario.arrivals}
        for k, unit in enumerate(self.sub):
            unit_of.update(dict.fromkeys(unit.arrival_ids, k))
        return Units(units=[*self.sub, outside], unit_of=unit_of)

    def current(self) -> Allocation:
        """The sub-problem's part of the current plan (sub-unit indices)."""
        ids = [s.id for s in self.edit.ctx.scenario.shelters]
        alloc: Allocation = {}
        for k, unit in enumerate(self.sub):
            for si in unit.shelter_index.tolist():
                n = self.edit.copies.get((self.real[k], si), 0)
                if n:
                    alloc.setdefault(k, {})[ids[si]] = n
        return alloc

    def solve(
        self, options: SolveOptions, deadline: float, cheapest: bool = False
    ) -> Allocation | None:
        """The best allocation CP-SAT finds (sub-unit indices) in ``options.time_limit`` and
        before ``deadline`` (``time.monotonic()``, building the model counted), or None (no
        solution, no time, or levels too large for the weights): the most persons, level by
        level, or (``cheapest``) the least secondary cost with at least as many persons at
        every level as now."""
        lin = LinearModel(self.edit.ctx, self.units)
        self._keep_levels(lin)
        model = PlacementModel(lin)
        if cheapest:
            model.model.minimize(model.expression(lin.col_cost))
        else:
            weights = _level_weights(lin, self.sub)
            if weights is None:
                return None
            model.model.maximize(model.expression(weights))
        model.hint(self.current())
        seconds = min(options.time_limit, deadline - time.monotonic())
        if seconds <= 0:
            return None
        solver = configured_solver(options, seconds, len(model.columns))
        status = solver.solve(model.model)
        log.debug(
            "CP-SAT %s on %d columns: %.0f (bound %.0f), %.2f s",
            solver.status_name(status), len(model.columns), solver.objective_value,
            solver.best_objective_bound, solver.wall_time,
        )  # fmt: skip
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return model.read(solver.value)

    def _keep_levels(self, lin: LinearModel) -> None:
        """Rows: at every level, at least the persons the neighbourhood holds now (someone
        may leave it for someone else only when no level loses a person)."""
        at_or_above = np.zeros(lin.n_columns, dtype=np.int64)
        held = np.array(self.held + [0], dtype=np.int64)
        per_unit = np.zeros(len(held), dtype=np.int64)  # persons at priority >= p per copy
        for p in PRIORITIES:
            at_or_above = at_or_above + lin.persons_at(p)
            per_unit = per_unit + np.array(
                [u.persons_by_priority.get(p, 0) for u in self.units.units], dtype=np.int64
            )
            now = int(held @ per_unit)
            cols = np.flatnonzero(at_or_above)
            lin.add_row(cols, at_or_above[cols], now, INF, "stage")

    def apply(self, found: Allocation, cheaper: bool = False) -> int:
        """Put ``found`` in place of the neighbourhood's copies, every copy checked against
        every plan rule; the persons it adds, or 0 (and nothing changed) when a copy is
        refused or nobody is added. ``cheaper``: also kept when it adds nobody but lowers
        the secondary cost (no level losing a person either way); then the cost it saves."""
        journal = Journal(self.edit)
        before = self.current()
        saved = self._cost(before) - self._cost(found) if cheaper else 0
        for k, where in before.items():
            for sid, n in where.items():
                journal.move(self._real(k), self.edit.ctx.index(sid), -n)
        for k, where in sorted(found.items()):
            for sid, n in sorted(where.items()):
                si = self.edit.ctx.index(sid)
                if self.edit.occupancy.copies_fitting(self._real(k), si, n) < n:
                    journal.undo()
                    return 0
                journal.move(self._real(k), si, n)
        at_or_above = self._gained(before, found)
        if min(at_or_above) < 0:
            journal.undo()  # some level would have fewer persons
            return 0
        if max(at_or_above) > 0:
            return at_or_above[-1]
        if cheaper and saved > 0:
            return saved
        journal.undo()  # no level has more persons (and, ``cheaper``, nothing is saved)
        return 0

    def _gained(self, before: Allocation, found: Allocation) -> list[int]:
        """Persons at priority >= p (p = 5, ..., 1) that ``found`` holds more than ``before``."""
        gained = {p: 0 for p in PRIORITIES}
        for k in set(found) | set(before):
            more = sum(found.get(k, {}).values()) - sum(before.get(k, {}).values())
            for p, persons in self.sub[k].persons_by_priority.items():
                gained[p] += more * persons
        return list(accumulate(gained[p] for p in PRIORITIES))

    def _cost(self, alloc: Allocation) -> int:
        """The secondary cost of the neighbourhood's copies in ``alloc`` (sub-unit indices)."""
        total = 0
        for k, where in alloc.items():
            unit = self.sub[k]
            for sid, n in where.items():
                total += n * int(unit.cost_in(self.edit.ctx.index(sid)))
        return total

    def _real(self, k: int) -> Unit:
        return self.edit.units.units[self.real[k]]


#: the neighbourhoods of :func:`cost_moves`: 5 units each, with the shelters the guide
#: gives them, else 2 of their cheaper ones; CP-SAT at most 0.3 s on each (it proves most
#: in 0.01-0.2 s). Measured at 1,000 x 3,000 standard seed 1 after the levels, 4 s from
#: 100,816: 76,141-76,606 guided by the cheapest flow, 80,037 with 8 units, 80,502 with 2;
#: unguided, 82,593 with 2 cheaper shelters each, 84,340-86,030 with 3, 88,593 with 5
COST_LIMITS = LnsLimits(targets=5, shelters_per_target=2, seconds=0.3)


#: largest weight of the persons of one level: above it the levels' weights could overflow
_MOST_WEIGHT = 2**53


def _level_weights(lin: LinearModel, units: list[Unit]) -> np.ndarray | None:
    """Weights per column: one more person at a level outweighs every person below it."""
    weights = np.zeros(lin.n_columns, dtype=np.int64)
    scale = 1
    for p in reversed(PRIORITIES):
        weights += scale * lin.persons_at(p)
        scale *= 1 + sum(u.count * u.persons_by_priority.get(p, 0) for u in units)
        if scale > _MOST_WEIGHT:
            return None
    return weights


def _shelters(
    edit: Edit, targets: list[Unit], pressure: np.ndarray, limits: LnsLimits, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """The neighbourhood of ``targets``: their shelters that lack the fewest place-nights
    (the ``window``-th group of ``limits.shelters_per_target`` in that order, or the last
    ones a unit has), then (to add, best first) the shelters with room for the most units
    placed in those."""
    most = limits.shelters_per_target
    first = np.unique(
        np.concatenate(
            [lacking_least(edit, u, pressure, (window + 1) * most)[-most:] for u in targets]
        )
    )
    placed = {vi for si in first.tolist() for vi in edit.in_shelter.get(si, ())}
    room = [
        unit.shelter_index[edit.occupancy.room(unit, unit.shelter_index)]
        for unit in (edit.units.units[vi] for vi in sorted(placed))
    ]
    if not room:
        return first, first[:0]
    counts = np.bincount(np.concatenate(room), minlength=len(pressure))
    counts[first] = 0
    escape = np.argsort(-counts, kind="stable")[: limits.escape_shelters]
    return first, escape[counts[escape] > 0]


def _neighbourhood(
    edit: Edit, targets: list[Unit], pressure: np.ndarray, limits: LnsLimits, window: int
) -> _Neighbourhood:
    """The neighbourhood of ``targets`` with as many escape shelters as keep its columns
    within ``limits.columns`` (halved until they do)."""
    first, escape = _shelters(edit, targets, pressure, limits, window)
    while True:
        hood = _Neighbourhood(edit, (first, escape), targets)
        if hood.columns <= limits.columns or not len(escape):
            return hood
        escape = escape[: len(escape) // 2]


def _missing(edit: Edit) -> list[Unit]:
    """The units with copies unplaced that some shelter admits, by priority, hardest first."""
    return [
        u
        for u in hardest_first(edit.units)
        if len(u.shelter_index) and u.count > edit.placed.get(u.index, 0)
    ]


def lns_moves(
    ctx: Context,
    units: Units,
    alloc: Allocation,
    deadline: float,
    options: SolveOptions,
    limits: LnsLimits | None = None,
) -> Allocation:
    """Place more people with CP-SAT on neighbourhoods of the unplaced, a batch of units at
    a time (by priority, hardest first), until ``deadline`` (``time.monotonic()``), or
    sooner once a pass with each window (``limits.windows`` in a row) placed nobody more,
    or once the plan is ``limits.enough``: its time then goes to what follows. No level
    loses a person; each CP-SAT call has at most ``limits.seconds`` (and never past the
    deadline) and ``options.workers`` workers, with ``options``' other settings."""
    limits = limits or LnsLimits()
    edit = Edit(ctx, units, alloc)
    pressure = shelter_pressure(ctx, units)
    passes = stalled = 0
    gained_in_pass = 0
    pending: list[Unit] = []
    while deadline - time.monotonic() > 0.1:
        if not pending:  # a new pass over the units still missing copies
            if passes:
                stalled = 0 if gained_in_pass else stalled + 1
            gained_in_pass = 0
            if passes == limits.passes or stalled == limits.windows:
                break  # every window looked at in turn, and none placed anyone more
            pending = _missing(edit)
            shift = passes * limits.targets // 2 % max(1, len(pending))
            pending = pending[shift:] + pending[:shift]
            passes += 1
            if not pending:
                break
        batch, pending = pending[: limits.targets], pending[limits.targets :]
        window = (passes - 1) % limits.windows
        hood = _neighbourhood(edit, batch, pressure, limits, window)
        found = hood.solve(replace(options, time_limit=limits.seconds), deadline)
        gained = 0 if found is None else hood.apply(found)
        gained_in_pass += gained
        log.debug(
            "neighbourhood of %d units, %d shelters, %d sub-units: %d persons more",
            len(batch), int(hood.inside.sum()), len(hood.sub), gained,
        )  # fmt: skip
        if gained and limits.enough is not None and limits.enough(edit.allocation()):
            break
    return edit.allocation()


#: shelters (positions) by unit index: where a cheap plan (or relaxation) puts each unit
Guide = dict[int, np.ndarray]


def _dearest_first(edit: Edit) -> list[Unit]:
    """The placed units that some admissible shelter would take for less, those whose
    copies cost the most above that first."""
    excess: dict[int, int] = {}
    for (ui, si), n in edit.copies.items():
        unit = edit.units.units[ui]
        above = n * (int(unit.cost_in(si)) - int(unit.costs.min()))
        if above > 0:
            excess[ui] = excess.get(ui, 0) + above
    ranked = sorted(excess.items(), key=lambda item: (-item[1], item[0]))
    return [edit.units.units[ui] for ui, _ in ranked]


def _cheaper_shelters(
    edit: Edit, targets: list[Unit], most: int, window: int, guide: Guide | None = None
) -> np.ndarray:
    """The shelters of ``targets`` now, and for each the shelters the ``guide`` gives it,
    or (none given) the ``window``-th group of ``most`` of its shelters cheaper than its
    dearest one now, cheapest first."""
    chosen: list[np.ndarray] = []
    for unit in targets:
        here = np.array(
            [si for si in unit.shelter_index.tolist() if (unit.index, si) in edit.copies],
            dtype=np.int64,
        )
        chosen.append(here)
        if guide is not None and unit.index in guide:
            chosen.append(guide[unit.index])
            continue
        dearest = unit.cost_in(here).max()
        cheaper = np.flatnonzero(unit.costs < dearest)
        cheaper = cheaper[np.argsort(unit.costs[cheaper], kind="stable")]
        group = cheaper[window * most : (window + 1) * most]
        if not len(group):
            group = cheaper[:most]
        chosen.append(unit.shelter_index[group].astype(np.int64))
    return np.unique(np.concatenate(chosen))


def cost_moves(
    ctx: Context,
    units: Units,
    alloc: Allocation,
    deadline: float,
    options: SolveOptions,
    guide: Guide | None = None,
) -> Allocation:
    """Lower the secondary cost with CP-SAT on neighbourhoods of the dearest placements, a
    batch of units at a time (those whose copies cost the most above their cheapest
    admissible shelter first), until ``deadline`` (``time.monotonic()``), or sooner once a
    pass with each window (``limits.windows`` in a row) saved nothing.

    A neighbourhood is the batch's shelters now and some of their cheaper ones (the
    ``window``-th group of ``limits.shelters_per_target``, cheapest first); everyone placed
    there may move among all of them. Where :func:`solver.packing.cheaper_moves` moves one
    copy at a time into a shelter with room, this frees a cheap shelter by moving its
    occupants to others in the same neighbourhood. Its sub-problem is the real problem
    restricted, as for :func:`lns_moves`; CP-SAT minimises the cost with at least the
    persons it holds now at every level, and its plan is kept only when no level loses a
    person and it costs less or places someone more. Its neighbourhoods' sizes and times:
    :data:`COST_LIMITS`."""
    limits = COST_LIMITS
    edit = Edit(ctx, units, alloc)
    passes = stalled = 0
    saved_in_pass = 0
    pending: list[Unit] = []
    while deadline - time.monotonic() > 0.1:
        if not pending:
            if passes:
                stalled = 0 if saved_in_pass else stalled + 1
            saved_in_pass = 0
            if passes == limits.passes or stalled == limits.windows:
                break
            pending = _dearest_first(edit)
            passes += 1
            if not pending:
                break
        batch, pending = pending[: limits.targets], pending[limits.targets :]
        window = (passes - 1) % limits.windows
        first = _cheaper_shelters(edit, batch, limits.shelters_per_target, window, guide)
        hood = _Neighbourhood(edit, (first, first[:0]), [])
        found = hood.solve(replace(options, time_limit=limits.seconds), deadline, cheapest=True)
        saved = 0 if found is None else hood.apply(found, cheaper=True)
        saved_in_pass += saved
        log.debug(
            "cost neighbourhood of %d units, %d shelters, %d columns: %d saved",
            len(batch), len(first), hood.columns, saved,
        )  # fmt: skip
    return edit.allocation()
