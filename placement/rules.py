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
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from placement.context import Assignment, Context
from placement.i18n import N_
from placement.languages import shared_language
from placement.models import Arrival, Shelter
from placement.text import Text, language, listed, message, plural_message

if TYPE_CHECKING:  # scipy is imported where rows are built (not on the way to a first plan)
    from scipy.sparse import spmatrix as SparseRows

# ======================================================================================
# Pair rules
# ======================================================================================


class PairRule:
    """A rule on one (arrival, shelter) pair."""

    #: short stable identifier, used in JSON and tests
    name: str = ""
    #: the rule's name as a reader sees it (a catalogue message id: translate it to show it)
    label: str = ""

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        raise NotImplementedError

    def requirement(self, ctx: Context, a: Arrival) -> Text:
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
    label = N_("gender accepted")

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return a.gender in s.accepts

    def requirement(self, ctx: Context, a: Arrival) -> Text:
        return {
            "woman": message("accepts women"),
            "man": message("accepts men"),
            "nonbinary": message("accepts nonbinary people"),
        }[a.gender]

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return a.gender

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.accepts


class TransInclusionRule(PairRule):
    name = "trans_inclusive"
    label = N_("trans inclusion")

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return not a.trans or s.trans_inclusive

    def requirement(self, ctx: Context, a: Arrival) -> Text:
        return message("trans-inclusive")

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return a.trans

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.trans_inclusive


class AgeRule(PairRule):
    name = "age"
    label = N_("age")

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        age = a.effective_age
        return s.age_min <= age and (s.age_max is None or age <= s.age_max)

    def requirement(self, ctx: Context, a: Arrival) -> Text:
        age = a.effective_age
        if age < 18:
            return message("takes age {age} (minor)", age=age)
        return message("takes age {age}", age=age)

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return a.effective_age

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return (s.age_min, s.age_max)


class ChildrenRule(PairRule):
    name = "children"
    label = N_("children")

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return a.children == 0 or s.children

    def requirement(self, ctx: Context, a: Arrival) -> Text:
        return message("takes children ({children})", children=a.children)

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return a.children > 0

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.children


class NeedsRule(PairRule):
    name = "needs"
    label = N_("needs")

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return set(a.needs) <= set(s.services)

    def requirement(self, ctx: Context, a: Arrival) -> Text:
        return message("offers {needs}", needs=listed(a.needs))

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return frozenset(a.needs)

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return frozenset(s.services)


class SafetyDistanceRule(PairRule):
    name = "safety_distance"
    label = N_("safety distance")

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return bool(ctx.rule_mask(self, a)[ctx.index(s)])

    def shelter_mask(self, ctx: Context, a: Arrival) -> np.ndarray:
        mask: np.ndarray = ctx.distances(a) >= ctx.safety_distance_km(a)
        return mask

    def requirement(self, ctx: Context, a: Arrival) -> Text:
        return message("≥ {km} km from every danger location", km=ctx.safety_distance_km(a))

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return (ctx.danger_points(a), ctx.safety_distance_km(a))

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.id


class NeighbouringDepartmentRule(PairRule):
    name = "neighbouring_department"
    label = N_("neighbouring départements")

    def danger_departments(self, a: Arrival) -> list[str]:
        return [d.department for d in a.danger if d.department is not None]

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return self.admits_area(ctx, a, s.department)

    def admits_area(self, ctx: Context, a: Arrival, area: str) -> bool:
        """False when the policy keeps ``a`` out of ``area`` (a département or canton)."""
        if not ctx.scenario.policy.avoid_neighbouring_departments:
            return True
        geo = ctx.scenario.geo
        return not any(geo.is_same_or_bordering(d, area) for d in self.danger_departments(a))

    def excluded_areas(self, ctx: Context, a: Arrival) -> frozenset[str]:
        """Every area of the geography this rule keeps ``a`` out of (what a map shades)."""
        return frozenset(c for c in ctx.scenario.geo.areas if not self.admits_area(ctx, a, c))

    def requirement(self, ctx: Context, a: Arrival) -> Text:
        codes = listed(sorted(set(self.danger_departments(a))))
        return message("outside {areas} and the areas bordering them", areas=codes)

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return tuple(self.danger_departments(a))

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.department


