"""Rows to response models, per role, and lookups that hide what the caller may not see."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from api.auth import Principal
from api.config import Settings
from api.errors import not_found
from api.schemas import (
    ArrivalOut,
    Freshness,
    ManagerPlacementOut,
    PlacementOut,
    ShelterOut,
    ShelterPublicOut,
)
from api.tables import ArrivalRow, PlacementRow, ShelterRow, User, aware, utcnow


def handles(session: Session, ids: set[int | None]) -> dict[int, str]:
    """User handles by id."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.exec(select(User).where(col(User.id).in_(wanted))).all()
    return {u.id: u.handle for u in rows if u.id is not None}


def sees_location(who: Principal, shelter_id: str) -> bool:
    """Coordinators and the shelter's own managers see where it is."""
    return who.role == "coordinator" or who.manages(shelter_id)


def is_stale(row: ShelterRow, settings: Settings, now: datetime | None = None) -> bool:
    """True when the shelter's places were not updated within ``stale_after_hours``."""
    age = (now or utcnow()) - aware(row.capacity_updated_at)
    return age > timedelta(hours=settings.stale_after_hours)


def shelter_out(
    session: Session, row: ShelterRow, who: Principal, settings: Settings
) -> ShelterOut | ShelterPublicOut:
    """The view of a shelter that ``who`` may have."""
    names = handles(session, {row.updated_by, row.capacity_updated_by})
    freshness = Freshness(
        version=row.version,
        updated_at=row.updated_at,
        updated_by=names.get(row.updated_by) if row.updated_by else None,
        capacity_updated_at=row.capacity_updated_at,
        stale=is_stale(row, settings),
        capacity_updated_by=names.get(row.capacity_updated_by) if row.capacity_updated_by else None,
    )
    d = row.data
    common = {
        "id": row.id,
        "active": row.active,
        "accepts": d["accepts"],
        "trans_inclusive": d.get("trans_inclusive", True),
        "age_min": d.get("age_min", 18),
        "age_max": d.get("age_max"),
        "children": d.get("children", False),
        "languages": d.get("languages", ("fr",)),
        "services": d.get("services", ()),
        "capacity": d.get("capacity"),
        "availability": d.get("availability"),
        "freshness": freshness,
    }
    if sees_location(who, row.id):
        return ShelterOut(**common, department=d["department"], location=d.get("location"))
    return ShelterPublicOut(**common)


def visible_shelter(session: Session, shelter_id: str, who: Principal) -> ShelterRow:
    """The shelter if ``who`` may see it; 404 alike for missing and forbidden."""
    row = session.get(ShelterRow, shelter_id)
    if row is None or (who.role == "shelter_manager" and not who.manages(shelter_id)):
        raise not_found("shelter")
    return row


def arrival_out(row: ArrivalRow) -> ArrivalOut:
    """An arrival as a coordinator sees it."""
    return ArrivalOut.model_validate(
        {
            **row.data,
            "operation_id": row.operation_id,
            "status": row.status,
            "created_at": row.created_at,
            "waitlisted_at": row.waitlisted_at,
            "waiting_reasons": row.waiting_reasons,
        }
    )


def placement_out(row: PlacementRow) -> PlacementOut:
    """A placement as a coordinator sees it."""
    assert row.id is not None
    return PlacementOut(
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
    d = arrival.data
    return ManagerPlacementOut(
        id=row.id,
        shelter_id=row.shelter_id,
        arrival_id=row.arrival_id,
        first_night=row.first_night,
        last_night=row.last_night,
        children=d.get("children", 0),
        needs=d.get("needs", ()),
        languages=d["languages"],
        active=row.active,
        status=row.status,
        answer_reason=row.answer_reason,
        answer_due_at=row.answer_due_at,
    )
