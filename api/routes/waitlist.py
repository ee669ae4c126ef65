"""``/waitlist``: retry the waiting list now (coordinators)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Coordinator, EngineDep, ReaderDep, SettingsDep, SolveSlot
from api.schemas import ReplanOut
from api.services.waitlist import retry_in_new_transaction
from api.views import replan_out

router = APIRouter(prefix="/waitlist", tags=["live operations"])


@router.post("/retry")
def retry(
    who: Coordinator, engine: EngineDep, settings: SettingsDep, slot: SolveSlot, t: ReaderDep
) -> list[ReplanOut]:
    """Retry the waiting list now (it is also retried by the scheduler and when places free)."""
    return [replan_out(o, t) for o in retry_in_new_transaction(engine, settings, who)]
