"""``/waitlist``: retry the waiting list now (coordinators)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Coordinator, ReaderDep, SessionDep, SettingsDep, SolveSlot
from api.schemas import ReplanOut
from api.services import waitlist
from api.views import replan_out

router = APIRouter(prefix="/waitlist", tags=["live operations"])


@router.post("/retry")
def retry(
    who: Coordinator, session: SessionDep, settings: SettingsDep, slot: SolveSlot, t: ReaderDep
) -> list[ReplanOut]:
    """Retry the waiting list now (it is also retried by the scheduler and when places free)."""
    return [replan_out(o, t) for o in waitlist.retry(session, settings, who)]
