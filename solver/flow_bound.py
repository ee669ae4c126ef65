"""An upper bound on persons placed, per priority level, from a max-flow relaxation.

The bound answers "how far can the solver's plan be from the best possible one?" without
solving the real problem. It is a max flow on a bipartite network:

    source -> demand item -> shelter group at a checkpoint night -> sink

* A **demand item** is one member of one unit of :mod:`solver.units` (a household member,
  or one kind of interchangeable arrival with its copy count), with capacity
  ``persons x copies`` counting only the persons whose priority is at least the level bound.
* An item has an arc to a shelter when the shelter is admissible for its unit, exactly as
  the solver decides it (:func:`solver.units.build_units`: every pair rule of
  :mod:`placement.rules`, and enough places on every night of the stay).
* **Checkpoint nights.** Per-night capacity is relaxed to a few nights: a minimum set of
  nights that stabs every stay (greedy interval stabbing), and each arrival is mapped to the
  first checkpoint inside its stay. The node (shelter, checkpoint) has capacity the places of
  that shelter on that night.
* **Shelter groups.** Shelters admissible for exactly the same units are one node with the
  summed places (exact: they are interchangeable in the flow).

Why it is a valid upper bound (every feasible plan gives a flow of the same value):

1. Take any plan that respects every rule. Send one unit of flow per placed person (children
   included) from the person's item to the node (their shelter, their checkpoint).
2. The arc exists: the plan's shelter is admissible for the unit (the solver's own filter).
3. The item capacity holds: an item carries at most the persons it stands for.
4. The node capacity holds: everyone mapped to checkpoint *c* in shelter *s* is there on
   night *c*, because *c* lies inside their stay; the plan respects the capacity of *s* on
   night *c*; merging shelters into a group sums both sides.
5. Persons of priority below the level are simply not sent: dropping flow keeps it feasible.

So max flow >= persons of priority >= p placed by any plan, for each p. What is relaxed:
households may split (each member is its own item), keep-apart and the network cap are
ignored, an arrival with children may be split, and capacity is only checked on the
checkpoint nights. Where none of these bind (no children, households, keep-apart, cap, and
one checkpoint night, e.g. every stay covering the whole horizon and fixed capacities) the
relaxation is a transportation problem with integral optimum and the bound is exact.

The bound is cumulative: ``cumulative[p]`` bounds the persons placed at priorities ``>= p``.
For priority 5 this is the max flow of priority-5 persons, which bounds the first stage of
the lexicographic objective. For a lower level it bounds the cumulative count, which is what
a gap per level should compare against (the lexicographic optimum of level *p* alone can
exceed ``cumulative[p] - cumulative[p + 1]`` when an upper level's bound is not reached).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import max_flow

from placement.context import Context
from placement.models import Scenario
from solver.units import Units, build_units

PRIORITIES = (5, 4, 3, 2, 1)


#: seconds to build the network, per admissible (unit, shelter) pair: measured 2.6-3.0 s for
#: 11.8 M pairs at 10,000 x 20,000 (load 0.8; 6.2-6.9 s before the shelters were grouped
#: without sorting the pairs)
BUILD_SECONDS_PER_PAIR = 3e-7


@dataclass(frozen=True)
class FlowBound:
    """Upper bounds on persons placed at priority >= p, and what was requested."""

    cumulative: dict[int, int]  # p -> bound on persons placed with priority >= p
    requested: dict[int, int]  # p -> persons requested with priority >= p
    checkpoints: tuple[int, ...]  # night indices the capacity is checked on
    items: int
    shelter_nodes: int
    arcs: int
    seconds: float  # building and solving the flows, units excluded
    units_seconds: float  # building the units (admissibility), when done here
    #: False when the deadline left no time to build the network: every level's bound is
    #: then the persons requested
    built: bool = True
    #: the max flows solved (a level a plan fills to its supply, or past the deadline, needs
    #: none)
    max_flows: int = 0

    def gap(self, placed_by_priority: dict[int, int]) -> dict[int, float]:
        """Relative gap per level on the cumulative counts: (bound - placed) / bound."""
        out = {}
        for p in PRIORITIES:
            placed = sum(v for q, v in placed_by_priority.items() if q >= p)
            b = self.cumulative[p]
            out[p] = 0.0 if b == 0 else (b - placed) / b
        return out


def stabbing_nights(stays: list[range]) -> list[int]:
    """A minimum set of nights such that every non-empty stay contains one (greedy by end)."""
    points: list[int] = []
    last = -1
    for r in sorted((r for r in stays if len(r)), key=lambda r: r.stop):
        if last >= r.start:  # already stabbed (last < r.stop holds by the sort order)
            continue
        last = r.stop - 1
        points.append(last)
    return points


def checkpoints(ctx: Context) -> tuple[list[int], dict[str, int]]:
    """The checkpoint nights (:func:`stabbing_nights` of every stay) and, per arrival id,
    the first of them inside its stay: the night its persons are counted on."""
    stays = {a.id: ctx.stay(a) for a in ctx.scenario.arrivals}
    points = stabbing_nights(list(stays.values()))
    return points, {i: _first_inside(points, stay) for i, stay in stays.items() if len(stay)}


def _first_inside(points: list[int], stay: range) -> int:
    for p in points:  # few points: a linear scan is fine
        if p in stay:
            return p
    raise AssertionError("stabbing set misses a stay")  # pragma: no cover


def flow_bound(
    scenario: Scenario | Context,
    units: Units | None = None,
    deadline: float | None = None,
    reached: dict[int, int] | None = None,
) -> FlowBound:
    """The cumulative max-flow bound per priority level (see the module docstring).

    ``deadline`` (``time.monotonic()``): the levels whose max flow would start after it get
    the trivial bound, the persons requested at priority >= p (at 10,000 x 20,000 each max
    flow takes seconds). ``reached``: the persons at priority >= p a plan of these units
    places, per level; where it places every person some shelter admits, that is the bound
    and the level needs no max flow (no flow carries more than its supply)."""
    ctx = scenario if isinstance(scenario, Context) else Context(scenario)
    started = time.perf_counter()
    if units is None:
        units = build_units(ctx)
    units_seconds = time.perf_counter() - started
    started = time.perf_counter()
    building = units.pair_count() * BUILD_SECONDS_PER_PAIR
    if deadline is not None and time.monotonic() + building > deadline:
        # no time to build the network (6.2 s for 11.8 M pairs at 10,000 x 20,000, where a
        # solve with T = 10 had 0.1 s left after its first plan): the trivial bound
        requested = _requested(ctx)
        return FlowBound(dict(requested), requested, (), 0, 0, 0, 0.0, units_seconds, False)

    points, checkpoint_of = checkpoints(ctx)

    # Demand items: (unit index, checkpoint) with persons per priority (copies included).
    items: dict[tuple[int, int], dict[int, int]] = {}
    for unit in units.units:
        if not len(unit.shelter_index):
            continue
        for m in unit.members:
            key = (unit.index, checkpoint_of[m.id])
            per = items.setdefault(key, defaultdict(int))
            per[m.priority] += m.persons * unit.count

    # Shelter groups: shelters admissible for the same units, one node. A shelter's set of
    # units is told by its size and a sum of one random number per unit: the pairs come by
    # unit, so equal sets are summed in the same order and give equal sums. Two sets that
    # shared both would merge two nodes, which relaxes the flow further: still a bound.
    pair_unit, pair_shelter = units.pairs()
    n_shelters = len(ctx.scenario.shelters)
    weight = np.random.default_rng(0).random(max(1, len(units.units)))
    degree = np.bincount(pair_shelter, minlength=n_shelters)
    total = np.bincount(pair_shelter, weights=weight[pair_unit], minlength=n_shelters)
    shelters_used = np.flatnonzero(degree)
    keys = np.stack([degree[shelters_used].astype(float), total[shelters_used]], axis=1)
    _, first_seen, group_of_used = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    renumber = np.empty(len(first_seen), dtype=np.int64)  # groups by first shelter
    renumber[np.argsort(first_seen, kind="stable")] = np.arange(len(first_seen))
    group_of = np.full(n_shelters, -1, dtype=np.int64)
    group_of[shelters_used] = renumber[group_of_used.reshape(-1)]
    n_groups = len(first_seen)
    all_places = np.zeros((n_groups, len(points)), dtype=np.int64)
    np.add.at(
        all_places,
        group_of[shelters_used],
        ctx.places_matrix()[np.ix_(shelters_used, np.asarray(points, dtype=np.int64))],
    )
    # (unit, group) arcs, by unit: each unit reaches each of its groups once. Only the pairs
    # of groups of several shelters can repeat one: those alone are sorted to find repeats.
    pair_group = group_of[pair_shelter]
    keep = np.ones(len(pair_group), dtype=bool)
    shared = np.flatnonzero(
        np.bincount(group_of[shelters_used], minlength=n_groups)[pair_group] > 1
    )
    if len(shared):
        key = pair_unit[shared] * (n_groups + 1) + pair_group[shared]
        order = np.argsort(key, kind="stable")
        repeat = np.zeros(len(shared), dtype=bool)
        repeat[order[1:]] = key[order[1:]] == key[order[:-1]]
        keep[shared[repeat]] = False
    arc_unit, arc_group = pair_unit[keep], pair_group[keep]

    # Nodes: 0 source, 1 sink, then items, then (group, checkpoint) nodes.
    point_index = {p: k for k, p in enumerate(points)}
    item_keys = list(items)
    n_items = len(item_keys)
    base = 2 + n_items
    n_points = len(points)
    item_unit = np.array([ui for ui, _ in item_keys], dtype=np.int64)
    item_point = np.array([point_index[c] for _, c in item_keys], dtype=np.int64)
    item_total = np.array([sum(items[key].values()) for key in item_keys], dtype=np.int64)
    # Every item gets an arc to (group, its checkpoint) for every group its unit reaches.
    first = np.searchsorted(arc_unit, item_unit, side="left")
    count = np.searchsorted(arc_unit, item_unit, side="right") - first
    item_of_arc = np.repeat(np.arange(n_items), count)
    offsets = np.arange(len(item_of_arc)) - np.repeat(np.cumsum(count) - count, count)
    groups = arc_group[np.repeat(first, count) + offsets]
    item_heads = base + groups * n_points + item_point[item_of_arc]
    node_used = np.zeros(n_groups * n_points, dtype=bool)
    node_used[item_heads - base] = True
    used_nodes = base + np.flatnonzero(node_used)
    node_group, node_point = np.divmod(used_nodes - base, n_points)
    tails = np.concatenate([2 + item_of_arc, used_nodes, np.zeros(n_items, dtype=np.int64)])
    heads = np.concatenate(
        [item_heads, np.ones(len(used_nodes), dtype=np.int64), 2 + np.arange(n_items)]
    )
    caps = np.concatenate(
        [
            item_total[item_of_arc],
            all_places[node_group, node_point],
            np.zeros(n_items, dtype=np.int64),
        ]
    )
    first_source_arc = len(item_heads) + len(used_nodes)

    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64)
    )
    source_arcs = np.arange(first_source_arc, first_source_arc + n_items, dtype=np.int32)
    cumulative, requested, solved = _max_flows(ctx, flow, source_arcs, items, deadline, reached)
    return FlowBound(
        cumulative=cumulative,
        requested=requested,
        checkpoints=tuple(points),
        items=len(item_keys),
        shelter_nodes=len(used_nodes),
        arcs=len(tails),
        seconds=time.perf_counter() - started,
        units_seconds=units_seconds,
        max_flows=solved,
    )


def _max_flows(
    ctx: Context,
    flow: max_flow.SimpleMaxFlow,
    source_arcs: np.ndarray,
    items: dict[tuple[int, int], dict[int, int]],
    deadline: float | None,
    reached: dict[int, int] | None,
) -> tuple[dict[int, int], dict[int, int], int]:
    """One max flow per level p, the items' persons at priority >= p as supplies: the
    cumulative bound and the persons requested, per level, and the max flows solved. A
    level that ``reached`` says a plan fills to its supply is settled without one (0.7-0.9 s
    each at 10,000 x 20,000)."""
    cumulative: dict[int, int] = {}
    requested = _requested(ctx)
    item_keys = list(items)
    solved = 0
    for p in PRIORITIES:
        supply = [sum(v for q, v in items[key].items() if q >= p) for key in item_keys]
        if not item_keys or (reached is not None and reached[p] >= sum(supply)):
            cumulative[p] = sum(supply)  # a plan places them all: no flow carries more
            continue
        if deadline is not None and time.monotonic() > deadline:
            cumulative[p] = requested[p]  # no time for this max flow: the trivial bound
            continue
        flow.set_arcs_capacity(source_arcs, np.asarray(supply, dtype=np.int64))
        status = flow.solve(0, 1)
        if status != flow.OPTIMAL:  # pragma: no cover - integer capacities, no overflow
            raise RuntimeError(f"max flow failed with status {status}")
        cumulative[p] = int(flow.optimal_flow())
        solved += 1
    return cumulative, requested, solved


def _requested(ctx: Context) -> dict[int, int]:
    """The persons requested at priority >= p, per level: the trivial bound."""
    return {p: sum(a.persons for a in ctx.scenario.arrivals if a.priority >= p) for p in PRIORITIES}
