"""``/whatif``: solve a whole scenario document (the engine's format). Nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from api import plan_options
from api.config import Settings
from api.deps import CoordinatorOrAnalyst, RunnerDep, SettingsDep, SolveRequester
from api.domain_errors import Invalid
from api.errors import TOO_DEEP, reader_translator
from api.plan_jobs import engine_options
from api.plan_options import JobOptions, TimeLimitOutOfRange, check_size
from api.schemas import TimeLimit
from api.solve_slots import SolveSlots
from placement.loading import ScenarioError, parse_text, scenario_from_data
from placement.models import Scenario
from placement.plan import Plan
from solver.names import SolverName
from solver.process import RunOptions, solve

router = APIRouter(prefix="/whatif", tags=["what-if"])


_BODY = {
    "requestBody": {
        "required": True,
        "description": "a scenario document (the engine's format), JSON or YAML",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


async def _document(request: Request) -> dict[str, Any]:
    """The request body as a scenario document (JSON or YAML), not yet checked."""
    source = "scenario.yaml" if "yaml" in request.headers.get("content-type", "") else "s.json"
    try:
        data: Any = parse_text((await request.body()).decode("utf-8"), source)
    except ScenarioError as e:
        raise Invalid("invalid scenario", [("body", p) for _, p in e.messages]) from None
    except UnicodeDecodeError:
        raise Invalid("invalid scenario", [("body", "not UTF-8 text")]) from None
    except RecursionError:
        raise Invalid("invalid scenario", [("body", TOO_DEEP)]) from None
    if not isinstance(data, dict):
        raise Invalid("invalid scenario", [("body", "expected a scenario document")])
    return data


def _checked(data: dict[str, Any], requested: float | None, settings: Settings) -> float:
    """The time limit (a query parameter here), then the size of the document."""
    try:
        limit = plan_options.time_limit(requested, settings)
    except TimeLimitOutOfRange as e:
        raise Invalid(
            "invalid time limit",
            [("query.time_limit", f"between 0 and {e.maximum:g} seconds")],
        ) from None
    sizes = [data.get(key) for key in ("arrivals", "shelters")]
    counts = [len(items) if isinstance(items, list) else None for items in sizes]
    check_size(settings, counts[0], counts[1])
    return limit


def _scenario(data: dict[str, Any]) -> Scenario:
    try:
        return scenario_from_data(data, "scenario")
    except ScenarioError as e:
        raise Invalid("invalid scenario", e.messages) from None


@dataclass(frozen=True)
class WhatIfQuery:
    """How to solve the what-if (query parameters)."""

    solver: SolverName = "cpsat"
    time_limit: Annotated[TimeLimit | None, Query(description="seconds")] = None
    explain: bool = True


def _solve_in_a_slot(
    slots: SolveSlots, settings: Settings, scenario: Scenario, options: JobOptions
) -> Plan:
    """Solve once a solver slot of this process is free (``solve_queue_seconds`` at most,
    else ``TooMany``): what-ifs share the slots with plan jobs and re-plans."""
    run = RunOptions(grace=settings.solve_grace_seconds, start_method=settings.start_method)
    with slots.held(settings.solve_queue_seconds):
        return solve(scenario, engine_options(options, settings), run=run)


@router.post("", openapi_extra=_BODY)
async def what_if(
    request: Request,
    who: CoordinatorOrAnalyst,
    counted: SolveRequester,
    runner: RunnerDep,
    settings: SettingsDep,
    query: Annotated[WhatIfQuery, Depends()],
) -> Plan:
    """Plan a scenario document and return the plan (coordinators and analysts). 429 when
    the user asked for too many solves this minute or every solver slot stays busy."""
    data = await _document(request)
    limit = _checked(data, query.time_limit, settings)
    parsed = _scenario(data)
    options = JobOptions(solver=query.solver, time_limit=limit, explain=query.explain)
    plan = await run_in_threadpool(_solve_in_a_slot, runner.slots, settings, parsed, options)
    # the reasons in the language of ?lang= or Accept-Language (English by default)
    return plan.localized(reader_translator(request))
