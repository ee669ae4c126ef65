"""Plans as jobs: request (202), follow, cancel, commit (atomically, 409 if places changed)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status
from sqlalchemy import update
from sqlmodel import Session, col, select

from api import audit
from api.assemble import Stay, capacity_problems, remaining, shelter_of, solve_scenario
from api.auth import Principal
from api.config import Settings
from api.db import with_retry
from api.deps import Coordinator, EngineDep, RunnerDep, SessionDep, SettingsDep
from api.errors import ApiError, not_found, split_problems
from api.holds import active_holds, end_hold, held_stays
from api.jobs import ACTIVE
from api.live import proposal_deadlines
from api.routes.operations import get_operation
from api.routes.shelters import committed_stays, lock_shelters
from api.schemas import CommitOut, PlanIn, PlanJobOut, StaleNote
from api.tables import ArrivalRow, Hold, Operation, PlacementRow, PlanJob, ShelterRow, aware, utcnow
from api.views import is_stale, placement_out
from placement.loading import ScenarioError
from placement.plan import Plan

router = APIRouter(prefix="/plans", tags=["plans"])


def stale_note(job: PlanJob, plan: Plan | None) -> StaleNote:
    """Which shelters were stale when the plan was solved, and who it puts there."""
    stale = sorted(s["id"] for s in job.scenario.get("shelters", ()) if s.get("stale"))
    policy = job.scenario.get("policy", {}).get("stale_capacity", "last_resort")
    placed = sorted(p.arrival for p in plan.placements if p.shelter in stale) if plan else []
    return StaleNote(policy=policy, stale_shelters=stale, placed_in_stale=placed)


def job_out(job: PlanJob, with_result: bool = True) -> PlanJobOut:
    """A job as coordinators see it."""
    plan = Plan.model_validate(job.result) if with_result and job.result else None
    return PlanJobOut(
        id=job.id,
        status=job.status,
        operation_id=job.operation_id,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=job.error,
        options=job.options,
        committed_at=job.committed_at,
        result=plan,
        stale=stale_note(job, plan) if with_result else None,
        progress=job.progress,
    )


def _get_job(session: Session, plan_id: str) -> PlanJob:
    job = session.get(PlanJob, plan_id)
    if job is None:
        raise not_found("plan")
    return job


@router.post("", status_code=status.HTTP_202_ACCEPTED)
def request_plan(
    body: PlanIn,
    who: Coordinator,
    session: SessionDep,
    settings: SettingsDep,
    runner: RunnerDep,
) -> PlanJobOut:
    """Plan an operation's waiting arrivals, or every waiting arrival. Returns the job id."""
    time_limit = body.time_limit or min(settings.default_solve_seconds, settings.max_solve_seconds)
    if time_limit > settings.max_solve_seconds:
        raise ApiError(
            422,
            "time limit too long",
            [("time_limit", f"at most {settings.max_solve_seconds:g} seconds")],
        )
    if body.horizon_days > settings.max_horizon_days:
        raise ApiError(
            422, "horizon too long", [("horizon_days", f"at most {settings.max_horizon_days}")]
        )
    query = select(ArrivalRow).where(ArrivalRow.status == "waiting")
    if body.operation_id is not None:
        op = get_operation(session, body.operation_id)
        query = query.where(ArrivalRow.operation_id == op.id)
        start = body.start or op.date
    arrivals = list(session.exec(query.order_by(col(ArrivalRow.id))).all())
    if not arrivals:
        raise ApiError(422, "nothing to plan", [("operation_id", "no waiting arrivals")])
    if body.operation_id is None:
        op_ids = {a.operation_id for a in arrivals}
        dates = session.exec(select(col(Operation.date)).where(col(Operation.id).in_(op_ids))).all()
        start = body.start or min(dates)
    if len(arrivals) > settings.max_arrivals_per_solve:
        raise ApiError(
            413,
            "too many arrivals for one solve",
            [("arrivals", f"{len(arrivals)} > the limit of {settings.max_arrivals_per_solve}")],
        )
    rows = list(session.exec(select(ShelterRow).where(col(ShelterRow.active))).all())
    if len(rows) > settings.max_shelters_per_solve:
        raise ApiError(
            413,
            "too many shelters for one solve",
            [("shelters", f"{len(rows)} > the limit of {settings.max_shelters_per_solve}")],
        )
    # a shelter's places are stale when not updated recently; the policy says what follows
    committed = committed_stays(session, [r.id for r in rows])
    # held places are invisible to other plans; this operation's own holds are its places
    holds = active_holds(session, utcnow())
    own = [] if body.operation_id is None else [body.operation_id]
    committed += held_stays(holds, own)
    held_here = {h.shelter_id for h in holds if h.operation_id in own}
    shelters = remaining(
        [
            shelter_of(r.data).model_copy(
                update={"stale": is_stale(r, settings), "held": r.id in held_here}
            )
            for r in rows
        ],
        committed,
        start,
        body.horizon_days,
        settings.geography,
    )
    name = f"operation {body.operation_id}" if body.operation_id else "every waiting arrival"
    try:
        scenario = solve_scenario(
            name,
            shelters,
            [a.data for a in arrivals],
            start,
            body.horizon_days,
            body.policy,
            settings.geography,
            placed=committed,
        )
    except ScenarioError as e:
        raise ApiError(422, "cannot plan these arrivals", split_problems(e.problems)) from None
    options: dict[str, Any] = {
        "solver": body.solver,
        "time_limit": time_limit,
        "explain": body.explain,
        "start": start.isoformat(),
        "horizon_days": body.horizon_days,
        "holds": [h.id for h in holds if h.operation_id in own],
    }
    job = PlanJob(
        id=uuid.uuid4().hex,
        operation_id=body.operation_id,
        requested_by=who.id,
        options=options,
        scenario=scenario.model_dump(mode="json", by_alias=True),
        shelter_versions={r.id: r.version for r in rows},
        arrival_versions={a.id: a.version for a in arrivals},
    )
    session.add(job)
    audit.record(session, who, "read", "arrival", [a.id for a in arrivals], f"plan {job.id}")
    session.commit()
    session.refresh(job)
    runner.submit(job.id)
    return job_out(job)


