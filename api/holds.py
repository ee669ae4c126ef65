"""Holds as the engine sees them: places used by a stand-in, so capacity checks stay the
engine's own (``CapacityRule``). A hold of ``n`` places is one stand-in with ``n - 1``
children (one place per person)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from api.assemble import Stay
from api.tables import Hold, ShelterRow, aware

MAX_HOLD_PLACES = 20  # one stand-in carries at most 20 children


def hold_doc(hold: Hold) -> dict[str, Any]:
    """The stand-in arrival that uses the held places (no case data in it)."""
    return {
        "id": f"hold-{hold.id}",
        "gender": "woman",
        "languages": ["fr"],
        "children": hold.places - 1,
        "danger": [{"lat": 0.0, "lon": 0.0}],
    }


def active_holds(
    session: Session,
    now: datetime,
    shelter_ids: Collection[str] | None = None,
    operation_id: int | None = None,
) -> list[Hold]:
    """Holds that still hold places at ``now`` (an expired one is ignored before its job ran)."""
    query = select(Hold).where(Hold.status == "active").order_by(col(Hold.id))
    if shelter_ids is not None:
        query = query.where(col(Hold.shelter_id).in_(list(shelter_ids)))
    if operation_id is not None:
        query = query.where(Hold.operation_id == operation_id)
    return [h for h in session.exec(query).all() if aware(h.expires_at) > now]


def held_stays(holds: Collection[Hold], but_operations: Collection[int] = ()) -> list[Stay]:
    """The holds (except those of ``but_operations``) as stays that use their places."""
    return [
        Stay(hold_doc(h), h.shelter_id, h.first_night, h.last_night)
        for h in holds
        if h.operation_id not in but_operations
    ]


def end_hold(session: Session, hold: Hold, status: str, now: datetime) -> None:
    """The hold ends (expired, released, used); its shelter's places change for plans."""
    hold.status, hold.ended_at = status, now
    session.add(hold)
    shelter = session.get(ShelterRow, hold.shelter_id)
    if shelter is not None:
        shelter.version += 1
        session.add(shelter)
