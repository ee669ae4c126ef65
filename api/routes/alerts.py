"""``/alerts``: escalated proposals, people without a place, re-plans (coordinators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Coordinator, PageDep, ReaderDep, RowId, SessionDep, WriteSessionDep
from api.schemas import AlertOut
from api.services import alerts as service
from api.store import FIRST_PAGE
from api.views import alert_out

router = APIRouter(prefix="/alerts", tags=["live operations"])


@router.get("")
def list_alerts(
    who: Coordinator,
    session: SessionDep,
    t: ReaderDep,
    open_only: Annotated[bool, Query(alias="open")] = True,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    page: PageDep = FIRST_PAGE,
) -> list[AlertOut]:
    """Alerts: escalated proposals, people without a place (coordinators); their details in
    the language of ``?lang=`` or ``Accept-Language`` (English by default)."""
    return [alert_out(r, t) for r in service.alerts(session, who, open_only, kind, page)]


@router.post("/{alert_id}/resolve")
def resolve_alert(
    alert_id: RowId, who: Coordinator, session: WriteSessionDep, t: ReaderDep
) -> AlertOut:
    """Mark an alert as dealt with."""
    return alert_out(service.resolve_alert(session, alert_id, who), t)
