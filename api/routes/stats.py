"""``/stats``: aggregates anyone may see (managers: their own shelters')."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep, SettingsDep, ShelterCachesDep
from api.schemas import StatsOut
from api.services import stats as service

router = APIRouter(prefix="/stats", tags=["me"])


@router.get("")
def stats(
    who: CurrentUser, session: SessionDep, settings: SettingsDep, caches: ShelterCachesDep
) -> StatsOut:
    """Counts for the whole network (managers: for their own shelters)."""
    return service.stats(session, settings, who, caches.per_shelter)
