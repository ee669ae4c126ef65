"""Why someone was not placed, and what would change that.

Reasons come from the same rules the solver uses: a funnel over the pair rules ("accepts
men: 41 excluded; ≥ 150 km ...: 12 more; ..."), for a household which shelters pass for
each member and which member rules out which, or, when admissible shelters exist, what fills
them on which nights and who holds those places.

Relaxations are only reported once a re-solve (a :data:`ReSolve`, provided by the solver:
:func:`solver.relaxations.feasibility_check`) has placed the person in the changed scenario
while everyone already placed stays placed. The relaxation is then *stated from the
re-solve's plan*, exactly: the shelter she was placed in, the people it moved (never one
whose placement is fixed, i.e. accepted: :attr:`Verification.fixed`), whose parameter
changes, and the places missing night by night. The statement is checked before it is
reported: applied to the scenario (:func:`apply_relaxation`), the stated plan breaks no rule,
and on the unchanged scenario it breaks one (else the change would not be needed). The text
is stated from the statement (:func:`relaxation_message`), never the other way round.

Every reason and relaxation is a catalogue message (:class:`placement.text.Text`, in
``Unplaced.reason_messages`` and ``Relaxation.message``), rendered in English in the plan's
strings and in any reader's language by :meth:`placement.plan.Plan.localized` or
:func:`placement.text.render`.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from placement.admissibility import admissible_for_all, mask_indices
from placement.context import Assignment, Context
from placement.i18n import N_, Translator
from placement.models import Arrival, Scenario, Shelter
from placement.occupancy import Occupancy
from placement.plan import (
    MemberChange,
    Move,
    NightPlaces,
    Relaxation,
    Search,
    ShelterChange,
    Unplaced,
)
from placement.rules import (
    PAIR_RULES,
    CapacityRule,
    ChildrenRule,
    HouseholdRule,
    KeepApartRule,
    LanguageRule,
    Load,
    NeedsRule,
    PairRule,
    SafetyDistanceRule,
    StaleCapacityRule,
    TransInclusionRule,
    load_of,
)
from placement.text import ENGLISH, Items, Param, Text, day, listed, message, plural_message
from placement.validation import plan_violations

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resolved:
    """What the re-solve that verifies a relaxation found.

    ``assignment``: everyone who had to stay placed (some perhaps moved) and the people to
    place, when it placed them all; None otherwise. ``decided``: False when it could not
    tell within its time limit or size (the change may still work).
    """

    assignment: dict[str, str] | None
    decided: bool = True


#: (changed scenario, the plan whose people must stay placed, the ids to place, the ids whose
#: placement may not move) -> what the re-solve found
ReSolve = Callable[[Scenario, Assignment, Sequence[str], frozenset[str]], Resolved]


@dataclass(frozen=True)
class Verification:
    """How relaxations are verified: the re-solve and its budgets.

    ``fixed``: arrivals whose placement is accepted and may never move. In a plan job of the
    service, accepted placements are not in the scenario at all (they are capacity already
    used), so the set is empty there; a caller that puts accepted placements in the scenario
    (alongside merely planned ones) lists them here and the re-solve keeps them in place.
    """

    resolve: ReSolve
    fixed: frozenset[str] = frozenset()
    max_checks_per_person: int = 6
    time_budget: float | None = None  # seconds for all re-solves of one plan


MAX_LISTED_SHELTERS = 5


# --- texts ---------------------------------------------------------------------------
# Every text is a catalogue message (placement.text) with named parameters, rendered in the
# reader's language when shown; the string fields of a plan hold the English rendering.
def night_ranges(sc: Scenario, nights: Iterable[int]) -> list[tuple[date, date]]:
    """Consecutive night indices as (first night, last night) date pairs."""
    out: list[tuple[date, date]] = []
    for n in sorted(set(nights)):
        d = sc.night(n)
        if out and out[-1][1] + timedelta(days=1) == d:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def format_range(first: date, last: date) -> str:
    """``2026-12-04 to 2026-12-08`` (ISO dates, for reports that are not translated)."""
    return str(first) if first == last else f"{first} to {last}"


def format_ranges(ranges: list[tuple[date, date]]) -> str:
    return ", ".join(format_range(a, b) for a, b in ranges)


def on_nights(first: date, last: date) -> Text:
    """``on 4 Dec 2026`` or ``on 4 Dec 2026 to 8 Dec 2026`` (``le ...``, ``du ... au ...``)."""
    if first == last:
        return message("on {day}", day=day(first))
    return message("on {first} to {last}", first=day(first), last=day(last))


def runs_by_night(sc: Scenario, values: dict[int, int]) -> list[tuple[int, date, date]]:
    """Night-indexed numbers as runs of consecutive nights with the same number."""
    runs: list[tuple[int, list[int]]] = []
    for n in sorted(values):
        if runs and runs[-1][0] == values[n] and runs[-1][1][-1] == n - 1:
            runs[-1][1].append(n)
        else:
            runs.append((values[n], [n]))
    return [(v, sc.night(ns[0]), sc.night(ns[-1])) for v, ns in runs]


def places_by_night(runs: Iterable[tuple[int, date, date]], free: bool = False) -> Items:
    """``no place at all on ..., 1 place on ..., 2 places on ...`` (``free``: free places)."""
    out: list[Param] = []
    for v, a, b in runs:
        nights = on_nights(a, b)
        if v == 0 and free:
            out.append(message("no free place {nights}", nights=nights))
        elif v == 0:
            out.append(message("no place at all {nights}", nights=nights))
        elif free:
            out.append(
                plural_message(
                    "{n} free place {nights}", "{n} free places {nights}", v, nights=nights
                )
            )
        else:
            out.append(
                plural_message("{n} place {nights}", "{n} places {nights}", v, nights=nights)
            )
    return listed(out)


#: each kind of relaxation as a reader sees it (catalogue message ids: translate to show)
RELAXATION_KINDS: dict[str, str] = {
    "add_places": N_("more places"),
    "safety_distance": N_("a shorter safety distance"),
    "drop_language_requirement": N_("an interpreter instead of a shared language"),
    "drop_need": N_("doing without a need"),
    "shelter_change": N_("a change in a shelter"),
}

#: the shelter attributes a ``shelter_change`` relaxation sets, and how it reads
SHELTER_CHANGE_WORDS = {
    "trans_inclusive": N_("{shelter} became trans-inclusive"),
    "children": N_("{shelter} took children"),
    "stale": N_("{shelter} confirmed its places"),
}


def _change_message(r: Relaxation) -> Param:
    """What changes, and for whom: the first part of a relaxation's text."""
    s = r.shelter_change
    if r.kind == "add_places" and s is not None:
        nights = Items(
            items=tuple(
                plural_message(
                    "{n} place {nights}",
                    "{n} places {nights}",
                    n.places,
                    nights=on_nights(n.first_night, n.last_night),
                )
                for n in s.add_places
            )
        )
        return message("more places in {shelter}: {nights}", shelter=s.shelter, nights=nights)
    if r.kind == "shelter_change" and s is not None:
        attribute = next(k for k in SHELTER_CHANGE_WORDS if getattr(s, k) is not None)
        return message(SHELTER_CHANGE_WORDS[attribute], shelter=s.shelter)
    if r.kind == "safety_distance":
        distances = tuple(
            message(
                "a safety distance of {km} km instead of {previous} km for {whose}",
                km=m.safety_distance_km or 0.0,
                previous=m.previous_safety_distance_km or 0.0,
                whose=_whose(r, m),
            )
            for m in r.members
        )
        return listed(distances, "and")
    whose = listed(_whose(r, m) for m in r.members)
    if r.kind == "drop_need":
        return message(
            "do without '{need}' for {whose}", need=r.members[0].drop_need or "", whose=whose
        )
    return message("accept an interpreter instead of a shared language for {whose}", whose=whose)


