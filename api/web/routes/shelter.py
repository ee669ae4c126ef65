"""The shelter manager's pages (made for a phone): places by night, tonight's free places,
"still the same", and the proposals to the shelter, accepted or declined with a reason.

Thin handlers over the JSON API's services (``api.services.shelters``, ``placements``,
``proposals``) with the same role rules: a manager sees only their own shelters (``NotFound``
otherwise, as in the API); coordinators may open any shelter's page.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from babel.dates import get_day_names
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from api.auth import Principal
from api.config import Settings
from api.deps import AfterChange, SessionDep, SettingsDep
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
from placement.models import MAX_PLACES

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
SAVED_TONIGHT = N_("Saved: tonight's free places are updated.")
SAVED_NIGHT = N_("Saved: the free places of {date} are updated.")
NOT_SAVED = N_("Not saved: correct the field marked below.")
NIGHT_PROBLEM = N_("Choose a night of the calendar, from {first} to {last}.")
FREE_PROBLEM = N_("Give a whole number of free places, from 0 to {most}.")
TAKEN_PROBLEM = N_(
    "People are already placed with you that night: a coordinator must free their places "
    "before you give fewer."
)
#: a free-places field longer than this is not a number of places (MAX_PLACES has 5 digits)
MAX_FREE_DIGITS = 6
DONE = {
    "confirmed": N_("Thank you: your places are confirmed as unchanged."),
    "accepted": N_("You accepted the proposal."),
    "declined": N_("You declined the proposal; the coordinators are re-planning."),
}
ERRORS = {
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


@dataclass(frozen=True)
class NightForm:
    """The night being changed on the page, what the form shows in its field, and its
    problems by field (empty: nothing refused)."""

    night: date
    free: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


def calendar_nights(start: date) -> tuple[date, date]:
    """The first and last nights the calendar shows (and lets the manager change)."""
    return start, start + timedelta(days=service.CALENDAR_DAYS - 1)


def chosen_night(raw: str | None, start: date) -> date | None:
    """The night a link or a form names (``YYYY-MM-DD``), if the calendar shows it."""
    try:
        night = date.fromisoformat(raw or "")
    except ValueError:
        return None
    first, last = calendar_nights(start)
    return night if first <= night <= last else None


def _shelter_page(
    request: Request, shelter_id: str, who: Principal, session: Session, form: NightForm
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    row = visible_shelter(session, shelter_id, who)
    start = today()
    nights = service.shelter_nights(
        session, settings, shelter_id, who, start, service.CALENDAR_DAYS
    )
    chosen = next((n for n in nights if n.night == form.night), nights[0])
    proposed = [
        p
        for p, _ in placements.shelter_placements(session, shelter_id, who)
        if p.status == "proposed"
    ]
    names = handles(session, {row.capacity_updated_by})
    session.commit()  # the reads' audit records
    t = web_translator(request)
    done = request.query_params.get("done")
    return render(
        request,
        "shelter.html",
        status=400 if form.errors else 200,
        shelter_id=shelter_id,
        tonight=nights[0],
        chosen=chosen,
        free_value=str(chosen.free) if form.free is None else form.free,
        errors=form.errors,
        max_places=MAX_PLACES,
        weeks=weeks(nights),
        weekdays=weekdays(t),
        stale=is_stale(row, settings),
        confirmed_ago=freshness(t, row.capacity_updated_at),
        confirmed_by=names.get(row.capacity_updated_by or 0),
        proposed=len(proposed),
        done=_saved(t, chosen.night) if done == "saved" else _message(request, "done", DONE),
        error=_message(request, "error", ERRORS) or (t.gettext(NOT_SAVED) if form.errors else None),
    )


def _saved(t: Translator, night: date) -> str:
    if night == today():
        return t.gettext(SAVED_TONIGHT)
    return t.gettext(SAVED_NIGHT, date=t.date(night, "full"))


@router.get("/shelter/{shelter_id}", response_class=HTMLResponse)
def shelter_page(
    request: Request, shelter_id: str, who: PageCoordinatorOrManager, session: SessionDep
) -> HTMLResponse:
    """Places by night: the night chosen in the calendar (``?night=``, else tonight) with a
    stepper to change its free places, "still the same", and the calendar."""
    start = today()
    night = chosen_night(request.query_params.get("night"), start) or start
    return _shelter_page(request, shelter_id, who, session, NightForm(night))


def _night_form(t: Translator, form: FormData) -> tuple[NightForm, int | None]:
    """The night and the free places a form sends, or the problems next to their fields."""
    first, last = calendar_nights(today())
    night = chosen_night(str(form.get("night", "")), first)
    raw = str(form.get("free", "")).strip()[:MAX_FREE_DIGITS]
    errors = {}
    if night is None:
        errors["night"] = t.gettext(
            NIGHT_PROBLEM, first=t.date(first, "full"), last=t.date(last, "full")
        )
    free = int(raw) if raw.isdigit() else None
    if free is None:
        errors["free"] = t.gettext(FREE_PROBLEM, most=t.number(MAX_PLACES))
    return NightForm(night or first, raw, errors), free


@router.post("/shelter/{shelter_id}/places", response_class=HTMLResponse)
async def save_night(
    request: Request,
    shelter_id: str,
    who: PageCoordinatorOrManager,
    form: CheckedForm,
    session: SessionDep,
    after: AfterChange,
) -> Response:
    """Save one night's free places (the other nights are unchanged): the service behind
    ``PUT /shelters/{id}/availability`` (``shelters.set_free_places``), its bounds, its
    audit and the waiting list retried after it; a refusal comes back next to the field, in
    the reader's language."""
    t = web_translator(request)
    night_form, free = _night_form(t, form)
    if free is not None and not night_form.errors:
        try:
            await run_in_threadpool(
                service.set_free_places,
                session,
                after.settings,  # the service's settings, which the retry after it uses too
                shelter_id,
                who,
                night_form.night,
                free,
            )
        except Invalid:
            night_form = replace(
                night_form, errors={"free": t.gettext(FREE_PROBLEM, most=t.number(MAX_PLACES))}
            )
        except Conflict:
            night_form = replace(night_form, errors={"free": t.gettext(TAKEN_PROBLEM)})
        else:
            after.retry_waitlist(shelter_id)
            where = f"/app/shelter/{shelter_id}?done=saved&night={night_form.night.isoformat()}"
            return RedirectResponse(where, status_code=303)
    session.rollback()
    return await run_in_threadpool(_shelter_page, request, shelter_id, who, session, night_form)


