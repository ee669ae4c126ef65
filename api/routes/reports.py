"""``/reports``: what the retention purge kept, aggregates only."""

from __future__ import annotations

from fastapi import APIRouter

from api import retention
from api.deps import CoordinatorOrAnalyst, SessionDep
from api.schemas import ReportCountOut

router = APIRouter(prefix="/reports", tags=["live operations"])


@router.get("/purged")
def purged_counts(who: CoordinatorOrAnalyst, session: SessionDep) -> list[ReportCountOut]:
    """What the retention purge kept: counts by month of the end of the stay, summed."""
    return retention.purged_counts(session)
