"""The shelter manager's pages (made for a phone): places by night, tonight's free places,
"still the same", and the proposals to the shelter, accepted or declined with a reason.

Thin handlers over the JSON API's services (``api.services.shelters``, ``placements``,
``proposals``) with the same role rules: a manager sees only their own shelters (``NotFound``
otherwise, as in the API); coordinators may open any shelter's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import get_day_names
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from api.deps import EngineDep, SessionDep, SettingsDep
from api.domain_errors import Conflict, Invalid
from api.services import placements, proposals
from api.services import shelters as service
from api.services.capacity import Night, is_stale
from api.store import handles, visible_shelter
from api.tables import ArrivalRow, PlacementRow, aware, utcnow
from api.web.deps import CheckedForm, PageCoordinatorOrManager
from api.web.render import render, web_translator
from api.web.routes.dashboard import age_text
from placement.i18n import N_, Translator

router = APIRouter()

#: names of the services and needs the demo network and the scenarios use; others are shown
#: as written
NEED_NAMES = {
    "psychological_support": N_("psychological support"),
    "psychological": N_("psychological support"),
    "trafficking": N_("specialised in trafficking"),
    "medical": N_("medical care"),
    "trafficking_specialised": N_("specialised in trafficking"),
    "disability_access": N_("disability access"),
}
#: what each answer is called
STATUS_NAMES = {
    "proposed": N_("awaiting your answer"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
}
#: at most this many characters of a reason are kept (``proposals.release`` keeps 200)
MAX_REASON = 200
DONE = {
    "saved": N_("Saved: tonight's free places are updated."),
    "confirmed": N_("Thank you: your places are confirmed as unchanged."),
    "accepted": N_("You accepted the proposal."),
    "declined": N_("You declined the proposal; the coordinators are re-planning."),
}
ERRORS = {
    "tonight": N_(
        "Not saved: give a whole number of free places, 0 or more. If people are already "
        "placed with you tonight, a coordinator must free their places first."
    ),
    "answered": N_("This proposal was already answered or withdrawn."),
    "reason": N_("Give a reason to decline: the coordinators need it to re-plan."),
}


def freshness(t: Translator, since: datetime) -> str:
    """How long ago places were confirmed, as a phrase ("3 hours ago", "less than an hour
    ago") in the reader's language."""
    hours = (utcnow() - aware(since)).total_seconds() / 3600
    if hours < 1:
        return t.gettext("less than an hour ago")
    return t.gettext("{age} ago", age=age_text(t, hours))


def today() -> date:
    """Tonight's date (the service counts nights in UTC, like the engine and the scheduler)."""
    return utcnow().date()


def need_name(t: Translator, code: str) -> str:
    """A need or service in the reader's language (unknown codes as written)."""
    return t.gettext(NEED_NAMES[code]) if code in NEED_NAMES else code.replace("_", " ")


@dataclass(frozen=True)
class Week:
    """One row of the calendar: seven nights, ``None`` before the first one shown."""

    nights: list[Night | None]


def weeks(nights: list[Night]) -> list[Week]:
    """The nights laid out Monday to Sunday."""
    cells: list[Night | None] = [None] * nights[0].night.weekday() + list(nights)
    cells += [None] * (-len(cells) % 7)
    return [Week(cells[i : i + 7]) for i in range(0, len(cells), 7)]


def _message(request: Request, kind: str, texts: dict[str, str]) -> str | None:
    """The text named by ``?done=`` or ``?error=`` after a form was sent (None if none)."""
    key = request.query_params.get(kind)
    return web_translator(request).gettext(texts[key]) if key in texts else None


def weekdays(t: Translator) -> list[tuple[str, str]]:
    """Monday to Sunday, short and in full, in the reader's language."""
    short = get_day_names("abbreviated", locale=t.locale)
    wide = get_day_names("wide", locale=t.locale)
    return [(short[d], wide[d]) for d in range(7)]


@router.get("/shelter", response_class=HTMLResponse)
def my_shelter(request: Request, who: PageCoordinatorOrManager) -> Response:
    """The manager's start page: their shelter (or the list, when they keep several)."""
    own = sorted(who.shelters)
    if len(own) == 1:
        return RedirectResponse(f"/app/shelter/{own[0]}", status_code=303)
    if who.role == "coordinator":
        return RedirectResponse("/app/shelters", status_code=303)
    return render(request, "shelter_choose.html", shelters=own)


@router.get("/shelter/{shelter_id}", response_class=HTMLResponse)
def shelter_page(
    request: Request,
    shelter_id: str,
    who: PageCoordinatorOrManager,
    session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """Places by night, tonight's free places with a stepper, "still the same"."""
    row = visible_shelter(session, shelter_id, who)
    nights = service.shelter_nights(
        session, settings, shelter_id, who, today(), service.CALENDAR_DAYS
    )
    proposed = [
        p
        for p, _ in placements.shelter_placements(session, shelter_id, who)
        if p.status == "proposed"
    ]
    names = handles(session, {row.capacity_updated_by})
    session.commit()  # the reads' audit records
    t = web_translator(request)
    return render(
        request,
        "shelter.html",
        shelter_id=shelter_id,
        tonight=nights[0],
        weeks=weeks(nights),
        weekdays=weekdays(t),
        stale=is_stale(row, settings),
        confirmed_ago=freshness(t, row.capacity_updated_at),
        confirmed_by=names.get(row.capacity_updated_by or 0),
        proposed=len(proposed),
        done=_message(request, "done", DONE),
        error=_message(request, "error", ERRORS),
    )


def _free(form: FormData) -> int:
    raw = str(form.get("free", "")).strip()
    if not raw.isdigit():
        raise Invalid("invalid places", [("free", "a whole number, 0 or more")])
    return int(raw)


@router.post("/shelter/{shelter_id}/tonight")
async def save_tonight(
    shelter_id: str,
    who: PageCoordinatorOrManager,
    form: CheckedForm,
    engine: EngineDep,
    settings: SettingsDep,
) -> Response:
    """Save tonight's free places (the calendar of other nights is unchanged)."""
    try:
        free = _free(form)
        await run_in_threadpool(
            service.set_free_places, engine, settings, shelter_id, who, today(), free
        )
    except (Invalid, Conflict):
        return RedirectResponse(f"/app/shelter/{shelter_id}?error=tonight", status_code=303)
    return RedirectResponse(f"/app/shelter/{shelter_id}?done=saved", status_code=303)


@router.post("/shelter/{shelter_id}/confirm")
async def confirm(
    shelter_id: str, who: PageCoordinatorOrManager, form: CheckedForm, engine: EngineDep
) -> Response:
    """One tap: the places are still the same."""
    await run_in_threadpool(service.confirm_places, engine, shelter_id, who)
    return RedirectResponse(f"/app/shelter/{shelter_id}?done=confirmed", status_code=303)


@dataclass(frozen=True)
class Proposal:
    """A proposal as the receiving shelter's manager sees it (the fields of
    ``api.views.manager_placement_out``, and the persons it brings)."""

    id: int
    arrival_id: str
    first_night: date
    last_night: date
    nights: int
    persons: int
    children: int
    needs: list[str]
    languages: list[str]
    status: str
    answer_reason: str | None
    answer_due_at: datetime | None


def _proposal(t: Translator, p: PlacementRow, a: ArrivalRow) -> Proposal:
    arrival = a.arrival
    assert p.id is not None
    return Proposal(
        id=p.id,
        arrival_id=p.arrival_id,
        first_night=p.first_night,
        last_night=p.last_night,
        nights=(p.last_night - p.first_night).days + 1,
        persons=p.persons,
        children=arrival.children,
        needs=[need_name(t, n) for n in arrival.needs],
        languages=[t.language_name(tag) for tag in arrival.languages],
        status=p.status,
        answer_reason=p.answer_reason,
        answer_due_at=aware(p.answer_due_at) if p.answer_due_at else None,
    )


@router.get("/shelter/{shelter_id}/proposals", response_class=HTMLResponse)
def proposals_page(
    request: Request, shelter_id: str, who: PageCoordinatorOrManager, session: SessionDep
) -> HTMLResponse:
    """The proposals to the shelter: those awaiting an answer first, then the accepted."""
    rows = placements.shelter_placements(session, shelter_id, who)
    session.commit()
    t = web_translator(request)
    items = [_proposal(t, p, a) for p, a in rows]
    return render(
        request,
        "shelter_proposals.html",
        shelter_id=shelter_id,
        waiting=[p for p in items if p.status == "proposed"],
        answered=[p for p in items if p.status != "proposed"],
        status_name=lambda s: t.gettext(STATUS_NAMES[s]) if s in STATUS_NAMES else s,
        done=_message(request, "done", DONE),
        error=_message(request, "error", ERRORS),
        max_reason=MAX_REASON,
        until=lambda d: d + timedelta(days=1),
    )


@router.post("/shelter/{shelter_id}/proposals/{placement_id}/accept")
async def accept(
    shelter_id: str,
    placement_id: int,
    who: PageCoordinatorOrManager,
    form: CheckedForm,
    engine: EngineDep,
) -> Response:
    """Accept a proposal."""
    back = f"/app/shelter/{shelter_id}/proposals"
    try:
        await run_in_threadpool(proposals.accept, engine, placement_id, who, None)
    except Conflict:
        return RedirectResponse(f"{back}?error=answered", status_code=303)
    return RedirectResponse(f"{back}?done=accepted", status_code=303)


@router.post("/shelter/{shelter_id}/proposals/{placement_id}/decline")
async def decline(
    shelter_id: str,
    placement_id: int,
    who: PageCoordinatorOrManager,
    form: CheckedForm,
    engine: EngineDep,
    settings: SettingsDep,
) -> Response:
    """Decline a proposal with a reason (required): the person is re-planned elsewhere."""
    back = f"/app/shelter/{shelter_id}/proposals"
    reason = str(form.get("reason", "")).strip()[:MAX_REASON]
    if not reason:
        return RedirectResponse(f"{back}?error=reason#p{placement_id}", status_code=303)
    try:
        await run_in_threadpool(proposals.decline, engine, settings, placement_id, who, reason)
    except Conflict:
        return RedirectResponse(f"{back}?error=answered", status_code=303)
    return RedirectResponse(f"{back}?done=declined", status_code=303)
