"""The coordinator's operation pages: create an operation, see it with its danger locations,
add arrivals one by one or from a CSV or XLSX file (all or nothing, each problem shown at its
line and column), and hold places for it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.db import begin_write
from api.deps import RowId, SolveSlot
from api.domain_errors import Conflict, FieldProblem, Invalid, ServiceError, TooLarge, TooMany
from api.schemas import ArrivalIn, HoldIn, OperationIn
from api.services import holds, operations
from api.store import active_shelters
from api.web.arrival_files import MAX_FILE_BYTES, FileRefused, Row, RowProblem, read_rows
from api.web.deps import CheckedForm, CoordinatorPage, CoordinatorPageDep, PageCoordinator
from api.web.engine_texts import engine_text
from api.web.forms import (
    CellError,
    document,
    field_errors,
    form_field,
    pydantic_problems,
    read_date,
    split_field,
)
from api.web.labels import FIELD_LABELS, GENDERS, STATUSES, label
from api.web.render import render, web_translator
from placement.geography import load_geography
from placement.i18n import N_, Translator

router = APIRouter()

#: the fields of the one-arrival form, in order
ARRIVAL_FIELDS = (
    "id", "gender", "trans", "age", "languages", "children", "needs", "wishes",
    "priority", "arrives", "nights", "network", "household", "keep_apart",
)  # fmt: skip
AT_LINE_COLUMN = N_("line {line}, {column}: {problem}")
AT_LINE = N_("line {line}: {problem}")
NOTHING_STORED = N_("The file has problems: nothing was stored. Correct them and import it again.")
HOLD_MADE = N_("Places held.")


def _problem_text(t: Translator, p: RowProblem) -> str:
    problem = (
        engine_text(t, p.message)
        if p.engine or not isinstance(p.message, str)
        else t.gettext(p.message, **dict(p.params))
    )
    if p.line is None:
        return problem
    if p.column is None:
        return t.gettext(AT_LINE, line=p.line, problem=problem)
    column = label(t, FIELD_LABELS, p.column)
    return t.gettext(AT_LINE_COLUMN, line=p.line, column=column, problem=problem)


# --- create -----------------------------------------------------------------------------
@router.get("/operations/new", response_class=HTMLResponse)
def new_operation(request: Request, who: PageCoordinator) -> HTMLResponse:
    """The form of a new operation."""
    return render(request, "operation_new.html", errors={}, values={})


def typed_dates(
    t: Translator, values: dict[str, str], names: tuple[str, ...]
) -> tuple[dict[str, str], dict[str, str]]:
    """``values`` with the dates among ``names`` as ISO dates (as the reader typed them
    otherwise: ``forms.read_date``), and the ones that are not dates."""
    out, bad = dict(values), {}
    for name in names:
        try:
            found = read_date(t, values.get(name, ""))
        except CellError as e:
            bad[name] = str(e)
            continue
        out[name] = found.isoformat() if found else ""
    return out, bad


def unsaid(problems: list[FieldProblem], said: dict[str, str]) -> list[FieldProblem]:
    """The model's ``problems`` but those of fields the form already refused (a date that
    could not be read is missing for the model: one problem is enough)."""
    return [p for p in problems if form_field(p[0]) not in said]


def _operation_input(
    t: Translator, form: CheckedForm
) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """What was typed, the operation's document, and the cells that cannot be read."""
    values = {k: str(form.get(k) or "").strip() for k in ("reference", "date", "danger")}
    read, bad = typed_dates(t, values, ("date",))
    doc, bad_cells = document({"danger": values["danger"]})
    data = {"reference": values["reference"], "date": read.get("date") or None, **doc}
    return values, data, {**bad, **bad_cells}


