"""Shelters: coordinators create and edit them; managers keep their own places current.

Every change bumps the shelter's version (plans made before no longer commit) and leaves a
``shelter_updates`` row (when, by whom, which fields); a calendar change is refused
(``Conflict``) when committed placements would no longer fit (``api.services.capacity``).
Reads and writes of a location are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api import audit, store
from api.auth import Principal
from api.config import Settings
from api.db import write
from api.domain_errors import Conflict, Invalid, NotFound, already_taken
from api.services.capacity import (
    Night,
    capacity_problems,
    held_stays,
    nights,
    stale_before,
    with_night_places,
)
from api.store import Page
from api.tables import ShelterRow, ShelterUpdate, utcnow
from placement.geography import load_geography
from placement.models import MAX_PLACES, Shelter
from placement.problems import validation_problems as problem_messages
from placement.text import message

Q = TypeVar("Q", bound=Any)


def checked_shelter(data: dict[str, Any], settings: Settings) -> Shelter:
    """Validate a shelter document with the engine's model; ``Invalid`` naming the field."""
    try:
        shelter = Shelter.model_validate(data)
    except ValidationError as e:
        raise Invalid(message("invalid shelter"), problem_messages(e)) from None
    geo = load_geography(settings.geography)
    if shelter.department not in geo:
        raise Invalid(
            message("invalid shelter"),
            [
                (
                    "department",
                    message(
                        "unknown code {code} for {geography}",
                        code=repr(shelter.department),
                        geography=geo.code,
                    ),
                )
            ],
        )
    return shelter


def location_seen(who: Principal, row: ShelterRow) -> bool:
    """True when ``who`` reads the location of this shelter in its view."""
    return who.sees_location(row.id) and row.shelter.location is not None


def seen_detail(
    who: Principal, seen: tuple[str, ...], every: bool = False
) -> tuple[tuple[str, ...], str]:
    """The audit record of the locations ``seen``: when ``every`` shelter was read (a
    coordinator's whole list), one id stands for all (``audit.EVERY``)."""
    if every and who.role == "coordinator" and len(seen) > 1:
        return (audit.EVERY,), f"{len(seen)} shelters"
    return seen, ""


def locations_seen(
    who: Principal, rows: list[ShelterRow], every: bool = False
) -> tuple[tuple[str, ...], str]:
    """The shelters ``who`` sees the location of, and the detail to record (``seen_detail``)."""
    return seen_detail(who, tuple(r.id for r in rows if location_seen(who, r)), every)


def audit_seen(session: Session, who: Principal, seen: tuple[str, ...], detail: str) -> None:
    """Record, after the read transaction, the location reads ``locations_seen`` found."""
    audit.record_reads(session, who, "shelter_location", seen, detail)


def audit_location_reads(
    session: Session, who: Principal, rows: list[ShelterRow], every: bool = False
) -> None:
    """Record, after the read transaction, a read of the location of each shelter ``who``
    sees one of (one record for a coordinator's whole list)."""
    audit_seen(session, who, *locations_seen(who, rows, every))


def record_location_reads(session: Session, who: Principal, rows: list[ShelterRow]) -> None:
    """Record the location reads of ``rows`` in the caller's write transaction."""
    seen, detail = locations_seen(who, rows)
    audit.record(session, who, "read", "shelter_location", seen, detail)


def reader_view(who: Principal) -> tuple[str, frozenset[str]]:
    """What a view of the shelters depends on in its reader: the role (the fields shown)
    and, for a manager, the shelters managed (which ones, with their location)."""
    return who.role, who.shelters if who.role == "shelter_manager" else frozenset()


def version(session: Session, settings: Settings) -> tuple[Any, ...]:
    """The shelters' version (``store.shelters_version``), read in the caller's transaction
    before the shelters themselves."""
    return store.shelters_version(session, stale_before(settings))