class LanguageRule(PairRule):
    name = "language"
    label = N_("shared language")

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return not ctx.language_required(a) or shared_language(a.languages, s.languages) is not None

    def requirement(self, ctx: Context, a: Arrival) -> Text:
        spoken = listed([language(t) for t in a.languages], "or")
        return message("speaks {languages}", languages=spoken)

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return (ctx.language_required(a), a.languages)

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.languages


class ExcludedShelterRule(PairRule):
    """Shelters named in ``exclude_shelters`` (declined, compromised for the network)."""

    name = "excluded_shelter"
    label = N_("excluded shelters")

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return s.id not in a.exclude_shelters

    def shelter_mask(self, ctx: Context, a: Arrival) -> np.ndarray:
        mask = ctx.everything()
        mask[[ctx.index(sid) for sid in a.exclude_shelters if sid in ctx.shelters]] = False
        return mask

    def requirement(self, ctx: Context, a: Arrival) -> Text:
        excluded = listed(a.exclude_shelters)
        return message("not {shelters} (excluded for this person)", shelters=excluded)

    def arrival_key(self, ctx: Context, a: Arrival) -> Hashable:
        return frozenset(a.exclude_shelters)

    def shelter_key(self, ctx: Context, s: Shelter) -> Hashable:
        return s.id


class StaleCapacityRule(PairRule):
    """With ``policy.stale_capacity: exclude``, shelters whose places are unconfirmed are not
    used. (With ``last_resort`` they are used after fresh ones, through a cost.)"""

    name = "stale_capacity"
    label = N_("unconfirmed places")

    def admits(self, ctx: Context, a: Arrival, s: Shelter) -> bool:
        return not (s.stale and ctx.scenario.policy.stale_capacity == "exclude")

    def requirement(self, ctx: Context, a: Arrival) -> Text:
        return message("capacity confirmed recently")

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
#
# Each plan rule holds all its encodings side by side:
#
# * ``check(ctx, assignment)``: the validator's check of a whole plan;
# * ``add_rows(model)``: its rows in the one linear model that the LP relaxation and CP-SAT
#   read (:mod:`solver.linear`);
# * ``tracker(ctx)``: an incremental checker, fed placements one copy at a time, that says
#   how many more copies of a unit a shelter takes (``most``), which shelters take one more
#   (``fits``), and what the explanations count (places used, who must be kept apart, people
#   of a network). Packing, greedy, re-plans and the explanations all use it, through
#   :class:`placement.occupancy.Occupancy`.
#
# A property test (tests/placement/test_plan_rules.py) checks on random instances and random
# plans that the three encodings agree.


@dataclass
class Load:
    """What one copy of a unit asks of a shelter: the arrivals it consists of (a household's
    members, or one arrival), the places it uses per night and its people per network."""

    members: list[Arrival]
    usage: dict[int, int]  # night index -> places
    networks: dict[str, int]  # network -> people (children not counted)


def load_of(ctx: Context, members: Sequence[Arrival]) -> Load:
    """The load of one copy made of ``members``."""
    return Load(
        members=list(members),
        usage=CapacityRule.usage_of(ctx, members),
        networks=NetworkCapRule.people_of(members),
    )


class UnitView(Protocol):
    """What the linear rows read of a unit (:class:`solver.units.Unit`)."""

    @property
    def index(self) -> int: ...
    @property
    def members(self) -> Sequence[Arrival]: ...
    @property
    def usage(self) -> Mapping[int, int]: ...
    @property
    def networks(self) -> Mapping[str, int]: ...


