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


#: seconds to build the network, per admissible (unit, shelter) pair: measured 6.2 s for
#: 11.8 M pairs at 10,000 x 20,000 (load 0.8)
BUILD_SECONDS_PER_PAIR = 5e-7


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


def _first_inside(points: list[int], stay: range) -> int:
    for p in points:  # few points: a linear scan is fine
        if p in stay:
            return p
    raise AssertionError("stabbing set misses a stay")  # pragma: no cover


def flow_bound(
    scenario: Scenario | Context, units: Units | None = None, deadline: float | None = None
) -> FlowBound:
    """The cumulative max-flow bound per priority level (see the module docstring).

    ``deadline`` (``time.monotonic()``): the levels whose max flow would start after it get
    the trivial bound, the persons requested at priority >= p (at 10,000 x 20,000 each max
    flow takes seconds)."""
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

    stays = {a.id: ctx.stay(a) for a in ctx.scenario.arrivals}
    points = stabbing_nights(list(stays.values()))

    # Demand items: (unit index, checkpoint) with persons per priority (copies included).
    items: dict[tuple[int, int], dict[int, int]] = {}
    for unit in units.units:
        if not len(unit.shelter_index):
            continue
        for m in unit.members:
            key = (unit.index, _first_inside(points, stays[m.id]))
            per = items.setdefault(key, defaultdict(int))
            per[m.priority] += m.persons * unit.count

    # Shelter groups: shelters admissible for the same units. A shelter's
    # signature is the sorted list of units admitting it: one pass over all pairs in numpy.
    pair_unit, pair_shelter = units.pairs()
    n_units = max(1, len(units.units))
    by_shelter = np.sort(pair_shelter * n_units + pair_unit)  # by shelter, then unit
    pair_shelter, pair_unit = np.divmod(by_shelter, n_units)
    starts = np.flatnonzero(np.diff(pair_shelter, prepend=-1))
    shelters_used = pair_shelter[starts]
    places = ctx.places_matrix()[:, np.asarray(points, dtype=np.int64)]
    group_of = np.full(len(ctx.scenario.shelters), -1, dtype=np.int64)
    group_places: list[np.ndarray] = []
    signature_index: dict[bytes, int] = {}
    bounds = [*starts.tolist(), len(pair_shelter)]
    for k, si in enumerate(shelters_used.tolist()):
        sig = pair_unit[bounds[k] : bounds[k + 1]].tobytes()
        g = signature_index.get(sig)
        if g is None:
            g = signature_index[sig] = len(group_places)
            group_places.append(np.zeros(len(points), dtype=np.int64))
        group_of[si] = g
        group_places[g] += places[si]
    # (unit, group) arcs, sorted by unit: each unit reaches each of its groups once.
    unit_group = np.sort(pair_unit * (len(group_places) + 1) + group_of[pair_shelter])
    unit_group = unit_group[np.diff(unit_group, prepend=-1) != 0]
    arc_unit, arc_group = np.divmod(unit_group, len(group_places) + 1)

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
    used_nodes = np.sort(item_heads)
    used_nodes = used_nodes[np.diff(used_nodes, prepend=-1) != 0]
    node_group, node_point = np.divmod(used_nodes - base, n_points)
    all_places = np.array(group_places).reshape(len(group_places), n_points)
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
    cumulative, requested = _max_flows(ctx, flow, source_arcs, items, deadline)
    return FlowBound(
        cumulative=cumulative,
        requested=requested,
        checkpoints=tuple(points),
        items=len(item_keys),
        shelter_nodes=len(used_nodes),
        arcs=len(tails),
        seconds=time.perf_counter() - started,
        units_seconds=units_seconds,
    )


def _max_flows(
    ctx: Context,
    flow: max_flow.SimpleMaxFlow,
    source_arcs: np.ndarray,
    items: dict[tuple[int, int], dict[int, int]],
    deadline: float | None,
) -> tuple[dict[int, int], dict[int, int]]:
    """One max flow per level p, the items' persons at priority >= p as supplies: the
    cumulative bound and the persons requested, per level."""
    cumulative: dict[int, int] = {}
    requested = _requested(ctx)
    item_keys = list(items)
    for p in PRIORITIES:
        if deadline is not None and time.monotonic() > deadline:
            cumulative[p] = requested[p]  # no time for this max flow: the trivial bound
            continue
        if not item_keys:
            cumulative[p] = 0
            continue
        supply = [sum(v for q, v in items[key].items() if q >= p) for key in item_keys]
        flow.set_arcs_capacity(source_arcs, np.asarray(supply, dtype=np.int64))
        status = flow.solve(0, 1)
        if status != flow.OPTIMAL:  # pragma: no cover - integer capacities, no overflow
            raise RuntimeError(f"max flow failed with status {status}")
        cumulative[p] = int(flow.optimal_flow())
    return cumulative, requested


def _requested(ctx: Context) -> dict[int, int]:
    """The persons requested at priority >= p, per level: the trivial bound."""
    return {p: sum(a.persons for a in ctx.scenario.arrivals if a.priority >= p) for p in PRIORITIES}