def _whose(r: Relaxation, m: MemberChange) -> Param:
    if m.arrival == r.arrival:
        return m.arrival
    return message("household member {arrival}", arrival=m.arrival)


def relaxation_message(r: Relaxation) -> Text:
    """The text of a relaxation, stated from its fields only."""
    change = _change_message(r)
    if r.moves:
        moves = Items(
            items=tuple(
                message(
                    "{arrival} from {from_shelter} to {to_shelter}",
                    arrival=m.arrival,
                    from_shelter=m.from_shelter,
                    to_shelter=m.to_shelter,
                )
                for m in r.moves
            )
        )
        text = plural_message(
            "{change}; placed in {shelter}; {n} person planned (not yet accepted) moves: {moves}",
            "{change}; placed in {shelter}; {n} persons planned (not yet accepted) move: {moves}",
            len(r.moves),
            change=change,
            shelter=r.placed_in,
            moves=moves,
        )
    else:
        text = message(
            "{change}; placed in {shelter}, nobody else moves", change=change, shelter=r.placed_in
        )
    if r.below_floor_km is not None:
        return message(
            "{relaxation} — below the policy floor of {km} km: not advised",
            relaxation=text,
            km=r.below_floor_km,
        )
    return text


def relaxation_text(r: Relaxation, t: Translator = ENGLISH) -> str:
    """The text of a relaxation in ``t``'s language, stated from its fields only."""
    return relaxation_message(r).render(t)


def with_message(r: Relaxation) -> Relaxation:
    """``r`` with its message and its (English) text stated from its fields."""
    m = relaxation_message(r)
    return r.model_copy(update={"message": m, "text": str(m)})


def search_message(u: Unplaced) -> Text | None:
    """What a reader must know about how far the search for relaxations went, if anything."""
    unverified = plural_message(
        "{n} possible change not verified (re-solve time limit, size of the scenario, or the "
        "limit of changes tried per person): it may work",
        "{n} possible changes not verified (re-solve time limit, size of the scenario, or the "
        "limit of changes tried per person): they may work",
        u.unverified,
    )
    if u.search == "not_searched":
        return message("changes not searched: time budget reached")
    if u.search == "stopped" and u.unverified:
        return message(
            "search for changes stopped: time budget reached; {unverified}", unverified=unverified
        )
    if u.search == "stopped":
        return message("search for changes stopped: time budget reached")
    if u.unverified:
        return unverified
    return None


def search_text(u: Unplaced, t: Translator = ENGLISH) -> str | None:
    """:func:`search_message` in ``t``'s language."""
    note = search_message(u)
    return None if note is None else note.render(t)


# --- the pair-rule funnel ------------------------------------------------------------
def funnel(
    ctx: Context,
    a: Arrival,
    rules: Sequence[PairRule] = PAIR_RULES,
    among: np.ndarray | None = None,
) -> list[tuple[PairRule, int]]:
    """How many shelters each pair rule removes, in order, among those still left
    (``among``: start from these shelters instead of all)."""
    left = ctx.everything() if among is None else among
    out = []
    for rule in rules:
        kept = left & ctx.rule_mask(rule, a)
        removed = int(left.sum() - kept.sum())
        if removed:
            out.append((rule, removed))
        left = kept
    return out


