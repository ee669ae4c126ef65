"""Re-planning one person (or household) with everyone else fixed, and proposing the result.

Every re-plan is the engine's: ``solver.replan.replan_unit`` finds the best shelter for one
person (or household) with every other active placement fixed, and when there is none
``placement.explain.Explainer`` says why. This module only gathers the stored state into an
engine ``Context`` (a ``World``) and writes the outcome: new proposals, or the waiting list.
Who calls it: a decline or an unanswered proposal (``proposals``), the waiting list
(``waitlist``), a compromised shelter (``compromised``), a hold by profile (``holds``).

Callers hold the transaction (a ``Tx``): every active shelter row is locked first, in id
order, so a concurrent commit or calendar change cannot slip between the check and the write.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session

from api import audit, store
from api.auth import Principal
from api.config import Settings
from api.plan_options import PlanBasis
from api.services.alerts import cause, new_alert
from api.services.capacity import clip, held_stays, is_stale
from api.services.scenarios import Horizon, build_scenario
from api.tables import ArrivalRow, Operation, PlacementRow, PlanJob, ShelterRow
from placement.context import Context
from placement.explain import Explainer, Verification
from placement.models import Arrival, Policy
from placement.text import Text, listed, message
from solver.options import SolveOptions
from solver.relaxations import feasibility_check
from solver.replan import replan_unit

log = logging.getLogger(__name__)

#: nights planned for an arrival without ``nights`` (the plan endpoint's default horizon)
DEFAULT_NIGHTS = 30


@dataclass
class Tx:
    """A write transaction of live operations: every shelter row locked, who acts, when
    (``lock``); or a read-only view of some shelters (``reading``)."""

    session: Session
    settings: Settings
    shelters: dict[str, ShelterRow]
    who: Principal | None
    now: datetime

    @classmethod
    def lock(cls, session: Session, settings: Settings, who: Principal | None, now: datetime) -> Tx:
        """Lock every shelter row (``store.lock_all_shelters``) and start the transaction."""
        return cls(session, settings, store.lock_all_shelters(session), who, now)

    @classmethod
    def reading(
        cls, session: Session, settings: Settings, shelters: list[ShelterRow], now: datetime
    ) -> Tx:
        """A view of these shelters alone, locked by nothing: for checks that write nothing
        (``api.services.waitlist.may_place_at``)."""
        return cls(session, settings, {r.id: r for r in shelters}, None, now)


@dataclass
class Outcome:
    """What a re-plan of one unit did: new proposals, or why there is no place."""

    arrival_ids: list[str]
    shelter_id: str | None
    placement_ids: list[int] = field(default_factory=list)
    admissible: int = 0
    with_room: int = 0
    reasons: list[Text] = field(default_factory=list)


@dataclass
class World:
    """An engine context: the targets to place, and everyone else's shelter (``fixed``)."""

    ctx: Context
    fixed: dict[str, str]
    start: date
    plan_id: str | None = None  # new proposals keep the plan (and so the policy) they re-plan


def proposal_deadlines(settings: Settings, now: datetime) -> tuple[datetime, datetime]:
    """When a proposal made ``now`` escalates, and when it is re-planned as if declined."""
    due = now + timedelta(hours=settings.answer_deadline_hours)
    return due, due + timedelta(hours=settings.replan_after_hours)


def _start_of(session: Session, arrival: Arrival, operation_id: int, today: date) -> date:
    if arrival.arrives is None:
        op = session.get(Operation, operation_id)
        first = op.date if op is not None else today
    else:
        first = arrival.arrives
    return max(first, today)


def world_of_targets(
    tx: Tx,
    targets: Sequence[ArrivalRow],
    policy: Policy | None = None,
    avoid: Collection[str] = (),
) -> World:
    """An engine context holding the targets (waiting) and every active placement (fixed).

    ``avoid``: shelters the targets may not use in this context only (their stored
    ``exclude_shelters`` are left as they are).
    """
    today = tx.now.date()
    docs = []
    for t in targets:
        a = t.arrival
        excluded = (*a.exclude_shelters, *(s for s in avoid if s not in a.exclude_shelters))
        start = _start_of(tx.session, a, t.operation_id, today)
        docs.append(a.model_copy(update={"arrives": start, "exclude_shelters": excluded}))
    start = min(a.arrives for a in docs if a.arrives is not None)
    end = max(
        a.arrives + timedelta(days=a.nights or DEFAULT_NIGHTS)
        for a in docs
        if a.arrives is not None
    )
    own = {t.operation_id for t in targets}
    return _world_of(tx, docs, (start, end), own, policy)


def stand_in_world(tx: Tx, arrivals: list[Arrival], first: date, nights: int) -> World:
    """A context for stand-in arrivals (a profile hold), every placement and hold fixed."""
    return _world_of(tx, arrivals, (first, first + timedelta(days=nights)), ())


