"""``/stress``: stress jobs on the live network (coordinators and analysts). Results are
aggregates; analysts see no location."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, status

from api.deps import CoordinatorOrAnalyst, EngineDep, ReaderDep, SessionDep, SettingsDep
from api.openapi import model_body
from api.services import stress as service
from stress.spec import StressSpec

router = APIRouter(prefix="/stress", tags=["stress"])


def get_stress_jobs(request: Request, engine: EngineDep) -> service.StressJobs:
    """The application's stress jobs (created with the first request that needs them)."""
    state = request.app.state
    jobs: service.StressJobs | None = getattr(state, "stress_jobs", None)
    if jobs is None:
        jobs = state.stress_jobs = service.StressJobs(service.StressSettings(), engine)
    return jobs


StressJobsDep = Annotated[service.StressJobs, Depends(get_stress_jobs)]


def _service_spec(schema: dict[str, Any]) -> None:
    """What the service accepts of a stress spec (``service.spec_for_service``): the live
    network, within the service's draws, without a comparison (the command line's)."""
    properties = schema["properties"]
    properties["network"] = {
        "type": "object",
        "properties": {"live": {"const": True}},
        "required": ["live"],
        "additionalProperties": False,
        "description": "the service's live network",
    }
    properties.pop("compare", None)
    properties["draws"]["maximum"] = service.StressSettings().max_draws


_BODY = model_body(StressSpec, "a stress spec with network: {live: true}", adjust=_service_spec)


@router.post("", status_code=status.HTTP_202_ACCEPTED, openapi_extra=_BODY)
def start_stress_job(
    spec: Annotated[dict[str, Any], Body(description="a stress spec with network: {live: true}")],
    who: CoordinatorOrAnalyst,
    session: SessionDep,
    settings: SettingsDep,
    jobs: StressJobsDep,
    reader: ReaderDep,
) -> dict[str, Any]:
    """Start a stress test of the live network; poll its id for progress and results."""
    return service.view(session, jobs.start_live(session, settings, spec, who), who, reader)


@router.get("/{job_id}")
def read_stress_job(
    job_id: str,
    who: CoordinatorOrAnalyst,
    session: SessionDep,
    jobs: StressJobsDep,
    reader: ReaderDep,
) -> dict[str, Any]:
    """A stress job's progress (draws done, time left) and, once done, its aggregates."""
    return service.view(session, jobs.get(session, job_id, who), who, reader)


@router.delete("/{job_id}")
def stop_stress_job(
    job_id: str,
    who: CoordinatorOrAnalyst,
    session: SessionDep,
    jobs: StressJobsDep,
    reader: ReaderDep,
) -> dict[str, Any]:
    """Stop a running stress job (it stops after the solves under way, in whichever
    process runs it)."""
    return service.view(session, jobs.stop(session, job_id, who), who, reader)
