"""The hard rules, each written once.

Two kinds:

* **Pair rules** decide whether arrival *a* may be placed in shelter *s* at all (gender,
  trans inclusion, age, children, needs, safety distance, neighbouring départements,
  language). The solver only creates variables for pairs every pair rule admits; the plan
  validator re-checks every placement with them; the explanation counts how many shelters
  each one removes.
* **Plan rules** involve several placements (capacity by night, households, keep-apart,
  network cap). Each exposes the data the solver turns into constraints (``places``,
  ``nightly_places``, ``groups``, ``pairs``, ``cap``) and a ``check`` the validator runs.

Everything a rule needs about a scenario comes from a :class:`~placement.context.Context`,
which caches the geometry so that the solver, the validator and the explanations agree to
the last metre.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable

import numpy as np

from placement.context import Assignment, Context
from placement.languages import shared_language
from placement.models import Arrival, Shelter

# ======================================================================================
# Pair rules
# ======================================================================================


class PairRule:
    """A rule on one (arrival, shelter) pair."""

    #: short stable identifier, used in JSON and tests
    name: str = ""

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        raise NotImplementedError

    def requirement(self, ctx: Context, a: Arrival) -> str:
        """What a shelter must satisfy for ``a``, in a coordinator's words."""
        raise NotImplementedError

    # ``admits(a, s)`` must depend only on these two projections: the admissibility masks
    # evaluate each rule once per distinct pair of keys instead of once per pair of objects.
    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        raise NotImplementedError

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        raise NotImplementedError

    def shelter_mask(self, ctx: Context, a: Arrival) -> np.ndarray | None:
        """The rule over all shelters at once, for rules whose shelter key is the shelter
        itself; ``None``: evaluate ``admits`` once per distinct shelter key instead."""
        return None


class GenderRule(PairRule):
    name = "gender"

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return a.gender in s.accepts

    def requirement(self, ctx: Context, a: Arrival) -> str:
        return {"woman": "accepts women", "man": "accepts men", "nonbinary": "accepts nonbinary"}[
            a.gender
        ]

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return a.gender

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.accepts


class TransInclusionRule(PairRule):
    name = "trans_inclusive"

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return not a.trans or s.trans_inclusive

    def requirement(self, ctx: Context, a: Arrival) -> str:
        return "trans-inclusive"

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return a.trans

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.trans_inclusive


class AgeRule(PairRule):
    name = "age"

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        age = a.effective_age
        return s.age_min <= age and (s.age_max is None or age <= s.age_max)

    def requirement(self, ctx: Context, a: Arrival) -> str:
        age = a.effective_age
        return f"takes age {age}" + (" (minor)" if age < 18 else "")

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return a.effective_age

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return (s.age_min, s.age_max)


class ChildrenRule(PairRule):
    name = "children"

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return a.children == 0 or s.children

    def requirement(self, ctx: Context, a: Arrival) -> str:
        return f"takes children ({a.children})"

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return a.children > 0

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.children


class NeedsRule(PairRule):
    name = "needs"

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return set(a.needs) <= set(s.services)

    def requirement(self, ctx: Context, a: Arrival) -> str:
        return "offers " + ", ".join(a.needs)

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return frozenset(a.needs)

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return frozenset(s.services)


class SafetyDistanceRule(PairRule):
    name = "safety_distance"

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return bool(ctx.rule_mask(self, a)[ctx.index(s)])

    def shelter_mask(self, ctx: Context, a: Arrival) -> np.ndarray:
        mask: np.ndarray = ctx.distances(a) >= ctx.safety_distance_km(a)
        return mask

    def requirement(self, ctx: Context, a: Arrival) -> str:
        return f"≥ {ctx.safety_distance_km(a):g} km from every danger location"

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return (ctx.danger_points(a), ctx.safety_distance_km(a))

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.id


class NeighbouringDepartmentRule(PairRule):
    name = "neighbouring_department"

    def danger_departments(self, a: Arrival) -> list[str]:
        return [d.department for d in a.danger if d.department is not None]

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        if not ctx.scenario.policy.avoid_neighbouring_departments:
            return True
        geo = ctx.scenario.geo
        return not any(
            geo.is_same_or_bordering(d, s.department) for d in self.danger_departments(a)
        )

    def requirement(self, ctx: Context, a: Arrival) -> str:
        codes = ", ".join(sorted(set(self.danger_departments(a))))
        return f"outside {codes} and the areas bordering it"

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return tuple(self.danger_departments(a))

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.department


class LanguageRule(PairRule):
    name = "language"

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return not ctx.language_required(a) or shared_language(a.languages, s.languages) is not None

    def requirement(self, ctx: Context, a: Arrival) -> str:
        return "speaks " + " or ".join(a.languages)

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return (ctx.language_required(a), a.languages)

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.languages


class ExcludedShelterRule(PairRule):
    """Shelters named in ``exclude_shelters`` (declined, compromised for the network)."""

    name = "excluded_shelter"

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return s.id not in a.exclude_shelters

    def shelter_mask(self, ctx: Context, a: Arrival) -> np.ndarray:
        mask = ctx.everything()
        mask[[ctx.index(sid) for sid in a.exclude_shelters if sid in ctx.shelters]] = False
        return mask

    def requirement(self, ctx: Context, a: Arrival) -> str:
        return "not " + ", ".join(a.exclude_shelters) + " (excluded for this person)"

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return frozenset(a.exclude_shelters)

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.id


