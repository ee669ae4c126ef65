"""``/shelters``: coordinators create and edit shelters (and mark one compromised);
managers keep their own places current."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlmodel import Session

from api.auth import Principal
from api.config import Settings
from api.db import write
from api.deps import (
    AfterChange,
    Coordinator,
    CoordinatorOrManager,
    CurrentUser,
    PageDep,
    SessionDep,
    SettingsDep,
    ShelterCachesDep,
    SolveSlot,
    WaitlistAfterChange,
    WriteSessionDep,
)
from api.schemas import (
    CalendarIn,
    CompromisedIn,
    CompromisedOut,
    ManagerPlacementOut,
    PlacementOut,
    ShelterAttributesIn,
    ShelterEditIn,
    ShelterIn,
    ShelterOut,
    ShelterPublicOut,
    ShelterUpdateOut,
)
from api.services import compromised, placements
from api.services import shelters as service
from api.services.shelters import Change
from api.shelter_list import shelter_list
from api.store import FIRST_PAGE, handles, visible_shelter
from api.tables import ShelterRow
from api.views import placements_out, replan_out, shelter_out
from placement.models import Day

router = APIRouter(prefix="/shelters")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ShelterOut, tags=["shelters"])
def create_shelter(
    body: ShelterIn, who: Coordinator, session: WriteSessionDep, settings: SettingsDep
) -> ShelterOut | ShelterPublicOut:
    """Create a shelter (coordinators)."""
    row = service.create_shelter(session, settings, body.model_dump(by_alias=True), who)
    return shelter_out(session, row, who, settings)


@router.get("", response_model=list[ShelterOut | ShelterPublicOut], tags=["shelters"])
def list_shelters(
    who: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    caches: ShelterCachesDep,
    stale: bool | None = None,
    page: PageDep = FIRST_PAGE,
) -> Response:
    """Shelters: all for coordinators and analysts (analysts without locations); managers
    see their own. ``?stale=true``: only those whose places were not confirmed for
    ``PLACEMENT_STALE_AFTER_HOURS``."""
    entry = shelter_list(session, settings, who, (stale, page), caches)
    service.audit_seen(session, who, entry.audited, entry.detail)
    return Response(entry.body, media_type="application/json")


@router.get("/{shelter_id}", response_model=ShelterOut | ShelterPublicOut, tags=["shelters"])
def get_shelter(
    shelter_id: str, who: CurrentUser, session: SessionDep, settings: SettingsDep
) -> ShelterOut | ShelterPublicOut:
    """One shelter (managers: only their own)."""
    row = visible_shelter(session, shelter_id, who)
    out = shelter_out(session, row, who, settings)
    service.audit_location_reads(session, who, [row])
    return out


def _changed(
    session: Session,
    settings: Settings,
    shelter_id: str,
    who: Principal,
    change: Change,
    after: WaitlistAfterChange,
) -> ShelterOut | ShelterPublicOut:
    """Apply the change (``api.db.write``: retried on conflicts) and show the shelter (its
    read audited in the same transaction); the shelter may now take someone waiting: the
    waiting list is retried after the answer."""

    def work(session: Session) -> ShelterRow:
        row = service.change_shelter(session, settings, shelter_id, who, change)
        service.record_location_reads(session, who, [row])
        return row

    out = shelter_out(session, write(session, work), who, settings)
    after.retry_waitlist(shelter_id)
    return out


@router.patch("/{shelter_id}", response_model=ShelterOut, tags=["shelters"])
def edit_shelter(
    shelter_id: str,
    body: ShelterEditIn,
    who: Coordinator,
    session: SessionDep,
    settings: SettingsDep,
    after: AfterChange,
) -> ShelterOut | ShelterPublicOut:
    """Edit any attribute of a shelter, its location included (coordinators)."""
    changes = body.model_dump(exclude_unset=True, by_alias=True)
    active = changes.pop("active", None)
    return _changed(session, settings, shelter_id, who, Change("edit", changes, active), after)


@router.patch("/{shelter_id}/attributes", response_model=ShelterOut, tags=["shelters"])
def update_attributes(
    shelter_id: str,
    body: ShelterAttributesIn,
    who: CoordinatorOrManager,
    session: SessionDep,
    settings: SettingsDep,
    after: AfterChange,
) -> ShelterOut | ShelterPublicOut:
    """Languages, services and who the shelter accepts (its managers, or coordinators)."""
    changes = body.model_dump(exclude_unset=True, by_alias=True)
    return _changed(session, settings, shelter_id, who, Change("attributes", changes), after)


@router.put("/{shelter_id}/availability", response_model=ShelterOut, tags=["shelters"])
def set_availability(
    shelter_id: str,
    body: CalendarIn,
    who: CoordinatorOrManager,
    session: SessionDep,
    settings: SettingsDep,
    after: AfterChange,
) -> ShelterOut | ShelterPublicOut:
    """Replace the places calendar. Refused (409) if committed placements would not fit."""
    changes = {
        "capacity": body.capacity,
        "availability": None
        if body.availability is None
        else [a.model_dump(by_alias=True) for a in body.availability],
    }
    return _changed(session, settings, shelter_id, who, Change("availability", changes), after)


@router.get("/{shelter_id}/updates", response_model=list[ShelterUpdateOut], tags=["shelters"])
def shelter_updates(
    shelter_id: str, who: CoordinatorOrManager, session: SessionDep, page: PageDep = FIRST_PAGE
) -> list[ShelterUpdateOut]:
    """Who changed the shelter and when: the freshness of its places."""
    rows = service.shelter_updates(session, shelter_id, who, page)
    names = handles(session, {r.user_id for r in rows})
    return [
        ShelterUpdateOut(
            at=r.at, by=names.get(r.user_id) if r.user_id else None, kind=r.kind, fields=r.fields
        )
        for r in rows
    ]


@router.get(
    "/{shelter_id}/placements",
    response_model=list[PlacementOut] | list[ManagerPlacementOut],
    tags=["shelters"],
)
def shelter_placements(
    shelter_id: str,
    who: CoordinatorOrManager,
    session: SessionDep,
    active_on: Day | None = None,
) -> list[PlacementOut] | list[ManagerPlacementOut]:
    """Placements into the shelter (its managers see only the fields they need)."""
    return placements_out(who, placements.shelter_placements(session, shelter_id, who, active_on))


@router.post("/{shelter_id}/compromised", tags=["live operations"])
def mark_compromised(
    shelter_id: str,
    who: Coordinator,
    session: SessionDep,
    settings: SettingsDep,
    slot: SolveSlot,
    body: CompromisedIn | None = None,
) -> CompromisedOut:
    """The network found the shelter: everyone placed there is re-planned elsewhere, and the
    shelter is excluded by scope: for everyone by default (set inactive until a coordinator
    sets it active again), or for one operation's or one network's arrivals (coordinators).
    ``GET /compromised-shelters`` lists them."""
    body = body or CompromisedIn()
    scope = compromised.Scope(body.scope, body.network, body.operation_id)
    outcomes = compromised.mark_compromised(session, settings, shelter_id, scope, who)
    return CompromisedOut(
        shelter_id=shelter_id,
        scope=body.scope,
        network=body.network,
        operation_id=body.operation_id,
        replans=[replan_out(o) for o in outcomes],
    )