@router.get("")
def list_plans(who: Coordinator, session: SessionDep) -> list[PlanJobOut]:
    """Plan jobs, newest first, without their results."""
    jobs = session.exec(select(PlanJob).order_by(col(PlanJob.created_at).desc())).all()
    return [job_out(j, with_result=False) for j in jobs]


@router.get("/{plan_id}")
def read_plan(plan_id: str, who: Coordinator, session: SessionDep) -> PlanJobOut:
    """The job's status, then its plan with the engine's explanations."""
    job = _get_job(session, plan_id)
    if job.result:
        audit.record(session, who, "read", "plan", [job.id])
        session.commit()
    return job_out(job)


@router.delete("/{plan_id}", status_code=status.HTTP_202_ACCEPTED)
def cancel_plan(
    plan_id: str, who: Coordinator, session: SessionDep, runner: RunnerDep
) -> PlanJobOut:
    """Cancel a queued or running solve (the child process is killed)."""
    job = _get_job(session, plan_id)
    result = session.execute(
        update(PlanJob)
        .where(col(PlanJob.id) == plan_id, col(PlanJob.status).in_(ACTIVE))
        .values(status="cancelling")
    )
    session.commit()
    session.refresh(job)
    if not getattr(result, "rowcount", 0):
        raise ApiError(409, f"the plan is already {job.status}", [("status", job.status)])
    return job_out(job)


@router.post("/{plan_id}/commit")
def commit_plan(
    plan_id: str, who: Coordinator, engine: EngineDep, settings: SettingsDep
) -> CommitOut:
    """Turn the plan into placements, all or nothing.

    409, writing nothing, if any shelter the plan places people in, or any of its arrivals,
    changed after the solve.
    """

    def transaction() -> CommitOut:
        with Session(engine) as session:
            return _commit(session, plan_id, who, settings)

    return with_retry(transaction)