def _funnel_text(
    ctx: Context, a: Arrival, steps: list[tuple[PairRule, int]], emptied: bool
) -> Items:
    """``accepts women: 6 excluded; ...: 54 more; ...: the last 2`` (``emptied``: nothing is
    left after the last step)."""
    parts: list[Param] = []
    for i, (rule, removed) in enumerate(steps):
        req = rule.requirement(ctx, a)
        if i == 0:
            part = plural_message(
                "{requirement}: {n} excluded",
                "{requirement}: {n} excluded",
                removed,
                requirement=req,
            )
        elif i == len(steps) - 1 and emptied:
            part = plural_message(
                "{requirement}: the last one",
                "{requirement}: the last {n}",
                removed,
                requirement=req,
            )
        else:
            part = plural_message(
                "{requirement}: {n} more", "{requirement}: {n} more", removed, requirement=req
            )
        parts.append(part)
    return listed(parts, "semicolon")


def _listed(ids: list[str]) -> Param:
    shown = listed(ids[:MAX_LISTED_SHELTERS])
    if len(ids) <= MAX_LISTED_SHELTERS:
        return shown
    return message(
        "{shelters} and {more} more", shelters=shown, more=len(ids) - MAX_LISTED_SHELTERS
    )


# --- the explainer -------------------------------------------------------------------
@dataclass
class _Found:
    """The relaxations found for one unit, and how far the search went."""

    relaxations: list[Relaxation]
    search: Search
    unverified: int = 0


