"""The audit trail: who read or wrote which case, placement or shelter location, and when.

``record`` appends in the caller's (write) transaction; ``record_reads`` records what a
read transaction showed, in a short write transaction of its own once the read ended (a
read never holds the write lock); ``records`` reads the log back (filtered, paged by a
cursor); ``trail`` is one person's whole record. Records are inserted in bulk, one statement
per request.

Who acted: a user (``Principal``), or the system. The system acts on its own (the purge:
``None``) or because of someone's act (``SystemAct``): a re-plan after a manager's decline,
after a coordinator marked a shelter compromised, at an unanswered proposal's deadline, a
retry of the waiting list. Its records say so (``role`` "system", ``trigger``,
``on_behalf_of``), so that a re-plan never reads as the act of the manager who declined.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from api.auth import Principal
from api.db import begin_write
from api.tables import Alert, AuditRecord, PlacementRow, PlanJob, User

#: the object id of one record that stands for every object of its type (a whole list read)
EVERY = "*"
SYSTEM = "system"


@dataclass(frozen=True)
class SystemAct:
    """The system acting because of ``trigger`` (declined, unanswered, compromised, waiting
    list...), started by ``on_behalf_of``'s act (None: by a deadline or a timer)."""

    trigger: str
    on_behalf_of: Principal | None = None


Actor = Principal | SystemAct | None


def system_act(trigger: str, started_by: Actor) -> SystemAct:
    """The system's act because of ``trigger``, on behalf of whoever started the chain (a
    ``SystemAct`` started by a user stays that user's)."""
    if isinstance(started_by, SystemAct):
        return SystemAct(trigger, started_by.on_behalf_of)
    return SystemAct(trigger, started_by)


def _who_fields(who: Actor) -> dict[str, object]:
    if isinstance(who, Principal):
        return {"user_id": who.id, "role": who.role}
    if isinstance(who, SystemAct):
        by = who.on_behalf_of
        return {"role": SYSTEM, "trigger": who.trigger[:32], "on_behalf_of": by.id if by else None}
    return {"role": SYSTEM}


def record(
    session: Session,
    who: Actor,
    action: str,
    object_type: str,
    object_ids: Iterable[str | int],
    detail: str = "",
) -> None:
    """Append one record per object, in the caller's transaction (written iff it commits)."""
    fields = _who_fields(who)
    session.add_all(
        AuditRecord(
            action=action,
            object_type=object_type,
            object_id=str(oid),
            detail=detail[:200],
            **fields,  # type: ignore[arg-type]
        )
        for oid in object_ids
    )


def record_reads(
    session: Session,
    who: Principal,
    object_type: str,
    object_ids: Iterable[str | int],
    detail: str = "",
) -> None:
    """End the read transaction, then record the reads of ``object_ids`` in a write
    transaction of their own, committed before the answer is sent (no answer without its
    record: a record that cannot be written fails the request)."""
    ids = list(object_ids)
    if not ids:
        session.commit()
        return
    begin_write(session)
    record(session, who, "read", object_type, ids, detail)
    session.commit()


@dataclass(frozen=True)
class AuditFilter:
    """Which records to read: by object, user handle, action or person (``arrival``: their
    whole trail); at most ``limit``, older than the record ``before`` (the cursor), after
    ``offset`` more."""

    object_type: str | None = None
    object_id: str | None = None
    user: str | None = None
    action: str | None = None
    arrival: str | None = None
    limit: int = 200
    before: int | None = None
    offset: int = 0
    #: records at or after ``since`` and before ``until`` (the web page's date filter)
    since: datetime | None = None
    until: datetime | None = None


def records(session: Session, f: AuditFilter) -> list[AuditRecord]:
    """Audit records, newest first (by id: a stable order, which ``before`` pages through);
    asked for one object, the records of whole-list reads of its type (``EVERY``) too."""
    query = select(AuditRecord).order_by(col(AuditRecord.id).desc()).limit(f.limit).offset(f.offset)
    if f.before is not None:
        query = query.where(col(AuditRecord.id) < f.before)
    if f.user:
        query = query.join(User, col(User.id) == col(AuditRecord.user_id)).where(
            User.handle == f.user
        )
    if f.object_type:
        query = query.where(AuditRecord.object_type == f.object_type)
    if f.object_id:
        query = query.where(col(AuditRecord.object_id).in_([f.object_id, EVERY]))
    if f.action:
        query = query.where(AuditRecord.action == f.action)
    if f.arrival:
        query = query.where(_about(session, f.arrival))
    if f.since is not None:
        query = query.where(col(AuditRecord.at) >= f.since)
    if f.until is not None:
        query = query.where(col(AuditRecord.at) < f.until)
    return list(session.exec(query).all())


def _about(session: Session, arrival_id: str) -> ColumnElement[bool]:
    """The records about one person: their arrival's, and those filed under their
    placements (the commit that proposed them, the answers, the re-plans), and the plans
    that included them (their results hold the person's case), and their alerts'."""
    placements = [
        str(p)
        for p in session.exec(select(PlacementRow.id).where(PlacementRow.arrival_id == arrival_id))
    ]
    versions = col(PlanJob.arrival_versions)
    # as_integer: SQLite's JSON_QUOTE would turn a missing key into the string 'null'
    has_arrival = versions[arrival_id].as_integer().is_not(None)
    plans = list(session.exec(select(PlanJob.id).where(has_arrival)))
    alerts = [str(a) for a in session.exec(select(Alert.id).where(Alert.arrival_id == arrival_id))]
    about = [
        ("arrival", [arrival_id]),
        ("placement", placements),
        ("plan", plans),
        ("alert", alerts),
    ]
    return or_(
        *(
            and_(col(AuditRecord.object_type) == kind, col(AuditRecord.object_id).in_(ids))
            for kind, ids in about
            if ids
        )
    )


def trail(session: Session, who: Principal, f: AuditFilter) -> list[AuditRecord]:
    """One person's records (``f.arrival``), newest first; reading them is itself recorded."""
    assert f.arrival is not None
    rows = records(session, f)
    record_reads(session, who, "arrival", [f.arrival], "audit trail")
    return rows
