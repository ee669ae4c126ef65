"""The audit trail: who read or wrote which case, placement or shelter location, and when.

``record`` appends in the caller's (write) transaction; ``record_reads`` records what a
read transaction showed, in a short write transaction of its own once the read ended (a
read never holds the write lock); ``records`` reads the log back (filtered, paged).
Records are inserted in bulk, one statement per request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from api.auth import Principal
from api.db import begin_write
from api.tables import AuditRecord, User

#: the object id of one record that stands for every object of its type (a whole list read)
EVERY = "*"


def record(
    session: Session,
    who: Principal | None,
    action: str,
    object_type: str,
    object_ids: Iterable[str | int],
    detail: str = "",
) -> None:
    """Append one record per object, in the caller's transaction (written iff it commits)."""
    session.add_all(
        AuditRecord(
            user_id=who.id if who else None,
            role=who.role if who else "system",
            action=action,
            object_type=object_type,
            object_id=str(oid),
            detail=detail[:200],
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
    """Which records to read: by object, user handle or action; at most ``limit``."""

    object_type: str | None = None
    object_id: str | None = None
    user: str | None = None
    action: str | None = None
    limit: int = 200
    offset: int = 0
    #: records at or after ``since`` and before ``until`` (the web page's date filter)
    since: datetime | None = None
    until: datetime | None = None


def records(session: Session, f: AuditFilter) -> list[AuditRecord]:
    """Audit records, newest first; asked for one object, the records of whole-list reads of
    its type (``EVERY``) too."""
    query = select(AuditRecord).order_by(col(AuditRecord.id).desc()).limit(f.limit).offset(f.offset)
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
    if f.since is not None:
        query = query.where(col(AuditRecord.at) >= f.since)
    if f.until is not None:
        query = query.where(col(AuditRecord.at) < f.until)
    return list(session.exec(query).all())