class Explainer:
    """Explains every unplaced arrival of one plan."""

    def __init__(
        self,
        ctx: Context,
        assignment: Assignment,
        verification: Verification | None = None,
        proven: bool = True,
        own: frozenset[str] = frozenset(),
    ) -> None:
        self.ctx = ctx
        #: stand-ins of the request being explained (a hold's places already picked): their
        #: places are "of this request", not people of some priority
        self.own = own
        self.assignment = dict(assignment)
        self.verification = verification
        self.proven = proven  # whether the plan is proven optimal: some wording depends on it
        # Relaxation re-solves stop once this budget is spent; reasons are always given.
        budget = None if verification is None else verification.time_budget
        self.deadline = None if budget is None else time.monotonic() + budget
        # Who is where, and what the plan rules count of it (places used, linked people,
        # people per network), computed once for the whole plan by the rules' own checkers.
        self.holders: dict[str, list[Arrival]] = {}
        for aid, sid in self.assignment.items():
            self.holders.setdefault(sid, []).append(ctx.arrivals[aid])
        self.occupancy = Occupancy.of_assignment(ctx, self.assignment)
        self.used = self.occupancy.capacity.used()  # places used, shelters x nights

    # --- the whole plan -------------------------------------------------------------
    def explain_all(
        self, until: float | None = None, earlier: Sequence[Unplaced] = ()
    ) -> list[Unplaced]:
        """Unplaced arrivals by priority (highest first), then id. Members of one household,
        and people identical in every attribute, share one explanation (computed once):
        the budget goes further and nobody is left without one. ``until``: a
        ``time.monotonic()`` after which the people not yet explained get their ``earlier``
        explanation (the same plan's, written before without relaxations), else are only
        told so (:func:`not_explained`; the time limit of a solve is kept). The people
        explained in ``earlier`` keep its reasons (the same plan gives the same ones); only
        what would place them is searched again."""
        before = {u.arrival: u for u in earlier}
        unplaced = [a for a in self.ctx.scenario.arrivals if a.id not in self.assignment]
        unplaced.sort(key=lambda a: (-a.priority, a.id))
        keys = {a.id: self._sharing_key(a) for a in unplaced}
        alike: dict[str, list[Arrival]] = {}
        for a in unplaced:
            alike.setdefault(keys[a.id], []).append(a)
        done: dict[str, Unplaced] = {}
        out = []
        for a in unplaced:
            key = keys[a.id]
            if key not in done and until is not None and time.monotonic() > until:
                if a.id in before:
                    out.append(before[a.id])
                    continue
                done[key] = not_explained(a)
            if key not in done:
                done[key] = self.explain(a, alike=alike[key], reasons=_reasons(before.get(a.id)))
            out.append(_for_arrival(done[key], a, same_person=not key.startswith("household ")))
        return out

    def _sharing_key(self, a: Arrival) -> str:
        """Arrivals with the same key get the same explanation: a household's members, and
        people in no household nor keep-apart link who differ only by their id."""
        if len(HouseholdRule.members_of(self.ctx, a)) > 1:
            return f"household {a.household}"
        if a.id in self._linked():
            return f"arrival {a.id}"
        return json.dumps(a.model_dump(mode="json", exclude={"id"}), sort_keys=True)

    def _linked(self) -> set[str]:
        if not hasattr(self, "_linked_ids"):
            self._linked_ids = set(KeepApartRule.partners(self.ctx))
        return self._linked_ids

    def explain(
        self,
        a: Arrival,
        relax: bool = True,
        alike: Sequence[Arrival] = (),
        reasons: Sequence[Text] | None = None,
    ) -> Unplaced:
        """Why ``a`` (with her household) is not placed, and what would change that.
        ``alike``: the unplaced people identical to her (herself included); ``reasons``:
        why, when already written for this plan (only the changes are then searched)."""
        members = HouseholdRule.members_of(self.ctx, a)
        index = None  # the shelters admissible for them all: found when needed
        if reasons is None:
            index = self._admissible(members)
            why = self._reasons(members, alike, index)
        else:
            why = list(reasons)
        found = _Found([], "off")
        if relax and self.verification is not None:
            found = self._relaxations(a, members, index)
        return Unplaced(
            arrival=a.id,
            priority=a.priority,
            persons=a.persons,
            reasons=[str(r) for r in why],
            reason_messages=why,
            relaxations=found.relaxations,
            search=found.search,
            unverified=found.unverified,
        )

    def _admissible(self, members: list[Arrival]) -> np.ndarray:
        """The shelters admissible for all ``members``: nearest first (to the first
        member's danger), then by id."""
        index = np.flatnonzero(admissible_for_all(self.ctx, members))
        return index[
            np.lexsort((self.ctx.id_ranks()[index], self.ctx.distances(members[0])[index]))
        ]

    def _reasons(
        self, members: list[Arrival], alike: Sequence[Arrival], index: np.ndarray
    ) -> list[Text]:
        """Why ``members`` (one household, or one person) are not placed: ``index``, the
        shelters admissible for them all, nearest first."""
        a = members[0]
        reasons: list[Text] = []
        if len(alike) > 1 and len(members) == 1:
            reasons.append(
                message(
                    "one of {count} identical people left unplaced ({people}): each change "
                    "below places one of them",
                    count=len(alike),
                    people=listed(x.id for x in alike),
                )
            )
        if len(members) > 1:
            reasons.append(
                message(
                    "household {household}: its {members} members ({persons} persons) are "
                    "placed together or not at all",
                    household=a.household or "",
                    members=len(members),
                    persons=sum(m.persons for m in members),
                )
            )
        if not len(index):
            reasons += self._no_candidate_reasons(members)
        else:
            reasons += self._blocked_reasons(members, index)
        return reasons

    # --- reasons --------------------------------------------------------------------
    def _no_candidate_reasons(self, members: list[Arrival]) -> list[Text]:
        total = len(self.ctx.scenario.shelters)
        if len(members) == 1:
            m = members[0]
            steps = funnel(self.ctx, m)
            return [
                message(
                    "no shelter passes the rules (of {total}): {funnel}",
                    total=total,
                    funnel=_funnel_text(self.ctx, m, steps, emptied=True),
                )
            ]
        return self._household_reasons(members)

    def _household_reasons(self, members: list[Arrival]) -> list[Text]:
        """No shelter passes for every member: which pass for each, and which member rules
        out which of the shelters that pass for another."""
        ctx = self.ctx
        total = len(ctx.scenario.shelters)
        passes = {m.id: admissible_for_all(ctx, [m]) for m in members}
        out = []
        for m in members:
            ids = [ctx.scenario.shelters[i].id for i in mask_indices(passes[m.id])]
            if ids:
                out.append(
                    plural_message(
                        "{member}: {n} shelter passes every rule ({shelters})",
                        "{member}: {n} shelters pass every rule ({shelters})",
                        len(ids),
                        member=m.id,
                        shelters=_listed(ids),
                    )
                )
            else:
                text = _funnel_text(ctx, m, funnel(ctx, m), emptied=True)
                out.append(
                    message(
                        "{member}: no shelter passes the rules (of {total}): {funnel}",
                        member=m.id,
                        total=total,
                        funnel=text,
                    )
                )
        union = np.logical_or.reduce([passes[m.id] for m in members])
        if all(passes[m.id].any() for m in members):
            out.append(
                plural_message(
                    "but no shelter passes for all {members} members at once; of the {n} "
                    "shelter that passes for some member:",
                    "but no shelter passes for all {members} members at once; of the {n} "
                    "shelters that pass for some member:",
                    int(union.sum()),
                    members=len(members),
                )
            )
        for m in members:
            ruled_out = union & ~passes[m.id]
            if passes[m.id].any() and ruled_out.any():
                steps = funnel(ctx, m, among=union)
                out.append(
                    message(
                        "{member} rules out {count}: {funnel}",
                        member=m.id,
                        count=int(ruled_out.sum()),
                        funnel=_funnel_text(ctx, m, steps, emptied=False),
                    )
                )
        return out

    def _blocked_reasons(self, members: list[Arrival], index: np.ndarray) -> list[Text]:
        """Why the admissible shelters (positions in the scenario, nearest first) cannot
        take the unit in this plan."""
        load = load_of(self.ctx, members)
        # Full or blocked by a plan rule, over all candidates at once (the unit is not
        # placed: no place of its own to free).
        flagged = ~self.occupancy.fits(load, index)
        # Described one by one: the nearest blocked shelters only; the others are counted.
        shelters = self.ctx.scenario.shelters
        with_room = np.flatnonzero(~flagged)
        room = [shelters[i].id for i in index[with_room[:MAX_LISTED_SHELTERS]].tolist()]
        blocked = int(flagged.sum())
        lines = [
            message(
                "{shelter}: {why}",
                shelter=shelters[si].id,
                why=listed(self._why_blocked(members, load, si), "semicolon"),
            )
            for si in index[np.flatnonzero(flagged)[:MAX_LISTED_SHELTERS]].tolist()
        ]
        if room:
            out = [
                plural_message(
                    "{n} shelter passes every rule", "{n} shelters pass every rule", len(index)
                )
            ]
        else:
            out = [
                plural_message(
                    "{n} shelter passes every rule, but it has no room for the whole stay",
                    "{n} shelters pass every rule, but none has room for the whole stay",
                    len(index),
                )
            ]
        cap = self.occupancy.network_cap.cap
        out += [
            message(
                "its members include {count} people of network {network}, over the cap of "
                "{cap} per shelter: no shelter may take them together",
                count=k,
                network=net,
                cap=cap,
            )
            for net, k in sorted(load.networks.items())
            if cap is not None and k > cap
        ]
        out += lines
        if blocked > len(lines):
            out.append(
                plural_message(
                    "... and {n} more shelter, full or blocked",
                    "... and {n} more shelters, full or blocked",
                    blocked - len(lines),
                )
            )
        if room:
            out.append(
                message(
                    "{shelters} would have room: this plan is not proven optimal (baseline "
                    "solver or time limit)",
                    shelters=listed(room[:MAX_LISTED_SHELTERS]),
                )
            )
        return out

    def _why_blocked(self, members: list[Arrival], load: Load, si: int) -> list[Text]:
        """What each plan rule counts against one more copy of ``load`` in shelter ``si``."""
        why = self._capacity_reason(members, load, si)
        together = self.occupancy.keep_apart.together(load, si)
        if together:
            why.append(
                message(
                    "holds {people}, who must be kept apart",
                    people=listed(together),
                )
            )
        cap = self.occupancy.network_cap.cap
        why += [
            message(
                "already holds {count} of network {network} (cap {cap})",
                count=there,
                network=net,
                cap=cap or 0,
            )
            for net, there in self.occupancy.network_cap.over(load, si)
            if load.networks[net] <= (cap or 0)  # else the unit alone is over the cap
        ]
        return why

    def _capacity_reason(self, members: list[Arrival], load: Load, si: int) -> list[Text]:
        """Every night of the stay that blocks, in runs: too small even when empty, or full
        (and by whom)."""
        ctx = self.ctx
        need = load.usage
        places = ctx.places_matrix()[si]
        used = self.used[si]
        small = {n: int(places[n]) for n, k in need.items() if places[n] < k}
        short = {n for n, k in need.items() if n not in small and places[n] - used[n] < k}
        out = []
        if small:
            runs = runs_by_night(ctx.scenario, small)
            out.append(
                message(
                    "too small even when empty: {places}; {needed} needed",
                    places=places_by_night(runs),
                    needed=max(need[n] for n in small),
                )
            )
        if short:
            out.append(self._full_reason(members, si, {n: need[n] for n in short}))
        return out

    def _full_reason(self, members: list[Arrival], si: int, need: dict[int, int]) -> Text:
        """Full on the nights of ``need`` (night -> places needed), and who holds the places."""
        ctx = self.ctx
        places, used = ctx.places_matrix()[si], self.used[si]
        ids = {m.id for m in members}
        priority = max(m.priority for m in members)
        holders = [
            h
            for h in self.holders.get(ctx.scenario.shelters[si].id, [])
            if h.id not in ids and any(n in ctx.stay(h) for n in need)
        ]
        fixed = frozenset() if self.verification is None else self.verification.fixed
        mine = sum(h.persons for h in holders if h.id in self.own)
        holders = [h for h in holders if h.id not in self.own]
        kept = sum(h.persons for h in holders if h.id in fixed)
        holders = [h for h in holders if h.id not in fixed]
        free = {n: max(0, int(places[n] - used[n])) for n in need}
        full = places_by_night(runs_by_night(ctx.scenario, free), free=True)
        needed = max(need.values())
        taken = _taken_by_fixed(mine, kept)
        if taken is not None and not holders:
            return message(
                "full: {free}; {needed} needed; taken by {taken}",
                free=full,
                needed=needed,
                taken=taken,
            )
        by_priority = self._taken_by_priority(holders, priority)
        if taken is not None:
            return message(
                "full: {free}; {needed} needed; taken by {taken}; the rest taken by {holders}",
                free=full,
                needed=needed,
                taken=taken,
                holders=by_priority,
            )
        return message(
            "full: {free}; {needed} needed; taken by {holders}",
            free=full,
            needed=needed,
            holders=by_priority,
        )

    def _taken_by_priority(self, holders: list[Arrival], priority: int) -> Text:
        """``1 person of priority ≥ 3 and 2 of lower priority (...)``."""
        higher = sum(h.persons for h in holders if h.priority >= priority)
        lower = sum(h.persons for h in holders if h.priority < priority)
        if not lower:
            return plural_message(
                "{n} person of priority ≥ {priority}",
                "{n} persons of priority ≥ {priority}",
                higher,
                priority=priority,
            )
        if self.proven:
            return plural_message(
                "{n} person of priority ≥ {priority} and {lower} of lower priority (this "
                "keeps more people of higher priority placed overall)",
                "{n} persons of priority ≥ {priority} and {lower} of lower priority (this "
                "keeps more people of higher priority placed overall)",
                higher,
                priority=priority,
                lower=lower,
            )
        return plural_message(
            "{n} person of priority ≥ {priority} and {lower} of lower priority",
            "{n} persons of priority ≥ {priority} and {lower} of lower priority",
            higher,
            priority=priority,
            lower=lower,
        )

    # --- relaxations ----------------------------------------------------------------
    def _relaxations(self, a: Arrival, members: list[Arrival], index: np.ndarray | None) -> _Found:
        """Changes that place the unit; ``index``: the shelters admissible for it, nearest
        first (:meth:`_admissible`; None: found here). Tried in this order, each kind by its
        own function below; none once the time budget is spent (finding them took most of
        a person's time in the second pass of a solve's reasons: at 3,000 x 6,000 hard,
        T = 60, 412 people went through it unsearched)."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            return _Found([], "not_searched")
        if index is None:
            index = self._admissible(members)
        nearest = [self.ctx.scenario.shelters[i] for i in index[:2].tolist()]
        ctx = self.ctx
        only = near_misses(ctx, members)
        above, below = distance_candidates(ctx, members, only.get(SafetyDistanceRule.name, []))
        tries = more_places(ctx, self.used, members, nearest)
        tries += [shorter_distance(ctx, members, s) for s in above[:2]]
        tries += interpreter_instead(ctx, members, only.get(LanguageRule.name, []))
        tries += without_need(ctx, members, only.get(NeedsRule.name, []))
        tries += shelter_changes(ctx, only)
        found = self._verified(a, members, tries)
        if not found.relaxations and below and found.search == "complete":
            # Nothing else works: say what would, and that the policy advises against it.
            more = self._verified(a, members, [shorter_distance(ctx, members, below[0])])
            more.unverified += found.unverified
            return more
        return found

    def _verified(self, a: Arrival, members: list[Arrival], tries: list[Try]) -> _Found:
        """The relaxations a re-solve confirms, stated from its plan, within the per-person
        and time budgets."""
        assert self.verification is not None
        v = self.verification
        ids = [m.id for m in members]
        keep = {k: s for k, s in self.assignment.items() if k not in ids}
        found = _Found([], "complete", max(0, len(tries) - v.max_checks_per_person))
        for i, t in enumerate(tries[: v.max_checks_per_person]):
            if self.deadline is not None and time.monotonic() > self.deadline:
                found.search = "stopped" if i else "not_searched"
                found.unverified += len(tries[i : v.max_checks_per_person])
                break
            resolved = v.resolve(t.changed, keep, ids, v.fixed)
            if resolved.assignment is not None:
                stated = self._stated(a, members, t, resolved.assignment)
                if stated is not None and stated not in found.relaxations:
                    found.relaxations.append(stated)  # two tries may end in one statement
            elif not resolved.decided:
                found.unverified += 1
        return found

    def _stated(
        self, a: Arrival, members: list[Arrival], t: Try, placed: Assignment
    ) -> Relaxation | None:
        """The relaxation as the re-solve's plan ``placed`` shows it: exact and checked.
        None when that plan needs no change at all (the plan was not optimal) or when the
        statement does not hold (logged: it would be a bug)."""
        ctx = self.ctx
        ids = {m.id for m in members}
        target = placed[a.id]
        moves = [
            Move(arrival=k, from_shelter=s, to_shelter=placed[k])
            for k, s in sorted(self.assignment.items())
            if k not in ids and placed.get(k, s) != s
        ]
        if not plan_violations(ctx, placed):
            return None  # the person fits without the change: nothing to suggest
        relaxation = t.state(ctx, members, ctx.shelters[target], placed)
        if relaxation is None:
            return None
        relaxation = relaxation.model_copy(
            update={"arrival": a.id, "placed_in": target, "moves": moves}
        )
        relaxation = with_message(relaxation)
        assert self.verification is not None
        moved_fixed = {m.arrival for m in moves} & self.verification.fixed
        problems = plan_violations(Context(apply_relaxation(ctx.scenario, relaxation)), placed)
        if problems or moved_fixed or set(self.assignment) - set(placed):
            log.error("relaxation not stated exactly: %s %s", relaxation, problems[:3])
            return None
        return relaxation


#: the reason of an unplaced person the time limit left no time to explain
NOT_EXPLAINED = N_("not explained: the time limit was reached before the reasons were computed")


def not_explained(a: Arrival) -> Unplaced:
    """``a`` unplaced, with no reason but that the time limit came first."""
    reason = message(NOT_EXPLAINED)
    return Unplaced(
        arrival=a.id,
        priority=a.priority,
        persons=a.persons,
        reasons=[str(reason)],
        reason_messages=[reason],
    )


def _reasons(u: Unplaced | None) -> list[Text] | None:
    """The reasons ``u`` gives, if it was explained (not told the time came first)."""
    if u is None or not u.reason_messages or u.reason_messages[0].msgid == NOT_EXPLAINED:
        return None
    return u.reason_messages


def _for_arrival(u: Unplaced, a: Arrival, same_person: bool) -> Unplaced:
    """A shared explanation, for ``a``: a member of the same household, or (``same_person``)
    someone identical whose own parameters are those the relaxations change."""
    if u.arrival == a.id:
        return u
    relaxations = []
    for r in u.relaxations:
        members = [
            m.model_copy(update={"arrival": a.id}) if same_person and m.arrival == r.arrival else m
            for m in r.members
        ]
        r = r.model_copy(update={"arrival": a.id, "members": members})
        relaxations.append(with_message(r))
    return u.model_copy(
        update={
            "arrival": a.id,
            "priority": a.priority,
            "persons": a.persons,
            "relaxations": relaxations,
        }
    )


def _taken_by_fixed(mine: int, kept: int) -> Items | None:
    """Places of the request itself and of placements that never move, if any."""
    taken: list[Param] = []
    if mine:
        taken.append(
            plural_message("{n} place of this request", "{n} places of this request", mine)
        )
    if kept:
        taken.append(
            plural_message(
                "{n} person already placed (placements never move)",
                "{n} persons already placed (placements never move)",
                kept,
            )
        )
    return listed(taken, "and") if taken else None


# --- applying a relaxation -----------------------------------------------------------
def apply_relaxation(sc: Scenario, r: Relaxation) -> Scenario:
    """The scenario with the relaxation's changes made: what a client does to act on it
    (the moves and the placement are changes of the plan, not of the scenario)."""
    changes = {m.arrival: m for m in r.members}
    arrivals = tuple(
        _changed_arrival(a, changes[a.id]) if a.id in changes else a for a in sc.arrivals
    )
    sc = sc.model_copy(update={"arrivals": arrivals})
    s = r.shelter_change
    if s is None:
        return sc
    shelter = next(x for x in sc.shelters if x.id == s.shelter)
    updates = {k: getattr(s, k) for k in SHELTER_CHANGE_WORDS if getattr(s, k) is not None}
    shelter = shelter.model_copy(update=updates)
    if s.add_places:
        nightly = shelter.places_by_night(sc.start, sc.horizon_days, sc.end)
        for run in s.add_places:
            first = (run.first_night - sc.start).days
            for n in range(first, (run.last_night - sc.start).days + 1):
                nightly[n] += run.places
        shelter = shelter.with_nightly_places(sc.start, nightly)
    return _replace_shelter(sc, shelter)


def _changed_arrival(a: Arrival, m: MemberChange) -> Arrival:
    update: dict[str, object] = {}
    if m.safety_distance_km is not None:
        update["safety_distance_km"] = m.safety_distance_km
    if m.language_required is not None:
        update["language_required"] = m.language_required
    if m.drop_need is not None:
        update["needs"] = tuple(n for n in a.needs if n != m.drop_need)
    return a.model_copy(update=update)


# --- relaxations, one function per kind ---------------------------------------------
#: states a verified relaxation from where the re-solve placed the unit: (context of the
#: unchanged scenario, the unit's members, the shelter it went to, the re-solve's plan)
State = Callable[[Context, Sequence[Arrival], Shelter, Assignment], "Relaxation | None"]


@dataclass(frozen=True)
class Try:
    """A candidate change: the changed scenario a re-solve tries, and how to state the
    relaxation once the re-solve has placed the unit."""

    changed: Scenario
    state: State


def _relaxation(kind: str, **fields: object) -> Relaxation:
    """A relaxation before the re-solve's facts (arrival, placed_in, moves, text) are set."""
    return Relaxation.model_validate(
        {"kind": kind, "text": "", "arrival": "", "placed_in": "", **fields}
    )


