"""Why someone was not placed, and what would change that.

Reasons come from the same rules the solver uses: a funnel over the pair rules ("accepts
men: 41 excluded; ≥ 150 km ...: 12 more; ..."), or, when admissible shelters exist, what
fills them on which nights and who holds those places. Relaxations are only reported once a
re-solve (``FeasibilityCheck``, provided by the solver) has shown that the changed scenario
places the person while everyone already placed stays placed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta

import numpy as np

from placement.admissibility import admissible_for_all, mask_indices
from placement.context import Assignment, Context
from placement.models import Arrival, Scenario, Shelter
from placement.occupancy import Occupancy
from placement.plan import Relaxation, Unplaced
from placement.rules import (
    PAIR_RULES,
    CapacityRule,
    ChildrenRule,
    HouseholdRule,
    LanguageRule,
    Load,
    NeedsRule,
    PairRule,
    SafetyDistanceRule,
    StaleCapacityRule,
    TransInclusionRule,
    load_of,
)

#: (changed scenario, the current assignment whose people must stay placed, ids to place)
#: -> True when a re-solve places them all, False when it proves it cannot, None if unknown.
FeasibilityCheck = Callable[[Scenario, Assignment, Sequence[str]], "bool | None"]

MAX_LISTED_SHELTERS = 5


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


def format_ranges(ranges: list[tuple[date, date]]) -> str:
    return ", ".join(str(a) if a == b else f"{a} to {b}" for a, b in ranges)


def format_by_night(sc: Scenario, values: dict[int, int]) -> str:
    """Night-indexed numbers as runs: ``3 on 2026-12-04 to 2026-12-11, 1 on 2026-12-12``."""
    runs: list[tuple[int, list[int]]] = []
    for n in sorted(values):
        if runs and runs[-1][0] == values[n] and runs[-1][1][-1] == n - 1:
            runs[-1][1].append(n)
        else:
            runs.append((values[n], [n]))
    return ", ".join(f"{v} on {format_ranges(night_ranges(sc, ns))}" for v, ns in runs)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def funnel(
    ctx: Context, a: Arrival, rules: Sequence[PairRule] = PAIR_RULES
) -> list[tuple[PairRule, int]]:
    """How many shelters each pair rule removes, in order, among those still left."""
    left = ctx.everything()
    out = []
    for rule in rules:
        kept = left & ctx.rule_mask(rule, a)
        removed = int(left.sum() - kept.sum())
        if removed:
            out.append((rule, removed))
        left = kept
    return out


class Explainer:
    """Explains every unplaced arrival of one plan."""

    def __init__(
        self,
        ctx: Context,
        assignment: Assignment,
        check: FeasibilityCheck | None = None,
        max_checks_per_person: int = 6,
        time_budget: float | None = None,
        proven: bool = True,
    ) -> None:
        self.ctx = ctx
        self.assignment = dict(assignment)
        self.check = check
        self.max_checks = max_checks_per_person
        self.proven = proven  # whether the plan is proven optimal: some wording depends on it
        # Relaxation re-solves stop once this budget is spent; reasons are always given.
        self.deadline = None if time_budget is None else time.monotonic() + time_budget
        # Who is where, and what the plan rules count of it (places used, linked people,
        # people per network), computed once for the whole plan by the rules' own checkers.
        self.holders: dict[str, list[Arrival]] = {}
        for aid, sid in self.assignment.items():
            self.holders.setdefault(sid, []).append(ctx.arrivals[aid])
        self.occupancy = Occupancy.of_assignment(ctx, self.assignment)
        self.used = self.occupancy.capacity.used()  # places used, shelters x nights

    # --- the whole plan -------------------------------------------------------------
    def explain_all(self, limit_relaxations: int | None = None) -> list[Unplaced]:
        """Unplaced arrivals by priority (highest first), then id."""
        unplaced = [a for a in self.ctx.scenario.arrivals if a.id not in self.assignment]
        unplaced.sort(key=lambda a: (-a.priority, a.id))
        out = []
        for i, a in enumerate(unplaced):
            relax = limit_relaxations is None or i < limit_relaxations
            out.append(self.explain(a, relax=relax))
        return out

    def explain(self, a: Arrival, relax: bool = True) -> Unplaced:
        members = HouseholdRule.members_of(self.ctx, a)
        reasons: list[str] = []
        if len(members) > 1:
            persons = sum(m.persons for m in members)
            reasons.append(
                f"household {a.household}: its {len(members)} members ({persons} persons) are "
                "placed together or not at all"
            )
        mask = admissible_for_all(self.ctx, members)
        shelters = self.ctx.scenario.shelters
        index = np.flatnonzero(mask)  # nearest first (to the first member's danger), then id
        index = index[
            np.lexsort((self.ctx.id_ranks()[index], self.ctx.distances(members[0])[index]))
        ]
        nearest = [shelters[i] for i in index[:2].tolist()]
        if not len(index):
            reasons += self._no_candidate_reasons(members)
        else:
            reasons += self._blocked_reasons(members, index)
        relaxations = self._relaxations(members, nearest) if relax and self.check else []
        return Unplaced(
            arrival=a.id,
            priority=a.priority,
            persons=a.persons,
            reasons=reasons,
            relaxations=relaxations,
        )

    # --- reasons --------------------------------------------------------------------
    def _no_candidate_reasons(self, members: list[Arrival]) -> list[str]:
        out = []
        total = len(self.ctx.scenario.shelters)
        for m in members:
            steps = funnel(self.ctx, m)
            if not steps:
                continue
            parts = []
            for i, (rule, removed) in enumerate(steps):
                req = rule.requirement(self.ctx, m)
                if i == 0:
                    parts.append(f"{req}: {removed} excluded")
                elif i == len(steps) - 1:
                    parts.append(f"{req}: the last {removed}")
                else:
                    parts.append(f"{req}: {removed} more")
            who = f"{m.id}: " if len(members) > 1 else ""
            out.append(f"{who}no shelter passes the rules (of {total}): " + "; ".join(parts))
        if not out:  # every member fits somewhere, but not the same shelter
            out.append("no single shelter passes the rules for every member of the household")
        return out

    def _blocked_reasons(self, members: list[Arrival], index: np.ndarray) -> list[str]:
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
            f"{shelters[si].id}: " + "; ".join(self._why_blocked(members, load, si))
            for si in index[np.flatnonzero(flagged)[:MAX_LISTED_SHELTERS]].tolist()
        ]
        out = [
            f"{len(index)} shelter(s) pass every rule"
            + (", but none has room for the whole stay" if not room else "")
        ]
        out += lines
        if blocked > len(lines):
            out.append(f"... and {blocked - len(lines)} more shelters, full or blocked")
        if room:
            out.append(
                f"{', '.join(room[:MAX_LISTED_SHELTERS])} would have room: this plan is not "
                "proven optimal (baseline solver or time limit)"
            )
        return out

    def _why_blocked(self, members: list[Arrival], load: Load, si: int) -> list[str]:
        """What each plan rule counts against one more copy of ``load`` in shelter ``si``."""
        why = self._capacity_reason(members, load, si)
        together = self.occupancy.keep_apart.together(load, si)
        if together:
            why.append(f"holds {', '.join(together)}, who must be kept apart")
        cap = self.occupancy.network_cap.cap
        why += [
            f"already holds {there} of network {net} (cap {cap})"
            for net, there in self.occupancy.network_cap.over(load, si)
        ]
        return why

    def _capacity_reason(self, members: list[Arrival], load: Load, si: int) -> list[str]:
        """Too small even when empty, or full (and by whom), on the nights of the stay."""
        ctx = self.ctx
        need = load.usage
        places = ctx.places_matrix()[si]
        used = self.used[si]
        small = [n for n, k in need.items() if places[n] < k]
        if small:
            return [
                "too small even when empty: places "
                + format_by_night(ctx.scenario, {n: int(places[n]) for n in small})
                + f"; {max(need[n] for n in small)} needed"
            ]
        short = [n for n, k in need.items() if places[n] - used[n] < k]
        if not short:
            return []
        ids = {m.id for m in members}
        priority = max(m.priority for m in members)
        holders = [
            h
            for h in self.holders.get(ctx.scenario.shelters[si].id, [])
            if h.id not in ids and any(n in ctx.stay(h) for n in short)
        ]
        higher = sum(h.persons for h in holders if h.priority >= priority)
        lower = sum(h.persons for h in holders if h.priority < priority)
        free = {n: max(0, int(places[n] - used[n])) for n in short}
        text = (
            f"full: free places {format_by_night(ctx.scenario, free)}; "
            f"{max(need[n] for n in short)} needed; "
            f"taken by {plural(higher, 'person')} of priority ≥ {priority}"
        )
        if lower:
            text += f" and {lower} of lower priority" + (
                " (this keeps more people of higher priority placed overall)" if self.proven else ""
            )
        return [text]

    # --- relaxations ----------------------------------------------------------------
    def _relaxations(self, members: list[Arrival], nearest: list[Shelter]) -> list[Relaxation]:
        """Changes that place the unit; ``nearest``: its two nearest admissible shelters.
        Tried in this order, each kind by its own function below."""
        ctx = self.ctx
        ids = [m.id for m in members]
        others = {k: v for k, v in self.assignment.items() if k not in ids}
        only = near_misses(ctx, members)
        above, below = distance_candidates(ctx, members, only.get(SafetyDistanceRule.name, []))
        tries = more_places(ctx, self.used, members, nearest)
        tries += [shorter_distance(ctx, members, s) for s in above[:2]]
        tries += interpreter_instead(ctx, members, only.get(LanguageRule.name, []))
        tries += without_need(ctx, members, only.get(NeedsRule.name, []))
        tries += shelter_changes(ctx, only)
        out = self._verified(tries, others, ids)
        if not out and below:
            # Nothing else works: say what would, and that the policy advises against it.
            floor = ctx.scenario.policy.safety_distance_floor_km
            warning = f" — below the policy floor of {floor:g} km: not advised"
            out = self._verified([shorter_distance(ctx, members, below[0], warning)], others, ids)
        return out

    def _verified(
        self, tries: list[tuple[Relaxation, Scenario]], keep: Assignment, ids: list[str]
    ) -> list[Relaxation]:
        """The relaxations a re-solve confirms, within the per-person and time budgets."""
        out: list[Relaxation] = []
        assert self.check is not None
        for relaxation, changed in tries[: self.max_checks]:
            if self.deadline is not None and time.monotonic() > self.deadline:
                break
            if self.check(changed, keep, ids):
                out.append(relaxation)
        return out


# --- relaxations, one function per kind ---------------------------------------------
#: a relaxation and the changed scenario whose re-solve must confirm it
Try = tuple[Relaxation, Scenario]


def near_misses(ctx: Context, members: Sequence[Arrival]) -> dict[str, list[Shelter]]:
    """Shelters that fail exactly one pair rule for every member, by the rule's name."""
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
    nights they are short (``used``: places used, shelters x nights)."""
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
        ranges = night_ranges(ctx.scenario, add)
        relaxation = Relaxation(
            kind="add_places",
            text=f"more places in {s.id}: {format_by_night(ctx.scenario, add)}",
            shelter=s.id,
            first_night=ranges[0][0],
            last_night=ranges[-1][1],
            places=max(add.values()),
        )
        changed = _replace_shelter(ctx.scenario, s.with_nightly_places(ctx.scenario.start, places))
        tries.append((relaxation, changed))
    return tries


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


def shorter_distance(
    ctx: Context, members: Sequence[Arrival], s: Shelter, warning: str = ""
) -> Try:
    """``safety_distance``: the distance that would let shelter ``s`` in."""
    km = float(math.floor(min(ctx.distance_km(m, s) for m in members)))
    return (
        Relaxation(
            kind="safety_distance",
            text=f"a safety distance of {km:g} km instead of "
            f"{ctx.safety_distance_km(members[0]):g} km (would allow {s.id}){warning}",
            shelter=s.id,
            safety_distance_km=km,
        ),
        _replace_arrivals(ctx.scenario, [m.id for m in members], safety_distance_km=km),
    )


def interpreter_instead(
    ctx: Context, members: Sequence[Arrival], near: Sequence[Shelter]
) -> list[Try]:
    """``drop_language_requirement``: an interpreter instead of a shared language."""
    if not near:
        return []
    relaxation = Relaxation(
        kind="drop_language_requirement",
        text=f"accept an interpreter instead of a shared language (would allow {near[0].id})",
        shelter=near[0].id,
    )
    ids = [m.id for m in members]
    return [(relaxation, _replace_arrivals(ctx.scenario, ids, language_required=False))]


def without_need(ctx: Context, members: Sequence[Arrival], near: Sequence[Shelter]) -> list[Try]:
    """``drop_need``: doing without one need, where that alone lets a shelter in."""
    tries: list[Try] = []
    ids = [m.id for m in members]
    for need in sorted({n for m in members for n in m.needs}):
        fits = [s for s in near if all(set(m.needs) - {need} <= set(s.services) for m in members)]
        if fits:
            relaxation = Relaxation(
                kind="drop_need",
                text=f"do without '{need}' (would allow {fits[0].id})",
                shelter=fits[0].id,
                need=need,
            )
            tries.append((relaxation, _drop_need(ctx.scenario, ids, need)))
    return tries


#: ``shelter_change``: a shelter that fails only this rule, and the change that lifts it
SHELTER_CHANGES = (
    (TransInclusionRule.name, "trans_inclusive", True, "became trans-inclusive"),
    (ChildrenRule.name, "children", True, "took children"),
    (StaleCapacityRule.name, "stale", False, "confirmed its places"),
)


def shelter_changes(ctx: Context, only: dict[str, list[Shelter]]) -> list[Try]:
    """``shelter_change``: a named shelter becoming trans-inclusive, taking children, or
    confirming its places."""
    tries: list[Try] = []
    for rule, attr, value, words in SHELTER_CHANGES:
        for s in only.get(rule, [])[:1]:
            relaxation = Relaxation(kind="shelter_change", text=f"{s.id} {words}", shelter=s.id)
            tries.append(
                (relaxation, _replace_shelter(ctx.scenario, s.model_copy(update={attr: value})))
            )
    return tries


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
