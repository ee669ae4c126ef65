"""Plan jobs and commits: ask for a plan (a job run by ``api.plan_jobs``), cancel it, and
commit its placements, all or nothing.

A plan sees what committed placements and other operations' holds leave free
(``api.services.capacity.remaining``); its own operation's holds are its places. A commit
locks the shelters and arrivals it writes, refuses (``Conflict``, writing nothing) when any
of them changed after the solve or a hold it used ended, checks ``CapacityRule`` once more,
and writes proposals (with their answer deadlines); who the plan could not place goes on the
waiting list with the engine's reasons.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from api import audit, store
from api.auth import Principal
from api.config import Settings
from api.db import begin_write, write
from api.domain_errors import Conflict, Invalid, NotFound
from api.domain_errors import state as now
from api.plan_jobs import ACTIVE, JobRunner
from api.plan_options import JobOptions, PlanBasis, check_size, time_limit
from api.read_cache import Entry, ReadCache
from api.schemas import PlanIn
from api.services.capacity import capacity_problems, held_stays, is_stale, remaining
from api.services.holds import end_hold
from api.services.replanning import proposal_deadlines, put_on_waiting_list
from api.services.scenarios import Horizon, build_scenario
from api.store import Page, Stay
from api.tables import ArrivalRow, Hold, Operation, PlacementRow, PlanJob, ShelterRow, aware, utcnow
from placement.i18n import Translator
from placement.loading import ScenarioError
from placement.models import Scenario
from placement.plan import Plan
from placement.text import ENGLISH, Text, message


# --- request ----------------------------------------------------------------------------
def _to_plan(session: Session, body: PlanIn) -> tuple[date, list[ArrivalRow]]:
    """The first night and the waiting arrivals to plan (one operation's, or all)."""
    op = None if body.operation_id is None else store.get_operation(session, body.operation_id)
    arrivals = store.waiting_arrivals(session, None if op is None else op.id)
    if not arrivals:
        raise Conflict(
            message("nothing to plan"), [("operation_id", message("no waiting arrivals"))]
        )
    if op is not None:
        return body.start or op.date, arrivals
    op_ids = {a.operation_id for a in arrivals}
    dates = session.exec(select(col(Operation.date)).where(col(Operation.id).in_(op_ids))).all()
    return body.start or min(dates), arrivals


@dataclass
class _Places:
    """What a plan may use: places left by committed placements and other operations' holds."""

    shelters: list[ShelterRow]
    committed: list[Stay]
    own_holds: list[Hold]


def _places(session: Session, settings: Settings, operation_id: int | None) -> _Places:
    rows = store.active_shelters(session)
    check_size(settings, None, len(rows))
    committed = store.committed_stays(session, [r.id for r in rows])
    # held places are invisible to other plans; this operation's own holds are its places
    holds = store.active_holds(session, utcnow())
    own = [] if operation_id is None else [operation_id]
    committed += held_stays(holds, own)
    return _Places(rows, committed, [h for h in holds if h.operation_id in own])


def _scenario(
    settings: Settings,
    body: PlanIn,
    horizon: Horizon,
    places: _Places,
    arrivals: Sequence[ArrivalRow],
) -> Scenario:
    held_here = {h.shelter_id for h in places.own_holds}
    # a shelter's places are stale when not updated recently; the policy says what follows
    shelters = remaining(
        [
            r.shelter.model_copy(update={"stale": is_stale(r, settings), "held": r.id in held_here})
            for r in places.shelters
        ],
        places.committed,
        horizon.start,
        horizon.days,
        horizon.geography,
    )
    name = f"operation {body.operation_id}" if body.operation_id else "every waiting arrival"
    try:
        return build_scenario(
            name, horizon, shelters, [a.arrival for a in arrivals], body.policy, places.committed
        )
    except ScenarioError as e:
        raise Invalid(message("cannot plan these arrivals"), e.messages) from None


def request_plan(
    session: Session, settings: Settings, runner: JobRunner, body: PlanIn, who: Principal
) -> PlanJob:
    """Plan an operation's waiting arrivals, or every waiting arrival: a job, queued."""
    limit = time_limit(body.time_limit, settings)
    if body.horizon_days > settings.max_horizon_days:
        most = message("at most {most}", most=str(settings.max_horizon_days))
        raise Invalid(message("horizon too long"), [("horizon_days", most)])
    start, arrivals = _to_plan(session, body)
    check_size(settings, len(arrivals), None)
    places = _places(session, settings, body.operation_id)
    horizon = Horizon(start, body.horizon_days, settings.geography)
    scenario = _scenario(settings, body, horizon, places, arrivals)
    options = JobOptions(
        solver=body.solver,
        time_limit=limit,
        explain=body.explain,
        start=start,
        horizon_days=body.horizon_days,
        holds=[h.id for h in places.own_holds if h.id is not None],
    )
    job = PlanJob(
        id=uuid.uuid4().hex,
        operation_id=body.operation_id,
        requested_by=who.id,
        options=options.stored(),
        basis=PlanBasis.of(scenario).stored(),
        shelter_versions={r.id: r.version for r in places.shelters},
        arrival_versions={a.id: a.version for a in arrivals},
    )
    # read without the write lock (the versions recorded make a stale plan refuse to commit);
    # the write lock only for the job and its audit record
    begin_write(session)
    session.add(job)
    audit.record(session, who, "read", "arrival", [a.id for a in arrivals], f"plan {job.id}")
    session.commit()
    runner.submit(job.id, scenario.model_dump(mode="json", by_alias=True))
    return job


# --- follow, cancel ---------------------------------------------------------------------
#: plans read from their jobs, in a reader's language, kept per process (``job_plan``)
PLANS = ReadCache(size=16)


def job_plan(job: PlanJob, t: Translator = ENGLISH) -> Plan | None:
    """The job's plan with its reasons in ``t``'s language (None without one), parsed once
    per process and language: a job's result is written once, with its finishing time, so
    the plan is kept under its job, language and finishing time, and the result column is
    read only when it is not kept (a row read with it deferred: ``read_plan``). Not to be
    changed: shared."""
    if job.finished_at is None:
        return None
    key, version = (job.id, t.domain, t.locale), job.finished_at
    kept = PLANS.get(key, version)
    if kept is None:
        result = job.result
        kept = Entry(version, Plan.model_validate(result).localized(t) if result else None)
        PLANS.put(key, kept)
    plan: Plan | None = kept.body
    return plan


#: what a list of plan jobs leaves unread: the plans and the versions they were solved
#: with (a plan of 500 shelters is 66 KB of JSON; twenty of them were parsed for each list)
UNLISTED: tuple[Any, ...] = (
    PlanJob.result,
    PlanJob.shelter_versions,
    PlanJob.arrival_versions,
    PlanJob.basis,
)


def plan_jobs(session: Session, page: Page) -> list[PlanJob]:
    """Plan jobs, newest first, one page, without their plans (``UNLISTED``: not to be
    read from these rows)."""
    query = select(PlanJob).order_by(col(PlanJob.created_at).desc(), col(PlanJob.id))
    unread: list[Any] = [defer(c) for c in UNLISTED]
    return list(session.exec(page.apply(query).options(*unread)).all())


def read_plan(session: Session, plan_id: str, who: Principal, t: Translator = ENGLISH) -> PlanJob:
    """The job, its plan kept in ``t``'s language (``job_plan``: the 66 KB result of a plan
    of 500 shelters is read and parsed once per process); reading a plan (case data) is
    audited."""
    result: Any = PlanJob.result  # the column attribute (typed as its value by SQLModel)
    job = session.get(PlanJob, plan_id, options=[defer(result)])
    if job is None:
        raise NotFound("plan")
    if job_plan(job, t) is not None:
        audit.record_reads(session, who, "plan", [job.id])
    return job


def cancel_plan(session: Session, plan_id: str) -> PlanJob:
    """Cancel a queued or running solve (its runner kills the child process)."""
    job = store.get_plan_job(session, plan_id)
    result = session.execute(
        update(PlanJob)
        .where(col(PlanJob.id) == plan_id, col(PlanJob.status).in_(ACTIVE))
        .values(status="cancelling")
    )
    session.commit()
    session.refresh(job)
    if not getattr(result, "rowcount", 0):
        raise Conflict(
            message("the plan is already {status}", status=now(job.status)),
            [("status", job.status)],
        )
    return job


# --- commit -----------------------------------------------------------------------------
@dataclass
class _Commit:
    """One commit: the job, its plan, and the rows it locked."""

    session: Session
    job: PlanJob
    plan: Plan
    shelters: dict[str, ShelterRow]
    arrivals: dict[str, ArrivalRow]
    now: datetime

    @property
    def used(self) -> list[str]:
        return sorted({p.shelter for p in self.plan.placements})


def _uncommitted(job: PlanJob) -> None:
    if job.committed_at is not None:
        raise Conflict(message("the plan is already committed"), [("status", "committed")])


def _lock(session: Session, plan_id: str) -> _Commit:
    """The job's plan, with its shelters then its arrivals locked (in id order)."""
    job = store.get_plan_job(session, plan_id)
    if job.status != "done" or job.result is None:
        raise Conflict(
            message("the plan is {status}, not done", status=now(job.status)),
            [("status", job.status)],
        )
    _uncommitted(job)
    plan = Plan.model_validate(job.result)
    shelters = store.lock_shelters(session, {p.shelter for p in plan.placements})
    session.refresh(job)  # after the locks: see a concurrent commit of this same plan
    _uncommitted(job)
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
    return _Commit(session, job, plan, shelters, arrivals, utcnow())


def _shelter_conflicts(c: _Commit) -> list[tuple[str, Text]]:
    out = []
    for sid in c.used:
        row = c.shelters.get(sid)
        before = c.job.shelter_versions.get(sid)
        if row is None or not row.active:
            out.append((f"shelters[{sid}]", message("is no longer active")))
        elif row.version != before:
            changed = message(
                "places or attributes changed since the plan was made (version {before} -> {now})",
                before=str(before),
                now=str(row.version),
            )
            out.append((f"shelters[{sid}]", changed))
    return out


def _arrival_conflicts(c: _Commit) -> list[tuple[str, Text]]:
    out = []
    for aid in sorted(p.arrival for p in c.plan.placements):
        a = c.arrivals.get(aid)
        if a is None or a.status != "waiting" or a.version != c.job.arrival_versions.get(aid):
            state = "missing" if a is None else a.status
            changed = message("changed since the plan was made ({state})", state=now(state))
            out.append((f"arrivals[{aid}]", changed))
    return out


def _own_holds(c: _Commit) -> tuple[list[Hold], list[tuple[str, Text]]]:
    """The holds the plan uses that are still active, and conflicts for those that ended."""
    holds, conflicts = [], []
    used = set(c.used)
    for hid in JobOptions.model_validate(c.job.options).holds or []:
        hold = c.session.get(Hold, hid)
        if hold is None or hold.shelter_id not in used:
            continue
        if hold.status != "active" or aware(hold.expires_at) <= c.now:
            state = hold.status if hold.status != "active" else "expired"
            ended = message(
                "the plan uses this hold at {shelter}; it is {state}",
                shelter=hold.shelter_id,
                state=now(state),
            )
            conflicts.append((f"holds[{hid}]", ended))
        else:
            holds.append(hold)
    return holds, conflicts


def _check_capacity(c: _Commit, settings: Settings) -> None:
    """``CapacityRule`` on everything committed, held and new (cannot fail while the
    versions match; checked all the same)."""
    used = c.used
    new = [
        Stay(c.arrivals[p.arrival].arrival, p.shelter, p.first_night, p.last_night)
        for p in c.plan.placements
    ]
    others = held_stays(store.active_holds(c.session, c.now, used), [c.job.operation_id or 0])
    problems = capacity_problems(
        [c.shelters[s].shelter for s in used],
        store.committed_stays(c.session, used) + others + new,
        settings.geography,
    )
    if problems:
        raise Conflict(message("the plan no longer fits"), [("placements", p) for p in problems])


def _write_proposals(c: _Commit, settings: Settings, who: Principal) -> list[PlacementRow]:
    answer_due, replan_due = proposal_deadlines(settings, c.now)
    rows = []
    for p in c.plan.placements:
        placement = PlacementRow(
            arrival_id=p.arrival,
            shelter_id=p.shelter,
            plan_id=c.job.id,
            first_night=p.first_night,
            last_night=p.last_night,
            persons=p.persons,
            committed_at=c.now,
            committed_by=who.id,
            status="proposed",
            answer_due_at=answer_due,
            replan_due_at=replan_due,
        )
        c.session.add(placement)
        rows.append(placement)
        a = c.arrivals[p.arrival]
        a.status, a.version = "placed", a.version + 1
        c.session.add(a)
    for sid in c.used:
        c.shelters[sid].version += 1
        c.session.add(c.shelters[sid])
    return rows


def _use_holds(c: _Commit, holds: list[Hold]) -> None:
    """The operation's placements use its held places first."""
    persons: dict[str, int] = {}
    for p in c.plan.placements:
        persons[p.shelter] = persons.get(p.shelter, 0) + p.persons
    for hold in holds:
        taken = min(hold.places, persons.get(hold.shelter_id, 0))
        persons[hold.shelter_id] = persons.get(hold.shelter_id, 0) - taken
        if taken == hold.places:
            end_hold(c.session, hold, "used", c.now)
        elif taken:
            hold.places -= taken
            c.session.add(hold)


def _waitlist_unplaced(c: _Commit) -> list[str]:
    """Who the plan could not place goes on the waiting list, with the engine's reasons (a
    ``no_place`` alert the first time); their ids."""
    waiting = []
    for u in c.plan.unplaced:
        left = c.session.get(ArrivalRow, u.arrival)
        if left is not None and left.status == "waiting":
            put_on_waiting_list(c.session, c.now, left, u.reason_messages, f"plan {c.job.id}")
            waiting.append(left.id)
    return waiting


def _commit(
    session: Session, plan_id: str, who: Principal, settings: Settings
) -> list[PlacementRow]:
    c = _lock(session, plan_id)
    conflicts = _shelter_conflicts(c) + _arrival_conflicts(c)
    holds, ended = _own_holds(c)
    if conflicts or ended:
        raise Conflict(message("the plan is out of date; request a new one"), conflicts + ended)
    _check_capacity(c, settings)
    rows = _write_proposals(c, settings, who)
    _use_holds(c, holds)
    waiting = _waitlist_unplaced(c)
    c.job.committed_at, c.job.committed_by = c.now, who.id
    session.add(c.job)
    session.flush()
    audit.record(
        session, who, "write", "placement", [r.id for r in rows if r.id], f"plan {c.job.id}"
    )
    audit.record(session, who, "write", "arrival", waiting, f"waiting list (plan {c.job.id})")
    return rows


def commit_plan(
    session: Session, settings: Settings, plan_id: str, who: Principal
) -> list[PlacementRow]:
    """Turn the plan into proposed placements, all or nothing.

    ``Conflict``, writing nothing, if any shelter the plan places people in, or any of its
    arrivals, changed after the solve, or a hold it uses ended.
    """

    return write(session, lambda session: _commit(session, plan_id, who, settings))