def _failing(ctx: Context, members: Sequence[Arrival], rule: PairRule, s: Shelter) -> list[Arrival]:
    """The members for whom ``rule`` refuses ``s`` in the unchanged scenario."""
    return [m for m in members if not ctx.rule_mask(rule, m)[ctx.index(s)]]


def near_misses(ctx: Context, members: Sequence[Arrival]) -> dict[str, list[Shelter]]:
    """Shelters that fail exactly one pair rule for the household, by the rule's name."""
    only: dict[str, list[Shelter]] = {}
    everything = ctx.everything()
    passes = {r.name: everything for r in PAIR_RULES}  # passes rule r for every member
    for m in members:
        for r in PAIR_RULES:
            passes[r.name] = passes[r.name] & ctx.rule_mask(r, m)
    for r in PAIR_RULES:
        rest = everything
        for other in PAIR_RULES:
            if other is not r:
                rest = rest & passes[other.name]
        failing_only_r = rest & ~passes[r.name]
        if failing_only_r.any():
            shelters = ctx.scenario.shelters
            only[r.name] = [shelters[i] for i in mask_indices(failing_only_r)]
    return only


def more_places(
    ctx: Context, used: np.ndarray, members: Sequence[Arrival], nearest: Sequence[Shelter]
) -> list[Try]:
    """``add_places``: the places missing in each of the nearest admissible shelters, on the
    nights they are short (``used``: places used, shelters x nights). Stated as the places
    the re-solve's plan uses there beyond those the shelter has, night by night."""
    tries: list[Try] = []
    need = CapacityRule.usage_of(ctx, members)
    for s in nearest:
        places = list(ctx.nightly_places(s))
        taken = used[ctx.index(s)].tolist()
        add = {n: k - (places[n] - taken[n]) for n, k in need.items() if places[n] - taken[n] < k}
        if not add:
            continue
        for n, k in add.items():
            places[n] += k
        changed = _replace_shelter(ctx.scenario, s.with_nightly_places(ctx.scenario.start, places))
        tries.append(Try(changed, _state_places(s.id)))
    return tries


