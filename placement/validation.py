"""The plan validator: checks any plan against the scenario, without the solver.

Run on every plan the tests produce. It uses the same rules as the solver
(:mod:`placement.rules`) but none of the solver's code.
"""

from __future__ import annotations

from collections import Counter

from placement.admissibility import failed_pair_rules
from placement.context import Assignment, Context, persons_by_priority
from placement.models import Scenario
from placement.plan import Plan
from placement.rules import PLAN_RULES
from placement.text import Text, message


def validate_plan(scenario: Scenario, plan: Plan, ctx: Context | None = None) -> list[str]:
    """Every problem with ``plan``, in English; an empty list means the plan is valid."""
    return [str(text) for text in plan_problems(scenario, plan, ctx)]


def plan_problems(scenario: Scenario, plan: Plan, ctx: Context | None = None) -> list[Text]:
    """Every problem with ``plan`` as catalogue messages (:func:`validate_plan`'s)."""
    ctx = ctx or Context(scenario)
    problems: list[Text] = []
    seen = Counter([p.arrival for p in plan.placements] + [u.arrival for u in plan.unplaced])
    for aid in ctx.arrivals:
        if seen[aid] != 1:
            problems.append(
                message(
                    "{arrival} appears {count} times in placements and unplaced",
                    arrival=aid,
                    count=str(seen[aid]),
                )
            )
    for aid in seen.keys() - ctx.arrivals.keys():
        problems.append(message("unknown arrival {arrival} in the plan", arrival=repr(aid)))
    assignment = plan.assignment()
    for p in plan.placements:
        a = ctx.arrivals.get(p.arrival)
        if a is None:
            continue
        stay = ctx.stay(a)
        first, last = scenario.night(stay.start), scenario.night(stay.stop - 1)
        if (p.first_night, p.last_night) != (first, last):
            problems.append(
                message(
                    "{arrival}: nights {first}..{last} differ from the stay {start}..{end}",
                    arrival=a.id,
                    first=str(p.first_night),
                    last=str(p.last_night),
                    start=str(first),
                    end=str(last),
                )
            )
        if p.persons != a.persons:
            problems.append(
                message(
                    "{arrival}: {reported} persons reported, {expected} expected",
                    arrival=a.id,
                    reported=str(p.persons),
                    expected=str(a.persons),
                )
            )
    problems += violation_texts(ctx, assignment)
    if plan.placed_persons_by_priority != persons_by_priority(ctx, list(assignment)):
        problems.append(message("placed_persons_by_priority does not match the placements"))
    return problems


def plan_violations(ctx: Context, assignment: Assignment) -> list[str]:
    """Every hard-rule violation of an assignment, pair rules and plan rules alike, in
    English (:func:`violation_texts` gives them as messages, for a reader)."""
    return [str(text) for text in violation_texts(ctx, assignment)]


def violation_texts(ctx: Context, assignment: Assignment) -> list[Text]:
    """Every hard-rule violation of an assignment as catalogue messages: each names the
    rule (``capacity: ...``) and what breaks it."""
    out = []
    for aid, sid in sorted(assignment.items()):
        if aid not in ctx.arrivals:
            out.append(message("unknown arrival {arrival}", arrival=repr(aid)))
            continue
        if sid not in ctx.shelters:
            out.append(
                message("{arrival}: unknown shelter {shelter}", arrival=aid, shelter=repr(sid))
            )
            continue
        a = ctx.arrivals[aid]
        out += [
            message(
                "{rule}: {arrival} in {shelter} breaks '{requirement}'",
                rule=rule.name,
                arrival=aid,
                shelter=sid,
                requirement=rule.requirement(ctx, a),
            )
            for rule in failed_pair_rules(ctx, a, ctx.shelters[sid])
        ]
    if out:
        return out
    for plan_rule in PLAN_RULES:
        out += plan_rule.check(ctx, assignment)
    return out
