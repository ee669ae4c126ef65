"""``/holds``: give held places back early (coordinators). An operation's holds are made
and listed under ``/operations/{id}/holds`` (``api.routes.operations``)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Coordinator, RowId, SessionDep
from api.schemas import HoldOut
from api.services import holds as service
from api.views import hold_out

router = APIRouter(prefix="/holds", tags=["holds"])


@router.delete("/{hold_id}")
def release_hold(hold_id: RowId, who: Coordinator, session: SessionDep) -> HoldOut:
    """Give the held places back before the hold expires."""
    return hold_out(service.release_hold(session, hold_id, who))
