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

from dataclasses import dataclass

from placement.languages import has_close_language, shared_language
from placement.models import Arrival, Shelter
from placement.rules import Context


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
    w = ctx.scenario.policy.weights
    # Everything but the distance depends on a few attributes: computed once per pair of keys.
    key = (
        a.languages,
        a.wishes,
        a.needs,
        a.children > 0,
        a.effective_age >= 18,
        a.persons,
        s.languages,
        s.services,
        s.children,
        s.age_min < 18,
        s.stale,
        s.held,
    )
    memo = ctx.memo.setdefault("placement_cost", {})
    parts = memo.get(key)
    if parts is None:
        parts = memo[key] = _attribute_costs(ctx, a, s)
    interpreter, unmet, scarce, stale, outside = parts
    beyond = max(0.0, ctx.distance_km(a, s) - ctx.safety_distance_km(a))
    extra = round(beyond * w.extra_distance_per_100km / 100)
    return CostBreakdown(interpreter, unmet, extra, scarce, stale, outside)


def _attribute_costs(ctx: Context, a: Arrival, s: Shelter) -> tuple[int, int, int, int, int]:
    w = ctx.scenario.policy.weights
    if shared_language(a.languages, s.languages) is not None:
        interpreter = 0
    elif has_close_language(a.languages, s.languages):
        interpreter = w.close_language
    else:
        interpreter = w.interpreter
    unmet = sum(1 for wish in a.wishes if wish not in s.services) * w.unmet_wish
    wanted = set(a.needs) | set(a.wishes)
    scarce = sum(1 for service in s.services if service not in wanted)
    if s.children and a.children == 0:
        scarce += 1
    if s.age_min < 18 and a.effective_age >= 18:
        scarce += 1
    stale = 0
    if s.stale and ctx.scenario.policy.stale_capacity == "last_resort":
        stale = w.stale_place * a.persons
    outside = 0
    if not s.held and any(other.held for other in ctx.scenario.shelters):
        outside = w.outside_holds * a.persons  # places the operation holds are used first
    return interpreter, unmet, scarce * w.scarce_place, stale, outside
