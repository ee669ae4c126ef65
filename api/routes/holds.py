"""Holds: confidential places kept for an operation before its arrivals come (coordinators)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from fastapi import APIRouter, status
from sqlmodel import Session, col, select

from api import audit
from api.assemble import Stay, capacity_problems, shelter_of
from api.auth import Principal
from api.config import Settings
from api.db import with_retry
from api.deps import Coordinator, EngineDep, RowId, SessionDep, SettingsDep
from api.errors import ApiError, not_found
from api.holds import MAX_HOLD_PLACES, active_holds, end_hold, held_stays
from api.live import lock_all, stand_in_world
from api.routes.operations import get_operation
from api.routes.shelters import committed_stays
from api.schemas import HoldIn, HoldOut
from api.tables import Hold, Operation, ShelterRow, aware, utcnow
from placement.explain import Explainer
from solver.replan import replan_unit

router = APIRouter(tags=["holds"])


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


@router.post("/operations/{operation_id}/holds", status_code=status.HTTP_201_CREATED)
def create_holds(
    operation_id: RowId,
    body: HoldIn,
    who: Coordinator,
    engine: EngineDep,
    settings: SettingsDep,
) -> list[HoldOut]:
    """Hold places for the operation until they expire: at a named shelter, or ``places``
    matching a ``profile`` in shelters the engine picks (all or nothing). Other plans do not
    see held places; the operation's own plans do."""
    if (body.shelter_id is None) == (body.profile is None):
        raise ApiError(
            422, "invalid hold", [("shelter_id", "give either a shelter_id or a profile")]
        )
    if body.shelter_id is not None and body.places > MAX_HOLD_PLACES:
        raise ApiError(422, "invalid hold", [("places", f"at most {MAX_HOLD_PLACES} per shelter")])

    def transaction() -> list[HoldOut]:
        with Session(engine) as session:
            op = get_operation(session, operation_id)
            shelters = lock_all(session)
            if body.shelter_id is not None:
                holds = _named(session, settings, op, shelters, body, body.shelter_id)
            else:
                holds = _by_profile(session, settings, op, shelters, body)
            session.flush()
            audit.record(session, who, "write", "hold", [h.id for h in holds if h.id])
            session.commit()
            for h in holds:
                session.refresh(h)
            return [hold_out(h) for h in holds]

    return with_retry(transaction)


def _new_hold(
    op: Operation, shelter: ShelterRow, places: int, body: HoldIn, who: Principal | None
) -> Hold:
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


def _named(
    session: Session,
    settings: Settings,
    op: Operation,
    shelters: dict[str, ShelterRow],
    body: HoldIn,
    sid: str,
) -> list[Hold]:
    row = shelters.get(sid)
    if row is None or not row.active:
        raise ApiError(422, "invalid hold", [("shelter_id", f"no active shelter {sid!r}")])
    hold = _new_hold(op, row, body.places, body, None)
    stays = (
        committed_stays(session, [sid])
        + held_stays(active_holds(session, utcnow(), [sid]))
        + [Stay(_probe(body.places), sid, hold.first_night, hold.last_night)]
    )
    problems = capacity_problems([shelter_of(row.data)], stays, settings.geography)
    if problems:
        shown = [("places", p) for p in problems[:3]]
        if len(problems) > 3:
            shown.append(("places", f"and {len(problems) - 3} more nights"))
        raise ApiError(409, "not enough free places to hold", shown)
    session.add(row)
    session.add(hold)
    return [hold]


def _probe(places: int) -> dict[str, object]:
    return {
        "id": "hold-new",
        "gender": "woman",
        "languages": ["fr"],
        "children": places - 1,
        "danger": [{"lat": 0.0, "lon": 0.0}],
    }


def _by_profile(
    session: Session,
    settings: Settings,
    op: Operation,
    shelters: dict[str, ShelterRow],
    body: HoldIn,
) -> list[Hold]:
    assert body.profile is not None
    first = body.first_night or op.date
    docs = [
        {
            "id": f"held-{i}",
            "gender": body.profile.gender,
            "children": body.profile.children,
            "languages": list(body.profile.languages),
            "danger": op.danger,
            "arrives": first.isoformat(),
            "nights": body.nights,
        }
        for i in range(body.places)
    ]
    world = stand_in_world(session, settings, shelters, docs, first, body.nights, utcnow())
    picked: dict[str, int] = defaultdict(int)
    fixed_before = len(world.fixed)
    for aid in (str(d["id"]) for d in docs):
        found = replan_unit(world.ctx, world.fixed, aid).shelter
        if found is None:
            reasons = Explainer(world.ctx, world.fixed).explain(
                world.ctx.arrivals[aid], relax=False
            )
            raise ApiError(
                409,
                f"only {len(world.fixed) - fixed_before} of {body.places} people of this "
                "profile fit",
                [("profile", r) for r in reasons.reasons] or [("places", "no room")],
            )
        world.fixed[aid] = found
        picked[found] += 1 + body.profile.children
    holds = []
    for sid, places in sorted(picked.items()):
        while places > 0:
            chunk = min(places, MAX_HOLD_PLACES)
            hold = _new_hold(op, shelters[sid], chunk, body, None)
            session.add(shelters[sid])
            session.add(hold)
            holds.append(hold)
            places -= chunk
    return holds


@router.get("/operations/{operation_id}/holds")
def list_holds(operation_id: RowId, who: Coordinator, session: SessionDep) -> list[HoldOut]:
    """The operation's holds, every status."""
    get_operation(session, operation_id)
    rows = session.exec(
        select(Hold).where(Hold.operation_id == operation_id).order_by(col(Hold.id))
    ).all()
    audit.record(session, who, "read", "hold", [h.id for h in rows if h.id])
    session.commit()
    return [hold_out(h) for h in rows]


@router.delete("/holds/{hold_id}")
def release_hold(hold_id: RowId, who: Coordinator, engine: EngineDep) -> HoldOut:
    """Give the held places back before the hold expires."""

    def transaction() -> HoldOut:
        with Session(engine) as session:
            hold = session.get(Hold, hold_id)
            if hold is None:
                raise not_found("hold")
            lock_all(session)
            session.refresh(hold)
            now = utcnow()
            if hold.status != "active" or aware(hold.expires_at) <= now:
                raise ApiError(
                    409, f"the hold is not active ({hold.status})", [("status", hold.status)]
                )
            end_hold(session, hold, "released", now)
            audit.record(session, who, "write", "hold", [hold_id], "released")
            session.commit()
            session.refresh(hold)
            return hold_out(hold)

    return with_retry(transaction)
