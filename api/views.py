"""Rows to response models, per role: what each caller may see of what the services return.

A type without a ``location`` field cannot leak one (``ShelterPublicOut``); a manager's view
of a placement (``ManagerPlacementOut``) holds nothing else about the case.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, cast

from sqlalchemy.orm import object_session
from sqlmodel import Session

from api.auth import Principal
from api.config import Settings
from api.plan_options import JobOptions, PlanBasis
from api.schemas import (
    AlertOut,
    ArrivalOut,
    CompromisedScope,
    CompromiseNote,
    Freshness,
    HoldOut,
    ManagerPlacementOut,
    OperationOut,
    PlacementOut,
    PlanJobOut,
    ReplanOut,
    ShelterOut,
    ShelterPublicOut,
    StaleNote,
)
from api.services.alerts import alert_detail
from api.services.capacity import is_stale
from api.services.compromised import compromises_of
from api.services.planning import job_plan
from api.services.replanning import Outcome
from api.store import handles
from api.tables import Alert, ArrivalRow, Hold, Operation, PlacementRow, PlanJob, ShelterRow
from placement.i18n import Translator
from placement.plan import Plan
from placement.text import ENGLISH, Text, render
from solver.progress import stage_text


def shelter_out(
    session: Session, row: ShelterRow, who: Principal, settings: Settings
) -> ShelterOut | ShelterPublicOut:
    """The view of a shelter that ``who`` may have."""
    return shelters_out(session, [row], who, settings)[0]


def shelters_out(
    session: Session, rows: list[ShelterRow], who: Principal, settings: Settings
) -> list[ShelterOut | ShelterPublicOut]:
    """The views of these shelters that ``who`` may have (the handles read in one query)."""
    names = handles(session, {u for r in rows for u in (r.updated_by, r.capacity_updated_by)})
    views = [_shelter_view(r, who, settings, names) for r in rows]
    if who.role == "coordinator":
        notes = compromise_notes(session, [r.id for r in rows])
        for view in views:
            if isinstance(view, ShelterOut):
                view.compromised = notes.get(view.id, [])
    return views


def compromise_notes(
    session: Session | None, shelter_ids: Collection[str]
) -> dict[str, list[CompromiseNote]]:
    """Each shelter's compromise records (coordinators' views only); none without a session
    (a row read in a transaction already closed)."""
    if session is None:
        return {}
    return {
        sid: [
            CompromiseNote(
                shelter_id=sid,
                scope=cast(CompromisedScope, c.scope),
                network=c.network,
                operation_id=c.operation_id,
                at=c.at,
                shelter_active=active,
            )
            for c, active in records
        ]
        for sid, records in compromises_of(session, shelter_ids).items()
    }


def plan_compromise_notes(
    session: Session | None, plan: Plan | None
) -> dict[str, list[CompromiseNote]]:
    """The compromise records of the shelters a plan places people in (none without a plan)."""
    used = {p.shelter for p in plan.placements} if plan is not None else set()
    return compromise_notes(session, used)


def _shelter_view(
    row: ShelterRow, who: Principal, settings: Settings, names: Mapping[int, str]
) -> ShelterOut | ShelterPublicOut:
    freshness = Freshness(
        version=row.version,
        updated_at=row.updated_at,
        updated_by=names.get(row.updated_by) if row.updated_by else None,
        capacity_updated_at=row.capacity_updated_at,
        stale=is_stale(row, settings),
        capacity_updated_by=names.get(row.capacity_updated_by) if row.capacity_updated_by else None,
    )
    s = row.shelter
    common = {
        "id": row.id,
        "active": row.active,
        "accepts": s.accepts,
        "trans_inclusive": s.trans_inclusive,
        "age_min": s.age_min,
        "age_max": s.age_max,
        "children": s.children,
        "languages": s.languages,
        "services": s.services,
        "capacity": s.capacity,
        "availability": s.availability,
        "freshness": freshness,
    }
    if who.sees_location(row.id):
        return ShelterOut(**common, department=s.department, location=s.location)
    return ShelterPublicOut(**common)


def arrival_out(row: ArrivalRow, t: Translator = ENGLISH) -> ArrivalOut:
    """An arrival as a coordinator sees it (why it waits, in ``t``'s language)."""
    return ArrivalOut.model_validate(
        {
            **row.data,
            "operation_id": row.operation_id,
            "status": row.status,
            "created_at": row.created_at,
            "waitlisted_at": row.waitlisted_at,
            "waiting_reasons": stored_reasons(row.waiting_reasons, t),
        }
    )


def stored_reasons(reasons: list[str | dict[str, Any]] | None, t: Translator) -> list[str] | None:
    """Stored reasons (messages, or strings stored before they were) in ``t``'s language."""
    if reasons is None:
        return None
    return [r if isinstance(r, str) else Text.model_validate(r).render(t) for r in reasons]


def placement_out(row: PlacementRow) -> PlacementOut:
    """A placement as a coordinator sees it (with its shelter's compromise records when the
    row is still in its request's session)."""
    notes = compromise_notes(object_session(row), [row.shelter_id])  # type: ignore[arg-type]
    return _placement_out(row, notes.get(row.shelter_id, []))


def _placement_out(row: PlacementRow, compromised: list[CompromiseNote]) -> PlacementOut:
    assert row.id is not None
    return PlacementOut(
        compromised=compromised,
        id=row.id,
        arrival_id=row.arrival_id,
        shelter_id=row.shelter_id,
        plan_id=row.plan_id,
        first_night=row.first_night,
        last_night=row.last_night,
        persons=row.persons,
        active=row.active,
        committed_at=row.committed_at,
        released_at=row.released_at,
        status=row.status,
        answer_reason=row.answer_reason,
        answered_at=row.answered_at,
        answer_due_at=row.answer_due_at,
        escalated_at=row.escalated_at,
    )


def manager_placement_out(row: PlacementRow, arrival: ArrivalRow) -> ManagerPlacementOut:
    """A placement as the receiving shelter's manager sees it."""
    assert row.id is not None
    a = arrival.arrival
    return ManagerPlacementOut(
        id=row.id,
        shelter_id=row.shelter_id,
        arrival_id=row.arrival_id,
        first_night=row.first_night,
        last_night=row.last_night,
        children=a.children,
        needs=a.needs,
        languages=a.languages,
        active=row.active,
        status=row.status,
        answer_reason=row.answer_reason,
        answer_due_at=row.answer_due_at,
    )


def placements_out(
    who: Principal, rows: list[tuple[PlacementRow, ArrivalRow]]
) -> list[PlacementOut] | list[ManagerPlacementOut]:
    """Placements as coordinators see them, or as the receiving shelters' managers do."""
    if who.role == "coordinator":
        session = object_session(rows[0][0]) if rows else None
        notes = compromise_notes(session, {p.shelter_id for p, _ in rows})  # type: ignore[arg-type]
        return [_placement_out(p, notes.get(p.shelter_id, [])) for p, _ in rows]
    return [manager_placement_out(p, a) for p, a in rows]


def operation_out(op: Operation, counts: Mapping[str, int]) -> OperationOut:
    """An operation with the counts of its arrivals by status."""
    assert op.id is not None
    return OperationOut(
        id=op.id,
        reference=op.reference,
        date=op.date,
        danger=op.danger,  # type: ignore[arg-type]
        created_at=op.created_at,
        arrivals_waiting=counts.get("waiting", 0),
        arrivals_placed=counts.get("placed", 0),
    )


def hold_out(h: Hold) -> HoldOut:
    """A hold as coordinators see it."""
    return HoldOut(
        id=h.id or 0,
        operation_id=h.operation_id,
        shelter_id=h.shelter_id,
        places=h.places,
        first_night=h.first_night,
        last_night=h.last_night,
        expires_at=h.expires_at,
        status=h.status,
        profile=h.profile,
    )


def alert_out(r: Alert, t: Translator = ENGLISH) -> AlertOut:
    """An alert as coordinators see it (its detail in ``t``'s language)."""
    return AlertOut(
        id=r.id or 0,
        at=r.at,
        kind=r.kind,
        placement_id=r.placement_id,
        arrival_id=r.arrival_id,
        shelter_id=r.shelter_id,
        detail=alert_detail(r, t),
        resolved_at=r.resolved_at,
    )


def replan_out(o: Outcome, t: Translator = ENGLISH) -> ReplanOut:
    """An engine re-plan as coordinators see it (its reasons in ``t``'s language)."""
    return ReplanOut(
        arrival_ids=o.arrival_ids,
        shelter_id=o.shelter_id,
        placement_ids=o.placement_ids,
        admissible=o.admissible,
        with_room=o.with_room,
        reasons=[r.render(t) for r in o.reasons],
    )


def stale_note(job: PlanJob, plan: Plan | None) -> StaleNote:
    """Which shelters were stale when the plan was solved, and who it puts there."""
    basis = PlanBasis.model_validate(job.basis)
    stale = basis.stale_shelters
    placed = sorted(p.arrival for p in plan.placements if p.shelter in stale) if plan else []
    return StaleNote(
        policy=basis.policy.stale_capacity, stale_shelters=stale, placed_in_stale=placed
    )


def job_out(job: PlanJob, with_result: bool = True, t: Translator = ENGLISH) -> PlanJobOut:
    """A job as coordinators see it (the plan's reasons and relaxations in ``t``'s language);
    with its result, the shelters it uses that were marked compromised."""
    plan = job_plan(job, t) if with_result else None
    notes = plan_compromise_notes(object_session(job), plan)  # type: ignore[arg-type]
    return PlanJobOut(
        compromised_shelters=[n for sid in sorted(notes) for n in notes[sid]],
        id=job.id,
        status=job.status,
        operation_id=job.operation_id,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=job_error(job, t),
        options=JobOptions.model_validate(job.options),
        committed_at=job.committed_at,
        result=plan,
        stale=stale_note(job, plan) if with_result else None,
        progress=progress_in(job.progress, t),
    )


def job_error(job: PlanJob, t: Translator) -> str | None:
    """Why the job failed, in ``t``'s language (in English for a job that failed before
    its error was kept as a message)."""
    if job.error_message is None:
        return job.error
    return Text.model_validate(job.error_message).render(t)


def progress_in(progress: dict[str, Any] | None, t: Translator) -> dict[str, Any] | None:
    """A job's stored progress with its stage named in ``t``'s language."""
    if not progress or "stage" not in progress:
        return progress
    return {**progress, "stage": render(stage_text(str(progress["stage"])), t)}