@router.post("/operations", response_class=HTMLResponse)
def create_operation(page: CoordinatorPageDep, form: CheckedForm) -> Response:
    """Record the operation and open its page; the form again with each problem otherwise."""
    t = web_translator(page.request)
    values, data, bad = _operation_input(t, form)
    problems: list[FieldProblem] = [(k, t.gettext(v)) for k, v in bad.items()]
    try:
        body = OperationIn.model_validate(data)
    except ValidationError as e:
        problems += unsaid(pydantic_problems(e), bad)
    if not problems:
        begin_write(page.session)
        try:
            op = operations.create_operation(page.session, page.settings, body, page.who)
            return RedirectResponse(f"/app/operations/{op.id}", status_code=303)
        except (Invalid, Conflict) as e:
            page.session.rollback()
            problems += e.errors
    errors = field_errors(t, problems)
    return render(page.request, "operation_new.html", status=422, errors=errors, values=values)


# --- the operation page -----------------------------------------------------------------
def operation_page(page: CoordinatorPage, operation_id: int, **extra: Any) -> HTMLResponse:
    """The operation's page, with ``extra`` (a form's errors, an import's problems...)."""
    session, who = page.session, page.who
    op = operations.read_operation(session, operation_id, who)
    arrivals = operations.operation_arrivals(session, operation_id, who)
    op_holds = holds.operation_holds(session, operation_id, who)
    shelter_ids = [r.id for r in active_shelters(session)]
    session.commit()  # the reads' audit records
    t = web_translator(page.request)
    geo = load_geography(page.settings.geography)
    context: dict[str, Any] = {
        "errors": {},
        "values": {},
        "hold_errors": {},
        "hold_values": {},
        "import_problems": [],
        "import_summary": None,
        "notice": None,
        "plan_error": None,
        **extra,
    }
    return render(
        page.request,
        "operation.html",
        status=context.pop("status", 200),
        op=op,
        arrivals=arrivals,
        holds=op_holds,
        shelter_ids=shelter_ids,
        genders=[(k, t.gettext(v)) for k, v in GENDERS.items()],
        area_name=lambda code: geo.area(code).name if code in geo else code,
        field_label=lambda name: label(t, FIELD_LABELS, name),
        status_label=lambda s: label(t, STATUSES, s),
        **context,
    )


@router.get("/operations/{operation_id}", response_class=HTMLResponse)
def show_operation(operation_id: RowId, page: CoordinatorPageDep) -> HTMLResponse:
    """The operation: danger locations, arrivals, holds, and the plan button."""
    return operation_page(page, operation_id)


@router.post("/operations/{operation_id}/arrivals", response_class=HTMLResponse)
def add_arrival(operation_id: RowId, page: CoordinatorPageDep, form: CheckedForm) -> Response:
    """Add one arrival from the form; each problem next to its field."""
    t = web_translator(page.request)
    values = {name: str(form.get(name) or "") for name in ARRIVAL_FIELDS}
    read, bad_dates = typed_dates(t, values, ("arrives",))
    doc, bad = document(read)
    bad.update(bad_dates)
    problems: list[FieldProblem] = [(k, t.gettext(v)) for k, v in bad.items()]
    item = None
    try:
        item = ArrivalIn.model_validate(doc)
    except ValidationError as e:
        problems += unsaid(pydantic_problems(e), bad)
    if item is not None and not problems:
        begin_write(page.session)
        try:
            operations.add_arrival(page.session, page.settings, operation_id, item, page.who)
            return RedirectResponse(f"/app/operations/{operation_id}#arrivals", status_code=303)
        except (Invalid, Conflict) as e:
            page.session.rollback()
            problems += e.errors
    errors = field_errors(t, problems)
    return operation_page(page, operation_id, status=422, errors=errors, values=values)


def _file_problems(rows: list[Row]) -> tuple[list[ArrivalIn], list[RowProblem]]:
    """The rows as arrivals, or the problems of each row and cell (the engine's checks)."""
    items, problems = [], []
    for row in rows:
        doc, bad = document(row.cells)
        problems += [RowProblem(row.line, col, msg) for col, msg in bad.items()]
        try:
            items.append(ArrivalIn.model_validate(doc))
        except ValidationError as e:
            problems += [
                RowProblem(row.line, f or None, p, engine=True) for f, p in pydantic_problems(e)
            ]
    return items, problems


