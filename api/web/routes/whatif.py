"""The analyst's what-if page: upload a scenario file, see the plan's figures and charts.

The same reading, checks and solve as ``POST /whatif`` (``api.services.whatif``), the same
solve-rate count and solver slots; the page shows aggregates only (``whatif.figures``): no
arrival, no shelter location, no danger location, no reason naming a person.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from api.deps import RunnerDep, SettingsDep
from api.domain_errors import Invalid, TooLarge
from api.plan_options import JobOptions
from api.services import whatif as service
from api.solve_slots import SolveRate
from api.web.deps import CheckedForm, PageCoordinatorOrAnalyst
from api.web.forms import file_problems, uploaded
from api.web.render import render as render_page
from api.web.render import web_translator
from placement.i18n import N_

router = APIRouter()

NO_FILE = N_("Choose a scenario file (YAML or JSON) first.")
#: the bar chart's geometry (SVG user units): one row per bar
CHART_WIDTH, LABEL_WIDTH, ROW = 560, 170, 30


@dataclass(frozen=True)
class Bar:
    """One row of a chart: a label, the requested (grey) and placed (blue) widths."""

    label: str
    placed: int
    requested: int
    placed_width: float
    requested_width: float
    y: int


def bars(rows: list[tuple[str, int, int]]) -> list[Bar]:
    """Rows (label, placed, requested) as bars scaled to the largest value."""
    top = max([max(p, r) for _, p, r in rows] + [1])
    scale = (CHART_WIDTH - LABEL_WIDTH - 50) / top
    return [
        Bar(label, placed, requested, placed * scale, requested * scale, i * ROW)
        for i, (label, placed, requested) in enumerate(rows)
    ]


@router.get("/whatif", response_class=HTMLResponse)
def whatif_page(request: Request, who: PageCoordinatorOrAnalyst) -> HTMLResponse:
    """The upload form."""
    return render_page(request, "whatif.html", problems=[], figures=None, name=None)


@router.post("/whatif", response_class=HTMLResponse)
async def whatif_run(
    request: Request,
    who: PageCoordinatorOrAnalyst,
    form: CheckedForm,
    settings: SettingsDep,
    runner: RunnerDep,
) -> HTMLResponse:
    """Plan the uploaded scenario (nothing is stored) and show its aggregates."""
    t = web_translator(request)
    try:
        name, raw, source = await uploaded(form, "scenario", service.INVALID_SCENARIO)
        data = service.document(raw, source)
        limit = service.checked(data, None, settings)
        scenario = service.scenario_of(data)
    except (Invalid, TooLarge) as e:
        problems = file_problems(t, e.errors, NO_FILE)
        return render_page(
            request, "whatif.html", status=400, problems=problems, figures=None, name=None
        )
    rate: SolveRate = request.app.state.solve_rate
    rate.count(who.id)
    options = JobOptions(solver="cpsat", time_limit=limit, explain=False)
    plan = await run_in_threadpool(
        service.solve_in_a_slot, runner.slots, settings, scenario, options
    )
    figures = service.figures(scenario, plan)
    by_priority = [
        (t.gettext("Priority {p}", p=r.priority), r.placed, r.requested)
        for r in figures.priorities
        if r.requested
    ]
    return render_page(
        request,
        "whatif.html",
        problems=[],
        name=name,
        figures=figures,
        priority_bars=bars(by_priority),
        shelter_bars=bars([(sid, n, 0) for sid, n in figures.by_shelter]),
        geometry=(CHART_WIDTH, LABEL_WIDTH, ROW),
    )