def create_shelter(
    session: Session, settings: Settings, data: dict[str, Any], who: Principal
) -> ShelterRow:
    """Create a shelter (coordinators); ``Conflict`` if the id is taken."""
    shelter = checked_shelter(data, settings)
    if session.get(ShelterRow, shelter.id) is not None:
        raise Conflict(message("shelter already exists"), [("id", already_taken(shelter.id))])
    row = ShelterRow(id=shelter.id, data={}, updated_by=who.id, capacity_updated_by=who.id)
    row.set_shelter(shelter)
    session.add(row)
    session.add(ShelterUpdate(shelter_id=row.id, user_id=who.id, kind="created", fields=["*"]))
    if shelter.location is not None:
        audit.record(session, who, "write", "shelter_location", [row.id])
    session.commit()
    return row


def _listed(query: Q, settings: Settings, who: Principal, stale: bool | None) -> Q:
    """``query`` over the shelter rows narrowed to those ``who`` may list (managers: their
    own), only the stale ones (or the fresh ones) when ``stale`` is given, by id."""
    query = query.order_by(col(ShelterRow.id))
    if who.role == "shelter_manager":
        query = query.where(col(ShelterRow.id).in_(who.shelters))
    if stale is not None:
        before = col(ShelterRow.capacity_updated_at) < stale_before(settings)
        query = query.where(before if stale else ~before)
    return query


def shelters(
    session: Session, settings: Settings, who: Principal, stale: bool | None, page: Page
) -> list[ShelterRow]:
    """Shelters ``who`` may see (managers: their own), by id, one page; only the stale ones
    (or the fresh ones) when ``stale`` is given."""
    return store.read_shelters(
        session, page.apply(_listed(select(ShelterRow), settings, who, stale))
    )


#: what a shelter's view is computed from, besides its document and who reads it
VIEW_COLUMNS: tuple[Any, ...] = (
    ShelterRow.id,
    ShelterRow.version,
    ShelterRow.updated_at,
    ShelterRow.capacity_updated_at,
    ShelterRow.active,
)


def listed_versions(
    session: Session, settings: Settings, who: Principal, stale: bool | None, page: Page
) -> list[tuple[Any, ...]]:
    """The ``VIEW_COLUMNS`` of the page ``shelters`` reads, without the rows themselves."""
    query = _listed(sa_select(*VIEW_COLUMNS), settings, who, stale)
    return [tuple(r) for r in session.connection().execute(page.apply(query)).all()]


@dataclass(frozen=True)
class Change:
    """A change to a shelter: its kind (``edit``, ``attributes``, ``availability``), the
    fields of the document it sets, and whether it (de)activates the shelter."""

    kind: str
    fields: dict[str, Any]
    active: bool | None = None

    @property
    def names(self) -> list[str]:
        """The fields changed, as recorded."""
        return sorted(self.fields) + (["active"] if self.active is not None else [])


def _record_update(session: Session, row: ShelterRow, who: Principal, change: Change) -> None:
    now = utcnow()
    row.version += 1
    row.updated_at, row.updated_by = now, who.id
    if change.kind == "availability":
        row.capacity_updated_at, row.capacity_updated_by = now, who.id
    session.add(row)
    session.add(
        ShelterUpdate(
            shelter_id=row.id, at=now, user_id=who.id, kind=change.kind, fields=change.names
        )
    )
    if "location" in change.names:
        audit.record(session, who, "write", "shelter_location", [row.id])


def change_shelter(
    session: Session, settings: Settings, shelter_id: str, who: Principal, change: Change
) -> ShelterRow:
    """Apply ``change``; committed placements must still fit (else ``Conflict``). Managers
    change only their own shelters (``NotFound`` otherwise). The work of an ``api.db.write``
    transaction: the shelter row is locked first."""
    if who.role == "shelter_manager" and not who.manages(shelter_id):
        raise NotFound("shelter")
    row = store.lock_shelters(session, [shelter_id]).get(shelter_id)
    if row is None:
        raise NotFound("shelter")
    shelter = checked_shelter({**row.data, **change.fields}, settings)
    stays = store.committed_stays(session, [shelter_id])
    problems = capacity_problems([shelter], stays, settings.geography)
    if problems:
        raise Conflict(
            message("committed placements would no longer fit; a coordinator must free them first"),
            [("availability", p) for p in problems],
        )
    row.set_shelter(shelter)
    if change.active is not None:
        row.active = change.active
    _record_update(session, row, who, change)
    return row


