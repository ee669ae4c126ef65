"""Secondary costs: what separates plans that place the same people.

The objective is lexicographic: persons placed by priority first (see ``solver``), then
the sum of these costs. Each cost is an integer so that the solver optimises exactly what
the plan reports. Weights come from ``policy.weights``.

* **interpreter**: no shared language (the person's languages against the shelter's staff);
  ``close_language`` instead when a close language exists (Nigerian Pidgin and English).
* **unmet wishes**: per wished service the shelter does not offer.
* **extra distance**: per 100 km travelled beyond the person's safety distance (measured from
  the nearest danger location, where the person is when the operation happens).
* **scarce places**: per scarce feature used by someone who does not need it: a place that
  takes children for a person without children, a shelter that takes minors for an adult,
  and each specialised service that the person neither needs nor wishes.
* **outside holds**: per person placed outside the shelters holding places for the plan's
  operation, when there are any (the coordinator's holds are used first).
* **stale capacity**: per person placed in a shelter whose places were not confirmed
  recently, when ``policy.stale_capacity`` is ``last_resort`` (so stale places are used only
  after fresh ones: the weight exceeds every other cost of one placement by default).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from placement.context import Context
from placement.languages import has_close_language, shared_language
from placement.models import Arrival, Shelter


@dataclass(frozen=True)
class CostBreakdown:
    """The weighted secondary costs of one placement."""

    interpreter: int
    unmet_wishes: int
    extra_distance: int
    scarce_places: int
    stale_capacity: int = 0
    outside_holds: int = 0

    @property
    def total(self) -> int:
        return (
            self.interpreter
            + self.unmet_wishes
            + self.extra_distance
            + self.scarce_places
            + self.stale_capacity
            + self.outside_holds
        )


def placement_cost(ctx: Context, a: Arrival, s: Shelter) -> CostBreakdown:
    """Weighted secondary costs of placing ``a`` in ``s`` (the pair must be admissible)."""
    i = ctx.index(s)
    parts = {c.name: int(c.costs(ctx, a)[c.classes(ctx)[i]]) for c in COMPONENTS}
    extra = int(_extra_distance(ctx, a, ctx.distances(a)[i : i + 1])[0])
    return CostBreakdown(extra_distance=extra, **parts)


def placement_costs(ctx: Context, a: Arrival, indices: np.ndarray) -> np.ndarray:
    """Total secondary cost of placing ``a`` in each shelter ``scenario.shelters[i]`` for i in
    ``indices``: the same numbers as :func:`placement_cost`, for many shelters at once."""
    total = _extra_distance(ctx, a, ctx.distances(a)[indices])
    for c in COMPONENTS:
        total += c.costs(ctx, a)[c.classes(ctx)[indices]]
    return total


def _extra_distance(ctx: Context, a: Arrival, km: np.ndarray) -> np.ndarray:
    """Cost of the kilometres beyond the safety distance (rounded half to even)."""
    w = ctx.scenario.policy.weights
    beyond = np.maximum(0.0, km - ctx.safety_distance_km(a))
    return np.round(beyond * w.extra_distance_per_100km / 100).astype(np.int64)


class Component:
    """One secondary cost that depends on a few attributes of the person and of the shelter.

    ``cost(a, s)`` must depend only on ``arrival_key(a)`` and ``shelter_key(s)``: it is
    evaluated once per distinct pair of keys (shelters with equal keys form a class), which
    is what makes costs over tens of thousands of shelters cheap.
    """

    name = ""

    def cost(self, ctx: Context, a: Arrival, s: Shelter) -> int:
        raise NotImplementedError

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        raise NotImplementedError

    def shelter_key(self, s: Shelter) -> Hashable:
        raise NotImplementedError

    def classes(self, ctx: Context) -> np.ndarray:
        """The class of every shelter (cached on the context with one representative per
        class)."""
        return self._classes(ctx)[0]

    def _classes(self, ctx: Context) -> tuple[np.ndarray, list[Shelter]]:
        return ctx.shelter_classes(f"cost {self.name}", self.shelter_key)

    def costs(self, ctx: Context, a: Arrival) -> np.ndarray:
        """The cost for ``a`` in each shelter class (cached by the arrival's key)."""
        reps = self._classes(ctx)[1]
        key = (self.name, self.arrival_key(ctx, a))
        row = ctx.cost_rows.get(key)
        if row is None:
            row = ctx.cost_rows[key] = np.array(
                [self.cost(ctx, a, s) for s in reps], dtype=np.int64
            )
        return row


class Interpreter(Component):
    name = "interpreter"

    def cost(self, ctx: Context, a: Arrival, s: Shelter) -> int:
        w = ctx.scenario.policy.weights
        if shared_language(a.languages, s.languages) is not None:
            return 0
        if has_close_language(a.languages, s.languages):
            return w.close_language
        return w.interpreter

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return a.languages

    def shelter_key(self, s: Shelter) -> Hashable:
        return s.languages


class UnmetWishes(Component):
    name = "unmet_wishes"

    def cost(self, ctx: Context, a: Arrival, s: Shelter) -> int:
        unmet = sum(1 for wish in a.wishes if wish not in s.services)
        return unmet * ctx.scenario.policy.weights.unmet_wish

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return a.wishes

    def shelter_key(self, s: Shelter) -> Hashable:
        return s.services


class ScarcePlaces(Component):
    name = "scarce_places"

    def cost(self, ctx: Context, a: Arrival, s: Shelter) -> int:
        wanted = set(a.needs) | set(a.wishes)
        scarce = sum(1 for service in s.services if service not in wanted)
        if s.children and a.children == 0:
            scarce += 1
        if s.age_min < 18 and a.effective_age >= 18:
            scarce += 1
        return scarce * ctx.scenario.policy.weights.scarce_place

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return (frozenset(a.needs) | frozenset(a.wishes), a.children > 0, a.effective_age >= 18)

    def shelter_key(self, s: Shelter) -> Hashable:
        return (s.services, s.children, s.age_min < 18)


class StaleCapacity(Component):
    name = "stale_capacity"

    def cost(self, ctx: Context, a: Arrival, s: Shelter) -> int:
        if s.stale and ctx.scenario.policy.stale_capacity == "last_resort":
            return ctx.scenario.policy.weights.stale_place * a.persons
        return 0

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return a.persons

    def shelter_key(self, s: Shelter) -> Hashable:
        return s.stale


class OutsideHolds(Component):
    name = "outside_holds"

    def cost(self, ctx: Context, a: Arrival, s: Shelter) -> int:
        if not s.held and ctx.any_held:  # places the operation holds are used first
            return ctx.scenario.policy.weights.outside_holds * a.persons
        return 0

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return a.persons

    def shelter_key(self, s: Shelter) -> Hashable:
        return s.held


COMPONENTS: tuple[Component, ...] = (
    Interpreter(),
    UnmetWishes(),
    ScarcePlaces(),
    StaleCapacity(),
    OutsideHolds(),
)
