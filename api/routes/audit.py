"""The audit log, for coordinators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import col, select

from api.deps import Coordinator, SessionDep
from api.schemas import AuditOut
from api.tables import AuditRecord, User
from api.views import handles

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("")
def read_audit(
    who: Coordinator,
    session: SessionDep,
    object_type: str | None = None,
    object_id: str | None = None,
    user: str | None = None,
    action: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditOut]:
    """Audit records, newest first, filtered by object, user handle or action."""
    query = select(AuditRecord).order_by(col(AuditRecord.id).desc()).limit(limit)
    if user:
        query = query.join(User, col(User.id) == col(AuditRecord.user_id)).where(
            User.handle == user
        )
    if object_type:
        query = query.where(AuditRecord.object_type == object_type)
    if object_id:
        query = query.where(AuditRecord.object_id == object_id)
    if action:
        query = query.where(AuditRecord.action == action)
    rows = session.exec(query).all()
    names = handles(session, {r.user_id for r in rows})
    out = [
        AuditOut(
            id=r.id or 0,
            at=r.at,
            user=names.get(r.user_id) if r.user_id else None,
            role=r.role,
            action=r.action,
            object_type=r.object_type,
            object_id=r.object_id,
            detail=r.detail,
        )
        for r in rows
    ]
    return out
