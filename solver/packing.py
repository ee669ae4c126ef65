"""A placement heuristic that looks at competition: scarce places go to who needs them.

The telephone baseline (:mod:`solver.greedy`) sends everyone to the nearest shelter with
room, and so fills versatile places with people who had other options. Here units are taken
by priority, then fewest admissible shelters first (the hardest to place), and each goes to
the admissible shelter with room under the least pressure: the place-nights all units could
ask of it, each unit's demand spread over its options, per place-night offered. Cost breaks
ties. It is the seed of the exact path and the plan for levels no proof reaches.
"""

from __future__ import annotations

import numpy as np

from placement.rules import Context
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
