"""The audit trail: who read or wrote which case, placement or shelter location, and when.

``record`` appends in the caller's transaction; ``records`` reads the log back (filtered).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from api.auth import Principal
from api.tables import AuditRecord, User


def record(
    session: Session,
    who: Principal | None,
    action: str,
    object_type: str,
    object_ids: Iterable[str | int],
    detail: str = "",
) -> None:
    """Append one record per object, in the caller's transaction (written iff it commits)."""
    for oid in object_ids:
        session.add(
            AuditRecord(
                user_id=who.id if who else None,
                role=who.role if who else "system",
                action=action,
                object_type=object_type,
                object_id=str(oid),
                detail=detail[:200],
            )
        )


@dataclass(frozen=True)
class AuditFilter:
    """Which records to read: by object, user handle or action; at most ``limit``."""

    object_type: str | None = None
    object_id: str | None = None
    user: str | None = None
    action: str | None = None
    limit: int = 200


def records(session: Session, f: AuditFilter) -> list[AuditRecord]:
    """Audit records, newest first."""
    query = select(AuditRecord).order_by(col(AuditRecord.id).desc()).limit(f.limit)
    if f.user:
        query = query.join(User, col(User.id) == col(AuditRecord.user_id)).where(
            User.handle == f.user
        )
    if f.object_type:
        query = query.where(AuditRecord.object_type == f.object_type)
    if f.object_id:
        query = query.where(AuditRecord.object_id == f.object_id)
    if f.action:
        query = query.where(AuditRecord.action == f.action)
    return list(session.exec(query).all())