def _state_places(sid: str) -> State:
    def state(
        ctx: Context, members: Sequence[Arrival], target: Shelter, placed: Assignment
    ) -> Relaxation | None:
        usage = CapacityRule.usage_by_shelter(ctx, {k: v for k, v in placed.items() if v == sid})
        places = ctx.nightly_places(ctx.shelters[sid])
        over = {n: u - places[n] for n, u in enumerate(usage.get(sid, [])) if u > places[n]}
        if not over:
            return None
        runs = [
            NightPlaces(first_night=a, last_night=b, places=v)
            for v, a, b in runs_by_night(ctx.scenario, over)
        ]
        return _relaxation("add_places", shelter_change=ShelterChange(shelter=sid, add_places=runs))

    return state


def distance_candidates(
    ctx: Context, members: Sequence[Arrival], near: Sequence[Shelter]
) -> tuple[list[Shelter], list[Shelter]]:
    """Shelters failing only the safety distance, farthest first: those at or above the
    policy's floor, and those below it."""
    floor = ctx.scenario.policy.safety_distance_floor_km
    by_distance = sorted(near, key=lambda s: (-ctx.distance_km(members[0], s), s.id))
    above = [s for s in by_distance if min(ctx.distance_km(m, s) for m in members) >= floor]
    below = [s for s in by_distance if s not in above]
    return above, below


