"""The waiting list: people without a place, retried when places free up.

Retried highest priority first, each person (with their household) re-planned into free
places only: nobody already placed moves. The scheduler retries it every
``waitlist_retry_minutes``; freeing places (a decline, a freed placement, an expired hold)
retries it at once; a change of a shelter (its places, its attributes, its places confirmed)
retries it just after the manager's answer (``Retries``: one at a time per process, at most
every ``waitlist_after_change_seconds``, with a free solver slot), so a manager's update never
waits for the waiting list. That retry first finds, reading only, whom the pair rules admit
among the people waiting at the shelters changed since the last one (``admitted_at``): only
they (with their households) are retried, and a change that admits nobody places nobody, so
the retry, which locks every shelter, is left out.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from api import store
from api.auth import Principal
from api.config import Settings
from api.db import reading, transaction, write
from api.services.replanning import Outcome, Tx, replan_in, world_of_targets
from api.solve_slots import SolveSlots
from api.tables import ArrivalRow, utcnow
from placement.admissibility import admissible_mask

log = logging.getLogger(__name__)


class Retries:
    """Retries of the waiting list after shelter changes, in this process: one at a time,
    at most one every ``every`` seconds, each for the shelters changed since the one before.
    A change made meanwhile is looked at by the next one, ``every`` seconds after the last
    (the scheduler retries periodically as well)."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._lock = threading.Lock()
        self._last = -math.inf
        self._running = False
        self._changed: set[str] = set()

    def claim(self, shelter_id: str) -> bool:
        """Note that ``shelter_id`` changed; True when no retry runs or waits in this process
        (the caller then starts ``retry_after_change``, which ``take``s the changes)."""
        with self._lock:
            self._changed.add(shelter_id)
            if self._running:
                return False
            self._running = True
            return True

    def take(self) -> frozenset[str] | float | None:
        """The shelters changed since the last retry, when one is due (``every`` seconds after
        the last): taken. Else the seconds until it is due, or None when none changed (the
        retries stop until the next claim)."""
        with self._lock:
            if not self._changed:
                self._running = False
                return None
            wait = self._last + self.every - time.monotonic()
            if wait > 0:
                return wait
            changed, self._changed = frozenset(self._changed), set()
            self._last = time.monotonic()
            return changed

    def stop(self) -> None:
        """The retries stopped on an error: the next claim starts them again."""
        with self._lock:
            self._running = False


@dataclass(frozen=True)
class ClaimedRetry:
    """Where the retries after shelter changes run (``Retries.claim`` was True)."""

    engine: Engine
    settings: Settings
    slots: SolveSlots
    retries: Retries


def retry_after_change(after: ClaimedRetry) -> None:
    """The retries after shelter changes (run after the answer is sent), while changes come:
    each only when someone waiting may be placed at a changed shelter, and with a free solver
    slot; a busy database or solver leaves it to the next change or the scheduler. A retry
    not yet due is left to a timer (nothing waits for it)."""
    try:
        while (due := after.retries.take()) is not None:
            if isinstance(due, float):
                later = threading.Timer(due, retry_after_change, [after])
                later.daemon = True  # a retry cut short by the process's end writes nothing
                later.start()
                return
            _retry_for(after, due)
    except BaseException:
        after.retries.stop()
        raise


def _retry_for(after: ClaimedRetry, changed: frozenset[str]) -> None:
    try:
        with Session(reading(after.engine)) as session:
            admitted = admitted_at(session, after.settings, changed, utcnow())
        if not admitted:
            return
        with after.slots.if_free() as free:
            if free:
                transaction(
                    after.engine,
                    lambda session: retry_waitlist(
                        session, after.settings, None, utcnow(), only=admitted
                    ),
                )
    except DBAPIError as e:
        log.warning("waiting list not retried after a change: %s", e)


def admitted_at(
    session: Session, settings: Settings, shelter_ids: Collection[str], now: datetime
) -> frozenset[str]:
    """The people on the waiting list whom every pair rule admits at one of ``shelter_ids``
    (places aside): only they, and their households, may be placed by a change of these
    shelters. Reads only (nothing is locked or written)."""
    waiting = store.waitlisted(session)
    shelters = store.active_shelters(session, shelter_ids) if waiting else []
    if not shelters:
        return frozenset()
    world = world_of_targets(Tx.reading(session, settings, shelters, now), waiting)
    admitted = (w.id for w in waiting if admissible_mask(world.ctx, world.ctx.arrivals[w.id]).any())
    return frozenset(admitted)


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
    session: Session,
    settings: Settings,
    who: Principal | None,
    now: datetime,
    only: Collection[str] | None = None,
) -> list[Outcome]:
    """Retry every arrival on the waiting list (``only``: the households of these), highest
    priority first; nobody else moves."""
    waiting = store.waitlisted(session)
    if not waiting:
        return []
    tx = Tx.lock(session, settings, who, now)
    units = _units(session, waiting)
    if only is not None:
        units = [unit for unit in units if any(m.id in only for m in unit)]
    rows = {m.id: m for unit in units for m in unit}
    if not rows:
        return []
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
