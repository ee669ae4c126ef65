"""What-if: solve a whole scenario document (the engine's format). Nothing is written."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import CoordinatorOrAnalyst, SettingsDep
from api.errors import ApiError, split_problems
from api.jobs import engine_options
from placement.loading import ScenarioError, parse_text, scenario_from_data
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


@router.post("", openapi_extra=_BODY)
async def what_if(
    request: Request,
    who: CoordinatorOrAnalyst,
    settings: SettingsDep,
    solver: SolverName = "cpsat",
    time_limit: float | None = None,
    explain: bool = True,
) -> Plan:
    """Plan a scenario document and return the plan (coordinators and analysts)."""
    source = "scenario.yaml" if "yaml" in request.headers.get("content-type", "") else "s.json"
    try:
        data: Any = parse_text((await request.body()).decode("utf-8"), source)
    except ScenarioError as e:
        raise ApiError(422, "invalid scenario", [("body", p) for p in e.problems]) from None
    except UnicodeDecodeError:
        raise ApiError(422, "invalid scenario", [("body", "not UTF-8 text")]) from None
    if not isinstance(data, dict):
        raise ApiError(422, "invalid scenario", [("body", "expected a scenario document")])
    limit = time_limit or min(settings.default_solve_seconds, settings.max_solve_seconds)
    if limit <= 0 or limit > settings.max_solve_seconds:
        raise ApiError(
            422,
            "invalid time limit",
            [("query.time_limit", f"between 0 and {settings.max_solve_seconds:g} seconds")],
        )
    for key, cap in (
        ("arrivals", settings.max_arrivals_per_solve),
        ("shelters", settings.max_shelters_per_solve),
    ):
        items = data.get(key)
        if isinstance(items, list) and len(items) > cap:
            raise ApiError(
                413, f"too many {key} for one solve", [(key, f"{len(items)} > the limit of {cap}")]
            )
    try:
        parsed = scenario_from_data(data, "scenario")
    except ScenarioError as e:
        raise ApiError(422, "invalid scenario", split_problems(e.problems)) from None
    options = {"solver": solver, "time_limit": limit, "explain": explain}
    return await run_in_threadpool(
        solve,
        parsed,
        engine_options(options, settings),
        run=RunOptions(grace=settings.solve_grace_seconds, start_method=settings.start_method),
    )