def shorter_distance(ctx: Context, members: Sequence[Arrival], s: Shelter) -> Try:
    """``safety_distance``: the distance that would let shelter ``s`` in, tried for every
    member; stated only for the members whose own distance keeps out the shelter the
    re-solve used, each with the distance that shelter needs."""
    km = float(math.floor(min(ctx.distance_km(m, s) for m in members)))
    ids = [m.id for m in members]
    return Try(_replace_arrivals(ctx.scenario, ids, safety_distance_km=km), _state_distance)


def _state_distance(
    ctx: Context, members: Sequence[Arrival], target: Shelter, placed: Assignment
) -> Relaxation | None:
    changes = [
        MemberChange(
            arrival=m.id,
            safety_distance_km=float(math.floor(ctx.distance_km(m, target))),
            previous_safety_distance_km=ctx.safety_distance_km(m),
        )
        for m in _failing(ctx, members, SafetyDistanceRule(), target)
    ]
    if not changes:
        return None
    floor = ctx.scenario.policy.safety_distance_floor_km
    below = any((c.safety_distance_km or 0.0) < floor for c in changes)
    return _relaxation("safety_distance", members=changes, below_floor_km=floor if below else None)


def interpreter_instead(
    ctx: Context, members: Sequence[Arrival], near: Sequence[Shelter]
) -> list[Try]:
    """``drop_language_requirement``: an interpreter instead of a shared language."""
    if not near:
        return []
    ids = [m.id for m in members]
    changed = _replace_arrivals(ctx.scenario, ids, language_required=False)

    def state(
        ctx: Context, members: Sequence[Arrival], target: Shelter, placed: Assignment
    ) -> Relaxation | None:
        failing = _failing(ctx, members, LanguageRule(), target)
        changes = [MemberChange(arrival=m.id, language_required=False) for m in failing]
        return _relaxation("drop_language_requirement", members=changes) if changes else None

    return [Try(changed, state)]