class StaleCapacityRule(PairRule):
    """With ``policy.stale_capacity: exclude``, shelters whose places are unconfirmed are not
    used. (With ``last_resort`` they are used after fresh ones, through a cost.)"""

    name = "stale_capacity"

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return not (s.stale and ctx.scenario.policy.stale_capacity == "exclude")

    def requirement(self, ctx: Context, a: Arrival) -> str:
        return "capacity confirmed recently"

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return None

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.stale


#: Pair rules in the order the explanation funnel applies them.
PAIR_RULES: tuple[PairRule, ...] = (
    GenderRule(),
    TransInclusionRule(),
    AgeRule(),
    ChildrenRule(),
    NeedsRule(),
    SafetyDistanceRule(),
    NeighbouringDepartmentRule(),
    LanguageRule(),
    ExcludedShelterRule(),
    StaleCapacityRule(),
)


# ======================================================================================
# Plan rules
# ======================================================================================


class CapacityRule:
    """On every night, the places used by the stays covering it ≤ the places of that night."""

    name = "capacity"

    @staticmethod
    def places(a: Arrival) -> int:
        """Places one arrival uses: one per person, children included."""
        return a.persons

    @staticmethod
    def usage_by_shelter(ctx: Context, assignment: Assignment) -> dict[str, list[int]]:
        """Places used per night in every shelter that holds someone."""
        used: dict[str, list[int]] = {}
        for arrival_id, sid in assignment.items():
            row = used.setdefault(sid, [0] * ctx.scenario.horizon_days)
            a = ctx.arrivals[arrival_id]
            for n in ctx.stay(a):
                row[n] += CapacityRule.places(a)
        return used

    @staticmethod
    def usage(ctx: Context, assignment: Assignment, shelter_id: str) -> list[int]:
        """Places used per night in one shelter."""
        mine = {k: v for k, v in assignment.items() if v == shelter_id}
        used = CapacityRule.usage_by_shelter(ctx, mine)
        return used.get(shelter_id, [0] * ctx.scenario.horizon_days)

    @staticmethod
    def critical_nights(ctx: Context, s: Shelter, arrivals: Iterable[Arrival]) -> list[int]:
        """Nights on which capacity must be checked for ``s`` given who might go there.

        Usage only rises when a stay starts, and places only fall when availability changes,
        so checking those nights (inside some stay) is enough.
        """
        places = ctx.nightly_places(s)
        stays = [ctx.stay(a) for a in arrivals]
        starts = {r.start for r in stays if len(r)}
        changes = {n for n in range(1, len(places)) if places[n] < places[n - 1]}
        covered = set().union(*stays) if changes - starts else set()
        return sorted(starts | (changes & covered))

    def check(self, ctx: Context, assignment: Assignment) -> list[str]:
        out = []
        usage = self.usage_by_shelter(ctx, assignment)
        for sid in sorted(usage):
            places = ctx.nightly_places(ctx.shelters[sid])
            for n, used in enumerate(usage[sid]):
                if used > places[n]:
                    out.append(
                        f"capacity: {sid} holds {used} persons on {ctx.scenario.night(n)} "
                        f"but has {places[n]} places"
                    )
        return out


class HouseholdRule:
    """The members of a household are all placed in the same shelter, or none is."""

    name = "household"

    @staticmethod
    def groups(ctx: Context) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for a in ctx.scenario.arrivals:
            if a.household is not None:
                out[a.household].append(a.id)
        return {k: v for k, v in out.items() if len(v) > 1}

    def check(self, ctx: Context, assignment: Assignment) -> list[str]:
        out = []
        for household, members in self.groups(ctx).items():
            shelters = {assignment.get(m) for m in members}
            if len(shelters) > 1:
                out.append(f"household: {household} is split: {sorted(map(str, shelters))}")
        return out


class KeepApartRule:
    """People linked by ``keep_apart`` are never in the same shelter (the link is symmetric)."""

    name = "keep_apart"

    @staticmethod
    def pairs(ctx: Context) -> list[tuple[str, str]]:
        seen = set()
        for a in ctx.scenario.arrivals:
            for other in a.keep_apart:
                seen.add(tuple(sorted((a.id, other))))
        return sorted(seen)  # type: ignore[arg-type]

    def check(self, ctx: Context, assignment: Assignment) -> list[str]:
        return [
            f"keep_apart: {x} and {y} are both in {assignment[x]}"
            for x, y in self.pairs(ctx)
            if x in assignment and assignment.get(x) == assignment.get(y)
        ]


class NetworkCapRule:
    """At most ``max_per_network_per_shelter`` people of one network in one shelter.

    Children are not counted. The cap applies to people present at the same time or not:
    a coordinator caps how many people of a network know a shelter.
    """

    name = "network_cap"

    @staticmethod
    def cap(ctx: Context) -> int | None:
        return ctx.scenario.policy.max_per_network_per_shelter

    @staticmethod
    def groups(ctx: Context) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for a in ctx.scenario.arrivals:
            if a.network is not None:
                out[a.network].append(a.id)
        return dict(out)

    def check(self, ctx: Context, assignment: Assignment) -> list[str]:
        cap = self.cap(ctx)
        if cap is None:
            return []
        out = []
        for network, members in self.groups(ctx).items():
            count: dict[str, int] = defaultdict(int)
            for m in members:
                if m in assignment:
                    count[assignment[m]] += 1
            out += [
                f"network_cap: {n} people of network {network} in {sid} (cap {cap})"
                for sid, n in sorted(count.items())
                if n > cap
            ]
        return out


PLAN_RULES: tuple[CapacityRule | HouseholdRule | KeepApartRule | NetworkCapRule, ...] = (
    CapacityRule(),
    HouseholdRule(),
    KeepApartRule(),
    NetworkCapRule(),
)
