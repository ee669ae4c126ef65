"""A lower bound on the secondary cost from a min-cost flow on the flow bound's relaxation.

The cost stage's LP gives the best bound on the cost when it converges, but at 1,000 x 3,000
it needs 4-7 s of its own, which a 10 s solve never has after the levels. This bound takes
0.1-0.3 s there: the relaxation of :mod:`solver.flow_bound` (items, checkpoint nights), each
arc priced at what the person costs in that shelter, and the persons placed at each level
required instead of maximised:

    N1 -> N2 -> ... -> N5         (N1 the source; N_p -> N_p+1 carries the persons placed at
                                   priority > p, at least the plan's; a lower bound on an arc
                                   is moved into the supplies of its two ends)
    N_p -> item of priority p     (capacity: its persons x copies)
    item -> (shelter, checkpoint) (every shelter admissible for its unit; cost per person:
                                   the arrival's placement cost over its persons)
    (shelter, checkpoint) -> sink (capacity: the shelter's places that night)

Why every plan placing at least ``reached[p]`` persons at priority >= p, for each p, costs
at least the flow's minimum: the plan gives a flow as in :mod:`solver.flow_bound` (one unit
per person placed, from the person's item to their shelter at the first checkpoint inside
their stay: one place per person, :meth:`placement.rules.CapacityRule.places`), with the
arcs' lower bounds met (the plan's persons at priority > p are at least ``reached[p+1]``)
and, per arrival, its persons' arcs costing together exactly its placement cost
(:func:`placement.costs.placement_costs`, the solver's and the report's). Costs are never
negative, so placing more persons than required never makes a flow cheaper. What is relaxed
is what the flow bound relaxes: households and an arrival's children may split, keep-apart
and the network cap are ignored, capacity is checked on the checkpoint nights only.

At 1,000 x 3,000, seed 1, with the plans' persons per level, the bound is 51,389 for the
standard family (the converged cost LP's: 54,220-54,591) and 32,823 for the hard one (its
proven cheapest plan: 36,975).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from placement.context import Context
from placement.costs import placement_costs
from placement.models import PRIORITIES
from placement.rules import CapacityRule
from solver.flow_bound import checkpoints
from solver.units import Units

#: seconds per admissible (unit, shelter) pair to build and solve the min-cost flow:
#: measured 1.4-1.6 us at 1,000 x 3,000 (58,000-127,000 pairs, load 1), rounded up
SECONDS_PER_PAIR = 2e-6


@dataclass(frozen=True)
class CheapestFlow:
    """The min-cost flow's bound and the (unit index, shelter position) pairs it uses."""

    lower: int
    units: np.ndarray
    shelters: np.ndarray


def cheapest_flow(ctx: Context, units: Units, reached: dict[int, int]) -> CheapestFlow | None:
    """The min-cost flow (see the module docstring) for the plans of ``units`` placing at
    least ``reached[p]`` persons at priority >= p for each p: ``lower``, the least cost of
    any of them, and the pairs it sends persons over (where the cost stage's LP starts,
    :class:`solver.cpsat.Heuristics`); None when no flow places them (not a plan of these
    units)."""
    none = np.empty(0, dtype=np.int64)
    if reached[PRIORITIES[-1]] == 0:
        return CheapestFlow(0, none, none)
    points, checkpoint_of = checkpoints(ctx)
    point_index = {p: k for k, p in enumerate(points)}
    n_shelters, n_points = len(ctx.scenario.shelters), len(points)
    members = [(u, m) for u in units.units if len(u.shelter_index) for m in u.members]
    # one unit of flow is one person in one place; costs per person, scaled to integers
    persons = np.array([CapacityRule.places(m) for _, m in members], dtype=np.int64)
    scale = math.lcm(*persons.tolist()) if members else 1
    supply = persons * np.array([u.count for u, _ in members], dtype=np.int64)
    # nodes: N1..N5 (0..4), the sink (5), (shelter, checkpoint), then the items; the arcs
    # of the items to shelters come first, with their (unit, shelter) pairs
    sink, first_place = len(PRIORITIES), len(PRIORITIES) + 1
    first_item = first_place + n_shelters * n_points
    tails, heads, caps, costs, pair_unit, pair_shelter = [], [], [], [], [], []
    for k, (unit, m) in enumerate(members):
        shelters = unit.shelter_index.astype(np.int64)
        tails.append(np.full(len(shelters), first_item + k))
        heads.append(first_place + shelters * n_points + point_index[checkpoint_of[m.id]])
        caps.append(np.full(len(shelters), supply[k]))
        costs.append(placement_costs(ctx, m, shelters) * (scale // int(persons[k])))
        pair_unit.append(np.full(len(shelters), unit.index))
        pair_shelter.append(shelters)
    n_pairs = sum(len(t) for t in tails)
    # the level nodes to their items; the (shelter, checkpoint) nodes to the sink
    tails += [np.array([m.priority - 1 for _, m in members], dtype=np.int64)]
    heads += [first_item + np.arange(len(members))]
    caps += [supply]
    costs += [np.zeros(len(members), dtype=np.int64)]
    tails.append(first_place + np.arange(n_shelters * n_points))
    heads.append(np.full(n_shelters * n_points, sink))
    caps.append(ctx.places_matrix()[:, points].reshape(-1).astype(np.int64))
    costs.append(np.zeros(n_shelters * n_points, dtype=np.int64))
    total = reached[PRIORITIES[-1]]
    supplies = np.zeros(first_item + len(members), dtype=np.int64)
    supplies[0], supplies[sink] = total, -total
    for p in PRIORITIES[-1:0:-1]:  # N_p -> N_p+1, at least the persons placed above p
        above = reached[p + 1]
        tails.append(np.array([p - 1]))
        heads.append(np.array([p]))
        caps.append(np.array([total - above]))
        costs.append(np.zeros(1, dtype=np.int64))
        supplies[p - 1] -= above
        supplies[p] += above
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails), np.concatenate(heads), np.concatenate(caps), np.concatenate(costs)
    )
    flow.set_nodes_supplies(np.arange(len(supplies)), supplies)
    if flow.solve() != flow.OPTIMAL:
        return None
    used = flow.flows(np.arange(n_pairs)) > 0
    return CheapestFlow(
        -(-int(flow.optimal_cost()) // scale),  # plans cost whole numbers: round up
        np.concatenate(pair_unit or [none])[used],
        np.concatenate(pair_shelter or [none])[used],
    )
