"""The coordinator's shelter pages: the list with the freshness of each one's places, create
and edit; and the audit log, filtered by actor, action, object and date.

The same services and checks as ``/shelters`` and ``/audit`` (``api.services.shelters``,
``api.audit``): a shelter document is validated by the engine's model, problems come back
next to their fields; location reads and writes are audited as in the API.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from api import audit
from api.auth import Principal
from api.config import Settings
from api.db import begin_write, write
from api.deps import SessionDep, SettingsDep
from api.domain_errors import Conflict, Invalid
from api.services import shelters as service
from api.services.capacity import is_stale
from api.services.shelters import Change
from api.store import MAX_PAGE, Page, handles, lock_shelters, visible_shelter
from api.tables import ShelterRow, aware
from api.views import compromise_notes
from api.web.deps import CheckedForm, PageCoordinator
from api.web.forms import CellError, field_errors, read_date
from api.web.render import render, web_translator, zone_of
from api.web.routes.shelter import freshness
from placement.i18n import N_, Translator

router = APIRouter()

GENDERS = {"woman": N_("women"), "man": N_("men"), "nonbinary": N_("non-binary people")}
ACTIONS = {"read": N_("read"), "write": N_("write")}
#: the kinds of object the audit log names (``api.audit`` callers)
OBJECT_TYPES = {
    "arrival": N_("arrival"),
    "placement": N_("placement"),
    "plan": N_("plan"),
    "operation": N_("operation"),
    "hold": N_("hold"),
    "shelter": N_("shelter"),
    "shelter_location": N_("shelter location"),
}
AUDIT_PAGE = 100
NOT_SAVED = N_("Not saved: correct the fields marked below.")
SAVED = N_("Saved.")


def _ints(form: FormData, *names: str) -> dict[str, Any]:
    """Whole numbers as numbers (the model's check then names a bad one), blanks left out."""
    out: dict[str, Any] = {}
    for name in names:
        raw = str(form.get(name, "")).strip()
        if raw:
            out[name] = int(raw) if raw.lstrip("-").isdigit() else raw
    return out


def _floats(form: FormData) -> dict[str, Any]:
    lat, lon = (str(form.get(k, "")).strip().replace(",", ".") for k in ("lat", "lon"))
    if not lat and not lon:
        return {}

    def number(raw: str) -> Any:
        try:
            return float(raw)
        except ValueError:
            return raw

    return {"location": {"lat": number(lat), "lon": number(lon)}}


def _words(raw: object) -> list[str]:
    return [w for w in str(raw or "").replace(",", " ").split() if w]


def shelter_document(form: FormData, with_places: bool) -> dict[str, Any]:
    """The shelter document a form describes (checked by the engine's model afterwards)."""
    doc: dict[str, Any] = {
        "department": str(form.get("department", "")).strip(),
        "accepts": [g for g in GENDERS if form.get(f"accepts_{g}")],
        "trans_inclusive": bool(form.get("trans_inclusive")),
        "children": bool(form.get("children")),
        "languages": _words(form.get("languages")),
        "services": _words(form.get("services")),
        "age_max": None,
        **_ints(form, "age_min", "age_max", *(["capacity"] if with_places else [])),
        **_floats(form),
    }
    if with_places:
        doc["id"] = str(form.get("id", "")).strip()
    return doc


def _values(row: ShelterRow | None, form: FormData | None) -> dict[str, Any]:
    """What the form's fields show: the posted values, else the shelter's."""
    if form is not None:
        return {k: form.get(k) for k in form}
    if row is None:
        return {"age_min": "18", "capacity": "1", "languages": "fr", "accepts_woman": True}
    s = row.shelter
    values: dict[str, Any] = {
        "id": s.id,
        "department": s.department,
        "age_min": str(s.age_min),
        "age_max": "" if s.age_max is None else str(s.age_max),
        "languages": " ".join(s.languages),
        "services": " ".join(s.services),
        "trans_inclusive": s.trans_inclusive,
        "children": s.children,
        "active": row.active,
        "lat": "" if s.location is None else str(s.location.lat),
        "lon": "" if s.location is None else str(s.location.lon),
    }
    values.update({f"accepts_{g}": g in s.accepts for g in s.accepts})
    return values


def _form_page(request: Request, row: ShelterRow | None, **context: Any) -> HTMLResponse:
    t = web_translator(request)
    context.setdefault("errors", {})
    context.setdefault("form", None)
    context.setdefault("alert", None)
    return render(
        request,
        "shelter_form.html",
        status=400 if context["errors"] else 200,
        row=row,
        values=_values(row, context.pop("form")),
        genders=[(g, t.gettext(name)) for g, name in GENDERS.items()],
        **context,
    )


def _freshness(t: Translator, row: ShelterRow, settings: Settings) -> tuple[str, bool]:
    return freshness(t, row.capacity_updated_at), is_stale(row, settings)


@router.get("/shelters", response_class=HTMLResponse)
def shelters_page(
    request: Request, who: PageCoordinator, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """Every shelter: where, for whom, places, and how fresh its places are (stale first)."""
    rows = service.shelters(session, settings, who, None, Page(MAX_PAGE, 0))
    service.audit_location_reads(session, who, rows, every=True)
    t = web_translator(request)
    lines = []
    for row in sorted(rows, key=lambda r: aware(r.capacity_updated_at)):
        ago, stale = _freshness(t, row, settings)
        lines.append((row, ago, stale))
    return render(
        request,
        "shelters.html",
        lines=lines,
        compromised=compromise_notes(session, [row.id for row in rows]),
        accepts_text=lambda gs: ", ".join(t.gettext(GENDERS[g]) if g in GENDERS else g for g in gs),
        done=t.gettext(SAVED) if request.query_params.get("done") else None,
    )


@router.get("/shelters/new", response_class=HTMLResponse)
def new_shelter_page(request: Request, who: PageCoordinator) -> HTMLResponse:
    """The form of a new shelter."""
    return _form_page(request, None)


@router.post("/shelters/new", response_class=HTMLResponse)
def create_shelter(
    request: Request,
    who: PageCoordinator,
    form: CheckedForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Create the shelter; the form again with each problem next to its field."""
    begin_write(session)
    try:
        service.create_shelter(session, settings, shelter_document(form, True), who)
    except (Invalid, Conflict) as e:
        session.rollback()
        t = web_translator(request)
        return _form_page(
            request, None, form=form, errors=field_errors(t, e.errors), alert=t.gettext(NOT_SAVED)
        )
    return RedirectResponse("/app/shelters?done=1", status_code=303)


@router.get("/shelters/{shelter_id}/edit", response_class=HTMLResponse)
def edit_shelter_page(
    request: Request, shelter_id: str, who: PageCoordinator, session: SessionDep
) -> HTMLResponse:
    """The form of an existing shelter (its location read is audited)."""
    row = visible_shelter(session, shelter_id, who)
    service.audit_location_reads(session, who, [row])
    return _form_page(request, row)


def _edit(
    session: Session, settings: Settings, shelter_id: str, who: Principal, change: Change
) -> None:
    """Apply the fields the form changed (a form sends them all: the unchanged ones are
    left out, so the shelter's history and the audit log name only real changes). One
    ``api.db.write`` transaction; the row is locked before it is compared."""

    def work(session: Session) -> None:
        lock_shelters(session, [shelter_id])  # first: the row compared is the locked one
        row = visible_shelter(session, shelter_id, who)  # NotFound alike: missing, forbidden
        before = row.shelter
        after = service.checked_shelter(
            {**before.model_dump(by_alias=True), **change.fields}, settings
        )
        changed = {
            k: v for k, v in change.fields.items() if getattr(after, k) != getattr(before, k)
        }
        active = None if change.active in (None, row.active) else change.active
        if changed or active is not None:  # else nothing to record
            service.change_shelter(
                session, settings, shelter_id, who, Change(change.kind, changed, active)
            )

    write(session, work)


@router.post("/shelters/{shelter_id}/edit", response_class=HTMLResponse)
async def edit_shelter(
    request: Request,
    shelter_id: str,
    who: PageCoordinator,
    form: CheckedForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Save the edit (the places calendar is on the shelter's own page)."""
    doc = shelter_document(form, False)
    doc.setdefault("location", None)
    change = Change("edit", doc, bool(form.get("active")))
    try:
        await run_in_threadpool(_edit, session, settings, shelter_id, who, change)
    except (Invalid, Conflict) as e:
        row = await run_in_threadpool(visible_shelter, session, shelter_id, who)
        t = web_translator(request)
        return _form_page(
            request, row, form=form, errors=field_errors(t, e.errors), alert=t.gettext(NOT_SAVED)
        )
    return RedirectResponse("/app/shelters?done=1", status_code=303)


# --- the audit log ----------------------------------------------------------------------
def _day(t: Translator, raw: str | None, errors: dict[str, str], name: str) -> date | None:
    """The date of a filter as the reader typed it (``forms.read_date``); a problem in
    ``errors`` and no filter when it is not a date."""
    try:
        return read_date(t, raw or "")
    except CellError as e:
        errors[name] = t.gettext(str(e))
        return None


def _start(d: date | None, zone: tzinfo) -> datetime | None:
    """The first moment of day ``d`` in the zone the pages show times in (UTC to compare)."""
    return None if d is None else datetime.combine(d, time.min, tzinfo=zone).astimezone(UTC)


def _text(raw: str | None, limit: int) -> str | None:
    return (raw or "").strip()[:limit] or None


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, who: PageCoordinator, session: SessionDep) -> HTMLResponse:
    """The audit log, newest first, filtered by actor, action, object and dates."""
    q = request.query_params
    t = web_translator(request)
    errors: dict[str, str] = {}
    since, until = _day(t, q.get("from"), errors, "from"), _day(t, q.get("to"), errors, "to")
    offset = int(q["offset"]) if q.get("offset", "").isdigit() else 0
    filters = audit.AuditFilter(
        object_type=q.get("object_type") if q.get("object_type") in OBJECT_TYPES else None,
        object_id=_text(q.get("object_id"), 64),
        user=_text(q.get("user"), 64),
        action=q.get("action") if q.get("action") in ACTIONS else None,
        limit=AUDIT_PAGE + 1,
        offset=min(offset, 2**31 - 1),
        since=_start(since, zone_of(request)),
        until=_start(until + timedelta(days=1), zone_of(request)) if until else None,
    )
    rows = audit.records(session, filters)
    names = handles(session, {r.user_id for r in rows})
    more = len(rows) > AUDIT_PAGE
    query = {k: v for k, v in q.items() if k != "offset" and v}
    return render(
        request,
        "audit.html",
        rows=rows[:AUDIT_PAGE],
        names=names,
        errors=errors,
        filters=query,
        actions=[("", t.gettext("any"))] + [(k, t.gettext(v)) for k, v in ACTIONS.items()],
        object_types=[("", t.gettext("any"))]
        + [(k, t.gettext(v)) for k, v in OBJECT_TYPES.items()],
        type_name=lambda k: t.gettext(OBJECT_TYPES[k]) if k in OBJECT_TYPES else k,
        action_name=lambda k: t.gettext(ACTIONS[k]) if k in ACTIONS else k,
        next_offset=offset + AUDIT_PAGE if more else None,
    )
