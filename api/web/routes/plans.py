"""The coordinator's plan pages: plan an operation (one button), follow the solve (a JSON
progress the page polls), read the plan (placements; unplaced people with the engine's
reasons and verified relaxations; the map), commit it, and follow the proposals."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlmodel import Session

from api import store
from api.deps import RowId
from api.domain_errors import Conflict, Invalid, TooLarge, TooMany
from api.plan_jobs import ACTIVE
from api.schemas import PlanIn
from api.services import alerts, operations, placements, planning
from api.services.plan_map import plan_map
from api.solve_slots import SolveRate
from api.store import MAX_PAGE, Page
from api.tables import PlanJob
from api.views import job_error, plan_compromise_notes
from api.web.deps import CheckedForm, CoordinatorPage, CoordinatorPageDep
from api.web.engine_texts import engine_plan, engine_text
from api.web.labels import STATUSES, label
from api.web.render import render, web_translator
from api.web.routes.operations import operation_page
from placement.i18n import N_, Translator, translator
from placement.models import PRIORITIES
from placement.plan import Plan
from solver.progress import stage_text

router = APIRouter()

#: every row of a list (the operation's pages show all of theirs)
_ALL = Page(MAX_PAGE, 0)

SOLVING = N_("Solving: {seconds} s, stage {stage}")
WAITING_FOR_SOLVER = N_("Waiting for a solver…")
#: the scope of a compromised mark, as a coordinator reads it
COMPROMISED_SCOPES = {
    "everyone": N_("everyone"),
    "operation": N_("this operation"),
    "network": N_("this network"),
}
COMMITTED = N_("Plan committed: the shelters have been asked. Follow their answers here.")
OUT_OF_DATE = N_(
    "The plan is out of date: something changed since it was made. Nothing was committed."
)
SHELTER_CHANGED = N_("Shelter {shelter}: {problem}")


# --- ask --------------------------------------------------------------------------------
@router.post("/operations/{operation_id}/plan", response_class=HTMLResponse)
def plan_operation(operation_id: RowId, page: CoordinatorPageDep, form: CheckedForm) -> Response:
    """Ask for a plan of the operation's waiting arrivals: a job; its page shows progress."""
    rate: SolveRate = page.request.app.state.solve_rate
    try:
        rate.count(page.who.id)  # the JSON API's limit of solve requests, the same unit
        body = PlanIn(operation_id=operation_id)
        job = planning.request_plan(
            page.session, page.settings, page.request.app.state.runner, body, page.who
        )
    except (Invalid, TooLarge, TooMany) as e:
        page.session.rollback()
        t = web_translator(page.request)
        problem = "; ".join(engine_text(t, p) for _, p in e.errors) or engine_text(t, e.detail)
        return operation_page(page, operation_id, status=422, plan_error=problem)
    return RedirectResponse(f"/app/plans/{job.id}", status_code=303)


# --- progress ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Level:
    """One priority level of a solve: persons placed, requested, and the bound if known."""

    priority: int
    placed: int
    requested: int
    bound: int | None

    def text(self, t: Translator) -> str:
        """The level as a sentence in the reader's language."""
        if self.bound is None:
            return t.ngettext(
                "priority {priority}: {placed} of {n} person placed",
                "priority {priority}: {placed} of {n} persons placed",
                self.requested,
                priority=self.priority,
                placed=self.placed,
            )
        return t.ngettext(
            "priority {priority}: {placed} of {n} person placed; at most {bound} at this "
            "priority or above",
            "priority {priority}: {placed} of {n} persons placed; at most {bound} at this "
            "priority or above",
            self.requested,
            priority=self.priority,
            placed=self.placed,
            bound=self.bound,
        )


def requested_persons(session: Session, job: PlanJob, plan: Plan | None) -> dict[int, int]:
    """Persons (each arrival with her children) the job asks a place for, per priority: the
    plan's own counts once solved, else those of the arrivals it was given."""
    if plan is not None:
        return {int(p): n for p, n in plan.requested_persons_by_priority.items()}
    counts: Counter[int] = Counter()
    for row in store.plan_arrivals(session, job):
        arrival = row.arrival
        counts[arrival.priority] += arrival.persons
    return dict(counts)


def levels(session: Session, job: PlanJob, plan: Plan | None = None) -> list[Level]:
    """The solve's progress (or the plan's result) per priority, most urgent first."""
    requested = requested_persons(session, job, plan)
    source: dict[str, Any] = plan.model_dump() if plan is not None else dict(job.progress or {})
    placed = source.get("placed_persons_by_priority") or {}
    bounds = source.get("upper_bound_persons_at_or_above") or {}
    return [
        Level(p, int(placed.get(str(p), 0)), requested.get(p, 0), bounds.get(str(p)))
        for p in sorted(PRIORITIES, reverse=True)
        if requested.get(p, 0)
    ]


@router.get("/plans/{plan_id}/progress.json")
def plan_progress(plan_id: str, page: CoordinatorPageDep) -> JSONResponse:
    """Where the solve stands, for the page's progress bars (polled while it runs)."""
    job = planning.read_plan(page.session, plan_id[:32], page.who)
    page.session.commit()
    t = web_translator(page.request)
    progress = job.progress or {}
    if progress:
        status = t.gettext(
            SOLVING,
            seconds=t.number(progress.get("seconds", 0)),
            stage=engine_text(t, stage_text(str(progress.get("stage", "")))),
        )
    else:
        status = t.gettext(WAITING_FOR_SOLVER)
    return JSONResponse(
        {
            "status": job.status,
            "finished": job.status not in ACTIVE,
            "status_text": status,
            "levels": [
                {
                    "priority": lv.priority,
                    "placed": lv.placed,
                    "bound": lv.requested,
                    "text": lv.text(t),
                }
                for lv in levels(page.session, job)
            ],
        },
        headers={"Cache-Control": "no-store"},
    )


