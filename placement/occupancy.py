"""Occupancy: the plan rules' incremental checkers together, for placements made one by one.

Packing, greedy, the moves that make room, re-plans after a decline and the explanations all
ask the same two questions of a partial plan: how many more copies of this unit does this
shelter take without breaking a plan rule, and why not. Each plan rule answers with its own
tracker (:mod:`placement.rules`); this class asks all of them. Shelters are positions in
``scenario.shelters``.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from placement.context import Assignment, Context
from placement.rules import (
    CapacityRule,
    KeepApartRule,
    Load,
    NetworkCapRule,
    UnitView,
    load_of,
)


class Occupancy:
    """Places left, who of the linked people is where, and people per network and shelter."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.capacity = CapacityRule.tracker(ctx)
        self.keep_apart = KeepApartRule.tracker(ctx)
        self.network_cap = NetworkCapRule.tracker(ctx)

    @classmethod
    def of_assignment(
        cls, ctx: Context, assignment: Assignment, only: Collection[str] | None = None
    ) -> Occupancy:
        """The occupancy of a plan (each arrival placed as its own load); ``only``: track
        these shelters only (the others are left empty)."""
        occupancy = cls(ctx)
        for aid, sid in assignment.items():
            if only is None or sid in only:
                occupancy.place(load_of(ctx, [ctx.arrivals[aid]]), ctx.index(sid), 1)
        return occupancy

    def room(self, load: Load | UnitView, shelters: np.ndarray) -> np.ndarray:
        """Which of ``shelters`` have places for one more copy on every night (capacity only:
        a quick filter before :meth:`copies_fitting`)."""
        return self.capacity.fits(load, shelters)

    def fits(self, load: Load | UnitView, shelters: np.ndarray) -> np.ndarray:
        """Which of ``shelters`` take one more copy of ``load`` under every plan rule."""
        mask = self.capacity.fits(load, shelters)
        mask &= self.keep_apart.fits(load, shelters)
        mask &= self.network_cap.fits(load, shelters)
        return mask

    def copies_fitting(self, load: Load | UnitView, si: int, most: int) -> int:
        """How many more copies of ``load`` shelter ``si`` takes, at most ``most``."""
        for tracker in (self.keep_apart, self.capacity, self.network_cap):
            fit = tracker.most(load, si)
            if fit is not None:
                most = min(most, fit)
            if most <= 0:
                return 0
        return most

    def place(self, load: Load | UnitView, si: int, copies: int = 1) -> None:
        """Add ``copies`` of ``load`` to shelter ``si`` (a negative number takes them out)."""
        self.capacity.place(load, si, copies)
        self.keep_apart.place(load, si, copies)
        self.network_cap.place(load, si, copies)
