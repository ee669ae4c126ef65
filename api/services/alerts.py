"""Alerts for coordinators: escalated proposals, people left without a place, re-plans.

They are raised by the scheduler (``api.scheduler``) and the re-plans
(``api.services.replanning``); here they are read (the arrivals they name are audited) and
resolved.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from api import audit
from api.auth import Principal
from api.domain_errors import Conflict, NotFound
from api.store import FIRST_PAGE, Page
from api.tables import Alert, utcnow
from placement.i18n import N_, Translator
from placement.text import ENGLISH, Text, message

#: the longest English detail stored (the column's size)
MAX_DETAIL = 500


#: why someone was re-planned (the service's words, also in the audit trail), for a reader
CAUSE_TEXTS = {
    "unanswered": N_("unanswered"),
    "declined": N_("declined"),
    "compromised": N_("compromised"),
    "waiting list": N_("waiting list"),
}


def cause(why: str) -> Text | str:
    """Why a re-plan ran, in the reader's language (``plan <id>`` and others as they are)."""
    return message(CAUSE_TEXTS[why]) if why in CAUSE_TEXTS else why


def new_alert(
    at: datetime,
    kind: str,
    detail: Text,
    placement_id: int | None = None,
    arrival_id: str | None = None,
    shelter_id: str | None = None,
) -> Alert:
    """An alert whose detail is a catalogue message (kept as such, and in English as it
    always was), about a placement, an arrival, a shelter."""
    return Alert(
        at=at,
        kind=kind,
        placement_id=placement_id,
        arrival_id=arrival_id,
        shelter_id=shelter_id,
        detail=str(detail)[:MAX_DETAIL],
        detail_message=detail.model_dump(mode="json", exclude_defaults=True),
    )


def alert_detail(row: Alert, t: Translator = ENGLISH) -> str:
    """An alert's detail in ``t``'s language (one raised before details were messages: as
    it was written)."""
    if row.detail_message is None:
        return row.detail
    return Text.model_validate(row.detail_message).render(t)


def alerts(
    session: Session,
    who: Principal,
    open_only: bool = True,
    kind: str | None = None,
    page: Page = FIRST_PAGE,
) -> list[Alert]:
    """Alerts (only the unresolved ones when ``open_only``), of one ``kind`` if given."""
    query = select(Alert).order_by(col(Alert.id))
    if open_only:
        query = query.where(col(Alert.resolved_at).is_(None))
    if kind:
        query = query.where(Alert.kind == kind)
    rows = list(session.exec(page.apply(query)).all())
    audit.record_reads(
        session, who, "arrival", sorted({r.arrival_id for r in rows if r.arrival_id}), "alerts"
    )
    return rows


def resolve_alert(session: Session, alert_id: int, who: Principal) -> Alert:
    """Mark an alert as dealt with; ``Conflict`` if it already was."""
    row = session.get(Alert, alert_id)
    if row is None:
        raise NotFound("alert")
    if row.resolved_at is not None:
        raise Conflict(message("alert already resolved"), [("resolved_at", str(row.resolved_at))])
    row.resolved_at = utcnow()
    session.add(row)
    audit.record(session, who, "write", "alert", [alert_id], "resolved")
    session.commit()
    session.refresh(row)
    return row
