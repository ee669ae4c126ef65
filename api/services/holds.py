"""Holds: confidential places kept for an operation before its arrivals come.

A hold at a named shelter is checked against the free places (``CapacityRule``); a hold by
profile lets the engine pick the shelters (every rule, the operation's danger included), all
or nothing. Other plans do not see held places (``api.services.capacity.held_stays``); the
operation's own plans do. A hold ends when it expires (the scheduler), is released, or its
places are used by the operation's commit (``api.services.planning``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from api import audit, store
from api.auth import Principal
from api.config import Settings
from api.db import write
from api.domain_errors import Conflict, Invalid, NotFound, state
from api.schemas import MAX_HOLD_PLACES, HoldIn
from api.services.capacity import (
    Stay,
    capacity_problems,
    held_stays,
    stand_in,
)
from api.services.replanning import Tx, stand_in_world, why_unplaced
from api.services.waitlist import retry_waitlist
from api.tables import Hold, Operation, ShelterRow, aware, utcnow
from placement.models import Arrival
from placement.text import message, plural_message
from solver.replan import replan_unit

log = logging.getLogger(__name__)

INVALID_HOLD = message("invalid hold")


def end_hold(session: Session, hold: Hold, status: str, now: datetime) -> None:
    """The hold ends (expired, released, used); its shelter's places change for plans."""
    hold.status, hold.ended_at = status, now
    session.add(hold)
    shelter = session.get(ShelterRow, hold.shelter_id)
    if shelter is not None:
        shelter.version += 1
        session.add(shelter)


def _check(body: HoldIn) -> None:
    if (body.shelter_id is None) == (body.profile is None):
        raise Invalid(
            INVALID_HOLD, [("shelter_id", message("give either a shelter_id or a profile"))]
        )
    if body.shelter_id is not None and body.places > MAX_HOLD_PLACES:
        most = message("at most {most} per shelter", most=str(MAX_HOLD_PLACES))
        raise Invalid(INVALID_HOLD, [("places", most)])


def create_holds(
    session: Session, settings: Settings, operation_id: int, body: HoldIn, who: Principal
) -> list[Hold]:
    """Hold places for the operation until they expire: at a named shelter, or ``places``
    people matching a ``profile`` in shelters the engine picks (all or nothing)."""
    _check(body)

    def work(session: Session) -> list[Hold]:
        op = store.get_operation(session, operation_id)
        tx = Tx.lock(session, settings, None, utcnow())
        if body.shelter_id is not None:
            holds = _named(tx, op, body, body.shelter_id)
        else:
            holds = _by_profile(tx, op, body)
        session.flush()
        audit.record(session, who, "write", "hold", [h.id for h in holds if h.id])
        return holds

    return write(session, work)


def _new_hold(op: Operation, shelter: ShelterRow, places: int, body: HoldIn) -> Hold:
    first = body.first_night or op.date
    now = utcnow()
    shelter.version += 1  # plans made before no longer fit
    return Hold(
        operation_id=op.id or 0,
        shelter_id=shelter.id,
        places=places,
        first_night=first,
        last_night=first + timedelta(days=body.nights - 1),
        expires_at=now + timedelta(hours=body.expires_in_hours),
        profile=body.profile.model_dump(mode="json") if body.profile else None,
        created_at=now,
    )


def _named(tx: Tx, op: Operation, body: HoldIn, sid: str) -> list[Hold]:
    row = tx.shelters.get(sid)
    if row is None:
        raise NotFound("shelter")
    if not row.active:  # a state (deactivated, compromised), not bad input
        raise Conflict(
            INVALID_HOLD,
            [("shelter_id", message("no active shelter {shelter}", shelter=repr(sid)))],
        )
    hold = _new_hold(op, row, body.places, body)
    stays = (
        store.committed_stays(tx.session, [sid])
        + held_stays(store.active_holds(tx.session, utcnow(), [sid]))
        + [Stay(stand_in("hold-new", body.places), sid, hold.first_night, hold.last_night)]
    )
    problems = capacity_problems([row.shelter], stays, tx.settings.geography)
    if problems:
        shown = [("places", p) for p in problems[:3]]
        if len(problems) > 3:
            left = len(problems) - 3
            shown.append(
                ("places", plural_message("and {n} more night", "and {n} more nights", left))
            )
        raise Conflict(message("not enough free places to hold"), shown)
    tx.session.add(row)
    tx.session.add(hold)
    return [hold]