class LinearRows(Protocol):
    """The linear model as the plan rules write into it (:class:`solver.linear.LinearModel`):
    column *j* is the number of copies of unit ``col_unit[j]`` in shelter ``col_shelter[j]``
    (a position in ``scenario.shelters``), at most ``col_ub[j]``."""

    @property
    def ctx(self) -> Context: ...
    @property
    def unit_list(self) -> Sequence[UnitView]: ...
    @property
    def unit_of(self) -> Mapping[str, int]: ...
    @property
    def col_unit(self) -> np.ndarray: ...
    @property
    def col_shelter(self) -> np.ndarray: ...
    @property
    def col_ub(self) -> np.ndarray: ...
    def columns_of(self, ui: int) -> np.ndarray: ...
    def add_row(
        self, cols: np.ndarray, coefs: np.ndarray, lo: float, hi: float, kind: str
    ) -> None: ...
    def add_rows(self, block: SparseRows, lo: np.ndarray, hi: np.ndarray, kind: str) -> None:
        """Rows in bulk: row *i* of ``block`` (a scipy sparse matrix, rows x columns) reads
        ``lo[i] <= block[i] . x <= hi[i]``."""


INF = float("inf")


class CapacityRule:
    """On every night, the places used by the stays covering it ≤ the places of that night."""

    name = "capacity"
    label = N_("places by night")

    @staticmethod
    def places(a: Arrival) -> int:
        """Places one arrival uses: one per person, children included."""
        return a.persons

    @staticmethod
    def usage_of(ctx: Context, members: Iterable[Arrival]) -> dict[int, int]:
        """Places a copy made of ``members`` uses, per night of their stays."""
        usage: dict[int, int] = {}
        for m in members:
            k = CapacityRule.places(m)
            for n in ctx.stay(m):
                usage[n] = usage.get(n, 0) + k
        return usage

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
    def critical_nights(places: np.ndarray, starts: np.ndarray, covered: np.ndarray) -> np.ndarray:
        """Nights on which capacity must be checked (shelters x nights, bool), given the
        places and, over the stays that might go to each shelter, the nights on which one
        starts (``starts``) and the nights they cover (``covered``).

        Usage only rises when a stay starts, and places only fall when availability changes,
        so checking those nights (inside some stay) is enough.
        """
        falls = np.zeros(places.shape, dtype=bool)
        falls[:, 1:] = places[:, 1:] < places[:, :-1]
        critical: np.ndarray = starts | (falls & covered)
        return critical

    def check(self, ctx: Context, assignment: Assignment) -> list[Text]:
        out = []
        usage = self.usage_by_shelter(ctx, assignment)
        for sid in sorted(usage):
            places = ctx.nightly_places(ctx.shelters[sid])
            for n, used in enumerate(usage[sid]):
                if used > places[n]:
                    out.append(
                        plural_message(  # numbers and the night as written in the data
                            "capacity: {shelter} holds {n} persons on {night} but has "
                            "{places} places",
                            "capacity: {shelter} holds {n} persons on {night} but has "
                            "{places} places",
                            int(used),
                            shelter=sid,
                            night=str(ctx.scenario.night(n)),
                            places=str(places[n]),
                        )
                    )
        return out

    def add_rows(self, model: LinearRows) -> None:
        """Places used in a shelter on each critical night ≤ its places that night (rows that
        cannot bind, even with every column at its bound, are left out). Built in bulk: per
        shelter and night, sums over its columns as one sparse product."""
        import scipy.sparse as sp  # only the linear model needs it: not on the first plan

        ctx = model.ctx
        if not model.unit_list:  # nobody to place: no row can bind
            return
        need, starts, covered = CapacityRule._unit_nights(ctx, model.unit_list)
        shelters, ub = model.col_shelter, model.col_ub
        incidence = sp.csr_matrix(
            (ub.astype(np.int64), (shelters, model.col_unit)),
            shape=(len(ctx.scenario.shelters), len(model.unit_list)),
        )  # shelters x units: the bound of the column of each pair
        present = incidence.astype(bool).astype(np.int64)
        places = ctx.places_matrix()
        critical = CapacityRule.critical_nights(
            places, (present @ starts) > 0, (present @ covered) > 0
        )
        binding = critical & (incidence @ need > places)  # all at their bounds: over
        row_of = np.full(places.shape, -1, dtype=np.int32)
        row_of[binding] = np.arange(int(binding.sum()))  # by shelter, then night
        # Terms column by column (units, hence columns, in order): a block by columns.
        terms = [
            CapacityRule._terms(model, unit.index, need[unit.index], row_of)
            for unit in model.unit_list
        ]
        counts, rows, coefs = (np.concatenate([t[k] for t in terms]) for k in range(3))
        del terms
        hi = places[binding]
        block = sp.csc_matrix(
            (coefs, rows, np.concatenate([[0], np.cumsum(counts)])),
            shape=(len(hi), len(model.col_unit)),
        )
        del coefs, rows
        model.add_rows(block, np.full(len(hi), -INF), hi, "capacity")

    @staticmethod
    def _unit_nights(
        ctx: Context, units: Sequence[UnitView]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Units x nights: places a copy uses (its ``usage``), where a member's stay starts,
        the nights the members' stays cover."""
        shape = (len(units), ctx.scenario.horizon_days)
        need = np.zeros(shape, dtype=np.int64)
        starts = np.zeros(shape, dtype=np.int64)
        covered = np.zeros(shape, dtype=np.int64)
        for unit in units:
            for n, k in unit.usage.items():
                need[unit.index, n] = k
            for m in unit.members:
                stay = ctx.stay(m)
                if len(stay):
                    starts[unit.index, stay.start] = 1
                    covered[unit.index, stay.start : stay.stop] = 1
        return need, starts, covered

    @staticmethod
    def _terms(
        model: LinearRows, ui: int, need: np.ndarray, row_of: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unit ``ui``'s columns in the capacity rows: per column its number of terms, then
        the terms' rows and places, column by column."""
        nights = np.flatnonzero(need)
        cols = model.columns_of(ui)
        rows = row_of[np.ix_(model.col_shelter[cols], nights)]  # columns x nights
        hit = rows >= 0
        # the places as the smallest integers that hold them, until the model makes the
        # block floats: at 10,000 x 20,000 hard it has 85 M terms, and the copies of them
        # held at once while it is built were the solve's peak (3.5 GB, now 2.6 GB)
        small = need[nights].astype(np.min_scalar_type(int(need.max(initial=0))))
        places = np.broadcast_to(small, rows.shape)
        return hit.sum(axis=1), rows[hit], places[hit]

    @staticmethod
    def tracker(ctx: Context) -> CapacityTracker:
        return CapacityTracker(ctx)


#: from this many shelters, :meth:`CapacityTracker.fits` reads night by night (measured
#: crossing at 800-1,000 shelters for a 14-night stay)
FITS_NIGHT_BY_NIGHT = 1000


class CapacityTracker:
    """Places left per shelter and night (one numpy matrix, shelters x nights)."""

    def __init__(self, ctx: Context) -> None:
        self.places = ctx.places_matrix()
        # column-major: one night's places left, over thousands of shelters, are read at
        # once (:meth:`fits`)
        self.left = np.array(self.places, order="F")

    def most(self, load: Load | UnitView, si: int) -> int | None:
        """Copies of ``load`` that fit in shelter ``si`` (None: no limit)."""
        most = None
        left = self.left[si]
        for n, need in load.usage.items():
            if need:
                fit = int(left[n]) // need
                most = fit if most is None else min(most, fit)
        return most

    def fits(self, load: Load | UnitView, shelters: np.ndarray) -> np.ndarray:
        """Which of ``shelters`` have places for one more copy on every night of the stay."""
        if not load.usage:
            return np.ones(len(shelters), dtype=bool)
        if len(shelters) >= FITS_NIGHT_BY_NIGHT:
            # a night at a time, each a contiguous column: at 6,000 shelters and 14 nights
            # 0.16 ms against 0.67 ms for the submatrix (at 100 shelters, 46 us against 19)
            fits = np.ones(len(shelters), dtype=bool)
            for n, need in load.usage.items():
                fits &= self.left[shelters, n] >= need
            return fits
        nights = np.fromiter(load.usage, dtype=np.int64)
        needs = np.fromiter(load.usage.values(), dtype=np.int64)
        within: np.ndarray = (self.left[np.ix_(shelters, nights)] >= needs).all(axis=1)
        return within

    def place(self, load: Load | UnitView, si: int, copies: int) -> None:
        left = self.left[si]
        for n, need in load.usage.items():
            left[n] -= need * copies

    def used(self) -> np.ndarray:
        """Places used, shelters x nights."""
        used: np.ndarray = self.places - self.left
        return used


class HouseholdRule:
    """The members of a household are all placed in the same shelter, or none is.

    Its encodings are the unit itself: a household is one copy of one unit
    (:func:`solver.units.build_units`), so the linear model, the packing and the re-plans
    place all its members with one decision; :meth:`members_of` gives who moves together.
    """

    name = "household"
    label = N_("households together")

    @staticmethod
    def groups(ctx: Context) -> dict[str, list[str]]:
        """The households of more than one arrival: their members' ids, by household."""
        return ctx.arrival_groups(HouseholdRule.name, HouseholdRule._grouped)

    @staticmethod
    def _grouped(ctx: Context) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for a in ctx.scenario.arrivals:
            if a.household is not None:
                out[a.household].append(a.id)
        return {k: v for k, v in out.items() if len(v) > 1}

    @staticmethod
    def members_of(ctx: Context, a: Arrival) -> list[Arrival]:
        """The arrivals placed together with ``a``: its household, or itself."""
        if a.household is None:
            return [a]
        members = HouseholdRule.groups(ctx).get(a.household)
        return [ctx.arrivals[m] for m in members] if members else [a]

    def check(self, ctx: Context, assignment: Assignment) -> list[Text]:
        out = []
        for household, members in self.groups(ctx).items():
            shelters = {assignment.get(m) for m in members}
            if len(shelters) > 1:
                out.append(
                    message(
                        "household: {household} is split: {shelters}",
                        household=household,
                        shelters=str(sorted(map(str, shelters))),
                    )
                )
        return out

    def add_rows(self, model: LinearRows) -> None:
        """None: a household is one copy of one unit."""

    @staticmethod
    def tracker(ctx: Context) -> None:
        return None  # a household is placed as one load


class KeepApartRule:
    """People linked by ``keep_apart`` are never in the same shelter (the link is symmetric)."""

    name = "keep_apart"
    label = N_("kept apart")

    @staticmethod
    def pairs(ctx: Context) -> list[tuple[str, str]]:
        seen = set()
        for a in ctx.scenario.arrivals:
            for other in a.keep_apart:
                seen.add(tuple(sorted((a.id, other))))
        return sorted(seen)  # type: ignore[arg-type]

    @staticmethod
    def partners(ctx: Context) -> dict[str, set[str]]:
        """Everyone linked to each arrival that has a link."""
        out: dict[str, set[str]] = defaultdict(set)
        for x, y in KeepApartRule.pairs(ctx):
            out[x].add(y)
            out[y].add(x)
        return dict(out)

    @staticmethod
    def unit_pairs(ctx: Context, unit_of: Mapping[str, int]) -> list[tuple[int, int]]:
        """The keep-apart links between units (indices)."""
        return sorted({(unit_of[x], unit_of[y]) for x, y in KeepApartRule.pairs(ctx)})

    def check(self, ctx: Context, assignment: Assignment) -> list[Text]:
        return [
            message(
                "keep_apart: {x} and {y} are both in {shelter}", x=x, y=y, shelter=assignment[x]
            )
            for x, y in self.pairs(ctx)
            if x in assignment and assignment.get(x) == assignment.get(y)
        ]

    def add_rows(self, model: LinearRows) -> None:
        """Two linked units never in the same shelter: one row per shelter they share."""
        import scipy.sparse as sp

        firsts, seconds = [], []
        for x, y in self.unit_pairs(model.ctx, model.unit_of):
            cx, cy = model.columns_of(x), model.columns_of(y)
            _, ix, iy = np.intersect1d(
                model.col_shelter[cx], model.col_shelter[cy], return_indices=True
            )
            firsts.append(cx[ix])
            seconds.append(cy[iy])
        empty = [np.empty(0, dtype=np.int64)]
        a, b = np.concatenate(firsts or empty), np.concatenate(seconds or empty)
        block = sp.csr_matrix(
            (np.ones(2 * len(a)), np.column_stack([a, b]).ravel(), np.arange(len(a) + 1) * 2),
            shape=(len(a), len(model.col_unit)),
        )
        model.add_rows(block, np.full(len(a), -INF), np.ones(len(a)), "keep_apart")

    @staticmethod
    def tracker(ctx: Context) -> KeepApartTracker:
        return KeepApartTracker(ctx)


class KeepApartTracker:
    """Where each linked person is (people in no keep-apart link are not tracked)."""

    def __init__(self, ctx: Context) -> None:
        self.partners = KeepApartRule.partners(ctx)
        self.at: dict[str, dict[int, int]] = defaultdict(dict)  # id -> shelter -> copies

    def together(self, load: Load | UnitView, si: int) -> list[str]:
        """People in shelter ``si`` who must be kept apart from someone of ``load``."""
        return sorted(
            p for m in load.members for p in self.partners.get(m.id, ()) if si in self.at.get(p, ())
        )

    def most(self, load: Load | UnitView, si: int) -> int | None:
        return 0 if self.together(load, si) else None

    def fits(self, load: Load | UnitView, shelters: np.ndarray) -> np.ndarray:
        blocked = [
            si
            for m in load.members
            for p in self.partners.get(m.id, ())
            for si in self.at.get(p, ())
        ]
        return ~np.isin(shelters, blocked) if blocked else np.ones(len(shelters), dtype=bool)

    def place(self, load: Load | UnitView, si: int, copies: int) -> None:
        for m in load.members:
            if m.id in self.partners:
                where = self.at[m.id]
                n = where.get(si, 0) + copies
                if n > 0:
                    where[si] = n
                else:
                    where.pop(si, None)


class NetworkCapRule:
    """At most ``max_per_network_per_shelter`` people of one network in one shelter.

    Children are not counted. The cap applies to people present at the same time or not:
    a coordinator caps how many people of a network know a shelter.
    """

    name = "network_cap"
    label = N_("people of one network per shelter")

    @staticmethod
    def cap(ctx: Context) -> int | None:
        return ctx.scenario.policy.max_per_network_per_shelter

    @staticmethod
    def people_of(members: Iterable[Arrival]) -> dict[str, int]:
        """People per network in a copy made of ``members`` (children not counted)."""
        out: dict[str, int] = {}
        for m in members:
            if m.network is not None:
                out[m.network] = out.get(m.network, 0) + 1
        return out

    @staticmethod
    def groups(ctx: Context) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for a in ctx.scenario.arrivals:
            if a.network is not None:
                out[a.network].append(a.id)
        return dict(out)

    def check(self, ctx: Context, assignment: Assignment) -> list[Text]:
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
                message(
                    "network_cap: {count} people of network {network} in {shelter} (cap {cap})",
                    count=str(n),
                    network=network,
                    shelter=sid,
                    cap=str(cap),
                )
                for sid, n in sorted(count.items())
                if n > cap
            ]
        return out

    def add_rows(self, model: LinearRows) -> None:
        """People of one network in one shelter ≤ the cap (rows that cannot bind left out)."""
        import scipy.sparse as sp

        cap = self.cap(model.ctx)
        if cap is None:
            return
        networks = sorted({net for unit in model.unit_list for net in unit.networks})
        number = {net: i for i, net in enumerate(networks)}
        shelters = len(model.ctx.scenario.shelters)
        keys, cols, coefs = [], [], []  # key: network number x shelters + shelter
        for unit in model.unit_list:
            at = model.columns_of(unit.index)
            for net, k in unit.networks.items():
                keys.append(number[net] * shelters + model.col_shelter[at])
                cols.append(at)
                coefs.append(np.full(len(at), k, dtype=np.int64))
        if not keys:
            return
        key, col, coef = np.concatenate(keys), np.concatenate(cols), np.concatenate(coefs)
        distinct, row = np.unique(key, return_inverse=True)  # by network, then shelter
        most = np.bincount(row, weights=coef * model.col_ub[col], minlength=len(distinct))
        binding = most > cap
        new_row = np.cumsum(binding) - 1
        keep = binding[row]
        hi = np.full(int(binding.sum()), float(cap))
        block = sp.coo_matrix(
            (coef[keep], (new_row[row[keep]], col[keep])), shape=(len(hi), len(model.col_unit))
        )
        model.add_rows(block, np.full(len(hi), -INF), hi, "network_cap")

    @staticmethod
    def tracker(ctx: Context) -> NetworkCapTracker:
        return NetworkCapTracker(ctx)


class NetworkCapTracker:
    """People per network and shelter."""

    def __init__(self, ctx: Context) -> None:
        self.cap = NetworkCapRule.cap(ctx)
        self.count: dict[str, dict[int, int]] = defaultdict(dict)  # network -> shelter -> people

    def there(self, network: str, si: int) -> int:
        """People of ``network`` in shelter ``si``."""
        return self.count.get(network, {}).get(si, 0)

    def over(self, load: Load | UnitView, si: int) -> list[tuple[str, int]]:
        """The networks of ``load`` whose cap one more copy would break in ``si``, with the
        people of that network already there."""
        cap = self.cap
        if cap is None:
            return []
        return [
            (net, self.there(net, si))
            for net, k in sorted(load.networks.items())
            if self.there(net, si) + k > cap
        ]

    def most(self, load: Load | UnitView, si: int) -> int | None:
        cap = self.cap
        if cap is None or not load.networks:
            return None
        return min((cap - self.there(net, si)) // k for net, k in load.networks.items())

    def fits(self, load: Load | UnitView, shelters: np.ndarray) -> np.ndarray:
        cap = self.cap
        if cap is None or not load.networks:
            return np.ones(len(shelters), dtype=bool)
        if any(k > cap for k in load.networks.values()):
            return np.zeros(len(shelters), dtype=bool)  # over the cap on its own, even empty
        full = [
            si
            for net, k in load.networks.items()
            for si, there in self.count.get(net, {}).items()
            if there + k > cap
        ]
        return ~np.isin(shelters, full)

    def place(self, load: Load | UnitView, si: int, copies: int) -> None:
        for net, k in load.networks.items():
            there = self.count[net]
            there[si] = there.get(si, 0) + k * copies


PLAN_RULES: tuple[CapacityRule | HouseholdRule | KeepApartRule | NetworkCapRule, ...] = (
    CapacityRule(),
    HouseholdRule(),
    KeepApartRule(),
    NetworkCapRule(),
)

#: every rule's name as a reader sees it, by its identifier (catalogue message ids)
RULE_LABELS: dict[str, str] = {r.name: r.label for r in (*PAIR_RULES, *PLAN_RULES)}
