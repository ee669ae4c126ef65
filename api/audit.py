"""The audit trail: who read or wrote which case, placement or shelter location, and when."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from api.auth import Principal
from api.tables import AuditRecord


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
