"""``/reports``: what the retention purge kept, aggregates only."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CoordinatorOrAnalyst, SessionDep
from api.schemas import ReportCountOut
from api.services import stats

router = APIRouter(prefix="/reports", tags=["live operations"])


@router.get("/purged")
def purged_counts(who: CoordinatorOrAnalyst, session: SessionDep) -> list[ReportCountOut]:
    """What the retention purge kept: counts by month of the end of the stay, summed."""
    return stats.purged_counts(session)