def _batch_problems(error: ServiceError, rows: list[Row]) -> list[RowProblem]:
    """A refused batch's problems at their rows (``arrivals[3].gender`` is the 4th row)."""
    out = []
    for path, problem in error.errors:
        index, column = split_field(path)
        line = rows[index].line if index is not None and index < len(rows) else None
        out.append(RowProblem(line, column or None, problem, engine=True))
    return out or [RowProblem(None, None, error.detail, engine=True)]


@router.post("/operations/{operation_id}/arrivals/import", response_class=HTMLResponse)
async def import_arrivals(
    operation_id: RowId, page: CoordinatorPageDep, form: CheckedForm
) -> Response:
    """Import arrivals from a CSV or XLSX file: all of them, or none with every problem."""
    upload = form.get("file")
    data = await upload.read(MAX_FILE_BYTES + 1) if isinstance(upload, UploadFile) else b""
    return _import(page, operation_id, data)


def _import(page: CoordinatorPage, operation_id: int, data: bytes) -> Response:
    t = web_translator(page.request)
    rows: list[Row] = []
    try:
        rows = read_rows(data)
        items, problems = _file_problems(rows)
    except FileRefused as e:
        items, problems = [], e.problems
    if not problems:
        begin_write(page.session)
        try:
            added = operations.add_batch(page.session, page.settings, operation_id, items, page.who)
            notice = t.ngettext("{n} arrival added.", "{n} arrivals added.", len(added))
            return operation_page(page, operation_id, notice=notice)
        except (Invalid, Conflict, TooLarge) as e:
            page.session.rollback()
            problems = _batch_problems(e, rows)
    texts = [_problem_text(t, p) for p in problems]
    summary = t.gettext(NOTHING_STORED)
    return operation_page(
        page, operation_id, status=422, import_problems=texts, import_summary=summary
    )


# --- holds ------------------------------------------------------------------------------
def _hold_input(form: CheckedForm) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """What was typed, the hold's request, and the fields that cannot be read."""
    names = ("shelter_id", "places", "nights", "expires_in_hours", "profile_gender")
    values = {k: str(form.get(k) or "").strip() for k in names}
    data, bad = document({k: v for k, v in values.items() if k != "profile_gender"})
    if not values["shelter_id"] and values["profile_gender"]:
        data["profile"] = {"gender": values["profile_gender"]}
    return values, data, bad


@router.post("/operations/{operation_id}/holds", response_class=HTMLResponse)
def create_hold(
    operation_id: RowId, page: CoordinatorPageDep, form: CheckedForm, slot: SolveSlot
) -> Response:
    """Hold places at a named shelter, or for a profile (the engine picks the shelters)."""
    t = web_translator(page.request)
    values, data, bad = _hold_input(form)
    problems: list[FieldProblem] = [(k, t.gettext(v)) for k, v in bad.items()]
    try:
        if problems:
            raise Invalid(holds.INVALID_HOLD, problems)
        body = HoldIn.model_validate(data)
        holds.create_holds(page.session, page.settings, operation_id, body, page.who)
        return operation_page(page, operation_id, notice=t.gettext(HOLD_MADE))
    except ValidationError as e:
        problems = pydantic_problems(e)
    except (Invalid, Conflict, TooMany) as e:
        problems = e.errors or [("places", e.detail)]
    errors = field_errors(t, problems)
    return operation_page(page, operation_id, status=422, hold_errors=errors, hold_values=values)


@router.post("/holds/{hold_id}/release", response_class=HTMLResponse)
def release_hold(hold_id: RowId, page: CoordinatorPageDep, form: CheckedForm) -> Response:
    """Give held places back before they expire."""
    hold = holds.release_hold(page.session, hold_id, page.who)
    return RedirectResponse(f"/app/operations/{hold.operation_id}#holds", status_code=303)