def shelter_updates(
    session: Session, shelter_id: str, who: Principal, page: Page
) -> list[ShelterUpdate]:
    """Who changed the shelter and when, oldest first (managers: only their own shelters)."""
    store.visible_shelter(session, shelter_id, who)
    query = (
        select(ShelterUpdate)
        .where(ShelterUpdate.shelter_id == shelter_id)
        .order_by(col(ShelterUpdate.id))
    )
    return list(session.exec(page.apply(query)).all())


# --- the manager's page: places by night, tonight's free places, "still the same" -------
CALENDAR_DAYS = 28  # four weeks: what a manager plans ahead for


def _taken(session: Session, settings: Settings, row: ShelterRow, night: date) -> int:
    stays = store.committed_stays(session, [row.id])
    stays += held_stays(store.active_holds(session, utcnow(), [row.id]))
    return nights(row.shelter, stays, night, 1, settings.geography)[0].taken


def shelter_nights(
    session: Session, settings: Settings, shelter_id: str, who: Principal, start: date, days: int
) -> list[Night]:
    """The shelter's places night by night from ``start``, and what committed placements and
    holds take of them (managers: only their own shelters, ``NotFound`` otherwise)."""
    row = store.visible_shelter(session, shelter_id, who)
    stays = store.committed_stays(session, [shelter_id])
    stays += held_stays(store.active_holds(session, utcnow(), [shelter_id]))
    return nights(row.shelter, stays, start, days, settings.geography)


def set_free_places(
    session: Session, settings: Settings, shelter_id: str, who: Principal, night: date, free: int
) -> ShelterRow:
    """Set the places of ``night`` so that ``free`` places are free beyond what committed
    placements and holds take that night; other nights unchanged. A calendar change like
    ``PUT /availability`` (managers: their own shelters), checked the same way; one
    ``api.db.write`` transaction of the request's session."""
    if not 0 <= free <= MAX_PLACES:
        raise Invalid(
            message("invalid places"),
            [("free", message("must be between 0 and {most}", most=str(MAX_PLACES)))],
        )

    def work(session: Session) -> ShelterRow:
        row = store.visible_shelter(session, shelter_id, who)
        store.lock_shelters(session, [shelter_id])
        places = _taken(session, settings, row, night) + free
        shelter = with_night_places(row.shelter, night, min(places, MAX_PLACES))
        fields = {
            "capacity": None,
            "availability": [
                a.model_dump(by_alias=True, mode="json") for a in shelter.availability or ()
            ],
        }
        return change_shelter(session, settings, shelter_id, who, Change("availability", fields))

    return write(session, work)


def confirm_places(session: Session, shelter_id: str, who: Principal) -> ShelterRow:
    """The manager (or a coordinator) confirms the places are still the same: they are fresh
    again (``capacity_updated_at``), the shelter's version is unchanged (a plan made before
    still commits); recorded in ``shelter_updates`` and the audit log. One ``api.db.write``
    transaction of the request's session."""

    def work(session: Session) -> ShelterRow:
        if who.role == "shelter_manager" and not who.manages(shelter_id):
            raise NotFound("shelter")
        row = store.lock_shelters(session, [shelter_id]).get(shelter_id)
        if row is None:
            raise NotFound("shelter")
        now = utcnow()
        row.capacity_updated_at, row.capacity_updated_by = now, who.id
        session.add(row)
        session.add(
            ShelterUpdate(
                shelter_id=shelter_id, at=now, user_id=who.id, kind="confirmed", fields=[]
            )
        )
        audit.record(session, who, "write", "shelter", [shelter_id], "places confirmed")
        return row

    return write(session, work)
