"""The waiting list: people without a place, retried when places free up.

Retried highest priority first, each person (with their household) re-planned into free
places only: nobody already placed moves. The scheduler retries it every
``waitlist_retry_minutes``; freeing places (a decline, a freed placement, an expired hold)
retries it at once; a calendar change retries it just after the manager's answer
(``Retries``: one at a time per process, at most every ``waitlist_after_change_seconds``,
with a free solver slot), so a manager's update never waits for the waiting list.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from api import store
from api.auth import Principal
from api.config import Settings
from api.db import transaction, write
from api.services.replanning import Outcome, Tx, replan_in, world_of_targets
from api.solve_slots import SolveSlots
from api.tables import ArrivalRow, utcnow

log = logging.getLogger(__name__)


class Retries:
    """Retries of the waiting list after calendar changes, in this process: at most one at
    a time and one every ``every`` seconds (the scheduler retries periodically as well)."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._lock = threading.Lock()
        self._last = -math.inf
        self._running = False

    def claim(self) -> bool:
        """True when a retry should start now (the caller then calls ``finished``)."""
        with self._lock:
            now = time.monotonic()
            if self._running or now - self._last < self.every:
                return False
            self._running, self._last = True, now
            return True

    def finished(self) -> None:
        """The claimed retry is over."""
        with self._lock:
            self._running = False


def retry_after_change(
    engine: Engine, settings: Settings, slots: SolveSlots, retries: Retries
) -> None:
    """The claimed retry after a calendar change (run after the answer is sent): only with
    a free solver slot; a busy database leaves it to the next change or the scheduler."""
    try:
        with slots.if_free() as free:
            if free:
                transaction(
                    engine, lambda session: retry_waitlist(session, settings, None, utcnow())
                )
    except DBAPIError as e:
        log.warning("waiting list not retried after a change: %s", e)
    finally:
        retries.finished()


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


def retry(session: Session, settings: Settings, who: Principal | None = None) -> list[Outcome]:
    """Retry the waiting list in a write transaction of ``session`` of its own, committed."""
    return write(session, lambda session: retry_waitlist(session, settings, who, utcnow()))