# --- the plan ---------------------------------------------------------------------------
def plan_page(page: CoordinatorPage, plan_id: str, **extra: Any) -> HTMLResponse:
    """The plan job's page: progress while it solves, then the plan."""
    job = planning.read_plan(page.session, plan_id[:32], page.who)
    op = (
        None
        if job.operation_id is None
        else operations.read_operation(page.session, job.operation_id, page.who)
    )
    t = web_translator(page.request)
    plan = engine_plan(t, Plan.model_validate(job.result)) if job.result else None
    compromised = plan_compromise_notes(page.session, plan)
    payload = plan_map(page.session, page.settings, job.id, page.who) if plan is not None else None
    page.session.commit()  # the reads' audit records
    context: dict[str, Any] = {"notice": None, "conflicts": [], "commit_error": None, **extra}
    return render(
        page.request,
        "plan.html",
        status=context.pop("status", 200),
        job=job,
        op=op,
        plan=plan,
        map_payload=payload,
        compromised=compromised,
        error_text=job_error(job, translator(t.locale)),
        scope_label=lambda scope: t.gettext(COMPROMISED_SCOPES[scope]),
        solving=job.status in ACTIVE,
        levels=levels(page.session, job, plan),
        level_text=lambda lv: lv.text(t),
        status_label=lambda s: label(t, STATUSES, s),
        **context,
    )


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def show_plan(plan_id: str, page: CoordinatorPageDep) -> HTMLResponse:
    """The plan: its progress while it solves, then placements and unplaced people."""
    return plan_page(page, plan_id)


def conflict_lines(t: Translator, error: Conflict) -> list[str]:
    """A refused commit's problems, naming the shelter (or arrival, or hold) that changed."""
    out = []
    for field, problem in error.errors:
        if field.startswith("shelters[") and field.endswith("]"):
            shelter = field[len("shelters[") : -1]
            out.append(t.gettext(SHELTER_CHANGED, shelter=shelter, problem=engine_text(t, problem)))
        else:
            out.append(f"{field}: {engine_text(t, problem)}" if field else engine_text(t, problem))
    return out or [engine_text(t, error.detail)]


@router.post("/plans/{plan_id}/commit", response_class=HTMLResponse)
def commit_plan(plan_id: str, page: CoordinatorPageDep, form: CheckedForm) -> Response:
    """Commit the plan (proposals to the shelters); a 409 says what changed and offers a
    new plan."""
    t = web_translator(page.request)
    try:
        planning.commit_plan(page.session, page.settings, plan_id[:32], page.who)
    except Conflict as e:
        return plan_page(
            page,
            plan_id,
            status=409,
            commit_error=t.gettext(OUT_OF_DATE),
            conflicts=conflict_lines(t, e),
        )
    job = planning.read_plan(page.session, plan_id[:32], page.who)
    page.session.commit()
    target = f"/app/operations/{job.operation_id}/proposals" if job.operation_id else "/app/"
    return RedirectResponse(target + "?committed=1", status_code=303)


# --- proposals --------------------------------------------------------------------------
@dataclass(frozen=True)
class Proposals:
    """An operation's placements with their alerts, and a fingerprint that changes when any
    of them does (the page reloads on a change)."""

    rows: list[Any]
    escalated: set[int]
    version: str


def operation_proposals(page: CoordinatorPage, operation_id: int) -> Proposals:
    """The placements of the operation's arrivals (every status), newest first."""
    ids = {r.id for r in operations.operation_arrivals(page.session, operation_id, page.who)}
    rows = [
        p
        for active in (True, False)
        for p, _arrival in placements.placements(page.session, page.who, active, _ALL)
        if p.arrival_id in ids
    ]
    unique = {p.id: p for p in rows}
    rows = sorted(unique.values(), key=lambda p: (p.committed_at, p.id or 0), reverse=True)
    open_alerts = alerts.alerts(page.session, page.who, open_only=True, page=_ALL)
    escalated = {a.placement_id for a in open_alerts if a.kind == "escalation" and a.placement_id}
    stamp = "|".join(f"{p.id}:{p.status}:{p.active}" for p in rows) + f"#{sorted(escalated)}"
    return Proposals(rows, escalated, hashlib.sha256(stamp.encode()).hexdigest()[:16])


@router.get("/operations/{operation_id}/proposals", response_class=HTMLResponse)
def show_proposals(
    operation_id: RowId, page: CoordinatorPageDep, committed: int = 0
) -> HTMLResponse:
    """Each proposal's shelter, status and answer deadline; escalations; re-plans as they
    happen (the page reloads when anything changes)."""
    op = operations.read_operation(page.session, operation_id, page.who)
    found = operation_proposals(page, operation_id)
    waiting = [
        r
        for r in operations.operation_arrivals(page.session, operation_id, page.who)
        if r.status == "waiting"
    ]
    page.session.commit()
    t = web_translator(page.request)
    return render(
        page.request,
        "proposals.html",
        op=op,
        proposals=found,
        waiting=waiting,
        notice=t.gettext(COMMITTED) if committed else None,
        status_label=lambda s: label(t, STATUSES, s),
    )


@router.get("/operations/{operation_id}/proposals.json")
def proposals_version(operation_id: RowId, page: CoordinatorPageDep) -> JSONResponse:
    """The fingerprint of the operation's proposals (the page polls it)."""
    found = operation_proposals(page, operation_id)
    page.session.commit()
    return JSONResponse({"version": found.version}, headers={"Cache-Control": "no-store"})
