"""The waiting list: people without a place, retried when places free up.

Retried highest priority first, each person (with their household) re-planned into free
places only: nobody already placed moves. The scheduler retries it every
``waitlist_retry_minutes``; freeing places (a decline, a freed placement, a calendar change,
an expired hold) retries it at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from api import store
from api.auth import Principal
from api.config import Settings
from api.db import with_retry
from api.services.replanning import Outcome, Tx, replan_in, world_of_targets
from api.tables import ArrivalRow, utcnow


def _units(session: Session, waiting: list[ArrivalRow]) -> list[list[ArrivalRow]]:
    """The waiting people with their households, highest priority first."""
    units: list[list[ArrivalRow]] = []
    seen: set[str] = set()
    for a in sorted(waiting, key=lambda r: -r.arrival.priority):
        if a.id in seen:
            continue
        unit = store.waiting_household(session, a)
        seen.update(m.id for m in unit)
        units.append(unit)
    return units


def retry_waitlist(
    session: Session, settings: Settings, who: Principal | None, now: datetime
) -> list[Outcome]:
    """Retry every arrival on the waiting list, highest priority first; nobody else moves."""
    waiting = store.waitlisted(session)
    if not waiting:
        return []
    tx = Tx.lock(session, settings, who, now)
    units = _units(session, waiting)
    rows = {m.id: m for unit in units for m in unit}
    world = world_of_targets(tx, list(rows.values()))
    out = []
    for unit in units:
        for m in unit:
            world.fixed.pop(m.id, None)
        out.append(replan_in(tx, world, rows, unit[0], "waiting list"))
    return out


def retry_in_new_transaction(
    engine: Engine, settings: Settings, who: Principal | None = None
) -> list[Outcome]:
    """Retry the waiting list in a transaction of its own (retried on conflicts), committed."""

    def transaction() -> list[Outcome]:
        with Session(engine) as session:
            done = retry_waitlist(session, settings, who, utcnow())
            session.commit()
            return done

    return with_retry(transaction)