def _stand_ins(op: Operation, body: HoldIn) -> list[Arrival]:
    """One arrival per person of the profile, with the operation's danger locations."""
    assert body.profile is not None
    first = body.first_night or op.date
    return [
        Arrival.model_validate(
            {
                "id": f"held-{i}",
                "gender": body.profile.gender,
                "children": body.profile.children,
                "languages": list(body.profile.languages),
                "danger": op.danger,
                "arrives": first.isoformat(),
                "nights": body.nights,
            }
        )
        for i in range(body.places)
    ]


def _pick_shelters(tx: Tx, op: Operation, body: HoldIn) -> dict[str, int]:
    """Places per shelter the engine picks for the profile; ``Conflict`` if not all fit."""
    assert body.profile is not None
    people = _stand_ins(op, body)
    world = stand_in_world(tx, people, body.first_night or op.date, body.nights)
    picked: dict[str, int] = defaultdict(int)
    fixed_before = len(world.fixed)
    for aid in (a.id for a in people):
        found = replan_unit(world.ctx, world.fixed, aid).shelter
        if found is None:
            reasons = why_unplaced(world, aid, frozenset(a.id for a in people))
            raise Conflict(
                message(
                    "only {fit} of {asked} people of this profile fit",
                    fit=str(len(world.fixed) - fixed_before),
                    asked=str(body.places),
                ),
                [("profile", r) for r in reasons] or [("places", message("no room"))],
            )
        world.fixed[aid] = found
        picked[found] += 1 + body.profile.children
    return picked


def _by_profile(tx: Tx, op: Operation, body: HoldIn) -> list[Hold]:
    holds = []
    for sid, places in sorted(_pick_shelters(tx, op, body).items()):
        left = places
        while left > 0:
            chunk = min(left, MAX_HOLD_PLACES)
            hold = _new_hold(op, tx.shelters[sid], chunk, body)
            tx.session.add(tx.shelters[sid])
            tx.session.add(hold)
            holds.append(hold)
            left -= chunk
    return holds


def operation_holds(session: Session, operation_id: int, who: Principal) -> list[Hold]:
    """The operation's holds, every status (the read is audited)."""
    store.get_operation(session, operation_id)
    rows = list(
        session.exec(
            select(Hold).where(Hold.operation_id == operation_id).order_by(col(Hold.id))
        ).all()
    )
    audit.record_reads(session, who, "hold", [h.id for h in rows if h.id])
    return rows


def release_hold(session: Session, hold_id: int, who: Principal) -> Hold:
    """Give the held places back before the hold expires."""

    def work(session: Session) -> Hold:
        hold = session.get(Hold, hold_id)
        if hold is None:
            raise NotFound("hold")
        store.lock_all_shelters(session)
        session.refresh(hold)
        now = utcnow()
        if hold.status != "active" or aware(hold.expires_at) <= now:
            raise Conflict(
                message("the hold is not active ({status})", status=state(hold.status)),
                [("status", hold.status)],
            )
        end_hold(session, hold, "released", now)
        audit.record(session, who, "write", "hold", [hold_id], "released")
        return hold

    return write(session, work)


def expire_hold(session: Session, settings: Settings, hold_id: int, now: datetime) -> None:
    """The scheduler's job: end a hold past its expiry; its places go to the waiting list."""
    store.lock_all_shelters(session)
    hold = session.get(Hold, hold_id)
    if hold is None or hold.status != "active":
        return
    end_hold(session, hold, "expired", now)
    log.info("hold %s expired: %s places at %s return", hold_id, hold.places, hold.shelter_id)
    session.flush()
    retry_waitlist(session, settings, None, now)  # the places are free again
