"""What-if: plan a whole scenario document (the engine's format); nothing is written.

The JSON API (``POST /whatif``) and the analyst's page read, check and solve a document with
these same functions; ``figures`` is what an analyst's page shows of the plan: aggregates
only, no case and no location.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from api import plan_options
from api.config import Settings
from api.domain_errors import Invalid
from api.plan_jobs import engine_options
from api.plan_options import JobOptions, TimeLimitOutOfRange, check_size
from api.services.uploads import parse_document
from api.solve_slots import SolveSlots
from placement.loading import ScenarioError, scenario_from_data
from placement.models import PRIORITIES, Scenario
from placement.plan import Plan
from placement.text import message
from solver.process import RunOptions, solve

INVALID_SCENARIO = message("invalid scenario")


def document(raw: bytes, source: str) -> dict[str, Any]:
    """The bytes of a scenario file as a document, not yet checked; ``source`` ending in
    ``.json`` reads JSON, anything else YAML (a superset of JSON)."""
    data = parse_document(raw, source, INVALID_SCENARIO)
    if not isinstance(data, dict):
        raise Invalid(INVALID_SCENARIO, [("body", message("expected a scenario document"))])
    return data


def checked(data: dict[str, Any], requested: float | None, settings: Settings) -> float:
    """The time limit (the caller's, within bounds), then the size of the document."""
    try:
        limit = plan_options.time_limit(requested, settings)
    except TimeLimitOutOfRange as e:
        raise Invalid(
            message("invalid time limit"),
            [
                (
                    "query.time_limit",
                    message("between 0 and {most} seconds", most=format(e.maximum, "g")),
                )
            ],
        ) from None
    sizes = [data.get(key) for key in ("arrivals", "shelters")]
    counts = [len(items) if isinstance(items, list) else None for items in sizes]
    check_size(settings, counts[0], counts[1])
    return limit


def scenario_of(data: dict[str, Any]) -> Scenario:
    """The document as the engine's scenario; ``Invalid`` naming each field."""
    try:
        return scenario_from_data(data, "scenario")
    except ScenarioError as e:
        raise Invalid(INVALID_SCENARIO, e.messages) from None


def solve_in_a_slot(
    slots: SolveSlots, settings: Settings, scenario: Scenario, options: JobOptions
) -> Plan:
    """Solve once a solver slot of this process is free (``solve_queue_seconds`` at most,
    else ``TooMany``): what-ifs share the slots with plan jobs and re-plans."""
    run = RunOptions(grace=settings.solve_grace_seconds, start_method=settings.start_method)
    with slots.held(settings.solve_queue_seconds):
        return solve(scenario, engine_options(options, settings), run=run)


@dataclass(frozen=True)
class PriorityRow:
    """Persons asked for and placed at one priority."""

    priority: int
    requested: int
    placed: int


@dataclass(frozen=True)
class Figures:
    """What an analyst sees of a what-if plan: counts only (no arrival, no place)."""

    status: str
    solve_seconds: float
    requested: int
    placed: int
    unplaced_people: int
    shelters_used: int
    shelters: int
    priorities: list[PriorityRow]
    #: persons placed per shelter, most first (the analyst's own shelter ids)
    by_shelter: list[tuple[str, int]]


def figures(scenario: Scenario, plan: Plan) -> Figures:
    """The aggregates of a plan."""
    rows = [
        PriorityRow(
            p,
            plan.requested_persons_by_priority.get(str(p), 0),
            plan.placed_persons_by_priority.get(str(p), 0),
        )
        for p in sorted(PRIORITIES, reverse=True)
    ]
    persons = Counter[str]()
    for pl in plan.placements:
        persons[pl.shelter] += pl.persons
    return Figures(
        status=plan.status,
        solve_seconds=plan.solve_seconds,
        requested=sum(r.requested for r in rows),
        placed=sum(r.placed for r in rows),
        unplaced_people=len(plan.unplaced),
        shelters_used=len(persons),
        shelters=len(scenario.shelters),
        priorities=rows,
        by_shelter=sorted(persons.items(), key=lambda kv: (-kv[1], kv[0])),
    )
