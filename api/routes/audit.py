"""``/audit``: the audit log, for coordinators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api import audit
from api.deps import Coordinator, SessionDep
from api.schemas import AuditOut
from api.store import DEFAULT_PAGE, MAX_PAGE, handles
from api.tables import AuditRecord

router = APIRouter(prefix="/audit", tags=["audit"])

#: the response header holding the cursor of the next (older) page
NEXT_PAGE_HEADER = "X-Next-Before"


class AuditQuery(BaseModel):
    """The query parameters of ``GET /audit``."""

    model_config = ConfigDict(extra="forbid")

    object_type: str | None = Field(default=None, max_length=32)
    object_id: str | None = Field(default=None, max_length=64)
    user: str | None = Field(default=None, max_length=64, description="a user's handle")
    action: str | None = Field(default=None, max_length=16)
    arrival: str | None = Field(
        default=None,
        max_length=64,
        description="one person's whole trail: their arrival, their placements (commit, "
        "answers, re-plans), the plans that included them, their alerts; reading it is audited",
    )
    limit: int = Field(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE)
    before: int | None = Field(
        default=None,
        ge=1,
        le=2**63 - 1,
        description=f"only records older than this id: the {NEXT_PAGE_HEADER} of the page before",
    )
    offset: int = Field(default=0, ge=0, le=2**31 - 1)


@router.get("")
def read_audit(
    who: Coordinator,
    session: SessionDep,
    query: Annotated[AuditQuery, Query()],
    response: Response,
) -> list[AuditOut]:
    """Audit records, newest first, filtered by object, user handle, action or person
    (``arrival``); a full page names the next one's cursor in ``X-Next-Before``."""
    f = audit.AuditFilter(**query.model_dump())
    rows = audit.trail(session, who, f) if f.arrival else audit.records(session, f)
    if len(rows) == f.limit and rows[-1].id is not None:
        response.headers[NEXT_PAGE_HEADER] = str(rows[-1].id)
    return _outs(session, rows)


def _outs(session: SessionDep, rows: list[AuditRecord]) -> list[AuditOut]:
    names = handles(session, {u for r in rows for u in (r.user_id, r.on_behalf_of) if u})
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
            on_behalf_of=names.get(r.on_behalf_of) if r.on_behalf_of else None,
            trigger=r.trigger or None,
        )
        for r in rows
    ]
