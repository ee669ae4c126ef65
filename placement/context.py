"""A scenario with its lookups and caches: what every rule, cost and solver reads.

Build one :class:`Context` per scenario. It caches the geometry (distances to danger, in
numpy rows over the shelters), nightly places, the rule masks and the cost classes, so that
the solver, the validator and the explanations agree to the last metre and compute each
thing once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np

from placement.geography import Point, haversine_km_many
from placement.models import PRIORITIES, Arrival, Scenario, Shelter

Assignment = Mapping[str, str]  # arrival id -> shelter id, for placed arrivals only


class KeyedRule(Protocol):
    """What the context needs of a pair rule to cache its masks (the pair rules of
    :mod:`placement.rules`): ``admits`` depends only on the two keys."""

    name: str

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool: ...
    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable: ...
    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable: ...
    def shelter_mask(self, ctx: Context, a: Arrival) -> np.ndarray | None: ...


@dataclass
class Context:
    """A scenario with lookups and cached geometry. Build one per scenario.

    Shelter sets are numpy boolean masks over ``scenario.shelters`` (index order), and
    distances are numpy rows: one entry per shelter.
    """

    scenario: Scenario
    shelters: dict[str, Shelter] = field(init=False)
    arrivals: dict[str, Arrival] = field(init=False)
    _nightly: dict[str, tuple[int, ...]] = field(init=False, default_factory=dict)
    _danger_points: dict[str, tuple[Point, ...]] = field(init=False, default_factory=dict)
    _rows: dict[tuple[Point, ...], np.ndarray] = field(init=False, default_factory=dict)
    #: a cost component's cost per shelter class, by (component name, arrival key)
    cost_rows: dict[tuple[str, Hashable], np.ndarray] = field(init=False, default_factory=dict)
    _rule_masks: dict[str, dict[Hashable, np.ndarray]] = field(init=False, default_factory=dict)
    #: shelter classes (:meth:`shelter_classes`) by what they are for: a keyed rule's, a
    #: secondary-cost component's (:mod:`placement.costs`)
    _classes: dict[str, tuple[np.ndarray, list[Shelter]]] = field(init=False, default_factory=dict)
    _places: np.ndarray | None = field(init=False, default=None)
    _fewest: dict[tuple[int, int], np.ndarray] = field(init=False, default_factory=dict)
    _id_ranks: np.ndarray | None = field(init=False, default=None)
    _arrival_groups: dict[str, dict[str, list[str]]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.shelters = {s.id: s for s in self.scenario.shelters}
        self.arrivals = {a.id: a for a in self.scenario.arrivals}
        points = [self.scenario.shelter_point(s) for s in self.scenario.shelters]
        self._lat = np.array([p.lat for p in points], dtype=float)
        self._lon = np.array([p.lon for p in points], dtype=float)
        self._index = {s.id: i for i, s in enumerate(self.scenario.shelters)}
        self._end = self.scenario.end

    def index(self, s: Shelter | str) -> int:
        """Position of a shelter in ``scenario.shelters`` (and in every mask and row)."""
        return self._index[s if isinstance(s, str) else s.id]

    def everything(self) -> np.ndarray:
        """The mask of all shelters."""
        return np.ones(len(self.scenario.shelters), dtype=bool)

    # --- geometry ---------------------------------------------------------------------
    def danger_points(self, a: Arrival) -> tuple[Point, ...]:
        points = self._danger_points.get(a.id)
        if points is None:
            points = tuple(self.scenario.danger_point(d) for d in a.danger)
            self._danger_points[a.id] = points
        return points

    def distances(self, a: Arrival) -> np.ndarray:
        """Distance from every shelter to the nearest danger location of ``a`` (km), cached
        per set of danger locations (people of one network share them)."""
        key = self.danger_points(a)
        row = self._rows.get(key)
        if row is None:
            # each location's own row, kept: the networks' sets share locations (at 10,000
            # arrivals, 1,220 locations in 663 sets, 548 distinct)
            rows = [self._location_row(p) for p in key]
            row = rows[0] if len(rows) == 1 else np.minimum.reduce(rows)
            row.flags.writeable = False
            self._rows[key] = row
        return row

    def _location_row(self, p: Point) -> np.ndarray:
        row = self._rows.get((p,))
        if row is None:
            row = self._rows[(p,)] = haversine_km_many(self._lat, self._lon, p)
            row.flags.writeable = False
        return row

    def distance_km(self, a: Arrival, s: Shelter) -> float:
        """Great-circle distance from the shelter to the nearest danger location of ``a``."""
        return float(self.distances(a)[self._index[s.id]])

    def safety_distance_km(self, a: Arrival) -> float:
        if a.safety_distance_km is not None:
            return a.safety_distance_km
        return self.scenario.policy.safety_distance_km

    def language_required(self, a: Arrival) -> bool:
        if a.language_required is not None:
            return a.language_required
        return self.scenario.policy.language_required

    # --- time -------------------------------------------------------------------------
    def nightly_places(self, s: Shelter) -> tuple[int, ...]:
        """Places of ``s`` on each night index of the horizon."""
        cached = self._nightly.get(s.id)
        if cached is None:
            sc = self.scenario
            cached = tuple(s.places_by_night(sc.start, sc.horizon_days, self._end))
            self._nightly[s.id] = cached
        return cached

    def stay(self, a: Arrival) -> range:
        return self.scenario.stay(a)

    def places_matrix(self) -> np.ndarray:
        """Places of every shelter (rows, in scenario order) on every night (columns)."""
        if self._places is None:
            shelters = self.scenario.shelters
            matrix = np.array([self.nightly_places(s) for s in shelters], dtype=np.int64)
            matrix = matrix.reshape(len(shelters), self.scenario.horizon_days)
            matrix.flags.writeable = False
            self._places = matrix
        return self._places

    def fewest_places(self, first: int, stop: int) -> np.ndarray:
        """The fewest places of every shelter over nights ``first`` to ``stop - 1``."""
        row = self._fewest.get((first, stop))
        if row is None:
            row = self._fewest[(first, stop)] = self.places_matrix()[:, first:stop].min(axis=1)
        return row

    def arrival_groups(
        self, name: str, compute: Callable[[Context], dict[str, list[str]]]
    ) -> dict[str, list[str]]:
        """The arrivals a rule links (``name``: the rule's; ``compute``: its grouping, e.g.
        households), computed once: the explanations ask for a person's household once per
        unplaced person (at 3,000 arrivals, 0.6 s of the reasons went to grouping again)."""
        groups = self._arrival_groups.get(name)
        if groups is None:
            groups = self._arrival_groups[name] = compute(self)
        return groups

    @cached_property
    def any_held(self) -> bool:
        """Whether any shelter holds places for this plan's operation."""
        return any(s.held for s in self.scenario.shelters)

    def id_ranks(self) -> np.ndarray:
        """Rank of each shelter's id in sorted order: ties are broken by id everywhere."""
        if self._id_ranks is None:
            shelters = self.scenario.shelters
            order = sorted(range(len(shelters)), key=lambda i: shelters[i].id)
            self._id_ranks = np.empty(len(order), dtype=np.int64)
            self._id_ranks[order] = np.arange(len(order))
        return self._id_ranks

    # --- rule evaluation by keys ------------------------------------------------------
    def rule_mask(self, rule: KeyedRule, a: Arrival) -> np.ndarray:
        """Mask of the shelters ``rule`` admits for ``a`` (cached by the rule's keys)."""
        cache = self._rule_masks.setdefault(rule.name, {})
        key = rule.arrival_key(self, a)
        mask = cache.get(key)
        if mask is None:
            mask = rule.shelter_mask(self, a)
            if mask is None:  # the rule on one shelter per class, spread to its class
                classes, representatives = self.shelter_classes(
                    f"rule {rule.name}", lambda s: rule.shelter_key(self, s)
                )
                admitted = np.fromiter(
                    (rule.admits(self, a, s) for s in representatives),
                    dtype=bool,
                    count=len(representatives),
                )
                mask = admitted[classes]
            mask.flags.writeable = False
            cache[key] = mask
        return mask

    def shelter_classes(
        self, name: str, key: Callable[[Shelter], Hashable]
    ) -> tuple[np.ndarray, list[Shelter]]:
        """The class of every shelter (shelters with equal ``key`` share one, numbered in
        order of first appearance) and the first shelter of each class, its representative;
        computed once per ``name`` (what the classes are for)."""
        found = self._classes.get(name)
        if found is None:
            index: dict[Hashable, int] = {}
            representatives: list[Shelter] = []
            classes = np.empty(len(self.scenario.shelters), dtype=np.int64)
            for i, s in enumerate(self.scenario.shelters):
                k = key(s)
                c = index.get(k)
                if c is None:
                    c = index[k] = len(representatives)
                    representatives.append(s)
                classes[i] = c
            found = self._classes[name] = (classes, representatives)
        return found


def persons_by_priority(ctx: Context, placed: Sequence[str]) -> dict[str, int]:
    """Persons placed (1 + children) per priority level, keys "5" down to "1"."""
    counts = {str(p): 0 for p in PRIORITIES}
    for aid in placed:
        a = ctx.arrivals[aid]
        counts[str(a.priority)] += a.persons
    return counts
