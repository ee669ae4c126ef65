"""``/whatif``: solve a whole scenario document (the engine's format). Nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import CoordinatorOrAnalyst, RunnerDep, SettingsDep, SolveRequester
from api.errors import reader_translator
from api.openapi import model_body
from api.plan_options import JobOptions
from api.schemas import TimeLimit
from api.services import whatif as service
from placement.models import Scenario
from placement.plan import Plan
from solver.names import SolverName

router = APIRouter(prefix="/whatif", tags=["what-if"])


_BODY = model_body(
    Scenario,
    "a scenario document (the engine's format), JSON or YAML",
    ("application/json", "application/yaml"),
)


async def _document(request: Request) -> dict[str, Any]:
    """The request body as a scenario document (JSON or YAML), not yet checked."""
    source = "scenario.yaml" if "yaml" in request.headers.get("content-type", "") else "s.json"
    return service.document(await request.body(), source)


@dataclass(frozen=True)
class WhatIfQuery:
    """How to solve the what-if (query parameters)."""

    solver: SolverName = "cpsat"
    time_limit: Annotated[TimeLimit | None, Query(description="seconds")] = None
    explain: bool = True


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
    limit = service.checked(data, query.time_limit, settings)
    parsed = service.scenario_of(data)
    options = JobOptions(solver=query.solver, time_limit=limit, explain=query.explain)
    plan = await run_in_threadpool(service.solve_in_a_slot, runner.slots, settings, parsed, options)
    # the reasons in the language of ?lang= or Accept-Language (English by default)
    return plan.localized(reader_translator(request))