def without_need(ctx: Context, members: Sequence[Arrival], near: Sequence[Shelter]) -> list[Try]:
    """``drop_need``: doing without one need, where that alone lets a shelter in."""
    tries: list[Try] = []
    ids = [m.id for m in members]
    for need in sorted({n for m in members for n in m.needs}):
        if any(all(set(m.needs) - {need} <= set(s.services) for m in members) for s in near):
            tries.append(Try(_drop_need(ctx.scenario, ids, need), _state_need(need)))
    return tries


def _state_need(need: str) -> State:
    def state(
        ctx: Context, members: Sequence[Arrival], target: Shelter, placed: Assignment
    ) -> Relaxation | None:
        failing = _failing(ctx, members, NeedsRule(), target)
        changes = [MemberChange(arrival=m.id, drop_need=need) for m in failing]
        return _relaxation("drop_need", members=changes) if changes else None

    return state


#: ``shelter_change``: a shelter that fails only this rule, and the change that lifts it
SHELTER_CHANGES = (
    (TransInclusionRule.name, "trans_inclusive", True),
    (ChildrenRule.name, "children", True),
    (StaleCapacityRule.name, "stale", False),
)


def shelter_changes(ctx: Context, only: dict[str, list[Shelter]]) -> list[Try]:
    """``shelter_change``: a named shelter becoming trans-inclusive, taking children, or
    confirming its places."""
    tries: list[Try] = []
    for rule, attr, value in SHELTER_CHANGES:
        for s in only.get(rule, [])[:1]:
            change = ShelterChange.model_validate({"shelter": s.id, attr: value})
            changed = _replace_shelter(ctx.scenario, s.model_copy(update={attr: value}))
            tries.append(Try(changed, _state_shelter(change)))
    return tries


def _state_shelter(change: ShelterChange) -> State:
    def state(
        ctx: Context, members: Sequence[Arrival], target: Shelter, placed: Assignment
    ) -> Relaxation | None:
        return _relaxation("shelter_change", shelter_change=change)

    return state


# --- scenario edits used by relaxations ------------------------------------------------
def _replace_shelter(sc: Scenario, shelter: Shelter) -> Scenario:
    shelters = tuple(shelter if s.id == shelter.id else s for s in sc.shelters)
    return sc.model_copy(update={"shelters": shelters})


def _replace_arrivals(sc: Scenario, ids: Sequence[str], **changes: object) -> Scenario:
    arrivals = tuple(a.model_copy(update=changes) if a.id in ids else a for a in sc.arrivals)
    return sc.model_copy(update={"arrivals": arrivals})


def _drop_need(sc: Scenario, ids: Sequence[str], need: str) -> Scenario:
    arrivals = tuple(
        a.model_copy(update={"needs": tuple(n for n in a.needs if n != need)}) if a.id in ids else a
        for a in sc.arrivals
    )
    return sc.model_copy(update={"arrivals": arrivals})
