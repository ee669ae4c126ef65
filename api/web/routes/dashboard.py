"""The coordinator's dashboard: open operations, alerts, the waiting list, stale shelters."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep, SettingsDep
from api.services import alerts, arrivals, operations, shelters
from api.store import MAX_PAGE, Page
from api.tables import Operation, ShelterRow, aware, utcnow
from api.web.deps import PageCoordinator
from api.web.render import render, web_translator
from placement.i18n import N_, Translator

router = APIRouter()

#: what each kind of alert is called on the page
ALERT_KINDS = {
    "escalation": N_("Unanswered proposal"),
    "no_place": N_("No place found"),
    "replanned": N_("Re-planned after no answer"),
}


@dataclass(frozen=True)
class OperationLine:
    """An operation on the dashboard with its arrivals by status."""

    operation: Operation
    waiting: int
    placed: int

    @property
    def open(self) -> bool:
        """Someone in it is still waiting for a place."""
        return self.waiting > 0


def age_text(t: Translator, hours: float) -> str:
    """How old something is, in hours or days, in the reader's language."""
    if hours < 48:
        n = int(hours)
        return t.ngettext("{n} hour", "{n} hours", n)
    return t.ngettext("{n} day", "{n} days", int(hours // 24))


def _stale(request: Request, rows: list[ShelterRow]) -> list[tuple[str, str]]:
    t = web_translator(request)
    now = utcnow()
    out = []
    for row in sorted(rows, key=lambda r: aware(r.capacity_updated_at)):
        hours = (now - aware(row.capacity_updated_at)).total_seconds() / 3600
        out.append((row.id, age_text(t, hours)))
    return out


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request, who: PageCoordinator, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """What a coordinator looks at first."""
    ops = operations.operations(session, who, Page(MAX_PAGE, 0))
    counts = operations.counts_by_operation(session, [op.id for op in ops if op.id is not None])
    lines = [
        OperationLine(
            op,
            counts.get(op.id or 0, {}).get("waiting", 0),
            counts.get(op.id or 0, {}).get("placed", 0),
        )
        for op in reversed(ops)
    ]
    open_alerts = alerts.alerts(session, who, open_only=True, page=Page(MAX_PAGE, 0))
    waiting = [
        a
        for a in arrivals.arrivals(session, who, "waiting", Page(MAX_PAGE, 0))
        if a.waitlisted_at is not None
    ]
    stale = shelters.shelters(session, settings, who, True, Page(MAX_PAGE, 0))
    session.commit()  # the reads' audit records
    t = web_translator(request)
    return render(
        request,
        "dashboard.html",
        operations=[line for line in lines if line.open]
        + [line for line in lines if not line.open],
        alerts=open_alerts,
        alert_kind=lambda kind: t.gettext(ALERT_KINDS[kind]) if kind in ALERT_KINDS else kind,
        waiting=waiting,
        stale=_stale(request, stale),
    )
