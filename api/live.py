"""Live operations: proposals, answers, re-plans, the waiting list and compromised shelters.

Every re-plan is the engine's: ``solver.replan.replan_unit`` finds the best shelter for one
person (or household) with every other active placement fixed, and when there is none
``placement.explain.Explainer`` says why. This module only gathers the stored state into an
engine ``Context`` and writes the outcome.

Callers hold the transaction: ``lock_all`` first (every active shelter row, in id order, so a
concurrent commit or calendar change cannot slip between the check and the write).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from api import audit
from api.assemble import clip, shelter_of, solve_scenario
from api.auth import Principal
from api.config import Settings
from api.errors import ApiError
from api.holds import active_holds, held_stays
from api.tables import (
    Alert,
    ArrivalRow,
    CompromisedShelter,
    Operation,
    PlacementRow,
    PlanJob,
    ShelterRow,
)
from api.views import is_stale
from placement.context import Context
from placement.explain import Explainer
from placement.models import Policy
from solver.replan import replan_unit

log = logging.getLogger(__name__)

#: nights planned for an arrival without ``nights`` (the plan endpoint's default horizon)
DEFAULT_NIGHTS = 30


@dataclass
class Outcome:
    """What a re-plan of one unit did: new proposals, or why there is no place."""

    arrival_ids: list[str]
    shelter_id: str | None
    placement_ids: list[int] = field(default_factory=list)
    admissible: int = 0
    with_room: int = 0
    reasons: list[str] = field(default_factory=list)


def lock_all(session: Session) -> dict[str, ShelterRow]:
    """Lock every shelter row (PostgreSQL ``FOR UPDATE`` in id order) and return them."""
    rows = session.exec(select(ShelterRow).order_by(col(ShelterRow.id)).with_for_update()).all()
    return {r.id: r for r in rows}


def proposal_deadlines(settings: Settings, now: datetime) -> tuple[datetime, datetime]:
    """When a proposal made ``now`` escalates, and when it is re-planned as if declined."""
    due = now + timedelta(hours=settings.answer_deadline_hours)
    return due, due + timedelta(hours=settings.replan_after_hours)


def _start_of(session: Session, arrival: ArrivalRow, today: date) -> date:
    arrives = arrival.data.get("arrives")
    if arrives is None:
        op = session.get(Operation, arrival.operation_id)
        first = op.date if op is not None else today
    else:
        first = date.fromisoformat(str(arrives))
    return max(first, today)


def _unit(session: Session, arrival: ArrivalRow) -> list[ArrivalRow]:
    """The arrival and the members of its household (same operation) that are waiting."""
    household = arrival.data.get("household")
    if household is None:
        return [arrival]
    rows = session.exec(
        select(ArrivalRow).where(
            ArrivalRow.operation_id == arrival.operation_id, ArrivalRow.status == "waiting"
        )
    ).all()
    members = [r for r in rows if r.data.get("household") == household]
    return members if any(m.id == arrival.id for m in members) else [arrival, *members]


@dataclass
class _World:
    ctx: Context
    fixed: dict[str, str]
    start: date
    plan_id: str | None = None  # new proposals keep the plan (and so the policy) they re-plan


def _world(
    session: Session,
    settings: Settings,
    shelters: dict[str, ShelterRow],
    targets: Sequence[ArrivalRow],
    now: datetime,
    policy: Policy | None = None,
) -> _World:
    """An engine context holding the targets (waiting) and every active placement (fixed)."""
    today = now.date()
    starts = {t.id: _start_of(session, t, today) for t in targets}
    start = min(starts.values())
    end = max(
        starts[t.id] + timedelta(days=t.data.get("nights") or DEFAULT_NIGHTS) for t in targets
    )
    docs = [{**t.data, "arrives": starts[t.id].isoformat()} for t in targets]
    own = {t.operation_id for t in targets}
    return _world_of(session, settings, shelters, docs, start, end, now, own, policy)


def stand_in_world(
    session: Session,
    settings: Settings,
    shelters: dict[str, ShelterRow],
    docs: list[dict[str, Any]],
    first: date,
    nights: int,
    now: datetime,
) -> _World:
    """A context for stand-in arrivals (a profile hold), every placement and hold fixed."""
    return _world_of(
        session, settings, shelters, docs, first, first + timedelta(days=nights), now, ()
    )


def _world_of(
    session: Session,
    settings: Settings,
    shelters: dict[str, ShelterRow],
    target_docs: list[dict[str, Any]],
    start: date,
    end: date,
    now: datetime,
    own_operations: Collection[int],
    policy: Policy | None = None,
) -> _World:
    """Targets, plus every active placement and every hold (but the targets' own) fixed."""
    days = (end - start).days
    docs: list[dict[str, Any]] = list(target_docs)
    target_ids = {d["id"] for d in target_docs}
    fixed: dict[str, str] = {}
    placed = session.exec(
        select(PlacementRow, ArrivalRow)
        .join(ArrivalRow, col(ArrivalRow.id) == col(PlacementRow.arrival_id))
        .where(
            col(PlacementRow.active),
            col(PlacementRow.first_night) < end,
            col(PlacementRow.last_night) >= start,
        )
        .order_by(col(PlacementRow.id))
    ).all()
    stays = [(a.data, p.shelter_id, p.first_night, p.last_night) for p, a in placed]
    held = held_stays(active_holds(session, now), own_operations)
    stays += [(h.arrival, h.shelter_id, h.first_night, h.last_night) for h in held]
    for data, sid, first_night, last_night in stays:
        aid = data["id"]
        if aid in target_ids or aid in fixed:
            continue
        lo, hi = max(first_night, start), min(last_night, end - timedelta(days=1))
        if lo > hi:
            continue
        docs.append(
            {
                **data,
                "arrives": lo.isoformat(),
                "nights": (hi - lo).days + 1,
                "household": None,
                "exclude_shelters": [],
            }
        )
        fixed[aid] = sid
    engine_shelters = [
        clip(
            shelter_of(r.data).model_copy(update={"stale": is_stale(r, settings, now)}),
            start,
            end,
        )
        for r in shelters.values()
        if r.active
    ]
    scenario = solve_scenario(
        "re-plan", engine_shelters, docs, start, days, policy or Policy(), settings.geography
    )
    return _World(Context(scenario), fixed, start)


def _propose(
    session: Session,
    settings: Settings,
    world: _World,
    shelters: dict[str, ShelterRow],
    rows: dict[str, ArrivalRow],
    arrival_ids: Sequence[str],
    shelter_id: str,
    now: datetime,
) -> list[PlacementRow]:
    due, replan_due = proposal_deadlines(settings, now)
    out = []
    for aid in arrival_ids:
        a = world.ctx.arrivals[aid]
        nights = world.ctx.stay(a)
        p = PlacementRow(
            arrival_id=aid,
            shelter_id=shelter_id,
            first_night=world.ctx.scenario.night(nights[0]),
            last_night=world.ctx.scenario.night(nights[-1]),
            persons=a.persons,
            committed_at=now,
            status="proposed",
            plan_id=world.plan_id,
            answer_due_at=due,
            replan_due_at=replan_due,
        )
        session.add(p)
        out.append(p)
        row = rows[aid]
        row.status, row.version = "placed", row.version + 1
        row.waitlisted_at, row.waiting_reasons = None, None
        session.add(row)
        world.fixed[aid] = shelter_id
    shelters[shelter_id].version += 1
    session.add(shelters[shelter_id])
    session.flush()
    return out


def replan(
    session: Session,
    settings: Settings,
    shelters: dict[str, ShelterRow],
    arrival: ArrivalRow,
    who: Principal | None,
    now: datetime,
    why: str,
    plan_id: str | None = None,
) -> Outcome:
    """Re-plan one waiting arrival (and its household): a new proposal, or the waiting list.

    With the policy of ``plan_id`` (the plan that first placed them: its safety distance,
    stale-capacity choice...), or the default policy.
    """
    members = _unit(session, arrival)
    job = session.get(PlanJob, plan_id) if plan_id else None
    policy = Policy.model_validate(job.scenario["policy"]) if job is not None else None
    world = _world(session, settings, shelters, members, now, policy)
    world.plan_id = job.id if job is not None else None
    return _replan_in(
        session, settings, world, shelters, {m.id: m for m in members}, arrival, who, now, why
    )


def _replan_in(
    session: Session,
    settings: Settings,
    world: _World,
    shelters: dict[str, ShelterRow],
    rows: dict[str, ArrivalRow],
    arrival: ArrivalRow,
    who: Principal | None,
    now: datetime,
    why: str,
) -> Outcome:
    result = replan_unit(world.ctx, world.fixed, arrival.id)
    out = Outcome(
        arrival_ids=list(result.arrival_ids),
        shelter_id=result.shelter,
        admissible=result.admissible,
        with_room=result.with_room,
    )
    if result.shelter is not None:
        made = _propose(
            session, settings, world, shelters, rows, result.arrival_ids, result.shelter, now
        )
        out.placement_ids = [p.id for p in made if p.id is not None]
        audit.record(session, who, "write", "placement", out.placement_ids, f"proposed ({why})")
        log.info("re-plan (%s): %s -> %s", why, ",".join(result.arrival_ids), result.shelter)
        return out
    unplaced = Explainer(world.ctx, world.fixed).explain(
        world.ctx.arrivals[arrival.id], relax=False
    )
    out.reasons = list(unplaced.reasons)
    for aid in result.arrival_ids:
        row = rows[aid]
        first_time = row.waitlisted_at is None
        if first_time:
            row.waitlisted_at = now
        row.waiting_reasons = out.reasons
        session.add(row)
        if first_time:
            session.add(
                Alert(
                    at=now,
                    kind="no_place",
                    arrival_id=aid,
                    detail=f"{why}: no place; on the waiting list. " + "; ".join(out.reasons),
                )
            )
    audit.record(session, who, "write", "arrival", result.arrival_ids, f"waiting list ({why})")
    log.info("re-plan (%s): no place for %s", why, ",".join(result.arrival_ids))
    return out


def resolve_escalations(session: Session, placement_ids: list[int], now: datetime) -> None:
    """An answer (or a re-plan) settles the escalation alerts of these placements."""
    for alert in session.exec(
        select(Alert).where(
            col(Alert.placement_id).in_(placement_ids),
            Alert.kind == "escalation",
            col(Alert.resolved_at).is_(None),
        )
    ).all():
        alert.resolved_at = now
        session.add(alert)


def release(
    session: Session,
    shelters: dict[str, ShelterRow],
    placement: PlacementRow,
    status: str,
    who: Principal | None,
    reason: str | None,
    now: datetime,
) -> ArrivalRow:
    """End a placement as ``status``; its arrival waits again, with the shelter excluded."""
    resolve_escalations(session, [placement.id or 0], now)
    placement.active, placement.status = False, status
    placement.released_at, placement.released_by = now, who.id if who else None
    placement.answered_at = placement.answered_at or now
    placement.answered_by = placement.answered_by or (who.id if who else None)
    placement.answer_reason = reason[:200] if reason else placement.answer_reason
    session.add(placement)
    arrival = session.get(ArrivalRow, placement.arrival_id)
    assert arrival is not None
    excluded = list(arrival.data.get("exclude_shelters") or [])
    if placement.shelter_id not in excluded:
        excluded.append(placement.shelter_id)
    arrival.data = {**arrival.data, "exclude_shelters": excluded}
    arrival.status, arrival.version = "waiting", arrival.version + 1
    session.add(arrival)
    shelter = shelters.get(placement.shelter_id)
    if shelter is not None:
        shelter.version += 1
        session.add(shelter)
    return arrival


def household_proposals(session: Session, placement: PlacementRow) -> list[PlacementRow]:
    """The placement and the active ones of its household in the same shelter."""
    arrival = session.get(ArrivalRow, placement.arrival_id)
    household = arrival.data.get("household") if arrival else None
    if arrival is None or household is None:
        return [placement]
    rows = session.exec(
        select(PlacementRow, ArrivalRow)
        .join(ArrivalRow, col(ArrivalRow.id) == col(PlacementRow.arrival_id))
        .where(
            col(PlacementRow.active),
            PlacementRow.shelter_id == placement.shelter_id,
            ArrivalRow.operation_id == arrival.operation_id,
        )
    ).all()
    return [p for p, a in rows if a.data.get("household") == household or p.id == placement.id]


def decline_and_replan(
    session: Session,
    settings: Settings,
    placement: PlacementRow,
    status: str,
    who: Principal | None,
    reason: str | None,
    now: datetime,
    only_proposed: bool = True,
) -> Outcome:
    """Decline (or withdraw) a placement and its household's, then re-plan them elsewhere.

    409 when ``only_proposed`` and the placement was answered meanwhile (seen after the locks).
    """
    shelters = lock_all(session)
    session.refresh(placement, with_for_update=True)
    if not placement.active or (only_proposed and placement.status != "proposed"):
        raise ApiError(
            409, f"the placement is already {placement.status}", [("status", placement.status)]
        )
    group = household_proposals(session, placement)
    arrivals = [release(session, shelters, p, status, who, reason, now) for p in group]
    audit.record(session, who, "write", "placement", [p.id for p in group if p.id], f"{status}")
    session.flush()
    return replan(session, settings, shelters, arrivals[0], who, now, status, placement.plan_id)


def retry_waitlist(
    session: Session, settings: Settings, who: Principal | None, now: datetime
) -> list[Outcome]:
    """Retry every arrival on the waiting list, highest priority first; nobody else moves."""
    waiting = list(
        session.exec(
            select(ArrivalRow)
            .where(ArrivalRow.status == "waiting", col(ArrivalRow.waitlisted_at).is_not(None))
            .order_by(col(ArrivalRow.waitlisted_at), col(ArrivalRow.id))
        ).all()
    )
    if not waiting:
        return []
    shelters = lock_all(session)
    units: list[list[ArrivalRow]] = []
    seen: set[str] = set()
    for a in sorted(waiting, key=lambda r: -int(r.data.get("priority", 1))):
        if a.id in seen:
            continue
        unit = _unit(session, a)
        seen.update(m.id for m in unit)
        units.append(unit)
    rows = {m.id: m for unit in units for m in unit}
    world = _world(session, settings, shelters, list(rows.values()), now)
    out = []
    for unit in units:
        for m in unit:
            world.fixed.pop(m.id, None)
        outcome = _replan_in(
            session, settings, world, shelters, rows, unit[0], who, now, "waiting list"
        )
        out.append(outcome)
    return out


def compromised_exclusions(session: Session, network: str | None) -> list[str]:
    """Shelters compromised for ``network``."""
    if network is None:
        return []
    return list(
        session.exec(
            select(CompromisedShelter.shelter_id).where(CompromisedShelter.network == network)
        ).all()
    )
