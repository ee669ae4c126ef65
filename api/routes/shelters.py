"""Shelters: coordinators create and edit them; managers keep their own places current."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, status
from pydantic import ValidationError
from sqlmodel import Session, col, select

from api import audit
from api.assemble import Stay, capacity_problems
from api.auth import Principal
from api.config import Settings
from api.db import with_retry
from api.deps import (
    Coordinator,
    CoordinatorOrManager,
    CurrentUser,
    EngineDep,
    SessionDep,
    SettingsDep,
)
from api.errors import ApiError, not_found, split_problems
from api.live import retry_waitlist
from api.schemas import (
    CalendarIn,
    ManagerPlacementOut,
    PlacementOut,
    ShelterAttributesIn,
    ShelterEditIn,
    ShelterIn,
    ShelterOut,
    ShelterPublicOut,
    ShelterUpdateOut,
)
from api.tables import ArrivalRow, PlacementRow, ShelterRow, ShelterUpdate, utcnow
from api.views import (
    handles,
    is_stale,
    manager_placement_out,
    placement_out,
    sees_location,
    shelter_out,
    visible_shelter,
)
from placement.geography import load_geography
from placement.loading import validation_problems
from placement.models import Shelter

router = APIRouter(prefix="/shelters", tags=["shelters"])


def checked_shelter(data: dict[str, Any], settings: Settings) -> Shelter:
    """Validate a shelter document with the engine's model; 422 naming the field otherwise."""
    try:
        shelter = Shelter.model_validate(data)
    except ValidationError as e:
        raise ApiError(422, "invalid shelter", split_problems(validation_problems(e))) from None
    geo = load_geography(settings.geography)
    if shelter.department not in geo:
        raise ApiError(
            422,
            "invalid shelter",
            [("department", f"unknown code {shelter.department!r} for {geo.code}")],
        )
    return shelter


def _dump(shelter: Shelter) -> dict[str, Any]:
    return shelter.model_dump(mode="json", by_alias=True)


def lock_shelters(session: Session, ids: list[str]) -> dict[str, ShelterRow]:
    """Lock the shelter rows (PostgreSQL ``FOR UPDATE``, in id order) and return them."""
    rows = session.exec(
        select(ShelterRow)
        .where(col(ShelterRow.id).in_(sorted(ids)))
        .order_by(col(ShelterRow.id))
        .with_for_update()
    ).all()
    return {r.id: r for r in rows}


def committed_stays(session: Session, shelter_ids: list[str]) -> list[Stay]:
    """Active placements in these shelters, as stays."""
    rows = session.exec(
        select(PlacementRow, ArrivalRow)
        .join(ArrivalRow, col(ArrivalRow.id) == col(PlacementRow.arrival_id))
        .where(col(PlacementRow.shelter_id).in_(shelter_ids), col(PlacementRow.active))
    ).all()
    return [Stay(a.data, p.shelter_id, p.first_night, p.last_night) for p, a in rows]


def _audit_location(session: Session, who: Principal, rows: list[ShelterRow]) -> None:
    seen = [r.id for r in rows if sees_location(who, r.id) and r.data.get("location")]
    audit.record(session, who, "read", "shelter_location", seen)


def _record_update(
    session: Session, row: ShelterRow, who: Principal, kind: str, fields: list[str]
) -> None:
    now = utcnow()
    row.version += 1
    row.updated_at, row.updated_by = now, who.id
    if kind == "availability":
        row.capacity_updated_at, row.capacity_updated_by = now, who.id
    session.add(row)
    session.add(ShelterUpdate(shelter_id=row.id, at=now, user_id=who.id, kind=kind, fields=fields))
    if "location" in fields:
        audit.record(session, who, "write", "shelter_location", [row.id])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ShelterOut)
def create_shelter(
    body: ShelterIn, who: Coordinator, session: SessionDep, settings: SettingsDep
) -> ShelterOut | ShelterPublicOut:
    """Create a shelter (coordinators)."""
    shelter = checked_shelter(body.model_dump(by_alias=True), settings)
    if session.get(ShelterRow, shelter.id) is not None:
        raise ApiError(409, "shelter already exists", [("id", f"{shelter.id!r} is taken")])
    row = ShelterRow(
        id=shelter.id, data=_dump(shelter), updated_by=who.id, capacity_updated_by=who.id
    )
    session.add(row)
    session.add(ShelterUpdate(shelter_id=row.id, user_id=who.id, kind="created", fields=["*"]))
    if shelter.location is not None:
        audit.record(session, who, "write", "shelter_location", [row.id])
    session.commit()
    session.refresh(row)
    return shelter_out(session, row, who, settings)


@router.get("", response_model=list[ShelterOut | ShelterPublicOut])
def list_shelters(
    who: CurrentUser, session: SessionDep, settings: SettingsDep, stale: bool | None = None
) -> list[ShelterOut | ShelterPublicOut]:
    """Shelters: all for coordinators and analysts (analysts without locations); managers
    see their own. ``?stale=true``: only those whose places were not confirmed for
    ``PLACEMENT_STALE_AFTER_HOURS``."""
    query = select(ShelterRow).order_by(col(ShelterRow.id))
    if who.role == "shelter_manager":
        query = query.where(col(ShelterRow.id).in_(who.shelters))
    rows = list(session.exec(query).all())
    if stale is not None:
        rows = [r for r in rows if is_stale(r, settings) == stale]
    out = [shelter_out(session, r, who, settings) for r in rows]
    _audit_location(session, who, rows)
    session.commit()
    return out


