"""Proposals and their answers: accept, decline (which triggers a re-plan), free a placement.

A decline, an unanswered proposal at its second deadline (the scheduler) and a compromised
shelter all end the placement (``release``) and re-plan the person elsewhere
(``decline_and_replan`` -> ``api.services.replanning.replan``); the freed places then go to
the waiting list (``api.services.waitlist``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from api import audit, store
from api.auth import Principal
from api.config import Settings
from api.db import write
from api.domain_errors import Conflict, state
from api.services import waitlist
from api.services.replanning import Outcome, Tx, replan
from api.tables import Alert, ArrivalRow, PlacementRow, utcnow
from placement.text import Text, message


@dataclass(frozen=True)
class Answer:
    """An answered proposal, and the re-plan a decline started."""

    placement_id: int
    status: str
    answer_reason: str | None
    replan: Outcome | None = None


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
    tx: Tx, placement: PlacementRow, status: str, reason: str | None, exclude: bool = True
) -> ArrivalRow:
    """End a placement as ``status``; its arrival waits again, with the shelter excluded for
    good unless ``exclude`` is False (a proposal nobody answered)."""
    who, now = tx.who, tx.now
    resolve_escalations(tx.session, [placement.id or 0], now)
    placement.active, placement.status = False, status
    placement.released_at, placement.released_by = now, who.id if who else None
    placement.answered_at = placement.answered_at or now
    placement.answered_by = placement.answered_by or (who.id if who else None)
    placement.answer_reason = reason[:200] if reason else placement.answer_reason
    tx.session.add(placement)
    row = tx.session.get(ArrivalRow, placement.arrival_id)
    assert row is not None
    arrival = row.arrival
    if exclude and placement.shelter_id not in arrival.exclude_shelters:
        excluded = (*arrival.exclude_shelters, placement.shelter_id)
        row.set_arrival(arrival.model_copy(update={"exclude_shelters": excluded}))
    row.status, row.version = "waiting", row.version + 1
    tx.session.add(row)
    shelter = tx.shelters.get(placement.shelter_id)
    if shelter is not None:
        shelter.version += 1
        tx.session.add(shelter)
    return row


def decline_and_replan(
    tx: Tx,
    placement: PlacementRow,
    status: str,
    reason: str | None,
    only_proposed: bool = True,
    unanswered: bool = False,
) -> Outcome:
    """Decline (or withdraw) a placement and its household's, then re-plan them elsewhere.

    ``Conflict`` when ``only_proposed`` and the placement was answered meanwhile (seen after
    the locks the ``tx`` holds). ``unanswered``: nobody answered; silence is not a refusal,
    so the shelter is avoided by this re-plan only, not added to ``exclude_shelters`` (a
    later plan or waiting-list retry may propose it again).
    """
    tx.session.refresh(placement, with_for_update=True)
    if not placement.active or (only_proposed and placement.status != "proposed"):
        raise Conflict(already(placement.status), [("status", placement.status)])
    group = store.household_placements(tx.session, placement)
    arrivals = [release(tx, p, status, reason, exclude=not unanswered) for p in group]
    why = "unanswered" if unanswered else status
    by = tx.who or audit.SystemAct(why)
    audit.record(tx.session, by, "write", "placement", [p.id for p in group if p.id], status)
    tx.session.flush()
    avoid = [placement.shelter_id] if unanswered else []
    return replan(tx, arrivals[0], why, placement.plan_id, avoid)


def already(status: str) -> Text:
    """The placement was answered (or freed) before this answer."""
    return message("the placement is already {status}", status=state(status))


def _proposal(session: Session, placement_id: int, who: Principal) -> PlacementRow:
    row = store.visible_placement(session, placement_id, who)
    if row.status != "proposed" or not row.active:
        raise Conflict(already(row.status), [("status", f"{row.status}")])
    return row


def accept(session: Session, placement_id: int, who: Principal, reason: str | None) -> Answer:
    """The shelter accepts a proposed placement (its managers; coordinators on their behalf)."""

    def work(session: Session) -> Answer:
        row = _proposal(session, placement_id, who)
        session.refresh(row, with_for_update=True)  # a concurrent decline is seen
        row = _proposal(session, placement_id, who)
        now = utcnow()
        row.status, row.answered_at, row.answered_by = "accepted", now, who.id
        resolve_escalations(session, [placement_id], now)
        row.answer_reason = reason
        session.add(row)
        audit.record(session, who, "write", "placement", [placement_id], "accepted")
        return Answer(placement_id, "accepted", row.answer_reason)

    return write(session, work)


def decline(
    session: Session, settings: Settings, placement_id: int, who: Principal, reason: str | None
) -> Answer:
    """Decline a proposed placement: the place is freed and the person re-planned elsewhere
    (the declining shelter excluded, no one else moved); then the waiting list is retried."""

    def work(session: Session) -> Answer:
        row = _proposal(session, placement_id, who)
        tx = Tx.lock(session, settings, who, utcnow())
        outcome = decline_and_replan(tx, row, "declined", reason)
        return Answer(placement_id, "declined", row.answer_reason, outcome)

    answer = write(session, work)
    waitlist.retry(session, settings)
    return answer
