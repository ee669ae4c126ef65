"""``/plans``: plans as jobs: request (202), follow, cancel, commit (atomically, 409 if
places changed). The work is ``api.services.planning``; the solves run in ``api.plan_jobs``.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import (
    Coordinator,
    PageDep,
    ReaderDep,
    RunnerDep,
    SessionDep,
    SettingsDep,
    SolveRequester,
    WriteSessionDep,
)
from api.schemas import CommitOut, PlanIn, PlanJobOut
from api.services import planning
from api.store import FIRST_PAGE
from api.views import job_out, placement_out

router = APIRouter(prefix="/plans", tags=["plans"])


@router.post("", status_code=status.HTTP_202_ACCEPTED)
def request_plan(
    body: PlanIn,
    who: Coordinator,
    counted: SolveRequester,
    session: SessionDep,
    settings: SettingsDep,
    runner: RunnerDep,
) -> PlanJobOut:
    """Plan an operation's waiting arrivals, or every waiting arrival. Returns the job id
    (202); the job waits for a solver slot. 429 past the user's solve requests a minute."""
    return job_out(planning.request_plan(session, settings, runner, body, who))


@router.get("")
def list_plans(
    who: Coordinator, session: SessionDep, page: PageDep = FIRST_PAGE
) -> list[PlanJobOut]:
    """Plan jobs, newest first, without their results."""
    return [job_out(j, with_result=False) for j in planning.plan_jobs(session, page)]


@router.get("/{plan_id}")
def read_plan(plan_id: str, who: Coordinator, session: SessionDep, t: ReaderDep) -> PlanJobOut:
    """The job's status, then its plan with the engine's explanations (in the language of
    ``?lang=`` or ``Accept-Language``; English by default)."""
    return job_out(planning.read_plan(session, plan_id, who, t), t=t)


@router.delete("/{plan_id}", status_code=status.HTTP_202_ACCEPTED)
def cancel_plan(
    plan_id: str, who: Coordinator, session: WriteSessionDep, runner: RunnerDep
) -> PlanJobOut:
    """Cancel a queued or running solve (the child process is killed)."""
    return job_out(planning.cancel_plan(session, plan_id))


@router.post("/{plan_id}/commit")
def commit_plan(
    plan_id: str, who: Coordinator, session: SessionDep, settings: SettingsDep
) -> CommitOut:
    """Turn the plan into placements, all or nothing.

    409, writing nothing, if any shelter the plan places people in, or any of its arrivals,
    changed after the solve.
    """
    rows = planning.commit_plan(session, settings, plan_id, who)
    return CommitOut(plan_id=plan_id, placements=[placement_out(r) for r in rows])
