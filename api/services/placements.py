"""Committed placements: who may see which (managers: into their own shelters only, every
read audited), and freeing one (a coordinator): its places return, its arrival waits again.
Answers to proposals are in ``api.services.proposals``.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from api import audit, store
from api.auth import Principal
from api.config import Settings
from api.db import write
from api.domain_errors import Conflict, NotFound
from api.services import waitlist
from api.store import FIRST_PAGE, Page
from api.tables import ArrivalRow, PlacementRow, utcnow
from placement.text import message


def placements(
    session: Session, who: Principal, active: bool = True, page: Page = FIRST_PAGE
) -> list[tuple[PlacementRow, ArrivalRow]]:
    """Placements: all for coordinators; for a manager, those into their own shelters."""
    own = who.shelters if who.role == "shelter_manager" else None
    rows = store.placements_with_arrivals(session, shelter_ids=own, active=active, page=page)
    audit.record_reads(session, who, "placement", [p.id for p, _ in rows if p.id])
    return rows


def shelter_placements(
    session: Session, shelter_id: str, who: Principal, active_on: date | None = None
) -> list[tuple[PlacementRow, ArrivalRow]]:
    """Active placements into the shelter (on ``active_on``), if ``who`` may see it."""
    store.visible_shelter(session, shelter_id, who)
    rows = store.placements_with_arrivals(session, shelter_ids=[shelter_id], active_on=active_on)
    audit.record_reads(session, who, "placement", [p.id for p, _ in rows if p.id])
    return rows


def read_placement(
    session: Session, placement_id: int, who: Principal
) -> tuple[PlacementRow, ArrivalRow]:
    """One placement (managers: only into their own shelter) and its arrival."""
    row = store.visible_placement(session, placement_id, who)
    arrival = session.get(ArrivalRow, row.arrival_id)
    assert arrival is not None
    audit.record_reads(session, who, "placement", [placement_id])
    return row, arrival


def free(session: Session, settings: Settings, placement_id: int, who: Principal) -> PlacementRow:
    """Free a committed placement: its places return, its arrival waits again; the freed
    places go to the waiting list (not to the freed person)."""

    def work(session: Session) -> PlacementRow:
        row = session.get(PlacementRow, placement_id)
        if row is None:
            raise NotFound("placement")
        shelter = store.lock_shelters(session, [row.shelter_id]).get(row.shelter_id)
        session.refresh(row)
        if not row.active:
            raise Conflict(message("placement already freed"), [("active", "false")])
        row.active, row.released_at, row.released_by = False, utcnow(), who.id
        arrival = session.get(ArrivalRow, row.arrival_id)
        if arrival is not None:
            arrival.status = "waiting"
            arrival.version += 1
            session.add(arrival)
        if shelter is not None:
            shelter.version += 1
            session.add(shelter)
        session.add(row)
        audit.record(session, who, "write", "placement", [placement_id], detail="freed")
        return row

    out = write(session, work)
    waitlist.retry(session, settings)
    return out