@router.post("/shelter/{shelter_id}/confirm")
async def confirm(
    shelter_id: str,
    who: PageCoordinatorOrManager,
    form: CheckedForm,
    session: SessionDep,
    after: AfterChange,
) -> Response:
    """One tap: the places are still the same (a shelter whose places were stale may take
    someone waiting again: the waiting list is retried after it)."""
    await run_in_threadpool(service.confirm_places, session, shelter_id, who)
    after.retry_waitlist(shelter_id)
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
    session: SessionDep,
) -> Response:
    """Accept a proposal."""
    back = f"/app/shelter/{shelter_id}/proposals"
    try:
        await run_in_threadpool(proposals.accept, session, placement_id, who, None)
    except Conflict:
        return RedirectResponse(f"{back}?error=answered", status_code=303)
    return RedirectResponse(f"{back}?done=accepted", status_code=303)


@router.post("/shelter/{shelter_id}/proposals/{placement_id}/decline")
async def decline(
    shelter_id: str,
    placement_id: int,
    who: PageCoordinatorOrManager,
    form: CheckedForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Decline a proposal with a reason (required): the person is re-planned elsewhere."""
    back = f"/app/shelter/{shelter_id}/proposals"
    reason = str(form.get("reason", "")).strip()[:MAX_REASON]
    if not reason:
        return RedirectResponse(f"{back}?error=reason#p{placement_id}", status_code=303)
    try:
        await run_in_threadpool(proposals.decline, session, settings, placement_id, who, reason)
    except Conflict:
        return RedirectResponse(f"{back}?error=answered", status_code=303)
    return RedirectResponse(f"{back}?done=declined", status_code=303)
