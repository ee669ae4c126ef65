"""From what a person typed to the services' inputs, and from the services' refusals back to
a message next to each field.

A cell or a form field is text; ``cell_value`` turns it into the scenario format's value
(lists, yes/no, numbers are left to the models' own checks). ``field_errors`` turns a
service's ``(field, problem)`` pairs (``pydantic_problems`` for a model's error) into
``{field: message}``: the one place every form's problems are put next to their fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.domain_errors import FieldProblem, Invalid
from api.web import WEB
from api.web.engine_texts import engine_text
from placement.i18n import N_, Translator, translator
from placement.problems import error_problems, format_location, join_path
from placement.text import Text, render

#: list cells: values separated by commas, semicolons, vertical bars or spaces
LIST_SEPARATOR = re.compile(r"[,;|\s]+")
TRUE = {"true", "yes", "y", "1", "oui", "o", "vrai", "x"}
FALSE = {"false", "no", "n", "0", "non", "faux"}
#: fields that hold a list in the scenario format
LIST_FIELDS = {"languages", "needs", "wishes", "keep_apart", "exclude_shelters", "danger"}
#: fields that hold yes or no
BOOL_FIELDS = {"trans", "minor", "language_required", "children_allowed"}
#: fields that hold a whole number
INT_FIELDS = {"age", "children", "priority", "nights", "places"}
#: fields that hold a number
NUMBER_FIELDS = {"safety_distance_km", "expires_in_hours", "lat", "lon"}
#: a cell longer than this is refused before anything else (no field needs more)
MAX_CELL = 500


TOO_LONG = N_("this value is too long")
NOT_YES_NO = N_("expected yes or no")
NOT_WHOLE = N_("expected a whole number")
NOT_NUMBER = N_("expected a number")


NOT_DATE = N_("expected a date, as day/month/year")
DATE_HINT = N_("Day/month/year, for example {example}.")
#: a date whose day, month and year are all different: the reader's short format of it shows
#: the order the reader writes dates in
SAMPLE_DATE = date(2033, 11, 22)
#: a date field longer than this is not a date
MAX_DATE = 32


class CellError(ValueError):
    """A cell that cannot be read as its field's kind of value (the message is a msgid)."""


def cell_value(name: str, raw: str) -> Any:
    """The value of ``raw`` for field ``name``; None for an empty cell (the default)."""
    text = raw.strip()
    if not text:
        return None
    if len(text) > MAX_CELL:
        raise CellError(TOO_LONG)
    if name in LIST_FIELDS:
        items = [v for v in LIST_SEPARATOR.split(text) if v]
        if name == "danger":
            return [{"department": code} for code in items]
        return items
    if name in INT_FIELDS or name in NUMBER_FIELDS:
        return _number(name, text)
    if name in BOOL_FIELDS:
        low = text.lower()
        if low in TRUE:
            return True
        if low in FALSE:
            return False
        raise CellError(NOT_YES_NO)
    return text


@cache
def _date_order(locale: str) -> str:
    """The order of day, month and year in the short dates of ``locale`` ("dmy", "mdy"...)."""
    shown = translator(locale, WEB).date(SAMPLE_DATE, "short")
    parts = {"22": "d", "11": "m", "2033": "y", "33": "y"}
    return "".join(parts[p] for p in re.findall(r"\d+", shown))


def date_hint(t: Translator) -> str:
    """How to write a date, for a field's hint (``22/11/2033`` as this reader writes it)."""
    return t.gettext(DATE_HINT, example=t.date(SAMPLE_DATE, "short"))


def read_date(t: Translator, raw: str) -> date | None:
    """The date a reader typed: as they write short dates (``3/12/2026``, ``03.12.26`` in
    French) or ISO (``2026-12-03``, what a browser's date picker sends); None when empty.
    ``CellError`` for anything else, such as 31/02/2026."""
    text = raw.strip()
    if not text:
        return None
    if len(text) <= MAX_DATE:
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        numbers = re.fullmatch(r"(\d{1,4})\D(\d{1,2})\D(\d{1,4})", text)
        if numbers:
            found = dict(zip(_date_order(t.locale), map(int, numbers.groups()), strict=True))
            year = found["y"] + 2000 if found["y"] < 100 else found["y"]
            try:
                return date(year, found["m"], found["d"])
            except ValueError:
                pass
    raise CellError(NOT_DATE)