def _world_of(
    tx: Tx,
    targets: list[Arrival],
    window: tuple[date, date],
    own_operations: Collection[int],
    policy: Policy | None = None,
) -> World:
    """Targets, plus every active placement and every hold (but the targets' own) fixed: in
    the active shelters only (a stay in a shelter since deactivated takes none of their
    places, and the engine's context knows no other shelter)."""
    start, end = window
    arrivals: list[Arrival] = list(targets)
    target_ids = {a.id for a in targets}
    fixed: dict[str, str] = {}
    active = {sid for sid, r in tx.shelters.items() if r.active}
    stays = store.stays_between(tx.session, start, end)
    stays += held_stays(store.active_holds(tx.session, tx.now), own_operations)
    for stay in stays:
        aid = stay.arrival.id
        if aid in target_ids or aid in fixed or stay.shelter_id not in active:
            continue
        lo, hi = max(stay.first_night, start), min(stay.last_night, end - timedelta(days=1))
        if lo > hi:
            continue
        arrivals.append(
            stay.arrival.model_copy(
                update={
                    "arrives": lo,
                    "nights": (hi - lo).days + 1,
                    "household": None,
                    "exclude_shelters": (),
                }
            )
        )
        fixed[aid] = stay.shelter_id
    shelters = [
        clip(r.shelter.model_copy(update={"stale": is_stale(r, tx.settings, tx.now)}), start, end)
        for sid, r in tx.shelters.items()
        if sid in active
    ]
    horizon = Horizon(start, (end - start).days, tx.settings.geography)
    scenario = build_scenario("re-plan", horizon, shelters, arrivals, policy or Policy())
    return World(Context(scenario), fixed, start)


def _propose(
    tx: Tx,
    world: World,
    rows: dict[str, ArrivalRow],
    arrival_ids: Sequence[str],
    shelter_id: str,
) -> list[PlacementRow]:
    due, replan_due = proposal_deadlines(tx.settings, tx.now)
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
            committed_at=tx.now,
            status="proposed",
            plan_id=world.plan_id,
            answer_due_at=due,
            replan_due_at=replan_due,
        )
        tx.session.add(p)
        out.append(p)
        row = rows[aid]
        row.status, row.version = "placed", row.version + 1
        row.waitlisted_at, row.waiting_reasons = None, None
        tx.session.add(row)
        world.fixed[aid] = shelter_id
    tx.shelters[shelter_id].version += 1
    tx.session.add(tx.shelters[shelter_id])
    tx.session.flush()
    return out


def replan(
    tx: Tx,
    arrival: ArrivalRow,
    why: str,
    plan_id: str | None = None,
    avoid: Collection[str] = (),
) -> Outcome:
    """Re-plan one waiting arrival (and its household): a new proposal, or the waiting list.

    With the policy of ``plan_id`` (the plan that first placed them: its safety distance,
    stale-capacity choice...), or the default policy; not in the ``avoid`` shelters this
    time (they stay open to later plans).
    """
    members = store.waiting_household(tx.session, arrival)
    job = tx.session.get(PlanJob, plan_id) if plan_id else None
    policy = PlanBasis.model_validate(job.basis).policy if job is not None else None
    world = world_of_targets(tx, members, policy, avoid)
    world.plan_id = job.id if job is not None else None
    return replan_in(tx, world, {m.id: m for m in members}, arrival, why)


def replan_in(
    tx: Tx, world: World, rows: dict[str, ArrivalRow], arrival: ArrivalRow, why: str
) -> Outcome:
    """Re-plan ``arrival`` (its household among ``rows``) in ``world``; write the outcome,
    recorded as the system's act (the engine chose), on behalf of whoever started it."""
    by = audit.system_act(why, tx.who)
    result = replan_unit(world.ctx, world.fixed, arrival.id)
    out = Outcome(
        arrival_ids=list(result.arrival_ids),
        shelter_id=result.shelter,
        admissible=result.admissible,
        with_room=result.with_room,
    )
    if result.shelter is not None:
        made = _propose(tx, world, rows, result.arrival_ids, result.shelter)
        out.placement_ids = [p.id for p in made if p.id is not None]
        audit.record(tx.session, by, "write", "placement", out.placement_ids, f"proposed ({why})")
        log.info("re-plan (%s): %s -> %s", why, ",".join(result.arrival_ids), result.shelter)
        return out
    out.reasons = why_unplaced(world, arrival.id)
    _wait(tx, [rows[aid] for aid in result.arrival_ids], out.reasons, why)
    audit.record(tx.session, by, "write", "arrival", result.arrival_ids, f"waiting list ({why})")
    log.info("re-plan (%s): no place for %s", why, ",".join(result.arrival_ids))
    return out


def why_unplaced(world: World, arrival_id: str, own: frozenset[str] = frozenset()) -> list[Text]:
    """Why the re-plan found no shelter for ``arrival_id``: the placements in ``world`` never
    move, and the reasons say so (``Verification.fixed``); ``own``: the request's own
    stand-ins (a hold's places already picked), named as such. No relaxation is searched.
    The reasons are catalogue messages: rendered in each reader's language when shown."""
    verification = Verification(
        feasibility_check(SolveOptions(time_limit=1.0, workers=1)),
        fixed=frozenset(world.fixed) - own,
    )
    unplaced = Explainer(world.ctx, world.fixed, verification, own=own).explain(
        world.ctx.arrivals[arrival_id], relax=False
    )
    return list(unplaced.reason_messages)


def _wait(tx: Tx, rows: list[ArrivalRow], reasons: list[Text], why: str) -> None:
    for row in rows:
        put_on_waiting_list(tx.session, tx.now, row, reasons, why)


def put_on_waiting_list(
    session: Session, now: datetime, row: ArrivalRow, reasons: Sequence[Text], why: str
) -> None:
    """On the waiting list with the engine's reasons (stored as messages, shown in each
    reader's language); a ``no_place`` alert the first time (a re-plan or a commit that found
    no place: ``why`` says which)."""
    first_time = row.waitlisted_at is None
    if first_time:
        row.waitlisted_at = now
    row.waiting_reasons = [r.model_dump(mode="json", exclude_defaults=True) for r in reasons]
    session.add(row)
    if first_time:
        detail = message(
            "{why}: no place; on the waiting list. {reasons}",
            why=cause(why),
            reasons=listed(reasons, "semicolon"),
        )
        session.add(new_alert(now, "no_place", detail, arrival_id=row.id))