def _commit(session: Session, plan_id: str, who: Principal, settings: Settings) -> CommitOut:
    geography = settings.geography
    job = _get_job(session, plan_id)
    if job.status != "done" or job.result is None:
        raise ApiError(409, f"the plan is {job.status}, not done", [("status", job.status)])
    if job.committed_at is not None:
        raise ApiError(409, "the plan is already committed", [("status", "committed")])
    plan = Plan.model_validate(job.result)
    used = sorted({p.shelter for p in plan.placements})
    shelters = lock_shelters(session, used)
    session.refresh(job)  # after the locks: see a concurrent commit of this same plan
    if job.committed_at is not None:
        raise ApiError(409, "the plan is already committed", [("status", "committed")])
    conflicts: list[tuple[str, str]] = []
    for sid in used:
        row = shelters.get(sid)
        before = job.shelter_versions.get(sid)
        if row is None or not row.active:
            conflicts.append((f"shelters[{sid}]", "is no longer active"))
        elif row.version != before:
            conflicts.append(
                (
                    f"shelters[{sid}]",
                    f"places or attributes changed since the plan was made "
                    f"(version {before} -> {row.version})",
                )
            )
    ids = sorted(p.arrival for p in plan.placements)
    arrivals = {
        a.id: a
        for a in session.exec(
            select(ArrivalRow)
            .where(col(ArrivalRow.id).in_(ids))
            .order_by(col(ArrivalRow.id))
            .with_for_update()
        ).all()
    }
    for aid in ids:
        a = arrivals.get(aid)
        if a is None or a.status != "waiting" or a.version != job.arrival_versions.get(aid):
            state = "missing" if a is None else a.status
            conflicts.append((f"arrivals[{aid}]", f"changed since the plan was made ({state})"))
    now = utcnow()
    own_holds = []
    for hid in job.options.get("holds", []):
        hold = session.get(Hold, hid)
        if hold is None or hold.shelter_id not in used:
            continue
        if hold.status != "active" or aware(hold.expires_at) <= now:
            state = hold.status if hold.status != "active" else "expired"
            conflicts.append(
                (f"holds[{hid}]", f"the plan uses this hold at {hold.shelter_id}; it is {state}")
            )
        else:
            own_holds.append(hold)
    if conflicts:
        raise ApiError(409, "the plan is out of date; request a new one", conflicts)
    new = [
        Stay(arrivals[p.arrival].data, p.shelter, p.first_night, p.last_night)
        for p in plan.placements
    ]
    others = held_stays(active_holds(session, now, used), [job.operation_id or 0])
    problems = capacity_problems(
        [shelter_of(shelters[s].data) for s in used],
        committed_stays(session, used) + others + new,
        geography,
    )
    if problems:  # cannot happen while the versions match; checked all the same
        raise ApiError(409, "the plan no longer fits", [("placements", p) for p in problems])
    answer_due, replan_due = proposal_deadlines(settings, now)
    rows = []
    for p in plan.placements:
        placement = PlacementRow(
            arrival_id=p.arrival,
            shelter_id=p.shelter,
            plan_id=job.id,
            first_night=p.first_night,
            last_night=p.last_night,
            persons=p.persons,
            committed_at=now,
            committed_by=who.id,
            status="proposed",
            answer_due_at=answer_due,
            replan_due_at=replan_due,
        )
        session.add(placement)
        rows.append(placement)
        a = arrivals[p.arrival]
        a.status, a.version = "placed", a.version + 1
        session.add(a)
    for sid in used:
        shelters[sid].version += 1
        session.add(shelters[sid])
    # the operation's placements use its held places first
    persons: dict[str, int] = {}
    for p in plan.placements:
        persons[p.shelter] = persons.get(p.shelter, 0) + p.persons
    for hold in own_holds:
        taken = min(hold.places, persons.get(hold.shelter_id, 0))
        persons[hold.shelter_id] = persons.get(hold.shelter_id, 0) - taken
        if taken == hold.places:
            end_hold(session, hold, "used", now)
        elif taken:
            hold.places -= taken
            session.add(hold)
    # who the plan could not place goes on the waiting list, with the engine's reasons
    for u in plan.unplaced:
        left = session.get(ArrivalRow, u.arrival)
        if left is not None and left.status == "waiting":
            left.waitlisted_at = left.waitlisted_at or now
            left.waiting_reasons = list(u.reasons)
            session.add(left)
    job.committed_at, job.committed_by = now, who.id
    session.add(job)
    session.flush()
    audit.record(session, who, "write", "placement", [r.id for r in rows if r.id], f"plan {job.id}")
    session.commit()
    for r in rows:
        session.refresh(r)
    return CommitOut(plan_id=job.id, placements=[placement_out(r) for r in rows])