@router.get("/{shelter_id}", response_model=ShelterOut | ShelterPublicOut)
def get_shelter(
    shelter_id: str, who: CurrentUser, session: SessionDep, settings: SettingsDep
) -> ShelterOut | ShelterPublicOut:
    """One shelter (managers: only their own)."""
    row = visible_shelter(session, shelter_id, who)
    out = shelter_out(session, row, who, settings)
    _audit_location(session, who, [row])
    session.commit()
    return out


@router.patch("/{shelter_id}", response_model=ShelterOut)
def edit_shelter(
    shelter_id: str,
    body: ShelterEditIn,
    who: Coordinator,
    engine: EngineDep,
    settings: SettingsDep,
) -> ShelterOut | ShelterPublicOut:
    """Edit any attribute of a shelter, its location included (coordinators)."""
    changes = body.model_dump(exclude_unset=True, by_alias=True)
    active = changes.pop("active", None)
    return _update(engine, settings, shelter_id, who, "edit", changes, active)


@router.patch("/{shelter_id}/attributes", response_model=ShelterOut)
def update_attributes(
    shelter_id: str,
    body: ShelterAttributesIn,
    who: CoordinatorOrManager,
    engine: EngineDep,
    settings: SettingsDep,
) -> ShelterOut | ShelterPublicOut:
    """Languages, services and who the shelter accepts (its managers, or coordinators)."""
    changes = body.model_dump(exclude_unset=True, by_alias=True)
    return _update(engine, settings, shelter_id, who, "attributes", changes)


@router.put("/{shelter_id}/availability", response_model=ShelterOut)
def set_availability(
    shelter_id: str,
    body: CalendarIn,
    who: CoordinatorOrManager,
    engine: EngineDep,
    settings: SettingsDep,
) -> ShelterOut | ShelterPublicOut:
    """Replace the places calendar. Refused (409) if committed placements would not fit."""
    changes = {
        "capacity": body.capacity,
        "availability": None
        if body.availability is None
        else [a.model_dump(by_alias=True) for a in body.availability],
    }
    out = _update(engine, settings, shelter_id, who, "availability", changes)

    def retry() -> None:  # places may have freed up: the waiting list is tried again
        with Session(engine) as session:
            retry_waitlist(session, settings, None, utcnow())
            session.commit()

    with_retry(retry)
    return out


def _update(
    engine: EngineDep,
    settings: Settings,
    shelter_id: str,
    who: Principal,
    kind: str,
    changes: dict[str, Any],
    active: bool | None = None,
) -> ShelterOut | ShelterPublicOut:
    def transaction() -> ShelterOut | ShelterPublicOut:
        with Session(engine) as session:
            if who.role == "shelter_manager" and not who.manages(shelter_id):
                raise not_found("shelter")
            row = lock_shelters(session, [shelter_id]).get(shelter_id)
            if row is None:
                raise not_found("shelter")
            shelter = checked_shelter({**row.data, **changes}, settings)
            stays = committed_stays(session, [shelter_id])
            problems = capacity_problems([shelter], stays, settings.geography)
            if problems:
                raise ApiError(
                    409,
                    "committed placements would no longer fit; a coordinator must free them first",
                    [("availability", p) for p in problems],
                )
            row.data = _dump(shelter)
            if active is not None:
                row.active = active
            fields = sorted(changes) + (["active"] if active is not None else [])
            _record_update(session, row, who, kind, fields)
            session.commit()
            session.refresh(row)
            out = shelter_out(session, row, who, settings)
            _audit_location(session, who, [row])
            session.commit()
            return out

    return with_retry(transaction)


@router.get("/{shelter_id}/updates", response_model=list[ShelterUpdateOut])
def shelter_updates(
    shelter_id: str, who: CoordinatorOrManager, session: SessionDep
) -> list[ShelterUpdateOut]:
    """Who changed the shelter and when: the freshness of its places."""
    visible_shelter(session, shelter_id, who)
    rows = session.exec(
        select(ShelterUpdate)
        .where(ShelterUpdate.shelter_id == shelter_id)
        .order_by(col(ShelterUpdate.id))
    ).all()
    names = handles(session, {r.user_id for r in rows})
    return [
        ShelterUpdateOut(
            at=r.at, by=names.get(r.user_id) if r.user_id else None, kind=r.kind, fields=r.fields
        )
        for r in rows
    ]


@router.get(
    "/{shelter_id}/placements", response_model=list[PlacementOut] | list[ManagerPlacementOut]
)
def shelter_placements(
    shelter_id: str,
    who: CoordinatorOrManager,
    session: SessionDep,
    active_on: date | None = None,
) -> list[PlacementOut] | list[ManagerPlacementOut]:
    """Placements into the shelter (its managers see only the fields they need)."""
    visible_shelter(session, shelter_id, who)
    query = select(PlacementRow, ArrivalRow).join(
        ArrivalRow, col(ArrivalRow.id) == col(PlacementRow.arrival_id)
    )
    query = query.where(PlacementRow.shelter_id == shelter_id, col(PlacementRow.active))
    if active_on is not None:
        query = query.where(
            col(PlacementRow.first_night) <= active_on, col(PlacementRow.last_night) >= active_on
        )
    rows = session.exec(query.order_by(col(PlacementRow.id))).all()
    audit.record(session, who, "read", "placement", [p.id for p, _ in rows if p.id])
    session.commit()
    if who.role == "coordinator":
        return [placement_out(p) for p, _ in rows]
    return [manager_placement_out(p, a) for p, a in rows]
