"""``/audit``: the audit log, for coordinators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api import audit
from api.deps import Coordinator, SessionDep
from api.schemas import AuditOut
from api.store import DEFAULT_PAGE, MAX_PAGE, handles

router = APIRouter(prefix="/audit", tags=["audit"])


def _filter(
    object_type: Annotated[str | None, Query(max_length=32)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    user: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> audit.AuditFilter:
    """The query parameters of ``GET /audit``."""
    return audit.AuditFilter(object_type, object_id, user, action, limit, offset)


@router.get("")
def read_audit(
    who: Coordinator,
    session: SessionDep,
    filters: Annotated[audit.AuditFilter, Depends(_filter)],
) -> list[AuditOut]:
    """Audit records, newest first, filtered by object, user handle or action."""
    rows = audit.records(session, filters)
    names = handles(session, {r.user_id for r in rows})
    return [
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
