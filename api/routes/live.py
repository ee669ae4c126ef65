"""Live operations: answers to proposals, alerts, compromised shelters, the waiting list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session, col, select

from api import audit
from api.auth import Principal
from api.db import with_retry
from api.deps import (
    Coordinator,
    CoordinatorOrAnalyst,
    CoordinatorOrManager,
    EngineDep,
    RowId,
    SessionDep,
    SettingsDep,
)
from api.errors import ApiError, not_found
from api.live import (
    Outcome,
    decline_and_replan,
    lock_all,
    resolve_escalations,
    retry_waitlist,
)
from api.schemas import (
    COUNTS,
    AlertOut,
    AnswerIn,
    AnswerOut,
    CompromisedIn,
    CompromisedOut,
    ReplanOut,
    ReportCountOut,
)
from api.tables import Alert, ArrivalRow, CompromisedShelter, PlacementRow, ReportCount, utcnow

router = APIRouter(tags=["live operations"])


def replan_out(o: Outcome) -> ReplanOut:
    """An engine re-plan as coordinators see it."""
    return ReplanOut(
        arrival_ids=o.arrival_ids,
        shelter_id=o.shelter_id,
        placement_ids=o.placement_ids,
        admissible=o.admissible,
        with_room=o.with_room,
        reasons=o.reasons,
    )


def _proposal(session: Session, placement_id: int, who: Principal) -> PlacementRow:
    row = session.get(PlacementRow, placement_id)
    if row is None or (who.role == "shelter_manager" and not who.manages(row.shelter_id)):
        raise not_found("placement")
    if row.status != "proposed" or not row.active:
        raise ApiError(409, f"the placement is already {row.status}", [("status", f"{row.status}")])
    return row


@router.post("/placements/{placement_id}/accept")
def accept(
    placement_id: RowId,
    who: CoordinatorOrManager,
    engine: EngineDep,
    body: AnswerIn | None = None,
) -> AnswerOut:
    """The shelter accepts a proposed placement (its managers; coordinators on their behalf)."""

    def transaction() -> AnswerOut:
        with Session(engine) as session:
            row = _proposal(session, placement_id, who)
            session.refresh(row, with_for_update=True)  # a concurrent decline is seen
            row = _proposal(session, placement_id, who)
            now = utcnow()
            row.status, row.answered_at, row.answered_by = "accepted", now, who.id
            resolve_escalations(session, [placement_id], now)
            row.answer_reason = body.reason if body else None
            session.add(row)
            audit.record(session, who, "write", "placement", [placement_id], "accepted")
            session.commit()
            return AnswerOut(
                placement_id=placement_id, status="accepted", answer_reason=row.answer_reason
            )

    return with_retry(transaction)


@router.post("/placements/{placement_id}/decline")
def decline(
    placement_id: RowId,
    who: CoordinatorOrManager,
    engine: EngineDep,
    settings: SettingsDep,
    body: AnswerIn | None = None,
) -> AnswerOut:
    """Decline a proposed placement: the place is freed and the person re-planned elsewhere.

    The re-plan excludes the declining shelter and moves no one else; when nothing fits the
    person goes on the waiting list with the engine's reasons. Freed places are then offered
    to the waiting list.
    """

    def transaction() -> AnswerOut:
        with Session(engine) as session:
            row = _proposal(session, placement_id, who)
            now = utcnow()
            outcome = decline_and_replan(
                session, settings, row, "declined", who, body.reason if body else None, now
            )
            session.commit()
            return AnswerOut(
                placement_id=placement_id,
                status="declined",
                answer_reason=row.answer_reason,
                replan=replan_out(outcome) if who.role == "coordinator" else None,
            )

    out = with_retry(transaction)
    _retry_waiting(engine, settings)
    return out


def _retry_waiting(engine: EngineDep, settings: SettingsDep) -> list[Outcome]:
    def transaction() -> list[Outcome]:
        with Session(engine) as session:
            done = retry_waitlist(session, settings, None, utcnow())
            session.commit()
            return done

    return with_retry(transaction)


@router.post("/waitlist/retry")
def retry(who: Coordinator, engine: EngineDep, settings: SettingsDep) -> list[ReplanOut]:
    """Retry the waiting list now (it is also retried by the scheduler and when places free)."""

    def transaction() -> list[ReplanOut]:
        with Session(engine) as session:
            done = retry_waitlist(session, settings, who, utcnow())
            session.commit()
            return [replan_out(o) for o in done]

    return with_retry(transaction)


@router.get("/alerts")
def list_alerts(
    who: Coordinator,
    session: SessionDep,
    open_only: Annotated[bool, Query(alias="open")] = True,
    kind: str | None = None,
) -> list[AlertOut]:
    """Alerts: escalated proposals, people without a place (coordinators)."""
    query = select(Alert).order_by(col(Alert.id))
    if open_only:
        query = query.where(col(Alert.resolved_at).is_(None))
    if kind:
        query = query.where(Alert.kind == kind)
    rows = session.exec(query).all()
    audit.record(
        session,
        who,
        "read",
        "arrival",
        sorted({r.arrival_id for r in rows if r.arrival_id}),
        "alerts",
    )
    session.commit()
    return [
        AlertOut(
            id=r.id or 0,
            at=r.at,
            kind=r.kind,
            placement_id=r.placement_id,
            arrival_id=r.arrival_id,
            shelter_id=r.shelter_id,
            detail=r.detail,
            resolved_at=r.resolved_at,
        )
        for r in rows
    ]


@router.post("/alerts/{alert_id}/resolve")
def resolve_alert(alert_id: RowId, who: Coordinator, session: SessionDep) -> AlertOut:
    """Mark an alert as dealt with."""
    row = session.get(Alert, alert_id)
    if row is None:
        raise not_found("alert")
    if row.resolved_at is not None:
        raise ApiError(409, "alert already resolved", [("resolved_at", str(row.resolved_at))])
    row.resolved_at = utcnow()
    session.add(row)
    audit.record(session, who, "write", "alert", [alert_id], "resolved")
    session.commit()
    session.refresh(row)
    return AlertOut(
        id=alert_id,
        at=row.at,
        kind=row.kind,
        placement_id=row.placement_id,
        arrival_id=row.arrival_id,
        shelter_id=row.shelter_id,
        detail=row.detail,
        resolved_at=row.resolved_at,
    )


@router.post("/shelters/{shelter_id}/compromised")
def mark_compromised(
    shelter_id: str,
    who: Coordinator,
    engine: EngineDep,
    settings: SettingsDep,
    body: CompromisedIn | None = None,
) -> CompromisedOut:
    """The network found the shelter: everyone placed there is re-planned elsewhere, and the
    shelter is excluded for the network's arrivals from then on (coordinators)."""
    network = body.network if body else None

    def transaction() -> CompromisedOut:
        with Session(engine) as session:
            shelters = lock_all(session)
            if shelter_id not in shelters:
                raise not_found("shelter")
            now = utcnow()
            session.add(
                CompromisedShelter(shelter_id=shelter_id, network=network, at=now, by=who.id)
            )
            if network is not None:
                for a in session.exec(select(ArrivalRow)).all():
                    excluded = list(a.data.get("exclude_shelters") or [])
                    if a.data.get("network") == network and shelter_id not in excluded:
                        a.data = {**a.data, "exclude_shelters": [*excluded, shelter_id]}
                        a.version += 1
                        session.add(a)
            audit.record(
                session, who, "write", "shelter", [shelter_id], f"compromised {network or ''}"
            )
            placed = session.exec(
                select(PlacementRow)
                .where(PlacementRow.shelter_id == shelter_id, col(PlacementRow.active))
                .order_by(col(PlacementRow.id))
            ).all()
            outcomes = []
            handled: set[int] = set()
            for p in placed:
                if p.id in handled:
                    continue
                session.refresh(p)
                if not p.active:
                    continue
                outcome = decline_and_replan(
                    session,
                    settings,
                    p,
                    "compromised",
                    who,
                    "shelter compromised",
                    now,
                    only_proposed=False,
                )
                handled.add(p.id or 0)
                outcomes.append(replan_out(outcome))
            session.commit()
            return CompromisedOut(shelter_id=shelter_id, network=network, replans=outcomes)

    return with_retry(transaction)


@router.get("/reports/purged")
def purged_counts(who: CoordinatorOrAnalyst, session: SessionDep) -> list[ReportCountOut]:
    """What the retention purge kept: counts by month of the end of the stay, summed."""
    rows = session.exec(select(ReportCount).order_by(col(ReportCount.period))).all()
    totals: dict[str, ReportCountOut] = {}
    for r in rows:
        t = totals.setdefault(r.period, ReportCountOut(period=r.period))
        for name in COUNTS:
            setattr(t, name, getattr(t, name) + getattr(r, name))
    return list(totals.values())