def _number(name: str, text: str) -> int | float:
    try:
        value = float(text.replace(",", ".").replace("\u202f", "").replace(" ", ""))
    except ValueError:
        raise CellError(NOT_WHOLE if name in INT_FIELDS else NOT_NUMBER) from None
    if name in INT_FIELDS:
        if not value.is_integer():
            raise CellError(NOT_WHOLE)
        return int(value)
    return value


def document(cells: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The scenario document of a row of cells, and the cells that cannot be read."""
    doc: dict[str, Any] = {}
    bad: dict[str, str] = {}
    for name, raw in cells.items():
        try:
            value = cell_value(name, raw)
        except CellError as e:
            bad[name] = str(e)
            continue
        if value is not None:
            doc[name] = value
    return doc, bad


def pydantic_problems(error: ValidationError) -> list[FieldProblem]:
    """``(field, problem)`` pairs of a validation error, the problems as the engine's
    messages (``placement.problems``); the field is the first part of the location
    (``languages`` for ``languages[2]``)."""
    out: list[FieldProblem] = []
    for e in error.errors():
        loc = tuple(p for p in e.get("loc", ()) if not str(p).startswith("function-"))
        field = str(loc[0]) if loc else ""
        out += [(field, problem) for _, problem in error_problems(e, format_location(loc))]
    return out


FIELD_PATH = re.compile(r"^(?:arrivals\[(\d+)\]\.?)?([A-Za-z_]+)?")


def split_field(path: str) -> tuple[int | None, str]:
    """``arrivals[3].gender`` -> ``(3, "gender")``; ``danger[0].department`` -> ``(None,
    "danger")``; ``gender`` -> ``(None, "gender")``."""
    found = FIELD_PATH.match(path)
    if found is None:
        return None, path
    index = int(found.group(1)) if found.group(1) is not None else None
    return index, found.group(2) or ""


#: form fields named otherwise than the document's path (a shelter's ``location.lat`` is typed in
#: the ``lat`` field)
FORM_FIELDS = {"location.lat": "lat", "location.lon": "lon"}


def form_field(path: str) -> str:
    """The form field of a problem's path: ``arrivals[3].gender`` -> ``gender``,
    ``accepts[0]`` -> ``accepts``, ``location.lat`` -> ``lat``."""
    return FORM_FIELDS.get(path) or split_field(path)[1]


def field_errors(t: Translator, problems: Iterable[FieldProblem]) -> dict[str, str]:
    """``{field: message}`` for a form, in the reader's language: the problems of one field
    joined, each an engine or model text rendered by ``api.web.engine_texts``."""
    out: dict[str, str] = {}
    for path, problem in problems:
        name = form_field(path)
        text = engine_text(t, problem)
        out[name] = f"{out[name]} {text}" if name in out else text
    return out


async def uploaded(form: Mapping[str, Any], field: str, refusal: Text) -> tuple[str, bytes, str]:
    """The file sent in the form's ``field``: its name, its bytes and the source name its
    parser reads it as (JSON for a ``.json`` name, else YAML); ``Invalid(refusal)`` at
    ``field`` with an empty problem when no file was chosen (see :func:`file_problems`)."""
    upload = form.get(field)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Invalid(refusal, [(field, "")])
    name = upload.filename
    source = f"{field}.json" if name.lower().endswith(".json") else f"{field}.yaml"
    return name, await upload.read(), source


def file_problems(t: Translator, problems: Iterable[FieldProblem], no_file: str) -> list[str]:
    """An uploaded file's problems, each naming its field, in ``t``'s language; a field
    without a problem means no file was chosen (``no_file``, a message of the page's)."""
    engine = translator(t.locale)  # the engine's and the service's texts
    return [
        join_path(field, render(problem, engine)) if problem else t.gettext(no_file)
        for field, problem in problems
    ]
