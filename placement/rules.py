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

Everything a rule needs about a scenario comes from a :class:`Context`, which caches the
geometry so that the solver, the validator and the explanations agree to the last metre.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from placement.geography import Point, haversine_km_many
from placement.languages import shared_language
from placement.models import Arrival, Scenario, Shelter

Assignment = Mapping[str, str]  # arrival id -> shelter id, for placed arrivals only


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
    #: derived values other modules cache per scenario (e.g. costs by attribute keys)
    memo: dict[str, dict[Any, Any]] = field(init=False, default_factory=dict)
    _rule_masks: dict[str, dict[Hashable, np.ndarray]] = field(init=False, default_factory=dict)
    _groups: dict[str, dict[Hashable, tuple[Shelter, list[int]]]] = field(
        init=False, default_factory=dict
    )
    _places: np.ndarray | None = field(init=False, default=None)
    _fewest: dict[tuple[int, int], np.ndarray] = field(init=False, default_factory=dict)
    _id_ranks: np.ndarray | None = field(init=False, default=None)

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
            rows = [haversine_km_many(self._lat, self._lon, p) for p in key]
            row = rows[0] if len(rows) == 1 else np.minimum.reduce(rows)
            row.flags.writeable = False
            self._rows[key] = row
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

    def id_ranks(self) -> np.ndarray:
        """Rank of each shelter's id in sorted order: ties are broken by id everywhere."""
        if self._id_ranks is None:
            shelters = self.scenario.shelters
            order = sorted(range(len(shelters)), key=lambda i: shelters[i].id)
            self._id_ranks = np.empty(len(order), dtype=np.int64)
            self._id_ranks[order] = np.arange(len(order))
        return self._id_ranks

    # --- rule evaluation by keys ------------------------------------------------------
    def rule_mask(self, rule: PairRule, a: Arrival) -> np.ndarray:
        """Mask of the shelters ``rule`` admits for ``a`` (cached by the rule's keys)."""
        cache = self._rule_masks.setdefault(rule.name, {})
        key = rule.arrival_key(self, a)
        mask = cache.get(key)
        if mask is None:
            mask = rule.shelter_mask(self, a)
            if mask is None:
                mask = np.zeros(len(self.scenario.shelters), dtype=bool)
                for representative, members in self._shelter_groups(rule).values():
                    if rule.admits(self, a, representative):
                        mask[members] = True
            mask.flags.writeable = False
            cache[key] = mask
        return mask

    def _shelter_groups(self, rule: PairRule) -> dict[Hashable, tuple[Shelter, list[int]]]:
        groups = self._groups.get(rule.name)
        if groups is None:
            groups = {}
            for i, s in enumerate(self.scenario.shelters):
                key = rule.shelter_key(self, s)
                if key in groups:
                    groups[key][1].append(i)
                else:
                    groups[key] = (s, [i])
            self._groups[rule.name] = groups
        return groups


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


def admissible(ctx: Context, a: Arrival, s: Shelter) -> bool:
    """True when every pair rule admits placing ``a`` in ``s``."""
    return all(rule.admits(ctx, a, s) for rule in PAIR_RULES)


def failed_pair_rules(ctx: Context, a: Arrival, s: Shelter) -> list[PairRule]:
    return [rule for rule in PAIR_RULES if not rule.admits(ctx, a, s)]


def admissible_mask(ctx: Context, a: Arrival) -> np.ndarray:
    """The shelters every pair rule admits for ``a``, as a mask over scenario.shelters.

    Same answers as :func:`admissible`, computed once per distinct rule key: rules are
    evaluated on one representative shelter per distinct ``shelter_key`` (or over all
    shelters at once by ``shelter_mask``).
    """
    mask = ctx.everything()
    for rule in PAIR_RULES:
        mask &= ctx.rule_mask(rule, a)
        if not mask.any():
            break
    return mask


def mask_indices(mask: np.ndarray) -> list[int]:
    """Indices of the shelters in a mask, ascending."""
    indices: list[int] = np.flatnonzero(mask).tolist()
    return indices


def admissible_shelters(ctx: Context, a: Arrival) -> list[Shelter]:
    shelters = ctx.scenario.shelters
    return [shelters[i] for i in mask_indices(admissible_mask(ctx, a))]


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


def plan_violations(ctx: Context, assignment: Assignment) -> list[str]:
    """Every hard-rule violation of an assignment, pair rules and plan rules alike."""
    out = []
    for aid, sid in sorted(assignment.items()):
        if aid not in ctx.arrivals:
            out.append(f"unknown arrival {aid!r}")
            continue
        if sid not in ctx.shelters:
            out.append(f"{aid}: unknown shelter {sid!r}")
            continue
        for rule in failed_pair_rules(ctx, ctx.arrivals[aid], ctx.shelters[sid]):
            out.append(
                f"{rule.name}: {aid} in {sid} breaks '{rule.requirement(ctx, ctx.arrivals[aid])}'"
            )
    if out:
        return out
    for plan_rule in PLAN_RULES:
        out += plan_rule.check(ctx, assignment)
    return out


def persons_by_priority(ctx: Context, placed: Sequence[str]) -> dict[str, int]:
    """Persons placed (1 + children) per priority level, keys "5" down to "1"."""
    counts = {str(p): 0 for p in range(5, 0, -1)}
    for aid in placed:
        a = ctx.arrivals[aid]
        counts[str(a.priority)] += a.persons
    return counts
