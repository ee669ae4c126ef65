"""The stress test pages (coordinators and analysts): upload a stress spec, start a job on the
live network, watch its progress, stop it, read its results.

The same calls as ``POST /stress``, ``GET /stress/{id}`` and ``DELETE /stress/{id}``
(``api.routes.stress``): ``spec_for_service``, ``check_room``, ``live_network``,
``check_fits``, ``StressJobs.start/get/stop`` and ``view``, which gives analysts no
département. The pages show aggregates only; the report's keys are said in words by the
``stress`` catalogue (``stress.texts.Texts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlmodel import Session

from api.auth import Principal
from api.deps import SessionDep, SettingsDep
from api.domain_errors import Conflict, Invalid
from api.routes.stress import StressJobsDep
from api.services import stress as service
from api.services.uploads import parse_document
from api.web.deps import CheckedForm, PageCoordinatorOrAnalyst
from api.web.forms import file_problems, uploaded
from api.web.render import render as render_page
from api.web.render import web_translator
from placement.i18n import N_, Translator, translator
from stress.report import StressReport
from stress.stats import Estimate
from stress.texts import Texts

router = APIRouter()

NO_FILE = N_("Choose a stress spec file (YAML or JSON) first.")
#: the phase of a job not yet drawing (``StressJobRow.phase``'s default); the sweep's own
#: phases are the ``stress`` catalogue's
STARTING = "starting"
STARTING_TEXT = N_("starting")
#: the live network's name in a report (``service.live_network``), in the reader's words
LIVE_NETWORK_TEXT = N_("the live network")
#: the interval charts' geometry (SVG user units): one row per bar
CHART_WIDTH, LABEL_WIDTH, ROW = 720, 320, 30
ROOM = CHART_WIDTH - LABEL_WIDTH - 90
#: the example spec offered on the page (a static file: the bundled spec on the live network)
EXAMPLE = "/app/static/stress-example.yaml"
#: the ``stress`` catalogue's labels used here (kept out of the ``web`` catalogue's extraction)
EVERYONE = "everyone"
AT_OR_ABOVE = "everyone at priority {p} or above"


@dataclass(frozen=True)
class IntervalBar:
    """One row of a chart: a label, a value (bar) and its 95 % interval (whisker)."""

    label: str
    text: str
    width: float
    low: float
    high: float
    y: int


def interval_bars(rows: list[tuple[str, str, Estimate]], top: float) -> list[IntervalBar]:
    """Rows (label, value as written, estimate) as bars scaled so that ``top`` fills the
    chart (1 for probabilities)."""
    scale = ROOM / max(top, 1e-9)

    def x(v: float) -> float:
        return 0.0 if v != v else max(0.0, v) * scale  # NaN (no draw): nothing drawn

    return [
        IntervalBar(label, text, x(e.value), x(e.low), x(e.high), i * ROW)
        for i, (label, text, e) in enumerate(rows)
    ]


def _form(request: Request, problems: list[str], status: int = 200) -> HTMLResponse:
    return render_page(
        request, "stress.html", status=status, problems=problems, example=EXAMPLE, job=None
    )


@router.get("/stress", response_class=HTMLResponse)
def stress_page(request: Request, who: PageCoordinatorOrAnalyst) -> HTMLResponse:
    """The form that starts a stress test."""
    return _form(request, [])


async def _document(form: CheckedForm) -> Any:
    """The uploaded spec, parsed; checked later by ``service.spec_for_service`` as the JSON
    API checks its body."""
    _name, raw, source = await uploaded(form, "spec", service.INVALID_SPEC)
    return parse_document(raw, source, service.INVALID_SPEC, "spec")


@router.post("/stress", response_class=HTMLResponse, response_model=None)
async def stress_start(
    request: Request,
    who: PageCoordinatorOrAnalyst,
    form: CheckedForm,
    session: SessionDep,
    settings: SettingsDep,
    jobs: StressJobsDep,
) -> HTMLResponse | RedirectResponse:
    """Start a stress test of the live network (as ``POST /stress``), then show its page."""
    try:
        row = jobs.start_live(session, settings, await _document(form), who)
    except (Invalid, Conflict) as e:
        problems = file_problems(web_translator(request), e.errors, NO_FILE)
        return _form(request, problems, status=409 if isinstance(e, Conflict) else 400)
    return RedirectResponse(f"/app/stress/{row.id}", status_code=303)


def _read(
    session: Session, jobs: service.StressJobs, job_id: str, who: Principal, t: Translator
) -> dict[str, Any]:
    """The job as ``GET /stress/{id}`` shows it to ``who``."""
    job = service.view(session, jobs.get(session, job_id[:32], who), who, translator(t.locale))
    session.commit()  # the coordinator's read of the départements is audited
    return job


def _progress_text(st: Texts, t: Translator, job: dict[str, Any]) -> tuple[str, str]:
    """The phase and draws done (``draws: 12 / 200``), and the time left."""
    p = job["progress"]
    phase = t.gettext(STARTING_TEXT) if p["phase"] == STARTING else st.gettext(p["phase"])
    if not p["total"]:
        return phase, t.gettext("Time left: being estimated")
    done = t.gettext(
        "{phase}: {done} of {total} solves",
        phase=phase,
        done=t.number(p["done"]),
        total=t.number(p["total"]),
    )
    if p["seconds_left"] is None:
        return done, t.gettext("Time left: being estimated")
    return done, t.gettext("Time left: about {seconds} s", seconds=t.number(p["seconds_left"]))


@router.get("/stress/{job_id}", response_class=HTMLResponse)
def stress_job_page(
    job_id: str,
    request: Request,
    who: PageCoordinatorOrAnalyst,
    session: SessionDep,
    jobs: StressJobsDep,
) -> HTMLResponse:
    """A stress job: its progress while it runs (with a stop button), then its results."""
    t = web_translator(request)
    job = _read(session, jobs, job_id, who, t)
    st = Texts(t.locale)
    done, left = _progress_text(st, t, job)
    context: dict[str, Any] = {
        "job": job,
        "st": st,
        "done_text": done,
        "left_text": left,
        "report": None,
        "network_name": "",
    }
    if job["report"] is not None:
        context |= _results(st, StressReport.model_validate(job["report"]))
        if context["report"].network == service.LIVE_NETWORK:
            context["network_name"] = t.gettext(LIVE_NETWORK_TEXT)
    return render_page(
        request,
        "stress.html",
        problems=[],
        example=EXAMPLE,
        coordinator=who.role == "coordinator",
        **context,
    )


def _results(st: Texts, report: StressReport) -> dict[str, Any]:
    """The report's rows and charts, in the reader's words."""
    probability = [(st.gettext(EVERYONE), report.all_placed)] + [
        (st.gettext(AT_OR_ABOVE, p=p), e)
        for p, e in sorted(report.all_placed_at_or_above.items(), reverse=True)
    ]
    unplaced = [(st.group(g.group), g.unplaced) for g in report.expected_unplaced]
    top = max([e.high for _, e in unplaced if e.high == e.high] + [1.0])
    return {
        "report": report,
        "probability": probability,
        "probability_bars": interval_bars(
            [(label, st.percent(e.value), e) for label, e in probability], 1.0
        ),
        "unplaced": unplaced,
        "unplaced_bars": interval_bars(
            [(label, st.decimal(e.value), e) for label, e in unplaced], top
        ),
        "geometry": (CHART_WIDTH, LABEL_WIDTH, ROW),
    }


@router.get("/stress/{job_id}/progress.json")
def stress_progress(
    job_id: str,
    request: Request,
    who: PageCoordinatorOrAnalyst,
    session: SessionDep,
    jobs: StressJobsDep,
) -> JSONResponse:
    """Where the job stands, for the page's progress bar (``app.js`` polls it)."""
    t = web_translator(request)
    job = _read(session, jobs, job_id, who, t)
    done, left = _progress_text(Texts(t.locale), t, job)
    p = job["progress"]
    return JSONResponse(
        {
            "status": job["status"],
            "finished": job["status"] != "running",
            "status_text": left,
            "levels": [
                {"priority": "draws", "placed": p["done"], "bound": p["total"], "text": done}
            ],
        },
        headers={"Cache-Control": "no-store"},
    )


@router.post("/stress/{job_id}/stop", response_class=RedirectResponse)
def stress_stop(
    job_id: str,
    who: PageCoordinatorOrAnalyst,
    form: CheckedForm,
    session: SessionDep,
    jobs: StressJobsDep,
) -> RedirectResponse:
    """Ask the job to stop (as ``DELETE /stress/{id}``); its page then says it stopped."""
    jobs.stop(session, job_id[:32], who)
    return RedirectResponse(f"/app/stress/{job_id[:32]}", status_code=303)
