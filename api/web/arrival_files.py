"""Arrivals from a CSV or XLSX file with the scenario format's columns (one row per arrival).

``read_rows`` gives each data row's cells by column name with its line number in the file
(the header is line 1); ``RowProblem`` says what is wrong where, so that the page can show
``ligne 7, genre : ...``. The checks themselves are the engine's and the service's (through
``api.services.operations.add_batch``, all or nothing): nothing is checked twice here.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from placement.i18n import N_
from placement.text import Text

#: the columns of the scenario format's arrivals (``placement.models.Arrival``)
COLUMNS = (
    "id",
    "gender",
    "trans",
    "age",
    "minor",
    "languages",
    "children",
    "needs",
    "wishes",
    "danger",
    "safety_distance_km",
    "language_required",
    "network",
    "household",
    "keep_apart",
    "exclude_shelters",
    "priority",
    "arrives",
    "nights",
)
#: a file larger than this is refused before it is read
MAX_FILE_BYTES = 1_000_000
#: at most this many data rows (the service's batch limit may be lower)
MAX_ROWS = 1000
XLSX_MAGIC = b"PK\x03\x04"

UNKNOWN_COLUMN = N_("unknown column; the columns are those of the scenario format: {columns}")
NO_ID_COLUMN = N_("the first line must name the columns, among them id")
NOT_READABLE = N_("the file cannot be read as CSV (UTF-8) or XLSX")
EMPTY = N_("the file has no arrival")
TOO_BIG = N_("the file is larger than {limit} bytes")
TOO_MANY = N_("more than {limit} rows")


@dataclass(frozen=True)
class RowProblem:
    """A problem at a line (None: the whole file) and a column (None: the whole row).
    ``message`` is a catalogue msgid with ``params``, or an engine text (``engine``)."""

    line: int | None
    column: str | None
    message: str | Text
    params: tuple[tuple[str, object], ...] = ()
    engine: bool = False


@dataclass(frozen=True)
class Row:
    """A data row: its line in the file and its non-empty cells by column."""

    line: int
    cells: dict[str, str]


class FileRefused(ValueError):
    """The file as a whole cannot be read; the problems say why."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(problems[0].message)
        self.problems = problems


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table(data: bytes) -> list[list[str]]:
    if data.startswith(XLSX_MAGIC):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception as e:  # openpyxl raises many kinds on a damaged file
            raise FileRefused([RowProblem(None, None, NOT_READABLE)]) from e
        return [[_text(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FileRefused([RowProblem(None, None, NOT_READABLE)]) from e
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)  # French spreadsheets write ';'
    return [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _header(table: list[list[str]]) -> list[str]:
    if not table:
        raise FileRefused([RowProblem(None, None, EMPTY)])
    header = [h.strip().lower() for h in table[0]]
    if "id" not in header:
        raise FileRefused([RowProblem(1, None, NO_ID_COLUMN)])
    unknown = [
        RowProblem(1, h, UNKNOWN_COLUMN, (("columns", ", ".join(COLUMNS)),))
        for h in header
        if h and h not in COLUMNS
    ]
    if unknown:
        raise FileRefused(unknown)
    return header


def read_rows(data: bytes) -> list[Row]:
    """The data rows of a CSV or XLSX file (blank rows skipped); ``FileRefused`` when the file
    cannot be read, is empty, too big, or has unknown columns."""
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused([RowProblem(None, None, TOO_BIG, (("limit", MAX_FILE_BYTES),))])
    table = _table(data)
    header = _header(table)
    rows = []
    for number, values in enumerate(table[1:], start=2):
        cells = {
            name: value
            for name, value in zip(header, values, strict=False)
            if name and value.strip()
        }
        if cells:
            rows.append(Row(number, cells))
    if not rows:
        raise FileRefused([RowProblem(None, None, EMPTY)])
    if len(rows) > MAX_ROWS:
        raise FileRefused([RowProblem(None, None, TOO_MANY, (("limit", MAX_ROWS),))])
    return rows
